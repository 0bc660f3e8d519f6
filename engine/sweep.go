package engine

import (
	"bytes"
	"errors"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/dynago/dynago/version"
)

// The sweep (docs/architecture.md §6: "expired objects read as missing and are purged in
// the background"; tombstones are reaped only after a grace period and
// when every home replica has them). It walks the 'd' keyspace in key
// order, at most a batch of objects per call, resuming after the last key
// it visited and starting over when it reaches the end. For every object:
//
//   - Compaction: expired values are dropped (version.Object.Compact turns
//     an expired sibling into a tombstone that keeps its dot). The VV and
//     so the anti-entropy hash are unchanged, so OnChange is not called;
//     the counters change, since the winner may now be a tombstone.
//   - Reaping: a dead object (every sibling a tombstone or expired) whose
//     DeathTime + TombstoneGrace has passed is offered to Config.MayReap,
//     called with no lock held because it may ask other replicas. If it
//     agrees, the object is deleted under the key's stripe, but only if
//     the stored object is still the one MayReap saw (a write may have
//     arrived meanwhile); OnChange reports old hash -> 0.
//
// The sweep's writes are not fsynced: a crash may undo them, and the next
// pass does them again.

// sweepCandidate is an object a sweep pass must act on.
type sweepCandidate struct {
	p       uint16
	key     []byte         // user key, a copy
	compact bool           // it holds expired values
	reap    bool           // dead and past its grace
	dead    version.Object // when reap: the compacted object MayReap judges
}

// SweepOnce runs one step of the sweep: it visits at most max objects
// (SweepBatch when max <= 0) after the last one the previous step visited,
// compacts and reaps what it must, and returns how many it visited. A
// step that reaches the end of the keyspace returns fewer than max and
// the next one starts from the beginning, so tests and the cluster drive a
// full pass deterministically by calling it until visited < max. Steps are
// serialised; the clock is Config.Now.
func (e *Engine) SweepOnce(max int) (visited int, err error) {
	if max <= 0 {
		max = e.cfg.SweepBatch
	}
	if err := e.enter(); err != nil {
		return 0, err
	}
	defer e.exit()
	e.sweepMu.Lock()
	defer e.sweepMu.Unlock()

	nowMs := e.nowMs()
	graceMs := e.cfg.TombstoneGrace.Milliseconds()
	var cands []sweepCandidate
	lower := dataLower
	if e.sweepCursor != nil {
		lower = successor(e.sweepCursor)
	}
	var last []byte // the last key visited when the step stops early
	err = e.iterate(lower, dataUpper, func(k, v []byte) (bool, error) {
		visited++
		if c, ok := e.examine(k, v, nowMs, graceMs); ok {
			cands = append(cands, c)
		}
		if visited == max {
			last = bytes.Clone(k) // k is iterator memory
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return visited, err
	}
	e.sweepCursor = last
	if last == nil {
		e.stats.sweepPasses.Add(1)
	}
	e.stats.sweepVisited.Add(int64(visited))

	var errs []error
	for _, c := range cands {
		if c.reap {
			reaped, err := e.tryReap(c, nowMs)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if reaped {
				continue
			}
		}
		if c.compact {
			expired, err := e.compact(c.p, c.key, nowMs)
			if err != nil {
				errs = append(errs, err)
			}
			if expired && e.cfg.OnExpire != nil {
				e.cfg.OnExpire(c.p, c.key)
			}
		}
	}
	return visited, errors.Join(errs...)
}

// examine decides what the sweep must do with the object v stored at k.
// A corrupt object is logged and counted, and left alone.
func (e *Engine) examine(k, v []byte, nowMs, graceMs int64) (sweepCandidate, bool) {
	o, err := version.DecodeObject(v)
	if err != nil {
		_ = e.reportCorrupt(k, err)
		return sweepCandidate{}, false
	}
	compacted, changed := o.Compact(nowMs)
	reap := compacted.Dead(nowMs) && compacted.DeathTime() <= nowMs-graceMs
	if !changed && !reap {
		return sweepCandidate{}, false
	}
	p, key := splitDataKey(k)
	c := sweepCandidate{p: p, key: bytes.Clone(key), compact: changed, reap: reap}
	if reap {
		c.dead = compacted
	}
	return c, true
}

// tryReap asks MayReap about a candidate and deletes it if allowed and
// still unchanged. It reports whether it deleted.
func (e *Engine) tryReap(c sweepCandidate, nowMs int64) (bool, error) {
	if e.cfg.MayReap != nil && !e.cfg.MayReap(c.p, c.key, c.dead) {
		e.stats.reapRefused.Add(1)
		return false, nil
	}
	k := dataKey(c.p, c.key)
	h := xxhash.Sum64(k)
	reaped, expired := false, false
	err := e.withStripe(h, background, func() (pending, error) {
		cur, _, _, err := e.readData(h, k, k)
		if err != nil || cur.IsZero() {
			return pending{}, err
		}
		now, hadExpired := cur.Compact(nowMs)
		if !sameObject(now, c.dead) {
			return pending{}, nil // written since MayReap saw it
		}
		expired = hadExpired
		pd, err := e.commitData(h, k, k, true, version.Object{}, background, false, true)
		if err != nil {
			return pending{}, err
		}
		e.changed(c.p, c.key, cur, version.Object{})
		e.stats.reaped.Add(1)
		reaped = true
		return pd, nil
	})
	if reaped && expired && e.cfg.OnExpire != nil {
		// Reaped before a pass compacted it: it expired all the same.
		e.cfg.OnExpire(c.p, c.key)
	}
	return reaped, err
}

// compact drops the expired values of the object stored for key, if it
// still has any. expired reports that it did and no live value is left.
func (e *Engine) compact(p uint16, key []byte, nowMs int64) (expired bool, err error) {
	k := dataKey(p, key)
	h := xxhash.Sum64(k)
	err = e.withStripe(h, background, func() (pending, error) {
		cur, _, _, err := e.readData(h, k, k)
		if err != nil || cur.IsZero() {
			return pending{}, err
		}
		next, changed := cur.Compact(nowMs)
		if !changed {
			return pending{}, nil
		}
		// next holds cur's values: owned by the engine, like cur.
		pd, err := e.commitData(h, k, k, true, next, background, false, true)
		if err != nil {
			return pending{}, err
		}
		// Same VV, same hash: only the counters change.
		e.counts.move(p, key, cur, next)
		e.stats.compacted.Add(1)
		expired = next.Dead(nowMs)
		return pd, nil
	})
	return expired, err
}

// sweepLoop runs a sweep step every interval until Close. It is the only
// goroutine the Engine starts; Close stops and joins it.
func (e *Engine) sweepLoop(interval time.Duration) {
	defer close(e.sweepDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-e.sweepStop:
			return
		case <-t.C:
			if _, err := e.SweepOnce(e.cfg.SweepBatch); err != nil && !errors.Is(err, ErrClosed) {
				e.log.Error("engine: sweep", "err", err)
			}
		}
	}
}
