package coordinator

import (
	"bytes"
	"context"
	"math/rand/v2"
	"sync"
	"time"

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

// readQuorum reads key from r of its targets and returns the merge of
// their answers (paper §4.5: a get waits for R replies). Differences seen,
// and answers still outstanding, go to a read repair that runs after the
// caller has its answer (paper §5).
//
// Unlike the paper, which sends every read to all N targets, a read goes to
// r targets — this node first, since its copy costs no round trip — and to
// the others only when one of those fails, when they are slow to answer
// (HedgeAfter), or, for a ReadRepairChance fraction of reads, always. On a
// small machine the third replica's read is pure cost: R+W>N overlap holds
// for any r targets, and anti-entropy and the sampled full reads keep
// replicas that reads do not visit converging (docs/architecture.md §4 note).
func (c *Coordinator) readQuorum(ctx context.Context, rt route, key []byte, r int) (version.Object, error) {
	p := uint16(rt.p)
	// A single local replica (one node, or R=1 with this node a home
	// replica) answers without any network round trip or goroutine.
	if len(rt.targets) == 1 && rt.targets[0].Node == c.cfg.Self {
		return c.readLocal(p, key, rt.targets[0].HintFor)
	}
	// Remote reads and the read repair outlive this call, while the
	// caller's key may point into a connection buffer that the next
	// command overwrites (resp.Backend's memory rule): keep a copy.
	key = bytes.Clone(key)
	// This node's own copy first, then the others in walk order.
	order := make([]Target, 0, len(rt.targets))
	for _, t := range rt.targets {
		if t.Node == c.cfg.Self {
			order = append(order, t)
		}
	}
	for _, t := range rt.targets {
		if t.Node != c.cfg.Self {
			order = append(order, t)
		}
	}
	tally := NewTally(r, len(order))
	var got []readReply
	merged := version.Object{}
	next := 0
	if order[0].Node == c.cfg.Self { // read this node's copy inline
		obj, err := c.readLocal(p, key, order[0].HintFor)
		got = append(got, readReply{t: order[0], obj: obj, err: err})
		if err == nil {
			merged = obj
			tally.Ack()
		} else {
			tally.Fail()
		}
		next = 1
	}
	replies := make(chan readReply, len(order))
	pending := 0
	send := func(n int) {
		for ; n > 0 && next < len(order); n-- {
			c.readRemote(order[next], p, key, replies)
			next++
			pending++
		}
	}
	if rand.Float64() < c.cfg.ReadRepairChance { // [0,1): never at 0, always at 1
		send(len(order))
	} else {
		send(r - tally.Acks())
	}
	var hedge <-chan time.Time
	if next < len(order) && c.cfg.HedgeAfter > 0 {
		t := time.NewTimer(c.cfg.HedgeAfter)
		defer t.Stop()
		hedge = t.C
	}
	for tally.State() == VotePending {
		if pending == 0 {
			send(1) // nothing in flight but the quorum is still open
		}
		select {
		case rep := <-replies:
			pending--
			got = append(got, rep)
			if rep.err != nil {
				tally.Fail()
				send(1) // replace the failed target with a spare
				continue
			}
			merged = version.Merge(merged, rep.obj)
			tally.Ack()
		case <-hedge:
			hedge = nil
			send(len(order)) // slow answers: ask every spare too
		case <-ctx.Done():
			c.stats.ReadQuorumFailures.Add(1)
			return version.Object{}, &QuorumError{Kind: ErrReadQuorum, Got: tally.Acks(), Need: r, Cause: ctx.Err()}
		}
	}
	c.repairAfterRead(rt, key, merged, got, replies, pending)
	if tally.State() == VoteLost {
		c.stats.ReadQuorumFailures.Add(1)
		return version.Object{}, &QuorumError{Kind: ErrReadQuorum, Got: tally.Acks(), Need: r}
	}
	return merged, nil
}

// readRemote reads key from target t on the coordinator's background
// context (the answer may arrive after the client was answered, for read
// repair) and reports on replies, which must have room.
func (c *Coordinator) readRemote(t Target, p uint16, key []byte, replies chan<- readReply) {
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
