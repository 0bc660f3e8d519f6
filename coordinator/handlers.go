package coordinator

import (
	"context"
	"fmt"

	"github.com/dynago/dynago/version"
)

// HandleRPC serves one internode request from node from (already
// authenticated by the transport). It implements Handler.
//
// A replica accepts every replica write, even for a partition its own ring
// view says it does not replicate: refusing could lose the only copy of an
// acknowledged write while views disagree, and data a node holds for a
// partition it does not replicate is handed over later.
func (c *Coordinator) HandleRPC(ctx context.Context, from string, req *Request) *Response {
	p := req.Partition
	switch req.Kind {
	case MsgRead:
		obj, err := c.readLocal(p, req.Key, req.HintFor)
		return &Response{Object: obj, Err: err}

	case MsgReplicate:
		if err := req.Object.Validate(); err != nil {
			return &Response{Err: err}
		}
		if req.HintFor != "" && req.HintFor != c.cfg.Self {
			return &Response{Err: c.store.PutHint(req.HintFor, p, req.Key, req.Object)}
		}
		_, _, err := c.store.Merge(p, req.Key, req.Object)
		return &Response{Err: err}

	case MsgForward:
		timeout := c.cfg.RequestTimeout
		if req.Timeout > 0 {
			timeout = min(req.Timeout, timeout)
		}
		ctx, cancel := context.WithTimeout(WithConsistency(ctx, Consistency{R: req.R, W: req.W}), timeout)
		defer cancel()
		// Coordinate here even if this node's view says another node
		// should: a write is forwarded at most once (docs/architecture.md §4 step 2).
		res, err := c.coordinate(ctx, c.route(req.Key), req.Key, req.Op)
		return &Response{Result: res, Err: err}

	case MsgScan:
		keys, more, err := c.scanLocal(p, req.After, req.Count)
		return &Response{Keys: keys, More: more, Err: err}

	case MsgFetch:
		resp, err := c.fetchLocal(p, req.After, req.Count)
		if err != nil {
			return &Response{Err: err}
		}
		return resp

	case MsgAEHashes, MsgAEKeys, MsgFetchKeys, MsgMergeMany:
		return c.handleAE(req)

	case MsgKeyspace:
		keys, expires := c.primaryKeys()
		return &Response{N1: keys, N2: expires}

	case MsgFlush:
		return &Response{Err: c.store.FlushAll()}

	case MsgPing:
		return &Response{}

	case MsgPublish:
		return c.handlePublish(req)
	case MsgTxLock, MsgTxUnlock:
		return c.handleTxLock(ctx, req)
	}
	return &Response{Err: fmt.Errorf("coordinator: unknown request kind %d", req.Kind)}
}

// scanLocal lists up to count live keys of partition p after after.
func (c *Coordinator) scanLocal(p uint16, after []byte, count int) (keys [][]byte, more bool, err error) {
	now := c.nowMs()
	count = max(count, 1)
	err = c.store.Scan(p, after, func(key []byte, o version.Object) bool {
		if len(keys) == count {
			more = true
			return false
		}
		if _, ok := o.Value(now); ok {
			keys = append(keys, append([]byte(nil), key...))
		}
		return true
	})
	return keys, more, err
}

// primaryKeys counts the keys of the partitions this node answers for in
// DBSIZE: those whose first live home replica it is. Summed over the live
// nodes it estimates the cluster's key count (exact when replicas agree).
func (c *Coordinator) primaryKeys() (keys, expires int64) {
	pl := c.placement()
	for p := 0; p < pl.Q(); p++ {
		walk := pl.Walk(p)
		for _, id := range walk[:min(c.cfg.N, len(walk))] {
			if id == c.cfg.Self || c.alive(id) {
				if id == c.cfg.Self {
					k, e := c.store.PartitionKeys(uint16(p))
					keys, expires = keys+k, expires+e
				}
				break
			}
		}
	}
	return keys, expires
}
