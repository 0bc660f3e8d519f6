package engine

import (
	"maps"

	"github.com/dynago/dynago/version"
)

// Hints (Dynamo §4.6, docs/architecture.md §4): a node standing in for an unreachable
// home replica keeps the replica's writes in the 'h' keyspace, one object
// per (target, partition, key), until it has delivered them. Hints are
// durable like objects: an acknowledged write that lives only in a hint
// must survive a crash of the stand-in. They are kept apart from the
// node's own objects: they are not counted in LiveKeys, not swept, not
// reported to OnChange, and not touched by FlushAll or DropPartition.

// PutHint stores o as a hint for target (a 40-hex node id), merging it
// into any hint already held for (target, p, key) so that two writes of
// one key that both missed the target are both delivered. Durable per
// Config.Durability when it returns.
func (e *Engine) PutHint(target string, p uint16, key []byte, o version.Object) error {
	if err := validate(o); err != nil {
		return err
	}
	id, err := e.enterHint(target, p)
	if err != nil {
		return err
	}
	defer e.exit()
	k := hintKey(id, p, key)
	return e.withKeyLock(k, durable, func() (pending, error) {
		cur, found, err := e.read(k)
		if err != nil {
			return pending{}, err
		}
		merged, changed := e.mergeObject(key, cur, o)
		if !changed || merged.IsZero() {
			return pending{}, nil
		}
		pd, err := e.put(k, merged, durable)
		if err != nil {
			return pending{}, err
		}
		e.stats.hintsStored.Add(1)
		if !found {
			e.addHints(id, 1)
		}
		return pd, nil
	})
}

// GetHint returns the hint held for (target, p, key), if any.
func (e *Engine) GetHint(target string, p uint16, key []byte) (version.Object, bool, error) {
	id, err := e.enterHint(target, p)
	if err != nil {
		return version.Object{}, false, err
	}
	defer e.exit()
	return e.read(hintKey(id, p, key))
}

// ScanHints calls fn for every hint held for target, in (partition, key)
// order, until fn returns false. key and o may alias memory reused after
// fn returns. fn may call the Engine (deliver, then DeleteHint).
func (e *Engine) ScanHints(target string, fn func(p uint16, key []byte, o version.Object) bool) error {
	id, err := parseTarget(target)
	if err != nil {
		return err
	}
	if err := e.enter(); err != nil {
		return err
	}
	defer e.exit()
	lower, upper := hintBounds(id)
	return e.iterate(lower, upper, func(k, v []byte) (bool, error) {
		_, p, key, ok := splitHintKey(k)
		if !ok {
			return true, nil
		}
		o, err := version.DecodeObject(v)
		if err != nil {
			return false, e.reportCorrupt(k, err)
		}
		return fn(p, key, o), nil
	})
}

// DeleteHint deletes the hint for (target, p, key) after its delivery, but
// only if the stored hint still has the VV of the delivered object: a hint
// that absorbed another write while it was being delivered is kept for the
// next delivery. It reports whether it deleted. Durable per
// Config.Durability; a delete lost in a crash only means a redelivery,
// which the target merges idempotently.
func (e *Engine) DeleteHint(target string, p uint16, key []byte, delivered version.Object) (bool, error) {
	id, err := e.enterHint(target, p)
	if err != nil {
		return false, err
	}
	defer e.exit()
	k := hintKey(id, p, key)
	deleted := false
	err = e.withKeyLock(k, durable, func() (pending, error) {
		cur, found, err := e.read(k)
		if err != nil || !found || !cur.VV.Equal(delivered.VV) {
			return pending{}, err
		}
		pd, err := e.put(k, version.Object{}, durable)
		if err != nil {
			return pending{}, err
		}
		deleted = true
		e.stats.hintsDeleted.Add(1)
		e.addHints(id, -1)
		return pd, nil
	})
	return deleted, err
}

// enterHint is enter for a call about target's hints in partition p, which
// it checks first; it returns the target's raw id.
func (e *Engine) enterHint(target string, p uint16) (nodeID, error) {
	id, err := parseTarget(target)
	if err != nil {
		return id, err
	}
	return id, e.enterPartition(p)
}

// HintCounts returns the number of hints held per target node (40-hex id),
// from counters kept in memory (counted at Open). Targets without hints are
// absent.
func (e *Engine) HintCounts() map[string]int64 {
	e.hintMu.Lock()
	defer e.hintMu.Unlock()
	out := make(map[string]int64, len(e.hints))
	for id, n := range e.hints {
		out[id.String()] = n
	}
	return out
}

func (e *Engine) addHints(id nodeID, d int64) {
	e.hintMu.Lock()
	defer e.hintMu.Unlock()
	if e.hints[id] += d; e.hints[id] <= 0 {
		delete(e.hints, id)
	}
}

// hintTotals returns the number of hints and of targets.
func (e *Engine) hintTotals() (hints int64, targets int) {
	e.hintMu.Lock()
	defer e.hintMu.Unlock()
	for n := range maps.Values(e.hints) {
		hints += n
	}
	return hints, len(e.hints)
}
