package coordinator

import (
	"context"
	"sync"

	"github.com/dynago/dynago/version"
)

// Get returns key's object merged from R replicas (paper §4.5 get): every
// causally unrelated version survives the merge as a sibling. A missing key
// is the zero Object. Any node coordinates a read.
func (c *Coordinator) Get(ctx context.Context, key []byte) (version.Object, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	rt := c.route(key)
	r, _ := c.quorums(ctx, rt.n)
	return c.readQuorum(ctx, rt, key, r)
}

// GetMany is Get for several keys, in order; the reads run in parallel.
// The first error fails the whole call (MGET has no per-key errors).
func (c *Coordinator) GetMany(ctx context.Context, keys [][]byte) ([]version.Object, error) {
	out := make([]version.Object, len(keys))
	errs := make([]error, len(keys))
	parallel(len(keys), func(i int) { out[i], errs[i] = c.Get(ctx, keys[i]) })
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readReply is one replica's answer to a read.
type readReply struct {
	t   Target
	obj version.Object
	err error
}

// readQuorum reads key from every target and returns the merge of the
// first r answers. The answers still outstanding then, and any divergence
// already seen, go to a read repair that runs after the caller has its
// answer (paper §5).
func (c *Coordinator) readQuorum(ctx context.Context, rt route, key []byte, r int) (version.Object, error) {
	p := uint16(rt.p)
	// A single local replica (one node, or R=1 with this node a home
	// replica) answers without any network round trip or goroutine.
	if len(rt.targets) == 1 && rt.targets[0].Node == c.cfg.Self {
		return c.readLocal(p, key, rt.targets[0].HintFor)
	}
	replies := make(chan readReply, len(rt.targets))
	remote := 0
	for _, t := range rt.targets {
		if t.Node == c.cfg.Self {
			continue
		}
		remote++
		t := t
		if !c.goBG(func() {
			rctx, cancel := context.WithTimeout(c.bg, c.cfg.RequestTimeout)
			defer cancel()
			resp, err := c.tr.Call(rctx, t.Node, &Request{Kind: MsgRead, Partition: p, Key: key, HintFor: t.HintFor})
			if err == nil {
				err = resp.Err
			}
			var obj version.Object
			if err == nil {
				obj = resp.Object
			}
			replies <- readReply{t: t, obj: obj, err: err}
		}) {
			replies <- readReply{t: t, err: ErrUnreachable}
		}
	}
	tally := NewTally(r, len(rt.targets))
	var got []readReply
	merged := version.Object{}
	if remote < len(rt.targets) { // this node is a target: read it inline
		self := Target{Node: c.cfg.Self}
		for _, t := range rt.targets {
			if t.Node == c.cfg.Self {
				self = t
			}
		}
		obj, err := c.readLocal(p, key, self.HintFor)
		got = append(got, readReply{t: self, obj: obj, err: err})
		if err == nil {
			merged = obj
			tally.Ack()
		} else {
			tally.Fail()
		}
	}
	pending := remote
	for tally.State() == VotePending {
		select {
		case rep := <-replies:
			pending--
			got = append(got, rep)
			if rep.err != nil {
				tally.Fail()
				continue
			}
			merged = version.Merge(merged, rep.obj)
			tally.Ack()
		case <-ctx.Done():
			c.stats.ReadQuorumFailures.Add(1)
			return version.Object{}, &QuorumError{Kind: ErrReadQuorum, Got: tally.Acks(), Need: r, Cause: ctx.Err()}
		}
	}
	if tally.State() == VoteLost {
		c.stats.ReadQuorumFailures.Add(1)
		c.repairAfterRead(rt, key, merged, got, replies, pending)
		return version.Object{}, &QuorumError{Kind: ErrReadQuorum, Got: tally.Acks(), Need: r}
	}
	c.repairAfterRead(rt, key, merged, got, replies, pending)
	return merged, nil
}

// readLocal reads this node's copy of key, merged with the hint it holds
// for hintFor when it stands in for that home replica.
func (c *Coordinator) readLocal(p uint16, key []byte, hintFor string) (version.Object, error) {
	obj, err := c.store.Get(p, key)
	if err != nil || hintFor == "" {
		return obj, err
	}
	h, ok, err := c.store.GetHint(hintFor, p, key)
	if err != nil {
		return version.Object{}, err
	}
	if ok {
		obj = version.Merge(obj, h)
	}
	return obj, nil
}

// parallel runs fn(0..n-1) concurrently, at most 64 at a time, and waits.
func parallel(n int, fn func(i int)) {
	if n == 1 {
		fn(0)
		return
	}
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}
