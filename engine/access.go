package engine

import (
	"math/rand/v2"

	"github.com/cespare/xxhash/v2"
	"sync/atomic"
	"time"
)

// Access tracking for a memory limit's LRU and LFU policies. Redis keeps
// 24 bits of access information in every object; here objects live in
// pebble, where stamping a read would turn every read into a write, so
// the information lives beside the store, in memory only: a fixed table
// of slots indexed by the hash of the key. Keys that share a slot share
// their history, which errs towards keeping a cold key whose slot a hot
// key also uses; with a table of a few entries per key that is rare. A
// read never writes anything, locally or to other replicas; each replica
// learns of the reads it serves.
//
// A slot packs, in one uint64 so that a touch is one atomic load and
// store (concurrent touches of a slot may lose one another, which only
// blurs the estimate):
//
//	bits 0-31   the last access, in accessTick units since the table began
//	bits 32-47  when the LFU counter last decayed, in minutes (mod 2^16)
//	bits 48-55  the LFU counter: Redis's logarithmic counter
//	bit  63     the slot was touched at least once
type accessTable struct {
	slots []atomic.Uint64
	mask  uint64
	start time.Time
}

const (
	// accessTick is the LRU clock's resolution; idle times are differences
	// of 32-bit ticks, so a clock that wraps is harmless.
	accessTick = time.Millisecond
	// lfuInit is a new key's counter (Redis's LFU_INIT_VAL), so that a key
	// just written is not the first one evicted.
	lfuInit = 5
	// lfuLogFactor and lfuDecayMinutes are Redis's lfu-log-factor and
	// lfu-decay-time defaults.
	lfuLogFactor    = 10
	lfuDecayMinutes = 1
	touchedBit      = 1 << 63
	minAccessSlots  = 1 << 12
	maxAccessSlots  = 1 << 24
)

// newAccessTable returns a table of about slots entries (a power of two
// within [minAccessSlots, maxAccessSlots]).
func newAccessTable(slots int, now time.Time) *accessTable {
	n := minAccessSlots
	for n < slots && n < maxAccessSlots {
		n <<= 1
	}
	return &accessTable{slots: make([]atomic.Uint64, n), mask: uint64(n - 1), start: now}
}

// Access is what the table knows of a key.
type Access struct {
	// Idle is the time since the key's last access (a read, or a write
	// this node stored); a key never seen since the table began reports
	// the table's age.
	Idle time.Duration
	// Last is when that access was (the zero time for a key never seen):
	// a later Last than an earlier reading says the key was used since.
	Last time.Time
	// Freq is the LFU counter after decay: 0 to 255, logarithmic in the
	// accesses.
	Freq uint8
}

func (t *accessTable) tick(now time.Time) uint32 {
	return uint32(now.Sub(t.start) / accessTick)
}

func minutes(now time.Time) uint16 { return uint16(now.Unix() / 60) }

// decayed is the slot's LFU counter after the minutes elapsed since it
// last decayed (Redis's LFUDecrAndReturn).
func decayed(v uint64, now time.Time) uint8 {
	c := uint8(v >> 48)
	elapsed := minutes(now) - uint16(v>>32)
	if periods := uint64(elapsed) / lfuDecayMinutes; periods > 0 {
		if periods >= uint64(c) {
			return 0
		}
		return c - uint8(periods)
	}
	return c
}

// touch records an access of the key with hash h. write marks a store,
// which lifts a new key's counter to lfuInit.
func (t *accessTable) touch(h uint64, now time.Time, write bool) {
	s := &t.slots[h&t.mask]
	v := s.Load()
	c := decayed(v, now)
	switch {
	case v&touchedBit == 0:
		c = lfuInit // a key's first access counts as its creation
	case write && c < lfuInit:
		c = lfuInit
		fallthrough
	case c < 255:
		// Redis's LFULogIncr: the more accesses counted, the less likely
		// the next one increments.
		base := float64(max(int(c)-lfuInit, 0))
		if rand.Float64() < 1/(base*lfuLogFactor+1) {
			c++
		}
	}
	s.Store(touchedBit | uint64(c)<<48 | uint64(minutes(now))<<32 | uint64(t.tick(now)))
}

// access returns what the table knows of the key with hash h.
func (t *accessTable) access(h uint64, now time.Time) Access {
	v := t.slots[h&t.mask].Load()
	if v&touchedBit == 0 {
		return Access{Idle: now.Sub(t.start)}
	}
	// Signed: a touch that raced with this reading may be a tick ahead of
	// now. Idle times therefore wrap after 24 days rather than 49.
	idle := time.Duration(max(int32(t.tick(now)-uint32(v)), 0)) * accessTick
	last := t.start.Add(time.Duration(uint32(v)) * accessTick)
	return Access{Idle: idle, Last: last, Freq: decayed(v, now)}
}

// TrackAccess starts (slots > 0, about that many table entries) or stops
// (slots == 0) recording accesses for LRU and LFU eviction. Starting
// again replaces the table and forgets what it knew.
func (e *Engine) TrackAccess(slots int) {
	if slots <= 0 {
		e.access.Store(nil)
		return
	}
	e.access.Store(newAccessTable(slots, e.cfg.Now()))
}

// AccessOf returns what the access table knows of key in partition p, and
// false while tracking is off.
func (e *Engine) AccessOf(p uint16, key []byte) (Access, bool) {
	t := e.access.Load()
	if t == nil {
		return Access{}, false
	}
	var buf [64]byte
	return t.access(xxhash.Sum64(appendDataKey(buf[:0], p, key)), e.cfg.Now()), true
}
