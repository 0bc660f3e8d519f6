package engine

import (
	"sync"

	"github.com/cespare/xxhash/v2"
	"github.com/cockroachdb/pebble/v2"
	"github.com/dynago/dynago/version"
)

// Update is the coordinator's read-modify-write of one key (docs/architecture.md §3: the
// coordinator reads its local object, applies the client's write, stores
// the result). fn runs with the key's stripe held on the current stored
// object (the zero Object if missing) and returns the next object and
// whether to write it. If write, next is capped to MaxSiblings, stored
// (the zero Object deletes the key), and durable per Config.Durability
// when Update returns; Update returns the stored object. If !write it
// returns cur. An error from fn aborts and is returned as is.
//
// fn must be quick and must not call the Engine: it holds a stripe shared
// with other keys. cur may be shared with other callers (see Get): fn must
// not modify it, only build next from it, as package version's functions
// do. The returned object may be shared in the same way.
func (e *Engine) Update(p uint16, key []byte, fn func(cur version.Object) (next version.Object, write bool, err error)) (version.Object, error) {
	o, wait, err := e.UpdateAsync(p, key, fn)
	if err != nil {
		return version.Object{}, err
	}
	if err := wait(); err != nil {
		return version.Object{}, err
	}
	return o, nil
}

// UpdateAsync is Update that returns as soon as the write is applied — in
// the memtable and ordered in the WAL, visible to readers — with wait,
// which returns once it is durable per Config.Durability (nil for a write
// that changed nothing). The caller must call wait exactly once, and may
// not acknowledge the write before wait returned nil. A coordinator uses it
// to send the object to the other replicas while its own fsync runs.
//
// In sync mode, where durable commits are serialised, the write is
// durable when UpdateAsync returns and wait does nothing.
func (e *Engine) UpdateAsync(p uint16, key []byte, fn func(cur version.Object) (next version.Object, write bool, err error)) (version.Object, func() error, error) {
	if err := e.enterPartition(p); err != nil {
		return version.Object{}, nil, err
	}
	// The key is built on the stack: pebble's batch copies it, and only a
	// miss (pebble keeps the key it reads) or a new cache entry needs it on
	// the heap (readData).
	var buf [64]byte
	k := appendDataKey(buf[:0], p, key)
	h := xxhash.Sum64(k)
	if e.serialises(durable) {
		defer e.exit()
		var out version.Object
		var wrote bool
		err := e.withStripe(h, durable, func() (pd pending, err error) {
			out, wrote, pd, err = e.updateLocked(p, key, h, k, fn)
			return pd, err
		})
		if err != nil {
			return version.Object{}, nil, err
		}
		e.countWrite(wrote)
		return out, func() error { return nil }, nil
	}
	out, wrote, pd, err := e.updateUnderStripe(p, key, h, k, fn)
	if err != nil {
		e.exit()
		return version.Object{}, nil, err
	}
	return out, func() error {
		defer e.exit()
		if err := e.finish(pd); err != nil {
			return err
		}
		e.countWrite(wrote)
		return nil
	}, nil
}

// countWrite counts a durable single-key write that changed the store.
func (e *Engine) countWrite(wrote bool) {
	if wrote {
		e.stats.writes.Add(1)
	}
}

// updateUnderStripe is updateLocked with the key's stripe taken and
// released around it.
func (e *Engine) updateUnderStripe(p uint16, key []byte, h uint64, k []byte, fn func(version.Object) (version.Object, bool, error)) (version.Object, bool, pending, error) {
	mu := e.stripe(h)
	mu.Lock()
	defer mu.Unlock()
	return e.updateLocked(p, key, h, k, fn)
}

// updateLocked is Update's work with the key's stripe held.
func (e *Engine) updateLocked(p uint16, key []byte, h uint64, k []byte, fn func(version.Object) (version.Object, bool, error)) (out version.Object, wrote bool, pd pending, err error) {
	cur, hit, kh, err := e.readData(h, k, nil)
	if err != nil {
		return version.Object{}, false, pending{}, err
	}
	next, write, err := fn(cur)
	if err != nil {
		return version.Object{}, false, pending{}, err
	}
	if !write {
		if !hit {
			e.cache.store(h, k, kh, cur, true, true)
		}
		return cur, false, pending{}, nil
	}
	if err := validate(next); err != nil {
		return version.Object{}, false, pending{}, err
	}
	out = e.capObject(key, next)
	pd, err = e.writeData(p, key, h, k, kh, hit, cur, out)
	return out, true, pd, err
}

// Merge is a replica write (docs/architecture.md §3: replicas merge the coordinator's
// object with sync): it stores version.Merge(cur, in), capped, if that
// differs from cur, durably per Config.Durability when it returns. It
// returns the merged object (cur when unchanged) and whether it changed.
// Merging the same object twice changes nothing the second time. The
// returned object may be shared (see Get); in is not kept.
func (e *Engine) Merge(p uint16, key []byte, in version.Object) (merged version.Object, changed bool, err error) {
	if err := validate(in); err != nil {
		return version.Object{}, false, err
	}
	if err := e.enterPartition(p); err != nil {
		return version.Object{}, false, err
	}
	defer e.exit()
	var buf [64]byte // as in Update
	k := appendDataKey(buf[:0], p, key)
	h := xxhash.Sum64(k)
	err = e.withStripe(h, durable, func() (pending, error) {
		cur, hit, kh, err := e.readData(h, k, nil)
		if err != nil {
			return pending{}, err
		}
		merged, changed = e.mergeObject(key, cur, in)
		if !changed {
			if !hit {
				e.cache.store(h, k, kh, cur, true, true)
			}
			return pending{}, nil
		}
		return e.writeData(p, key, h, k, kh, hit, cur, merged)
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

// writeData commits next in place of cur for key k = dataKey(p, key) (hash
// h; kh a heap copy or nil, see objectCache.store), with k's stripe held,
// and accounts for the change: object cache, counters, OnChange. hit says
// whether cur came from a valid cache entry (commitData). next may share
// memory with the caller: the cache copies it.
func (e *Engine) writeData(p uint16, key []byte, h uint64, k, kh []byte, hit bool, cur, next version.Object) (pending, error) {
	pd, err := e.commitData(h, k, kh, hit, next, durable, true, false)
	if err != nil {
		return pending{}, err
	}
	if t := e.access.Load(); t != nil {
		if live, _ := classify(next); live { // a delete is no use of the key
			t.touch(h, e.cfg.Now(), true)
		}
	}
	e.changed(p, key, cur, next)
	return pd, nil
}

// commitData commits o at 'd' key k (hash h) with k's stripe held and keeps
// the object cache in step: the entry goes stale before the commit and
// gets o after it (cache.go, Consistency). cached says whether k may have a
// valid entry: false when the caller, holding the stripe since, found
// none, so there is nothing to make stale. insert and owned are the
// cache's, and so is kh (objectCache.store).
func (e *Engine) commitData(h uint64, k, kh []byte, cached bool, o version.Object, m writeMode, insert, owned bool) (pending, error) {
	if cached {
		e.cache.invalidate(h, k)
	}
	pd, err := e.put(k, o, m)
	if err != nil {
		return pending{}, err
	}
	e.cache.store(h, k, kh, o, insert, owned)
	return pd, nil
}

// changed accounts for a committed change of a 'd' object: the partition's
// counters and the OnChange hook.
func (e *Engine) changed(p uint16, key []byte, old, next version.Object) {
	e.counts.move(p, key, old, next)
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
// A small object is encoded into a pooled buffer, which the batch copies;
// a large one straight into the batch.
func setObject(b *pebble.Batch, k []byte, o version.Object) {
	if o.IsZero() {
		_ = b.Delete(k, nil)
		return
	}
	if o.EncodedSize() > maxPooledEncodeBuf {
		// Encoded straight into the batch, which allocates its buffer
		// once for the record: no intermediate copy of a large value.
		// (NewBatchWithSize would not help: pebble reallocates a buffer
		// that is not a power of two on the first record.)
		n := version.EncodedLen(o)
		op := b.SetDeferred(len(k), n)
		copy(op.Key, k)
		version.AppendObject(op.Value[:0], o)
		_ = op.Finish()
		return
	}
	buf := encodeBufs.Get().(*[]byte)
	*buf = version.AppendObject((*buf)[:0], o)
	_ = b.Set(k, *buf, nil)
	if cap(*buf) <= maxPooledEncodeBuf {
		encodeBufs.Put(buf)
	}
}

// encodeBufs recycles setObject's encoding buffers (a pointer to a slice,
// so that Put does not allocate).
var encodeBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledEncodeBuf bounds the buffers kept in encodeBufs: one large
// object must not pin a large buffer per P.
const maxPooledEncodeBuf = 64 << 10
