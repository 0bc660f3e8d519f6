package engine

import (
	"github.com/cockroachdb/pebble/v2"
	"github.com/dynago/dynago/version"
)

// Update is the coordinator's read-modify-write of one key (DESIGN §3: the
// coordinator reads its local object, applies the client's write, stores
// the result). fn runs with the key's stripe held on the current stored
// object (the zero Object if missing) and returns the next object and
// whether to write it. If write, next is capped to MaxSiblings, stored
// (the zero Object deletes the key), and durable per Config.Durability
// when Update returns; Update returns the stored object. If !write it
// returns cur. An error from fn aborts and is returned as is.
//
// fn must be quick and must not call the Engine: it holds a stripe shared
// with other keys.
func (e *Engine) Update(p uint16, key []byte, fn func(cur version.Object) (next version.Object, write bool, err error)) (version.Object, error) {
	if err := e.enterPartition(p); err != nil {
		return version.Object{}, err
	}
	defer e.exit()
	k := dataKey(p, key)
	var out version.Object
	wrote := false
	err := e.withKeyLock(k, durable, func() (pending, error) {
		cur, _, err := e.read(k)
		if err != nil {
			return pending{}, err
		}
		next, write, err := fn(cur)
		if err != nil {
			return pending{}, err
		}
		if !write {
			out = cur
			return pending{}, nil
		}
		if err := validate(next); err != nil {
			return pending{}, err
		}
		out, wrote = e.capObject(key, next), true
		return e.writeData(p, key, k, cur, out)
	})
	if err != nil {
		return version.Object{}, err
	}
	if wrote {
		e.stats.writes.Add(1)
	}
	return out, nil
}

// Merge is a replica write (DESIGN §3: replicas merge the coordinator's
// object with sync): it stores version.Merge(cur, in), capped, if that
// differs from cur, durably per Config.Durability when it returns. It
// returns the merged object (cur when unchanged) and whether it changed.
// Merging the same object twice changes nothing the second time.
func (e *Engine) Merge(p uint16, key []byte, in version.Object) (merged version.Object, changed bool, err error) {
	if err := validate(in); err != nil {
		return version.Object{}, false, err
	}
	if err := e.enterPartition(p); err != nil {
		return version.Object{}, false, err
	}
	defer e.exit()
	k := dataKey(p, key)
	err = e.withKeyLock(k, durable, func() (pending, error) {
		cur, _, err := e.read(k)
		if err != nil {
			return pending{}, err
		}
		merged, changed = e.mergeObject(key, cur, in)
		if !changed {
			return pending{}, nil
		}
		return e.writeData(p, key, k, cur, merged)
	})
	if err != nil {
		return version.Object{}, false, err
	}
	e.countMerge(changed)
	return merged, changed, nil
}

// mergeObject returns the capped merge of cur and in and whether it
// differs from cur (cur itself when it does not).
func (e *Engine) mergeObject(key []byte, cur, in version.Object) (version.Object, bool) {
	m := e.capObject(key, version.Merge(cur, in))
	if sameObject(cur, m) {
		return cur, false
	}
	return m, true
}

func (e *Engine) countMerge(changed bool) {
	if changed {
		e.stats.merges.Add(1)
	} else {
		e.stats.mergesNoop.Add(1)
	}
}

// writeData commits next in place of cur for key k = dataKey(p, key), with
// k's stripe held, and accounts for the change: counters, OnChange.
func (e *Engine) writeData(p uint16, key, k []byte, cur, next version.Object) (pending, error) {
	pd, err := e.put(k, next, durable)
	if err != nil {
		return pending{}, err
	}
	e.changed(p, key, cur, next)
	return pd, nil
}

// changed accounts for a committed change of a 'd' object: the partition's
// counters and the OnChange hook.
func (e *Engine) changed(p uint16, key []byte, old, next version.Object) {
	e.counts.move(p, old, next)
	if e.cfg.OnChange != nil {
		e.cfg.OnChange(p, key, version.Hash(key, old), version.Hash(key, next))
	}
}

// put commits o at pebble key k (the zero Object deletes it); the caller
// holds k's stripe and finishes the result.
func (e *Engine) put(k []byte, o version.Object, m writeMode) (pending, error) {
	b := e.db.NewBatch()
	setObject(b, k, o)
	return e.apply(b, m)
}

// setObject adds the write of o at k to b; the zero Object is a delete.
func setObject(b *pebble.Batch, k []byte, o version.Object) {
	if o.IsZero() {
		_ = b.Delete(k, nil)
		return
	}
	_ = b.Set(k, version.AppendObject(make([]byte, 0, o.EncodedSize()), o), nil)
}
