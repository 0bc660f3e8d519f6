package coordinator

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// Whole-keyspace commands over the cluster: SCAN and KEYS walk partitions,
// DBSIZE sums the nodes' counts, FLUSHALL reaches every node.

// scanPage is how many keys one internode scan call returns at most.
const scanPage = 1024

// Scan walks the keys that hold a live value, a partition at a time. The
// cursor is the index of the next partition to visit plus one, so 0 starts
// and ends a walk (Redis's SCAN contract: every key present for the whole
// walk is returned at least once). A call visits whole partitions until it
// has returned at least count keys. A partition's keys are the union of
// what its live home replicas hold, so a key stored on only some replicas
// is still found; a key deleted on some replicas and not yet on others
// may be returned.
func (c *Coordinator) Scan(ctx context.Context, cursor uint64, count int, fn func(key []byte)) (uint64, error) {
	pl := c.placement()
	q := uint64(pl.Q())
	p := uint64(0)
	if cursor > 0 {
		p = cursor - 1
	}
	if p >= q {
		return 0, nil
	}
	seen := 0
	for ; p < q; p++ {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		keys, err := c.partitionKeys(ctx, pl, int(p))
		if err != nil {
			return 0, err
		}
		for _, k := range keys {
			fn([]byte(k))
		}
		seen += len(keys)
		if seen >= count && p+1 < q {
			return p + 2, nil
		}
	}
	return 0, nil
}

// partitionKeys returns the live keys of partition p, sorted, gathered from
// its live home replicas. At least one replica must answer.
func (c *Coordinator) partitionKeys(ctx context.Context, pl Placement, p int) ([]string, error) {
	walk := pl.Walk(p)
	homes := walk[:min(c.cfg.N, len(walk))]
	set := map[string]struct{}{}
	answered := 0
	var lastErr error
	for _, node := range homes {
		if node != c.cfg.Self && !c.alive(node) {
			continue
		}
		err := c.scanNode(ctx, node, uint16(p), func(k []byte) { set[string(k)] = struct{}{} })
		if err != nil {
			lastErr = err
			continue
		}
		answered++
	}
	if answered == 0 {
		if lastErr == nil {
			lastErr = fmt.Errorf("no home replica of partition %d is alive", p)
		}
		return nil, &QuorumError{Kind: ErrReadQuorum, Got: 0, Need: 1, Cause: lastErr}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, nil
}

// scanNode lists node's live keys of partition p, page by page.
func (c *Coordinator) scanNode(ctx context.Context, node string, p uint16, fn func(key []byte)) error {
	var after []byte
	for {
		var (
			keys [][]byte
			more bool
			err  error
		)
		if node == c.cfg.Self {
			keys, more, err = c.scanLocal(p, after, scanPage)
		} else {
			var resp *Response
			resp, err = c.tr.Call(ctx, node, &Request{Kind: MsgScan, Partition: p, After: after, Count: scanPage})
			if err == nil {
				keys, more, err = resp.Keys, resp.More, resp.Err
			}
		}
		if err != nil {
			return err
		}
		for _, k := range keys {
			fn(k)
		}
		if !more || len(keys) == 0 {
			return nil
		}
		after = keys[len(keys)-1]
	}
}

// DBSize estimates the number of live keys in the cluster: every live node
// counts the partitions whose first live home replica it is (from its
// per-partition counters, no scan). It is exact when the replicas agree and
// the nodes agree on who is alive.
func (c *Coordinator) DBSize(ctx context.Context) (int64, error) {
	keys, _, err := c.Keyspace(ctx)
	return keys, err
}

// Keyspace returns the cluster-wide DBSIZE estimate and how many of those
// keys carry an expiry, for INFO's keyspace section.
func (c *Coordinator) Keyspace(ctx context.Context) (keys, expires int64, err error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	keys, expires = c.primaryKeys()
	for _, node := range c.placement().Nodes() {
		if node == c.cfg.Self || !c.alive(node) {
			continue
		}
		resp, err := c.tr.Call(ctx, node, &Request{Kind: MsgKeyspace})
		if err != nil || resp.Err != nil {
			continue // an estimate: a node that does not answer is left out
		}
		keys, expires = keys+resp.N1, expires+resp.N2
	}
	return keys, expires, nil
}

// FlushAll deletes every key on every member, hints included. It fails if
// a member cannot be reached (that member keeps its data).
func (c *Coordinator) FlushAll(ctx context.Context) error {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	errs := []error{c.store.FlushAll()}
	for _, node := range c.placement().Nodes() {
		if node == c.cfg.Self {
			continue
		}
		resp, err := c.tr.Call(ctx, node, &Request{Kind: MsgFlush})
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("node %s: %w", short(node), err))
		}
	}
	return errors.Join(errs...)
}
