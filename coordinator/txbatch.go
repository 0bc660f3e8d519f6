package coordinator

import (
	"context"
	"slices"
	"sync"

	"github.com/dynago/dynago/version"
)

// Transaction batches (MULTI/EXEC; docs/decisions.md, 2026-12-04).
//
// The writes of one EXEC that this node coordinates as a plain home
// replica are stored locally at once but reach the other replicas
// together: Commit sends each replica one MsgMergeMany carrying every
// written key, which the replica applies as one pebble batch, so a replica
// holds all of them or none. Writes that need more (hints for a dead
// replica, a partition in transfer, a write forwarded to another
// coordinator) replicate one by one as usual.

type txBatchKey struct{}

// TxBatch gathers the replica writes of one transaction. Make one with
// WithTxBatch, run the transaction's writes with the context it returns,
// then call Commit once.
type TxBatch struct {
	mu    sync.Mutex
	c     *Coordinator // the coordinator of the writes gathered
	p     uint16
	rt    route
	w     int
	keys  [][]byte
	objs  []version.Object
	waits []func() error // local durability of each write (nil: durable)
}

// WithTxBatch returns ctx carrying a new batch.
func WithTxBatch(ctx context.Context) (context.Context, *TxBatch) {
	b := &TxBatch{}
	return context.WithValue(ctx, txBatchKey{}, b), b
}

// batchFor returns the batch a write of rt may join, or nil.
func (c *Coordinator) batchFor(ctx context.Context, rt route) *TxBatch {
	b, _ := ctx.Value(txBatchKey{}).(*TxBatch)
	if b == nil || len(rt.orphans) > 0 || len(rt.incoming) > 0 {
		return nil
	}
	self := false
	for _, t := range rt.targets {
		if t.HintFor != "" {
			return nil
		}
		self = self || t.Node == c.cfg.Self
	}
	if !self {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.c != nil && (b.c != c || b.p != uint16(rt.p) || !slices.Equal(b.rt.targets, rt.targets)) {
		return nil // another replica set: replicate on its own
	}
	return b
}

// add gathers one write, replacing an earlier write of the same key (the
// later object descends it).
func (b *TxBatch) add(c *Coordinator, rt route, w int, key []byte, obj version.Object, wait func() error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.c == nil {
		b.c, b.p, b.rt = c, uint16(rt.p), rt
	}
	b.w = max(b.w, w)
	for i := range b.keys {
		if string(b.keys[i]) == string(key) {
			b.objs[i] = obj
			b.waits = append(b.waits, wait)
			return
		}
	}
	b.keys, b.objs = append(b.keys, key), append(b.objs, obj)
	b.waits = append(b.waits, wait)
}

// Commit replicates the gathered writes, one message per replica, and
// waits until W copies of all of them are durable (the local one
// included). A replica that fails or does not answer gets hints. An error
// means the writes may have been applied on some replicas.
func (b *TxBatch) Commit(ctx context.Context) error {
	b.mu.Lock()
	c := b.c
	b.mu.Unlock()
	if c == nil || len(b.keys) == 0 {
		return nil
	}
	local := true
	for _, wait := range b.waits {
		if wait != nil && wait() != nil {
			local = false
		}
	}
	tally := NewTally(b.w, len(b.rt.targets))
	acks := make(chan bool, len(b.rt.targets))
	started := 0
	for _, t := range b.rt.targets {
		if t.Node == c.cfg.Self {
			continue
		}
		started++
		node := t.Node
		ok := c.goBG(func() {
			ctx, cancel := context.WithTimeout(c.bg, c.cfg.RequestTimeout)
			defer cancel()
			_, err := c.call(ctx, node, &Request{Kind: MsgMergeMany, Partition: b.p, Keys: b.keys, Objects: b.objs})
			acks <- err == nil
			if err != nil {
				for i := range b.keys {
					c.storeHint(node, b.p, b.keys[i], b.objs[i])
				}
			}
		})
		if !ok {
			acks <- false
		}
	}
	return c.awaitWrites(ctx, &tally, local, acks, started, b.w)
}
