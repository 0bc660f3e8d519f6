package engine

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cespare/xxhash/v2"
	"github.com/cockroachdb/pebble/v2"
	"github.com/dynago/dynago/version"
)

// Get returns the object stored for key in partition p; a missing key is
// the zero Object and no error. An object that cannot be decoded is
// ErrCorrupt. Get may return a write whose fsync is still in flight (see
// commit.go).
//
// The object may be shared with other callers and with the object cache
// (cache.go): the caller must treat it as read-only. It must not modify
// its siblings, values or VV in place, and must not append to its slices
// expecting to own them (they are clipped, so an append copies). Package
// version's functions all honour this: they build new objects.
func (e *Engine) Get(p uint16, key []byte) (version.Object, error) {
	if err := e.enterPartition(p); err != nil {
		return version.Object{}, err
	}
	defer e.exit()
	if e.cache == nil {
		k := dataKey(p, key)
		if t := e.access.Load(); t != nil {
			t.touch(xxhash.Sum64(k), e.cfg.Now(), false)
		}
		o, _, err := e.read(k)
		return o, err
	}
	// The hit path builds the key on the stack: a hot GET allocates
	// nothing.
	var buf [64]byte
	k := appendDataKey(buf[:0], p, key)
	h := xxhash.Sum64(k)
	if t := e.access.Load(); t != nil {
		t.touch(h, e.cfg.Now(), false)
	}
	if o, ok := e.cache.get(h, k); ok {
		return o, nil
	}
	return e.getMiss(h, dataKey(p, key))
}

// getMiss reads pebble key k (hash h) with its stripe held and fills the
// cache, so that no write of k can come between the read and the fill.
func (e *Engine) getMiss(h uint64, k []byte) (version.Object, error) {
	mu := e.stripe(h)
	mu.Lock()
	defer mu.Unlock()
	// Another reader, or a writer, may have filled the entry meanwhile.
	if o, ok := e.cache.lookup(h, k); ok {
		return o, nil
	}
	o, _, err := e.read(k)
	if err == nil {
		e.cache.store(h, k, k, o, true, true)
	}
	return o, err
}

// readData returns the object stored at 'd' key k (hash h), from the cache
// if it holds k (hit), else from pebble. The caller holds k's stripe, so
// the two agree. It does not fill the cache: callers that will write k
// next would only replace the entry.
//
// k may be in the caller's stack buffer: pebble keeps the key it is asked
// for, so a miss reads with kh, a heap copy of k, made here if kh is nil,
// and returned for the cache entry that may follow.
func (e *Engine) readData(h uint64, k, kh []byte) (o version.Object, hit bool, _ []byte, err error) {
	if o, ok := e.cache.get(h, k); ok {
		return o, true, kh, nil
	}
	if kh == nil {
		kh = bytes.Clone(k)
	}
	o, _, err = e.read(kh)
	return o, false, kh, err
}

// read returns the object stored in pebble at key k and whether there is
// one. The object shares no memory with pebble.
func (e *Engine) read(k []byte) (version.Object, bool, error) {
	v, closer, err := e.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return version.Object{}, false, nil
	}
	if err != nil {
		return version.Object{}, false, fmt.Errorf("engine: read %q: %w", k, err)
	}
	defer closer.Close()
	o, err := version.DecodeObject(v)
	if err != nil {
		return version.Object{}, false, e.reportCorrupt(k, err)
	}
	return o, true, nil
}

// reportCorrupt counts and logs an undecodable stored object and returns
// the error for it.
func (e *Engine) reportCorrupt(k []byte, err error) error {
	e.stats.corrupt.Add(1)
	e.log.Error("engine: corrupt stored object", "key", logKey(k), "err", err)
	return fmt.Errorf("%w: key %q: %w", ErrCorrupt, k, err)
}

// Scan calls fn for the objects of partition p whose key is greater than
// after (nil: from the first) in key order, until fn returns false. key and
// o may alias memory that is reused after fn returns: fn copies what it
// keeps. The scan reads one consistent snapshot of the partition. fn may
// call the Engine, but a long scan pins pebble's files and memtables, so
// callers scan in bounded slices and resume with after. A corrupt object
// stops the scan with ErrCorrupt.
func (e *Engine) Scan(p uint16, after []byte, fn func(key []byte, o version.Object) bool) error {
	if err := e.enterPartition(p); err != nil {
		return err
	}
	defer e.exit()
	lower, upper := partitionBounds(p)
	if after != nil {
		lower = successor(dataKey(p, after))
	}
	return e.iterate(lower, upper, func(k, v []byte) (bool, error) {
		o, err := version.DecodeObject(v)
		if err != nil {
			return false, e.reportCorrupt(k, err)
		}
		_, key := splitDataKey(k)
		return fn(key, o), nil
	})
}

// iterate calls fn for every pebble key in [lower, upper) with its value,
// until fn returns false or an error. k and v alias iterator memory.
func (e *Engine) iterate(lower, upper []byte, fn func(k, v []byte) (bool, error)) (err error) {
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("engine: iterator: %w", err)
	}
	defer func() {
		if cerr := it.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("engine: iterator: %w", cerr)
		}
	}()
	for valid := it.First(); valid; valid = it.Next() {
		v, verr := it.ValueAndErr()
		if verr != nil {
			return fmt.Errorf("engine: read %q: %w", it.Key(), verr)
		}
		more, ferr := fn(it.Key(), v)
		if ferr != nil || !more {
			return ferr
		}
	}
	return nil
}

// sameObject reports whether a and b are the same object, field by field.
// It decides whether a merge changed anything, so it must be exact: two
// objects with equal VVs may still differ in siblings (a fold, a
// compaction).
func sameObject(a, b version.Object) bool {
	if !a.VV.Equal(b.VV) || len(a.Siblings) != len(b.Siblings) {
		return false
	}
	for i := range a.Siblings {
		if !a.Siblings[i].Equal(b.Siblings[i]) {
			return false
		}
	}
	return true
}
