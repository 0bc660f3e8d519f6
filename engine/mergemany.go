package engine

import (
	"fmt"

	"github.com/cespare/xxhash/v2"
	"github.com/dynago/dynago/version"
)

// MergeItem is one replica write of a MergeMany call.
type MergeItem struct {
	P      uint16
	Key    []byte
	Object version.Object
}

// MergeResult is what Merge would have returned for one MergeItem.
type MergeResult struct {
	Merged  version.Object
	Changed bool
}

// MergeMany applies many replica writes (anti-entropy repairs, handoff,
// partition transfer) in one pebble batch with one fsync. The results are
// exactly those of calling Merge on each item in order: an item whose key
// appears earlier in items merges into the earlier item's result. The
// batch is atomic: on an error (an invalid item, a corrupt stored object)
// nothing is written. Durable per Config.Durability when it returns.
//
// It holds the stripes of all the items' keys while it reads and commits,
// so callers pass bounded slices (hundreds to a few thousand items), not a
// whole partition at once. It reads from the object cache and updates the
// entries it finds there, but caches no new key: its items are mostly
// cold (transfers, repairs), and must not evict the hot set. Results may
// be shared (see Get).
func (e *Engine) MergeMany(items []MergeItem) ([]MergeResult, error) {
	for i := range items {
		if err := checkPartition(items[i].P); err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		if err := validate(items[i].Object); err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
	}
	if len(items) == 0 {
		return nil, nil
	}
	if err := e.enter(); err != nil {
		return nil, err
	}
	defer e.exit()

	// keyState is one distinct key of the call: what is stored, and what
	// the items so far have merged it into.
	type keyState struct {
		p         uint16
		key, k    []byte
		h         uint64 // xxhash of k
		orig, cur version.Object
		dirty     bool
		hit       bool // orig came from a valid cache entry (commitData)
	}
	keys := make(map[string]*keyState, len(items))
	order := make([]*keyState, 0, len(items)) // distinct keys, first appearance first
	of := make([]*keyState, len(items))       // the state of items[i]'s key
	stripes := make([]int, 0, len(items))
	for i, it := range items {
		k := dataKey(it.P, it.Key)
		st := keys[string(k)]
		if st == nil {
			st = &keyState{p: it.P, key: it.Key, k: k, h: xxhash.Sum64(k)}
			keys[string(k)] = st
			order = append(order, st)
			stripes = append(stripes, stripeIndex(st.h))
		}
		of[i] = st
	}
	results := make([]MergeResult, len(items))
	err := e.withStripes(stripes, durable, func() (pending, error) {
		for _, st := range order {
			o, hit, _, err := e.readData(st.h, st.k, st.k)
			if err != nil {
				return pending{}, err
			}
			st.orig, st.cur, st.hit = o, o, hit
		}
		for i, it := range items {
			st := of[i]
			m, changed := e.mergeObject(it.Key, st.cur, it.Object)
			results[i] = MergeResult{Merged: m, Changed: changed}
			if changed {
				st.cur, st.dirty = m, true
			}
		}
		b := e.db.NewBatch()
		for _, st := range order {
			if st.dirty {
				setObject(b, st.k, st.cur)
				if st.hit {
					e.cache.invalidate(st.h, st.k)
				}
			}
		}
		if b.Empty() {
			_ = b.Close()
			return pending{}, nil
		}
		pd, err := e.apply(b, durable)
		if err != nil {
			return pending{}, err
		}
		for _, st := range order {
			if st.dirty {
				e.cache.store(st.h, st.k, st.k, st.cur, false, false)
				e.changed(st.p, st.key, st.orig, st.cur)
			}
		}
		return pd, nil
	})
	if err != nil {
		return nil, err
	}
	for _, r := range results {
		e.countMerge(r.Changed)
	}
	return results, nil
}
