package engine

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/dynago/dynago/version"
)

// Get returns the object stored for key in partition p; a missing key is
// the zero Object and no error. An object that cannot be decoded is
// ErrCorrupt. Get may return a write whose fsync is still in flight (see
// commit.go).
func (e *Engine) Get(p uint16, key []byte) (version.Object, error) {
	if err := e.enterPartition(p); err != nil {
		return version.Object{}, err
	}
	defer e.exit()
	o, _, err := e.read(dataKey(p, key))
	return o, err
}

// read returns the object stored at pebble key k and whether there is one.
// The object shares no memory with pebble.
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
		s, t := a.Siblings[i], b.Siblings[i]
		if s.Dot != t.Dot || s.Tombstone != t.Tombstone || s.Timestamp != t.Timestamp ||
			s.Expiry != t.Expiry || !bytes.Equal(s.Value, t.Value) {
			return false
		}
	}
	return true
}
