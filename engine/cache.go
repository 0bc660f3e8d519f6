package engine

import (
	"bytes"
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/dynago/dynago/version"
)

// The object cache: decoded objects of the 'd' keyspace, in front of
// pebble, so that a Get of a hot key is a map lookup instead of a memtable
// seek, an sstable probe and a decode (issue 5: pebble's Get was a third of
// a node's CPU under GET load). Missing keys are cached too (negative
// entries): every first write of a key reads it first.
//
// # Consistency
//
// Every change of an entry happens with the key's stripe held (or every
// stripe, for DropPartition and FlushAll), and so does every change of the
// key in pebble. Under a stripe the cache therefore agrees with pebble, and
// a writer keeps it so in three steps (commitData):
//
//  1. invalidate: the entry, if any, is marked stale (a writer whose read
//     under the stripe found no valid entry skips this: none can appear
//     while it holds the stripe);
//  2. the batch is applied: the write becomes visible in pebble;
//  3. store: the entry gets the new object (or, for bulk writes, is only
//     updated if present).
//
// A Get that finds a valid entry needs no stripe: it sees the old object
// only before step 1, when pebble still holds the old object too, so the
// cache never answers older than pebble. A Get that finds no valid entry
// takes the stripe (so it waits for a write in flight), reads pebble and
// fills the entry before releasing it: a fill can never put back an object
// a racing write has replaced. DropPartition and FlushAll remove their
// entries before their range deletion, with every stripe held.
//
// A failed commit leaves the entry stale, which only costs a miss.
//
// # Objects are shared
//
// A cached object is handed to every reader, so it must never be modified:
// the cache owns its memory (values a caller passed in are copied,
// slices are clipped so that an append copies) and callers treat what they
// get as read-only (Engine.Get). No function of package version modifies
// an Object it receives: Put, Merge, Compact and Cap build new sibling and
// VV slices (they may share value bytes, which nobody writes), and Value,
// Live, Winner, Dead and DeathTime only read.
//
// # Eviction
//
// The cache is split into shards, each with its own lock, map and CLOCK
// ring, and a byte budget of ObjectCacheBytes/shards. A hit sets the
// entry's reference bit (an atomic, under the shard's read lock, written
// only when unset so that hot keys do not bounce a cache line between
// cores). An insert past the budget advances the hand: a referenced entry
// loses its bit and survives, an unreferenced one is evicted. New entries
// go just behind the hand, so they live a full turn of the hand before
// their first inspection. Bulk writes (MergeMany, the sweep) only update
// entries already present, so a partition transfer or an anti-entropy
// repair does not flush the hot set.
//
// # Accounting
//
// An entry is charged what it keeps alive on the Go heap: the entry
// itself, its key, its values, its VV and siblings when they do not fit the
// entry's inline arrays, rounded to the allocator's granularity, plus its
// slots in the map and the ring (entrySize). TestObjectCacheAccounting
// compares the charge with the heap growth.

// Cache geometry.
const (
	// maxCacheShards bounds the shards: 64 shards make lock contention
	// negligible on the machines we target, and keep each shard's CLOCK
	// ring a useful size.
	maxCacheShards = 64
	// minShardBytes is the smallest shard budget: a small cache gets fewer
	// shards rather than tiny ones, where a few large objects would evict
	// everything else.
	minShardBytes = 512 << 10
	// maxEntryFraction: an object larger than a shard's budget divided by
	// this is not cached (it would evict too many others); its reads go to
	// pebble. A tiny cache (tests) still takes entries up to smallEntry, or
	// half its budget.
	maxEntryFraction = 8
	smallEntry       = 1 << 10
	// Inline capacity of an entry: the common object (one coordinator, one
	// sibling) needs no allocation of its own for its VV and siblings.
	inlineVV       = 1
	inlineSiblings = 1
	// slotBytes is an entry's share of the shard's map (8-byte key, 8-byte
	// pointer, control byte, at a load factor between 7/16 and 7/8) and of
	// the CLOCK ring (a pointer, with append's slack).
	slotBytes = 48
)

// objectCache is the sharded cache of 'd' objects. A nil *objectCache is a
// disabled cache: every method works and caches nothing.
type objectCache struct {
	shards   []cacheShard
	shift    uint  // shard of hash h: h >> shift
	maxEntry int64 // larger entries are not cached
	capacity int64
}

// cacheShard is one shard: a map from key hash to entry and the CLOCK ring
// of the same entries.
type cacheShard struct {
	mu sync.RWMutex
	// m, ring, hand and bytes are guarded by mu (written with it held
	// exclusively). Each hash has at most one entry; a second key with the
	// same 64-bit hash replaces the first.
	m     map[uint64]*cacheEntry
	ring  []*cacheEntry
	hand  int
	bytes int64
	// budget is fixed at creation.
	budget int64

	hits, misses, evictions atomic.Int64

	_ [64]byte // keep shards on separate cache lines
}

// cacheEntry is one cached key. Only valid, ref and pos ever change; an
// update of the object replaces the whole entry, because readers may still
// hold slices of the old one's inline arrays.
type cacheEntry struct {
	h   uint64
	k   []byte         // the pebble key 'd' | p | key; owned, never modified
	obj version.Object // zero for a key missing from pebble; never modified
	// valid is false between the invalidate and the store of a write; a
	// reader treats the entry as absent. Guarded by the shard's mu.
	valid bool
	ref   atomic.Bool // referenced since the hand last passed
	pos   int32       // index in the shard's ring; guarded by mu
	size  int32       // bytes charged (entrySize)

	vv   [inlineVV]version.Entry
	sibs [inlineSiblings]version.Sibling
}

// newObjectCache returns a cache of about capacity bytes, nil if capacity
// is 0.
func newObjectCache(capacity int64) *objectCache {
	if capacity <= 0 {
		return nil
	}
	n := max(1, min(maxCacheShards, capacity/minShardBytes))
	n = 1 << (bits.Len64(uint64(n)) - 1) // a power of two, so the top bits pick the shard
	c := &objectCache{
		shards:   make([]cacheShard, n),
		shift:    uint(64 - bits.TrailingZeros64(uint64(n))),
		capacity: capacity,
	}
	per := capacity / n
	c.maxEntry = max(per/maxEntryFraction, min(per/2, smallEntry))
	for i := range c.shards {
		c.shards[i].m = make(map[uint64]*cacheEntry)
		c.shards[i].budget = per
	}
	return c
}

// shard returns the shard of hash h. The shard uses the top bits, the
// stripes (stripeIndex) the bottom ones, so the two are independent.
func (c *objectCache) shard(h uint64) *cacheShard {
	return &c.shards[h>>c.shift] // a shift by 64 (one shard) gives 0
}

// get returns the object cached for pebble key k (hash h), if a valid entry
// holds it, and counts the hit or miss. It takes no stripe. The object is
// shared: read-only.
func (c *objectCache) get(h uint64, k []byte) (version.Object, bool) {
	if c == nil {
		return version.Object{}, false
	}
	o, ok := c.lookup(h, k)
	if ok {
		c.shard(h).hits.Add(1)
	} else {
		c.shard(h).misses.Add(1)
	}
	return o, ok
}

// lookup is get without the counting, for the second look of a miss.
func (c *objectCache) lookup(h uint64, k []byte) (version.Object, bool) {
	if c == nil {
		return version.Object{}, false
	}
	s := c.shard(h)
	s.mu.RLock()
	defer s.mu.RUnlock()
	en := s.m[h]
	if en == nil || !en.valid || !bytes.Equal(en.k, k) {
		return version.Object{}, false
	}
	if !en.ref.Load() {
		en.ref.Store(true)
	}
	return en.obj, true
}

// invalidate marks k's entry stale before a write of k is applied, so that
// no reader gets the old object once pebble has the new one. The caller
// holds k's stripe.
func (c *objectCache) invalidate(h uint64, k []byte) {
	if c == nil {
		return
	}
	s := c.shard(h)
	s.mu.Lock()
	if en := s.m[h]; en != nil && bytes.Equal(en.k, k) {
		en.valid = false
	}
	s.mu.Unlock()
}

// store records o as the object pebble holds at k (the zero Object: k is
// missing). The caller holds k's stripe, and o is what pebble holds now:
// read under the stripe, or just committed.
//
// With insert, an entry is created when k has none; without, only an
// existing entry (valid or not) is replaced. owned says that o's memory
// belongs to the engine (decoded from pebble, or derived from owned
// objects by package version): its values are kept by reference. Otherwise
// o may share memory with a caller, and is copied. k is not kept (it may
// be in the caller's stack buffer); kh, when not nil, is a heap copy of k
// that a new entry may keep instead of copying k again.
func (c *objectCache) store(h uint64, k, kh []byte, o version.Object, insert, owned bool) {
	if c == nil {
		return
	}
	s := c.shard(h)
	if !insert {
		// Most bulk writes touch uncached keys: check before building.
		s.mu.RLock()
		en := s.m[h]
		present := en != nil && bytes.Equal(en.k, k)
		s.mu.RUnlock()
		if !present {
			return
		}
	}
	size := entrySize(k, o, owned)
	var en *cacheEntry
	if size <= c.maxEntry {
		en = newEntry(h, o, owned, size)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.m[h]
	if old != nil && !bytes.Equal(old.k, k) {
		// Another key with the same hash: only an insert displaces it.
		if !insert {
			return
		}
		s.remove(old)
		old = nil
	}
	switch {
	case en == nil:
		// Too large to cache: drop what was cached for k.
		if old != nil {
			s.remove(old)
		}
	case old != nil:
		en.k = old.k // the same bytes
		en.pos = old.pos
		en.ref.Store(old.ref.Load())
		s.ring[en.pos] = en
		s.m[h] = en
		s.bytes += int64(en.size) - int64(old.size)
		s.evict(en)
	case insert:
		if kh == nil {
			kh = bytes.Clone(k)
		}
		en.k = kh
		s.add(en)
		s.evict(en)
	}
}

// newEntry builds an entry holding o (see store for owned); store sets
// its key.
func newEntry(h uint64, o version.Object, owned bool, size int64) *cacheEntry {
	en := &cacheEntry{h: h, valid: true, size: int32(size)}
	if n := len(o.VV); n > 0 {
		if n <= inlineVV {
			en.obj.VV = en.vv[:n:n]
			copy(en.obj.VV, o.VV)
		} else if owned {
			en.obj.VV = o.VV[:n:n]
		} else {
			en.obj.VV = append(make(version.VV, 0, n), o.VV...)
		}
	}
	n := len(o.Siblings)
	if n == 0 {
		return en
	}
	switch {
	case n <= inlineSiblings:
		en.obj.Siblings = en.sibs[:n:n]
		copy(en.obj.Siblings, o.Siblings)
	case owned:
		en.obj.Siblings = o.Siblings[:n:n]
		return en
	default:
		en.obj.Siblings = append(make([]version.Sibling, 0, n), o.Siblings...)
	}
	if owned {
		return en
	}
	// One allocation holds every value; each is clipped so that an append
	// to it copies.
	arena := make([]byte, 0, valueBytes(o))
	for i := range en.obj.Siblings {
		s := &en.obj.Siblings[i]
		if s.Field != nil {
			start := len(arena)
			arena = append(arena, s.Field...)
			s.Field = arena[start:len(arena):len(arena)]
		}
		if len(s.Value) == 0 {
			s.Value = nil
			continue
		}
		start := len(arena)
		arena = append(arena, s.Value...)
		s.Value = arena[start:len(arena):len(arena)]
	}
	return en
}

func valueBytes(o version.Object) int {
	n := 0
	for _, s := range o.Siblings {
		n += len(s.Value) + len(s.Field)
	}
	return n
}

// Sizes of the structures an entry keeps alive.
var (
	entryStructBytes = allocSize(int(unsafe.Sizeof(cacheEntry{})))
	vvEntryBytes     = int(unsafe.Sizeof(version.Entry{}))
	siblingBytes     = int(unsafe.Sizeof(version.Sibling{}))
)

// allocSize rounds an allocation up to the allocator's granularity (16
// bytes, which is close to Go's size classes for small objects).
func allocSize(n int) int {
	if n == 0 {
		return 0
	}
	return (n + 15) &^ 15
}

// entrySize is what an entry for k holding o costs (see Accounting above).
// A decoded object's values live in one arena that also spans the encoded
// sibling headers (about 8 bytes each).
func entrySize(k []byte, o version.Object, owned bool) int64 {
	n := entryStructBytes + allocSize(len(k)) + slotBytes
	if len(o.VV) > inlineVV {
		n += allocSize(len(o.VV) * vvEntryBytes)
	}
	if len(o.Siblings) > inlineSiblings {
		n += allocSize(len(o.Siblings) * siblingBytes)
	}
	v := valueBytes(o)
	if owned && v > 0 {
		v += 8 * len(o.Siblings)
	}
	return int64(n + allocSize(v))
}

// add puts a new entry in the map and just behind the hand. mu is held.
func (s *cacheShard) add(en *cacheEntry) {
	s.m[en.h] = en
	s.bytes += int64(en.size)
	if s.hand >= len(s.ring) {
		s.hand = 0
	}
	if len(s.ring) == 0 {
		en.pos = 0
		s.ring = append(s.ring, en)
		return
	}
	// The entry under the hand moves to the end, the new one takes its
	// place, and the hand moves past it: the new entry is inspected last.
	displaced := s.ring[s.hand]
	displaced.pos = int32(len(s.ring))
	s.ring = append(s.ring, displaced)
	en.pos = int32(s.hand)
	s.ring[s.hand] = en
	s.hand++
}

// evict runs the CLOCK hand until the shard is within its budget, sparing
// keep (the entry just stored). mu is held.
func (s *cacheShard) evict(keep *cacheEntry) {
	for s.bytes > s.budget && len(s.ring) > 1 {
		if s.hand >= len(s.ring) {
			s.hand = 0
		}
		en := s.ring[s.hand]
		if en == keep || en.ref.Load() {
			en.ref.Store(false)
			s.hand++
			continue
		}
		// The last entry moves under the hand and is inspected next.
		s.remove(en)
		s.evictions.Add(1)
	}
}

// remove deletes an entry from the map and the ring. mu is held.
func (s *cacheShard) remove(en *cacheEntry) {
	delete(s.m, en.h)
	s.bytes -= int64(en.size)
	last := len(s.ring) - 1
	moved := s.ring[last]
	s.ring[en.pos] = moved
	moved.pos = en.pos
	s.ring[last] = nil
	s.ring = s.ring[:last]
}

// dropPartition removes every entry of partition p. The caller holds every
// stripe.
func (c *objectCache) dropPartition(p uint16) {
	if c == nil {
		return
	}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		kept := s.ring[:0]
		for _, en := range s.ring {
			if q, _ := splitDataKey(en.k); q == p {
				delete(s.m, en.h)
				s.bytes -= int64(en.size)
				continue
			}
			en.pos = int32(len(kept))
			kept = append(kept, en)
		}
		clear(s.ring[len(kept):])
		s.ring = kept
		s.hand = 0
		s.mu.Unlock()
	}
}

// clear removes every entry. The caller holds every stripe.
func (c *objectCache) clear() {
	if c == nil {
		return
	}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.m)
		clear(s.ring)
		s.ring = s.ring[:0]
		s.hand, s.bytes = 0, 0
		s.mu.Unlock()
	}
}

// cacheStats is the cache's part of Stats.
type cacheStats struct {
	hits, misses, evictions, bytes, entries, capacity int64
}

func (c *objectCache) stats() cacheStats {
	var st cacheStats
	if c == nil {
		return st
	}
	st.capacity = c.capacity
	for i := range c.shards {
		s := &c.shards[i]
		st.hits += s.hits.Load()
		st.misses += s.misses.Load()
		st.evictions += s.evictions.Load()
		s.mu.RLock()
		st.bytes += s.bytes
		st.entries += int64(len(s.ring))
		s.mu.RUnlock()
	}
	return st
}
