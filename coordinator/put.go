package coordinator

import (
	"context"
	"errors"
	"time"

	"github.com/dynago/dynago/version"
)

// Write applies op to key (paper §4.5 put; docs/architecture.md §4). A healthy home
// replica coordinates it: it applies op to its local object (after a
// quorum read for ops that depend on the current value), stores the result
// durably and replicates the resulting object to the other targets,
// answering after W durable copies. Any other node forwards the write,
// once, to the first healthy home replica. Only when no home replica is
// healthy does a fallback target coordinate.
//
// Over the node's memory limit, the writer first evicts (makeRoom).
func (c *Coordinator) Write(ctx context.Context, key []byte, op Op) (Result, error) {
	c.makeRoom(ctx, op)
	return c.write(ctx, key, op)
}

// write is Write without makeRoom: evictions use it.
func (c *Coordinator) write(ctx context.Context, key []byte, op Op) (Result, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	rt := c.route(key)
	if !c.mayCoordinate(rt) {
		return c.forward(ctx, rt, key, op)
	}
	return c.coordinate(ctx, rt, key, op)
}

// mayCoordinate reports whether this node coordinates writes of the route:
// it is a home replica, or no home replica is healthy and it stands in for
// one.
func (c *Coordinator) mayCoordinate(rt route) bool {
	self, homeAlive := false, false
	for _, t := range rt.targets {
		if t.Node == c.cfg.Self {
			if t.HintFor == "" {
				return true
			}
			self = true
		}
		homeAlive = homeAlive || t.HintFor == ""
	}
	return self && !homeAlive
}

// WriteMany applies ops[i] to keys[i]; each key succeeds or fails on its
// own. The writes run in parallel (MSET, DEL k1 k2 …).
func (c *Coordinator) WriteMany(ctx context.Context, keys [][]byte, ops []Op) ([]Result, []error) {
	res := make([]Result, len(keys))
	errs := make([]error, len(keys))
	parallel(len(keys), func(i int) { res[i], errs[i] = c.Write(ctx, keys[i], ops[i]) })
	return res, errs
}

// forward sends the write to the first target that can be reached. A
// target that cannot be reached (the call was never sent) is skipped; any
// other failure ends the attempt, since the write may have been applied.
func (c *Coordinator) forward(ctx context.Context, rt route, key []byte, op Op) (Result, error) {
	o := ConsistencyFrom(ctx)
	req := &Request{Kind: MsgForward, Partition: uint16(rt.p), Key: key, Op: op, R: o.R, W: o.W}
	if dl, ok := ctx.Deadline(); ok {
		// The coordinator answers a little before our deadline so that its
		// answer, not our timeout, reaches the client.
		req.Timeout = max(time.Until(dl)-time.Until(dl)/10, time.Millisecond)
	}
	for _, t := range rt.targets {
		resp, err := c.tr.Call(ctx, t.Node, req)
		if errors.Is(err, ErrUnreachable) {
			continue
		}
		c.stats.Forwarded.Add(1)
		if err != nil {
			c.stats.WriteQuorumFailures.Add(1)
			return Result{}, &QuorumError{Kind: ErrQuorumMaybe, Got: 0, Need: 1, Cause: err}
		}
		return resp.Result, resp.Err
	}
	c.stats.WriteQuorumFailures.Add(1)
	return Result{}, &QuorumError{Kind: ErrQuorumNotApplied, Got: 0, Need: 1}
}

// coordinate runs a write this node coordinates.
func (c *Coordinator) coordinate(ctx context.Context, rt route, key []byte, op Op) (Result, error) {
	c.stats.Coordinated.Add(1)
	r, w := c.quorums(ctx, rt.n)
	var base version.Object
	if op.NeedsRead() && len(rt.targets) > 1 {
		var err error
		if base, err = c.readQuorum(ctx, rt, key, r); err != nil {
			// Nothing has been written: the read failed first.
			var qe *QuorumError
			if errors.As(err, &qe) {
				return Result{}, &QuorumError{Kind: ErrQuorumNotApplied, Got: qe.Got, Need: qe.Need, Cause: qe.Cause}
			}
			return Result{}, err
		}
	}
	var (
		res   Result
		wrote bool
	)
	fn := func(cur version.Object) (version.Object, bool, error) {
		if len(base.VV) > 0 {
			cur = version.Merge(cur, base)
		}
		next, write, r, err := ApplyWithCounter(cur, op, c.cfg.Actor, c.dots.Next, c.nowMs(), c.cfg.MaxValueBytes)
		res, wrote = r, write
		return next, write, err
	}
	// With a store that can apply a write before its fsync completes, the
	// replica writes go out while the local fsync runs: the write costs
	// one fsync of latency instead of two in a row.
	var (
		obj       version.Object
		localWait func() error
		err       error
	)
	if as, ok := c.store.(asyncStore); ok {
		obj, localWait, err = as.UpdateAsync(uint16(rt.p), key, fn)
	} else {
		obj, err = c.store.Update(uint16(rt.p), key, fn)
	}
	if err != nil {
		return Result{}, err
	}
	res.Object = obj
	if wrote {
		if b := c.batchFor(ctx, rt); b != nil {
			b.add(c, rt, w, key, obj, localWait)
			return res, nil
		}
	}
	if !wrote {
		if localWait != nil {
			if err := localWait(); err != nil {
				return Result{}, err
			}
		}
		return res, nil
	}
	if err := c.replicate(ctx, rt, key, obj, w, localWait); err != nil {
		return res, err
	}
	return res, nil
}

// asyncStore is a Store that can apply a write before it is durable
// (engine.Engine.UpdateAsync).
type asyncStore interface {
	UpdateAsync(p uint16, key []byte, fn func(cur version.Object) (next version.Object, write bool, err error)) (version.Object, func() error, error)
}

// replicate sends obj, already stored locally, to the other targets and
// waits until w copies (the local one included) are durable. Replica writes
// still in flight when it returns carry on in the background; a replica
// that fails or does not answer gets a hint instead (docs/architecture.md §4 step 4).
// Home replicas left without a stand-in get a hint kept here.
//
// localWait, when not nil, returns once the local copy is durable; it is
// called after the replica writes went out, and the local copy counts only
// then.
func (c *Coordinator) replicate(ctx context.Context, rt route, key []byte, obj version.Object, w int, localWait func() error) error {
	p := uint16(rt.p)
	for _, home := range rt.orphans {
		c.storeHint(home, p, key, obj)
	}
	for _, t := range rt.targets {
		if t.Node == c.cfg.Self && t.HintFor != "" {
			// This node coordinated as a stand-in: its copy must reach the
			// home replica it stands in for.
			c.storeHint(t.HintFor, p, key, obj)
		}
	}
	for _, id := range rt.incoming {
		if id == c.cfg.Self {
			continue
		}
		if c.alive(id) {
			c.replicaWrite(Target{Node: id}, p, key, obj, nil)
		} else {
			c.storeHint(id, p, key, obj)
		}
	}
	tally := NewTally(w, len(rt.targets))
	acks := make(chan bool, len(rt.targets))
	started := 0
	for _, t := range rt.targets {
		if t.Node == c.cfg.Self {
			continue
		}
		started++
		if !c.replicaWrite(t, p, key, obj, acks) {
			acks <- false // closing: count it as failed
		}
	}
	localOK := true
	if localWait != nil {
		localOK = localWait() == nil
	}
	return c.awaitWrites(ctx, &tally, localOK, acks, started, w)
}

// awaitWrites counts the local copy (localOK) and then the answers of
// started replica writes on acks until tally is won (nil) or lost. A lost
// quorum is reported once the answers under way are in, so that the error
// says how many copies were stored; they are bounded by the deadline.
func (c *Coordinator) awaitWrites(ctx context.Context, tally *Tally, localOK bool, acks <-chan bool, started, w int) error {
	local := tally.Fail
	if localOK {
		local = tally.Ack
	}
	if local() == VoteWon {
		return nil
	}
	for range started {
		select {
		case ok := <-acks:
			v := tally.Fail
			if ok {
				v = tally.Ack
			}
			if v() == VoteWon {
				return nil
			}
		case <-ctx.Done():
			c.stats.WriteQuorumFailures.Add(1)
			return &QuorumError{Kind: ErrQuorumMaybe, Got: tally.Acks(), Need: w, Cause: ctx.Err()}
		}
	}
	c.stats.WriteQuorumFailures.Add(1)
	return &QuorumError{Kind: ErrQuorumMaybe, Got: tally.Acks(), Need: w}
}

// replicaWrite sends one replica write on the coordinator's background
// context, so that it completes even after the client was answered, and
// reports its outcome on acks (if not nil; acks must have room). On failure
// it keeps a hint for the home replica. It reports false if the coordinator
// is closing and nothing was started.
func (c *Coordinator) replicaWrite(t Target, p uint16, key []byte, obj version.Object, acks chan<- bool) bool {
	return c.goBG(func() {
		ctx, cancel := context.WithTimeout(c.bg, c.cfg.RequestTimeout)
		defer cancel()
		req := &Request{Kind: MsgReplicate, Partition: p, Key: key, Object: obj, HintFor: t.HintFor}
		if t.HintFor != "" {
			c.stats.FallbackWrites.Add(1)
		}
		resp, err := c.tr.Call(ctx, t.Node, req)
		ok := err == nil && resp.Err == nil
		if acks != nil {
			acks <- ok
		}
		if !ok {
			home := t.Node
			if t.HintFor != "" {
				home = t.HintFor
			}
			c.storeHint(home, p, key, obj)
		}
	})
}

// storeHint keeps obj for home until hinted handoff delivers it.
func (c *Coordinator) storeHint(home string, p uint16, key []byte, obj version.Object) {
	if err := c.store.PutHint(home, p, key, obj); err != nil {
		c.log.Error("cannot store hint", "target", home, "err", err)
		return
	}
	c.stats.HintsStored.Add(1)
	// No kick of the handoff loop here: the home replica just failed, so
	// the next tick (or membership seeing it alive) is soon enough.
}
