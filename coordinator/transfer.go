package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynago/dynago/engine"
	"github.com/dynago/dynago/internal/pace"
	"github.com/dynago/dynago/ring"
	"github.com/dynago/dynago/version"
)

// Ownership transfer (paper §4.9; docs/architecture.md §5). A membership change is staged
// on the ring: each partition that changes owner is pending to its new
// owner, the old owners keep serving reads, and writes also reach the
// nodes about to become home replicas (Placement.Incoming). Every node runs
// the same loop (Transfers.step), driven by ring changes and a ticker:
//
//  1. Sync: for every partition it is (or is about to be) a home replica of
//     and does not hold yet, it streams the partition from a live home
//     replica of the committed ring and merges it in (MsgFetch pages into
//     one MergeMany each). Writes arriving meanwhile merge as usual.
//  2. Commit: once it holds everything it must, it commits the partitions
//     pending to it (Ring.Commit), and a Joining node becomes Valid.
//  3. Hand off: data it holds for partitions it no longer replicates (after
//     a commit moved them away, after it left, or written while it stood in
//     for others) is sent to the partitions' home replicas — a hint is kept
//     for those not alive — and then deleted key by key, each only if it did
//     not change meanwhile. So nothing acknowledged is dropped.
//  4. Leave: a Leaving node that owns nothing and holds nothing any more
//     removes itself from the ring; it can then be stopped and its data
//     directory deleted.
//
// Which partitions a node holds ("synced") is kept in its metadata, so a
// transfer resumes after a crash of either side: a partition counts as held
// only once streamed completely, and streaming again is harmless (merges are
// idempotent). A node whose disk was wiped holds nothing and streams every
// partition it replicates from the others.

// RingControl is what transfers need from membership: the current ring and
// a way to change it (ring.Membership implements it).
type RingControl interface {
	Ring() *ring.Ring
	Propose(fn func(cur *ring.Ring) (*ring.Ring, error)) (*ring.Ring, error)
}

// MetaStore persists small node state (engine.Engine implements it).
type MetaStore interface {
	GetMeta(name string) ([]byte, bool, error)
	PutMeta(name string, v []byte) error
}

const (
	metaSynced = "synced"
	// fetchPage is how many objects one MsgFetch carries.
	fetchPage = 256
)

// TransferConfig configures Transfers.
type TransferConfig struct {
	// Interval is how often the loop runs without a ring change (default
	// 1 s).
	Interval time.Duration
	// Rate bounds the keys per second streamed in and handed off (default
	// 20000), so that transfers yield to client traffic (paper §6.5).
	Rate int
}

// TransferStats are the counters behind INFO's transfers section.
type TransferStats struct {
	KeysIn, BytesIn     atomic.Int64 // streamed into this node
	KeysOut, BytesOut   atomic.Int64 // handed off by this node
	PartitionsSynced    atomic.Int64 // partitions streamed completely
	PartitionsHanded    atomic.Int64 // partitions handed off and dropped
	Commits             atomic.Int64 // ring commits this node proposed
	SyncFailures        atomic.Int64
	ToSync, ToHandOff   atomic.Int64 // work left at the last step
	KeysToHandOff       atomic.Int64 // live keys in the partitions of ToHandOff
	InFlightPartition   atomic.Int64 // partition being streamed, -1 none
	LastStepUnixMilli   atomic.Int64
	LastCommitUnixMilli atomic.Int64
}

// Transfers runs ownership transfer for one node. It owns one goroutine,
// started by Start and stopped by Close.
type Transfers struct {
	c    *Coordinator
	ring RingControl
	meta MetaStore
	cfg  TransferConfig
	log  *slog.Logger

	mu     sync.Mutex
	synced []bool // guarded by mu: partitions this node holds completely

	ctx     context.Context // cancelled by Close: ends a step in progress
	cancel  context.CancelFunc
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	started atomic.Bool
	stats   TransferStats
}

// NewTransfers returns the transfer manager of coordinator c. It loads
// which partitions the node holds from meta.
func NewTransfers(c *Coordinator, rc RingControl, meta MetaStore, cfg TransferConfig) (*Transfers, error) {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 20000
	}
	t := &Transfers{c: c, ring: rc, meta: meta, cfg: cfg, log: c.log.With("component", "transfers"),
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	t.stats.InFlightPartition.Store(-1)
	t.ctx, t.cancel = context.WithCancel(context.Background())
	b, ok, err := meta.GetMeta(metaSynced)
	if err != nil {
		return nil, err
	}
	if ok {
		t.synced = make([]bool, len(b)*8)
		for p := range t.synced {
			t.synced[p] = b[p/8]&(1<<(p%8)) != 0
		}
	}
	return t, nil
}

// Start runs the transfer loop until Close.
func (t *Transfers) Start() {
	t.started.Store(true)
	go func() {
		defer close(t.done)
		tick := time.NewTicker(t.cfg.Interval)
		defer tick.Stop()
		for {
			if err := t.Step(t.ctx); err != nil && t.ctx.Err() == nil {
				t.log.Debug("transfer step", "err", err)
			}
			select {
			case <-t.stop:
				return
			case <-tick.C:
			case <-t.kick:
			}
		}
	}()
}

// Kick runs a step soon (the ring changed).
func (t *Transfers) Kick() {
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// Close stops the loop and waits for it. A partition being streamed or
// handed off is abandoned where it is and resumed after the next start
// (both are idempotent), so a shutdown does not wait for a whole transfer.
func (t *Transfers) Close() {
	t.once.Do(func() {
		close(t.stop)
		t.cancel()
	})
	if t.started.Load() {
		<-t.done
	}
}

// Stats returns the live counters.
func (t *Transfers) Stats() *TransferStats { return &t.stats }

// Held reports whether this node holds partition p completely.
func (t *Transfers) Held(p int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return p < len(t.synced) && t.synced[p]
}

func (t *Transfers) setHeld(p int, held bool, q int) {
	t.mu.Lock()
	if len(t.synced) < q {
		t.synced = append(t.synced, make([]bool, q-len(t.synced))...)
	}
	changed := t.synced[p] != held
	t.synced[p] = held
	var b []byte
	if changed {
		b = make([]byte, (len(t.synced)+7)/8)
		for i, s := range t.synced {
			if s {
				b[i/8] |= 1 << (i % 8)
			}
		}
	}
	t.mu.Unlock()
	if changed {
		if err := t.meta.PutMeta(metaSynced, b); err != nil {
			t.log.Error("cannot persist held partitions", "err", err)
		}
	}
}

// Step runs one pass of the loop (see the file comment). Tests call it
// directly.
func (t *Transfers) Step(ctx context.Context) error {
	r := t.ring.Ring()
	if r == nil {
		return nil
	}
	self := t.c.cfg.Self
	target := r.Target()
	q := r.Q()
	t.stats.LastStepUnixMilli.Store(time.Now().UnixMilli())
	var errs []error

	// 1. Sync what this node replicates or is about to. The work is
	// counted first, so INFO transfers shows it while it runs.
	var toSync []int
	for p := range q {
		if replicates(r, target, p, self) && !t.Held(p) {
			toSync = append(toSync, p)
		}
	}
	t.stats.ToSync.Store(int64(len(toSync)))
	failed := 0
	for _, p := range toSync {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := t.syncPartition(ctx, r, p); err != nil {
			failed++
			t.stats.SyncFailures.Add(1)
			errs = append(errs, fmt.Errorf("sync partition %d: %w", p, err))
			continue
		}
		t.setHeld(p, true, q)
		t.stats.PartitionsSynced.Add(1)
		t.stats.ToSync.Add(-1)
	}

	// 2. Commit the partitions pending to this node once it holds them all.
	if failed == 0 {
		if err := t.commit(); err != nil {
			errs = append(errs, err)
		}
	}

	// 3. Hand off data this node holds but no longer replicates, by the
	// ring as it is after the commit.
	r = t.ring.Ring()
	target = r.Target()
	var toHandOff []int
	for p := range q {
		if replicates(r, target, p, self) {
			continue
		}
		if t.holdsData(p) {
			toHandOff = append(toHandOff, p)
		} else if t.Held(p) {
			t.setHeld(p, false, q)
		}
	}
	t.stats.ToHandOff.Store(int64(len(toHandOff)))
	keysLeft := make([]int64, len(toHandOff))
	var keysTotal int64
	for i, p := range toHandOff {
		keysLeft[i], _ = t.c.store.PartitionKeys(uint16(p))
		keysTotal += keysLeft[i]
	}
	t.stats.KeysToHandOff.Store(keysTotal)
	for i, p := range toHandOff {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := t.handOff(ctx, r, target, p); err != nil {
			failed++
			errs = append(errs, fmt.Errorf("hand off partition %d: %w", p, err))
			continue
		}
		t.setHeld(p, false, q)
		t.stats.PartitionsHanded.Add(1)
		t.stats.ToHandOff.Add(-1)
		t.stats.KeysToHandOff.Add(-keysLeft[i])
	}

	// 4. A leaving node that is done leaves the ring.
	if failed == 0 {
		if err := t.finishLeave(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// replicates reports whether self is a home replica of p now or once the
// pending handoffs are committed.
func replicates(r, target *ring.Ring, p int, self string) bool {
	return slices.Contains(r.PreferenceList(p), self) || slices.Contains(target.PreferenceList(p), self)
}

// holdsData reports whether the store has any object of partition p.
func (t *Transfers) holdsData(p int) bool {
	found := false
	_ = t.c.store.Scan(uint16(p), nil, func([]byte, version.Object) bool {
		found = true
		return false
	})
	return found
}

// syncPartition streams p from a live home replica of the committed ring.
// A partition whose only home replica is this node has nothing to stream.
func (t *Transfers) syncPartition(ctx context.Context, r *ring.Ring, p int) error {
	var sources []string
	for _, id := range r.PreferenceList(p) {
		if id != t.c.cfg.Self {
			sources = append(sources, id)
		}
	}
	if len(sources) == 0 {
		return nil
	}
	var errs []error
	for _, src := range sources {
		if !t.c.alive(src) {
			continue
		}
		t.stats.InFlightPartition.Store(int64(p))
		err := t.stream(ctx, src, p)
		t.stats.InFlightPartition.Store(-1)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("from %s: %w", short(src), err))
	}
	if len(errs) == 0 {
		return fmt.Errorf("no live home replica to stream from")
	}
	return errors.Join(errs...)
}

// stream fetches every object of p from src and merges it locally, a page
// per MergeMany, paced to the transfer rate.
func (t *Transfers) stream(ctx context.Context, src string, p int) error {
	var after []byte
	pacer := pace.New(t.cfg.Rate)
	for {
		resp, err := t.c.call(ctx, src, &Request{Kind: MsgFetch, Partition: uint16(p), After: after, Count: fetchPage})
		if err != nil {
			return err
		}
		if len(resp.Keys) > 0 {
			items := make([]engine.MergeItem, len(resp.Keys))
			for i, k := range resp.Keys {
				items[i] = engine.MergeItem{P: uint16(p), Key: k, Object: resp.Objects[i]}
				t.stats.BytesIn.Add(int64(len(k) + resp.Objects[i].EncodedSize()))
			}
			if _, err := t.c.store.MergeMany(items); err != nil {
				return err
			}
			t.stats.KeysIn.Add(int64(len(items)))
			after = resp.Keys[len(resp.Keys)-1]
			if err := pacer.Wait(ctx, len(items)); err != nil {
				return err
			}
		}
		if !resp.More || len(resp.Keys) == 0 {
			return nil
		}
	}
}

// fetchLocal serves MsgFetch: up to count objects of p after after.
func (c *Coordinator) fetchLocal(p uint16, after []byte, count int) (*Response, error) {
	resp := &Response{}
	count = max(count, 1)
	err := c.store.Scan(p, after, func(key []byte, o version.Object) bool {
		if len(resp.Keys) == count {
			resp.More = true
			return false
		}
		resp.Keys = append(resp.Keys, append([]byte(nil), key...))
		resp.Objects = append(resp.Objects, o)
		return true
	})
	return resp, err
}

// commit commits every partition pending to this node, and makes a
// Joining node Valid, in one ring change.
func (t *Transfers) commit() error {
	self := t.c.cfg.Self
	r := t.ring.Ring()
	m, ok := r.Member(self)
	if !ok {
		return nil
	}
	pending := false
	for p := range r.Q() {
		if r.Pending(p) == self {
			pending = true
			break
		}
	}
	if !pending && m.State != ring.Joining {
		return nil
	}
	_, err := t.ring.Propose(func(cur *ring.Ring) (*ring.Ring, error) {
		// Only commit what this node holds: the ring may have moved on
		// since the step began.
		next, err := cur.CommitTo(self, t.Held)
		if err != nil {
			return nil, err
		}
		if me, ok := next.Member(self); ok && me.State == ring.Joining {
			if next, err = next.WithState(self, ring.Valid); err != nil {
				return nil, err
			}
		}
		if next == cur {
			return nil, nil
		}
		return next, nil
	})
	if err == nil {
		t.stats.Commits.Add(1)
		t.stats.LastCommitUnixMilli.Store(time.Now().UnixMilli())
	}
	return err
}

// handOff sends every object of p to p's home replicas (committed and
// incoming) and deletes it locally when it did not change meanwhile. A
// home replica that is not alive gets a hint instead.
func (t *Transfers) handOff(ctx context.Context, r, target *ring.Ring, p int) error {
	var homes []string
	for _, id := range append(slices.Clone(r.PreferenceList(p)), target.PreferenceList(p)...) {
		if id != t.c.cfg.Self && !slices.Contains(homes, id) {
			homes = append(homes, id)
		}
	}
	if len(homes) == 0 {
		return fmt.Errorf("partition %d has no home replica", p)
	}
	pacer := pace.New(t.cfg.Rate)
	var batch []hint
	for {
		batch = batch[:0]
		err := t.c.store.Scan(uint16(p), nil, func(key []byte, o version.Object) bool {
			batch = append(batch, hint{p: uint16(p), key: append([]byte(nil), key...), obj: o})
			return len(batch) < fetchPage
		})
		if err != nil || len(batch) == 0 {
			return err
		}
		// One MergeMany per home replica for the whole batch: a round trip
		// and an fsync per batch, not per key.
		for _, home := range homes {
			if err := t.pushOrHint(ctx, home, batch); err != nil {
				return err
			}
		}
		for _, h := range batch {
			if _, err := t.c.store.Update(h.p, h.key, func(cur version.Object) (version.Object, bool, error) {
				if !cur.VV.Equal(h.obj.VV) {
					return cur, false, nil // changed meanwhile: hand it off again
				}
				return version.Object{}, true, nil
			}); err != nil {
				return err
			}
			t.stats.KeysOut.Add(1)
			t.stats.BytesOut.Add(int64(len(h.key) + h.obj.EncodedSize()))
		}
		if err := pacer.Wait(ctx, len(batch)); err != nil {
			return err
		}
	}
}

func (t *Transfers) pushOrHint(ctx context.Context, home string, batch []hint) error {
	hintAll := func() error {
		for _, h := range batch {
			if err := t.c.store.PutHint(home, h.p, h.key, h.obj); err != nil {
				return err
			}
		}
		return nil
	}
	if !t.c.alive(home) {
		return hintAll()
	}
	req := &Request{Kind: MsgMergeMany, Partition: batch[0].p}
	for _, h := range batch {
		req.Keys = append(req.Keys, h.key)
		req.Objects = append(req.Objects, h.obj)
	}
	if _, err := t.c.call(ctx, home, req); err != nil {
		// Keep the data: hints for the home replica we could not reach.
		return hintAll()
	}
	return nil
}

// finishLeave removes a Leaving node from the ring once it owns nothing.
func (t *Transfers) finishLeave() error {
	self := t.c.cfg.Self
	r := t.ring.Ring()
	m, ok := r.Member(self)
	if !ok || m.State != ring.Leaving {
		return nil
	}
	for p := range r.Q() {
		if r.Owner(p) == self || r.Pending(p) == self {
			return nil
		}
	}
	if n := t.c.store.HintCounts(); len(n) > 0 {
		return nil // deliver the hints first
	}
	for p := range r.Q() {
		if t.holdsData(p) {
			// Still handing off (the ring may have changed since this
			// step decided what to hand off): the next step finishes.
			return nil
		}
	}
	_, err := t.ring.Propose(func(cur *ring.Ring) (*ring.Ring, error) {
		if me, ok := cur.Member(self); !ok || me.State != ring.Leaving {
			return nil, nil
		}
		return cur.WithoutMember(self)
	})
	if err == nil {
		t.log.Info("this node has handed off all its data and left the ring: it can be stopped")
	}
	return err
}

// BytesLeft estimates the bytes this node still has to stream in and to
// hand off: partitions left to stream times the bytes of the average
// partition streamed so far, plus keys left to hand off times the bytes of
// the average key handed off so far. Before the first partition or key
// has moved there is no average and the estimate counts that side as 0.
func (s *TransferStats) BytesLeft() int64 {
	var left int64
	if n := s.PartitionsSynced.Load(); n > 0 {
		left += s.ToSync.Load() * s.BytesIn.Load() / n
	}
	if n := s.KeysOut.Load(); n > 0 {
		left += s.KeysToHandOff.Load() * s.BytesOut.Load() / n
	}
	return left
}
