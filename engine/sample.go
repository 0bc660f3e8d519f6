package engine

import (
	"bytes"
	"math/rand/v2"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/dynago/dynago/version"
)

// Candidate is a key Sample found, with what an eviction policy ranks it
// by.
type Candidate struct {
	P   uint16
	Key []byte // a copy
	// VV is the stored object's version vector: deleting with it as the
	// context removes what this node holds, and nothing written since.
	VV version.VV
	// Size is the object's LogicalSize.
	Size int64
	// Expiry is the winner's expiry in unix ms, 0 for none.
	Expiry int64
	// Access is what the access table knows (zero while TrackAccess is
	// off).
	Access Access
}

// sampleVisitFactor bounds the objects one Sample call reads per key it
// returns: tombstones and keys without an expiry are skipped, but a
// partition full of them must not turn a sample into a scan.
const sampleVisitFactor = 16

// Sample returns up to n keys counted by LiveKeys (with an expiry only,
// when volatile), read from one partition chosen at random among those
// holding such keys, continuing where the previous sample of that
// partition stopped and wrapping around at its end. Keys are ordered by
// their bytes, not by age or use, so consecutive keys are as good a
// sample for an eviction policy as random ones (Redis samples its hash
// table's buckets the same way). An empty result means no such keys.
func (e *Engine) Sample(n int, volatile bool) ([]Candidate, error) {
	if n <= 0 {
		return nil, nil
	}
	if err := e.enter(); err != nil {
		return nil, err
	}
	defer e.exit()
	p, ok := e.randomPartition(volatile)
	if !ok {
		return nil, nil
	}
	e.sampleMu.Lock()
	cursor := e.sampleCursor[p]
	e.sampleMu.Unlock()

	now := e.cfg.Now()
	table := e.access.Load()
	var out []Candidate
	visited, limit := 0, n*sampleVisitFactor
	var last []byte
	visit := func(k, v []byte) (bool, error) {
		visited++
		if c, ok := e.candidate(k, v, volatile, table, now); ok {
			out = append(out, c)
		}
		if len(out) == n || visited == limit {
			last = bytes.Clone(k)
			return false, nil
		}
		return true, nil
	}
	lower, upper := partitionBounds(p)
	from := lower
	if cursor != nil {
		from = successor(cursor)
	}
	if err := e.iterate(from, upper, visit); err != nil {
		return nil, err
	}
	if last == nil && cursor != nil {
		// Reached the partition's end: wrap around to where this started.
		if err := e.iterate(lower, from, visit); err != nil {
			return nil, err
		}
	}
	e.sampleMu.Lock()
	if e.sampleCursor == nil {
		e.sampleCursor = map[uint16][]byte{}
	}
	e.sampleCursor[p] = last
	e.sampleMu.Unlock()
	return out, nil
}

// candidate decodes the object at 'd' key k for Sample; ok is false when
// it is not counted by LiveKeys (or has no expiry, when volatile) or is
// corrupt.
func (e *Engine) candidate(k, v []byte, volatile bool, table *accessTable, now time.Time) (Candidate, bool) {
	o, err := version.DecodeObject(v)
	if err != nil {
		_ = e.reportCorrupt(k, err)
		return Candidate{}, false
	}
	w, live := o.Value(0)
	if !live || (volatile && w.Expiry == 0) {
		return Candidate{}, false
	}
	p, key := splitDataKey(k)
	key = bytes.Clone(key)
	c := Candidate{P: p, Key: key, VV: o.VV, Size: LogicalSize(key, o), Expiry: w.Expiry}
	if table != nil {
		c.Access = table.access(xxhash.Sum64(k), now)
	}
	return c, true
}

// randomPartition picks a partition holding keys (with an expiry, when
// volatile) uniformly among those that do.
func (e *Engine) randomPartition(volatile bool) (uint16, bool) {
	holds := func(p uint16) bool {
		c := &e.counts.parts[p]
		if volatile {
			return c.expires.Load() > 0
		}
		return c.keys.Load() > 0
	}
	n := 0
	for p := range uint16(MaxPartitions) {
		if holds(p) {
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	// Counters may move between the passes; then the first holder wins.
	pick := rand.IntN(n)
	first, found := uint16(0), false
	for p := range uint16(MaxPartitions) {
		if !holds(p) {
			continue
		}
		if !found {
			first, found = p, true
		}
		if pick == 0 {
			return p, true
		}
		pick--
	}
	return first, found
}
