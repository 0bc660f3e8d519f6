package version

import (
	"errors"
	"fmt"
	"sort"
)

// ErrMalformed is returned for objects and contexts that break the
// invariants or cannot be decoded.
var ErrMalformed = errors.New("version: malformed")

// MaxCounter bounds counters so that no arithmetic on them can overflow,
// whatever a forged context says.
const MaxCounter = 1 << 62

// Sibling is one concurrent version of a key.
type Sibling struct {
	Dot       Dot
	Value     []byte
	Tombstone bool
	// Timestamp is the coordinator's wall clock in unix milliseconds when it
	// made the write. It only breaks ties for plain GET (DESIGN §3); it
	// never decides which versions survive.
	Timestamp int64
	// Expiry is an absolute unix time in milliseconds; 0 means none.
	Expiry int64
}

// Expired reports whether the sibling has an expiry at or before nowMs.
func (s Sibling) Expired(nowMs int64) bool { return s.Expiry != 0 && s.Expiry <= nowMs }

// Live reports whether the sibling is a value that has not expired.
func (s Sibling) Live(nowMs int64) bool { return !s.Tombstone && !s.Expired(nowMs) }

// newer reports whether s beats t as the one value a plain GET returns:
// newest timestamp, ties broken by the larger dot.
func (s Sibling) newer(t Sibling) bool {
	if s.Timestamp != t.Timestamp {
		return s.Timestamp > t.Timestamp
	}
	return s.Dot.Compare(t.Dot) > 0
}

// Object is one key's state on one replica. The zero value is a key that
// was never written (or has been reaped).
type Object struct {
	VV       VV
	Siblings []Sibling
}

// IsZero reports whether the object holds nothing at all.
func (o Object) IsZero() bool { return len(o.VV) == 0 && len(o.Siblings) == 0 }

// Put applies a coordinator's write of s with the client's context ctx
// (for a blind write, the coordinator's own VV). It mints the dot
// (actor, n+1) where n is the largest counter of actor that o or ctx knows,
// removes every sibling ctx covers, keeps the others and adds s. The new VV
// is o.VV ⊔ ctx ⊔ dot. s.Dot is ignored; the returned object owns no memory
// of its inputs except s.Value.
func (o Object) Put(actor Actor, ctx VV, s Sibling) Object {
	return o.PutCounter(actor, 0, ctx, s)
}

// NextCounter is the smallest counter a new dot of actor may carry in a
// write of o with context ctx: one above every counter of actor either
// knows.
func (o Object) NextCounter(actor Actor, ctx VV) uint64 {
	return max(o.VV.Get(actor), ctx.Get(actor)) + 1
}

// PutCounter is Put with the dot's counter chosen by the caller: counter,
// or NextCounter when counter is below it. A coordinator passes counters
// from a clock that never goes back, so that a key whose object was
// reaped (or lost) here can never be given a dot it handed out before and
// that a tombstone elsewhere still covers.
func (o Object) PutCounter(actor Actor, counter uint64, ctx VV, s Sibling) Object {
	s.Dot = Dot{Actor: actor, Counter: max(counter, o.NextCounter(actor, ctx))}
	out := Object{VV: o.VV.Join(ctx).withDot(s.Dot)}
	out.Siblings = make([]Sibling, 0, len(o.Siblings)+1)
	for _, old := range o.Siblings {
		if !ctx.Covers(old.Dot) {
			out.Siblings = append(out.Siblings, old)
		}
	}
	out.Siblings = append(out.Siblings, s)
	sortSiblings(out.Siblings)
	return out
}

// Merge is the DVV-set sync of two replicas' objects: a sibling survives if
// both sides hold it or the other side has not seen its dot; the VV is the
// join. Merge is commutative, associative and idempotent.
func Merge(a, b Object) Object {
	out := Object{VV: a.VV.Join(b.VV)}
	sibs := make([]Sibling, 0, len(a.Siblings)+len(b.Siblings))
	i, j := 0, 0
	for i < len(a.Siblings) || j < len(b.Siblings) {
		var c int
		switch {
		case i == len(a.Siblings):
			c = 1
		case j == len(b.Siblings):
			c = -1
		default:
			c = a.Siblings[i].Dot.Compare(b.Siblings[j].Dot)
		}
		switch {
		case c < 0: // only in a: keep unless b has seen (and dropped) it
			if !b.VV.Covers(a.Siblings[i].Dot) {
				sibs = append(sibs, a.Siblings[i])
			}
			i++
		case c > 0: // only in b
			if !a.VV.Covers(b.Siblings[j].Dot) {
				sibs = append(sibs, b.Siblings[j])
			}
			j++
		default: // the same write on both sides
			sibs = append(sibs, sameDot(a.Siblings[i], b.Siblings[j]))
			i++
			j++
		}
	}
	if len(sibs) > 0 {
		out.Siblings = sibs
	}
	return out
}

// sameDot picks deterministically between two copies of one write. Copies
// of a dot are identical unless a replica reclaimed the value of a dead
// sibling (Compact); then the compacted copy wins, so the choice is a join.
func sameDot(s, t Sibling) Sibling {
	if t.Tombstone && !s.Tombstone {
		return t
	}
	return s
}

// Winner returns the sibling a plain GET reads: the newest by timestamp,
// ties broken by dot. It may be a tombstone or expired; ok is false for an
// object with no siblings.
func (o Object) Winner() (w Sibling, ok bool) {
	for i, s := range o.Siblings {
		if i == 0 || s.newer(w) {
			w = s
		}
	}
	return w, len(o.Siblings) > 0
}

// Value is what a plain GET returns: the winner's value if it is live.
func (o Object) Value(nowMs int64) (Sibling, bool) {
	w, ok := o.Winner()
	if !ok || !w.Live(nowMs) {
		return Sibling{}, false
	}
	return w, true
}

// Live returns the siblings that are values and have not expired, in dot
// order.
func (o Object) Live(nowMs int64) []Sibling {
	var live []Sibling
	for _, s := range o.Siblings {
		if s.Live(nowMs) {
			live = append(live, s)
		}
	}
	return live
}

// Dead reports whether the object holds siblings and every one of them is a
// tombstone or expired: it reads as missing and may eventually be reaped.
func (o Object) Dead(nowMs int64) bool {
	if len(o.Siblings) == 0 {
		return !o.IsZero()
	}
	for _, s := range o.Siblings {
		if s.Live(nowMs) {
			return false
		}
	}
	return true
}

// DeathTime is when a dead object died: the latest tombstone timestamp or
// expiry among its siblings. Only meaningful when Dead is true.
func (o Object) DeathTime() int64 {
	var t int64
	for _, s := range o.Siblings {
		at := s.Timestamp // a tombstone dies when written
		if s.Expiry != 0 {
			at = s.Expiry // an expired value (compacted or not) when it expired
		}
		t = max(t, at)
	}
	return t
}

// Compact turns expired siblings into tombstones, dropping their values but
// keeping their dots, so a replica can reclaim space without forgetting the
// write. It reports whether anything changed.
func (o Object) Compact(nowMs int64) (Object, bool) {
	changed := false
	var sibs []Sibling
	for i, s := range o.Siblings {
		if !s.Tombstone && s.Expired(nowMs) {
			if !changed {
				sibs = append([]Sibling(nil), o.Siblings...)
				changed = true
			}
			sibs[i] = Sibling{Dot: s.Dot, Tombstone: true, Timestamp: s.Timestamp, Expiry: s.Expiry}
		}
	}
	if !changed {
		return o, false
	}
	return Object{VV: o.VV, Siblings: sibs}, true
}

// Cap folds an object down to at most limit siblings by dropping the oldest
// (by timestamp, then dot): last writer wins beyond the cap. The dropped
// dots stay covered by the VV, so every replica that merges the result
// drops them too. It returns how many siblings were folded.
func (o Object) Cap(limit int) (Object, int) {
	if limit <= 0 || len(o.Siblings) <= limit {
		return o, 0
	}
	byAge := append([]Sibling(nil), o.Siblings...)
	sort.Slice(byAge, func(i, j int) bool { return byAge[j].newer(byAge[i]) })
	folded := len(byAge) - limit
	kept := byAge[folded:]
	sortSiblings(kept)
	return Object{VV: o.VV, Siblings: kept}, folded
}

// Validate checks the object invariants.
func (o Object) Validate() error {
	if err := o.VV.Validate(); err != nil {
		return err
	}
	for i, s := range o.Siblings {
		if s.Dot.Counter == 0 || !o.VV.Covers(s.Dot) {
			return fmt.Errorf("%w: sibling %s not covered by %s", ErrMalformed, s.Dot, o.VV)
		}
		if i > 0 && o.Siblings[i-1].Dot.Compare(s.Dot) >= 0 {
			return fmt.Errorf("%w: siblings not sorted or repeated", ErrMalformed)
		}
		if s.Tombstone && len(s.Value) > 0 {
			return fmt.Errorf("%w: tombstone with a value", ErrMalformed)
		}
	}
	return nil
}

func sortSiblings(s []Sibling) {
	sort.Slice(s, func(i, j int) bool { return s[i].Dot.Compare(s[j].Dot) < 0 })
}
