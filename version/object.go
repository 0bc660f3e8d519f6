package version

import (
	"bytes"
	"errors"
	"fmt"
	"sort"

	"github.com/cespare/xxhash/v2"
)

// ErrMalformed is returned for objects and contexts that break the
// invariants or cannot be decoded.
var ErrMalformed = errors.New("version: malformed")

// MaxCounter bounds counters so that no arithmetic on them can overflow,
// whatever a forged context says.
const MaxCounter = 1 << 62

// Type says what a sibling holds. Strings are the zero value, so objects
// written before typed data existed read as strings.
type Type uint8

// The types a sibling can hold. A typed key is a convergent data type
// spread over siblings: a header (Field nil) that names the type and
// carries the key's expiry, and, for collections, one sibling per element
// (Field set) stamped with the dot of the write that made it. Package crdt
// interprets them; this package only merges and orders them.
const (
	TypeString Type = iota
	TypeCounter
	TypeHash
	TypeSet
	TypeZSet
	typeLimit
)

// String is the name TYPE answers for the type.
func (t Type) String() string {
	switch t {
	case TypeString, TypeCounter:
		return "string"
	case TypeHash:
		return "hash"
	case TypeSet:
		return "set"
	case TypeZSet:
		return "zset"
	}
	return "unknown"
}

// Sibling is one concurrent version of a key, or of one element of a typed
// key (Field set).
type Sibling struct {
	Dot Dot
	// Type is what the sibling holds; Field names the element of a
	// collection it belongs to, nil for the key's own version (a string
	// value, a tombstone, a typed key's header). One write may stamp
	// several siblings with its dot, each with a distinct Field.
	Type      Type
	Field     []byte
	Value     []byte
	Tombstone bool
	// Timestamp is the coordinator's wall clock in unix milliseconds when it
	// made the write. It only breaks ties for plain GET (docs/architecture.md §3); it
	// never decides which versions survive.
	Timestamp int64
	// Expiry is an absolute unix time in milliseconds; 0 means none.
	Expiry int64
}

// Expired reports whether the sibling has an expiry at or before nowMs.
func (s Sibling) Expired(nowMs int64) bool { return s.Expiry != 0 && s.Expiry <= nowMs }

// Live reports whether the sibling is a value that has not expired.
func (s Sibling) Live(nowMs int64) bool { return !s.Tombstone && !s.Expired(nowMs) }

// IsElement reports whether the sibling is an element of a collection
// rather than the key's own version.
func (s Sibling) IsElement() bool { return s.Field != nil }

// Compare orders siblings by dot, then field: the order objects keep them
// in, and the identity Merge matches copies by. The key's own version (no
// field) comes before the elements, the empty field ("") included.
func (s Sibling) Compare(t Sibling) int {
	if c := s.Dot.Compare(t.Dot); c != 0 {
		return c
	}
	switch se, te := s.IsElement(), t.IsElement(); {
	case se == te:
		return bytes.Compare(s.Field, t.Field)
	case te: // the key's own version before its elements, even an empty field
		return -1
	}
	return 1
}

// Equal reports whether s and t are the same sibling, field by field.
func (s Sibling) Equal(t Sibling) bool {
	return s.Dot == t.Dot && s.Type == t.Type && s.Tombstone == t.Tombstone &&
		s.Timestamp == t.Timestamp && s.Expiry == t.Expiry &&
		(s.Field == nil) == (t.Field == nil) && bytes.Equal(s.Field, t.Field) && bytes.Equal(s.Value, t.Value)
}

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
	return o.Write(actor, counter, ctx, nil, s)
}

// Write is the general coordinator write behind PutCounter: it mints one
// dot (as PutCounter does) and stamps every sibling of add with it; the
// siblings of add must have distinct fields. Of the siblings ctx covers it
// keeps those keep accepts (nil keeps none: the write replaces everything
// the writer has seen); siblings ctx does not cover always stay. A write
// that adds nothing still takes its dot into the VV, so replicas see that
// something changed (a removal). The returned object owns no memory of its
// inputs except the values and fields of add.
func (o Object) Write(actor Actor, counter uint64, ctx VV, keep func(Sibling) bool, add ...Sibling) Object {
	dot := Dot{Actor: actor, Counter: max(counter, o.NextCounter(actor, ctx))}
	out := Object{VV: o.VV.Join(ctx).withDot(dot)}
	// The added siblings share one dot and go in by field; the kept ones
	// are in order already, so one pass merges the two.
	added := make([]Sibling, len(add))
	for i, s := range add {
		s.Dot = dot
		added[i] = s
	}
	sortSiblings(added)
	out.Siblings = make([]Sibling, 0, len(o.Siblings)+len(add))
	for _, old := range o.Siblings {
		if ctx.Covers(old.Dot) && (keep == nil || !keep(old)) {
			continue
		}
		for len(added) > 0 && added[0].Compare(old) < 0 {
			out.Siblings = append(out.Siblings, added[0])
			added = added[1:]
		}
		out.Siblings = append(out.Siblings, old)
	}
	out.Siblings = append(out.Siblings, added...)
	if len(out.Siblings) == 0 {
		out.Siblings = nil
	}
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
			c = a.Siblings[i].Compare(b.Siblings[j])
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

// Winner returns the key's version a plain GET reads: of the siblings that
// are not elements, the newest by timestamp, ties broken by dot. It may be
// a tombstone, expired, or a typed key's header; ok is false for an object
// with no such sibling.
//
// A collection emptied by removals leaves a tombstone of the collection's
// type. Removals are observed-remove (add wins), so that tombstone does not
// hide elements added by writes it had not seen: while the object holds
// elements of its type it yields to the key's other versions.
func (o Object) Winner() (w Sibling, ok bool) {
	return o.winner(o.elementTypes())
}

// winner is Winner given els, o.elementTypes().
func (o Object) winner(els uint32) (w Sibling, ok bool) {
	var emptied Sibling
	var hasEmptied bool
	for _, s := range o.Siblings {
		switch {
		case s.IsElement():
		case s.Tombstone && s.Type >= TypeHash && els&(1<<s.Type) != 0:
			if !hasEmptied || s.newer(emptied) {
				emptied, hasEmptied = s, true
			}
		case !ok || s.newer(w):
			w, ok = s, true
		}
	}
	if !ok && hasEmptied {
		return emptied, true
	}
	return w, ok
}

// elementTypes is the set of types (bit 1<<t) o holds elements of.
func (o Object) elementTypes() (m uint32) {
	for _, s := range o.Siblings {
		if s.IsElement() {
			m |= 1 << s.Type
		}
	}
	return m
}

// liveVersion reports whether s, one of the key's own versions, makes the
// key exist at nowMs: a value that has not expired, and for a collection's
// header only while the object holds one of its elements (concurrent
// removals can leave headers whose elements are all gone; Redis has no
// empty collections). els is o.elementTypes().
func liveVersion(s Sibling, nowMs int64, els uint32) bool {
	return s.Live(nowMs) && (s.Type < TypeHash || els&(1<<s.Type) != 0)
}

// Value is what a plain GET returns: the winner's value if it is live.
func (o Object) Value(nowMs int64) (Sibling, bool) {
	els := o.elementTypes()
	w, ok := o.winner(els)
	if !ok || !liveVersion(w, nowMs, els) {
		return Sibling{}, false
	}
	return w, true
}

// Live returns the key's versions (not elements) that are values and have
// not expired, in dot order.
func (o Object) Live(nowMs int64) []Sibling {
	var live []Sibling
	els := o.elementTypes()
	for _, s := range o.Siblings {
		if !s.IsElement() && liveVersion(s, nowMs, els) {
			live = append(live, s)
		}
	}
	return live
}

// Dead reports whether the object holds something and every one of the
// key's versions (elements aside) is a tombstone, expired or an empty
// collection: it reads as missing and may eventually be reaped.
func (o Object) Dead(nowMs int64) bool {
	if o.IsZero() {
		return false
	}
	els := o.elementTypes()
	for _, s := range o.Siblings {
		if !s.IsElement() && liveVersion(s, nowMs, els) {
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
		if s.IsElement() {
			continue
		}
		at := s.Timestamp // a tombstone dies when written
		if s.Expiry != 0 {
			at = s.Expiry // an expired value (compacted or not) when it expired
		}
		t = max(t, at)
	}
	return t
}

// Compact turns expired versions into tombstones, dropping their values but
// keeping their dots, so a replica can reclaim space without forgetting the
// write; the elements of a dead object are dropped (the VV still covers
// their dots, so a merge drops them elsewhere too). It reports whether
// anything changed.
func (o Object) Compact(nowMs int64) (Object, bool) {
	dead := o.Dead(nowMs)
	changed := false
	sibs := make([]Sibling, 0, len(o.Siblings))
	for _, s := range o.Siblings {
		switch {
		case s.IsElement() && dead:
			changed = true
			continue
		case !s.IsElement() && !s.Tombstone && s.Expired(nowMs):
			s = Sibling{Dot: s.Dot, Tombstone: true, Timestamp: s.Timestamp, Expiry: s.Expiry}
			changed = true
		}
		sibs = append(sibs, s)
	}
	if !changed {
		return o, false
	}
	if len(sibs) == 0 {
		sibs = nil
	}
	return Object{VV: o.VV, Siblings: sibs}, true
}

// Cap folds each group of concurrent versions — the key's own, and each
// element's — down to at most limit siblings by dropping the oldest (by
// timestamp, then dot): last writer wins beyond the cap. The dropped dots
// stay covered by the VV, so every replica that merges the result drops
// them too. It returns how many siblings were folded.
func (o Object) Cap(limit int) (Object, int) {
	if limit <= 0 || len(o.Siblings) <= limit || !o.overCap(limit) {
		return o, 0
	}
	groups := make(map[string][]Sibling)
	for _, s := range o.Siblings {
		k := "v"
		if s.IsElement() {
			k = "e" + string(s.Field)
		}
		groups[k] = append(groups[k], s)
	}
	if len(groups) == len(o.Siblings) {
		return o, 0
	}
	folded := 0
	kept := make([]Sibling, 0, len(o.Siblings))
	for _, g := range groups {
		if len(g) > limit {
			sort.Slice(g, func(i, j int) bool { return g[j].newer(g[i]) })
			folded += len(g) - limit
			g = g[len(g)-limit:]
		}
		kept = append(kept, g...)
	}
	if folded == 0 {
		return o, 0
	}
	sortSiblings(kept)
	return Object{VV: o.VV, Siblings: kept}, folded
}

// overCap reports whether some group of concurrent versions may hold more
// than limit siblings. It counts elements by a hash of their field in an
// open-addressed table, so that a large collection whose fields each have
// one version (the usual case) is checked without building the groups; a
// hash collision can only make it answer true, never false.
func (o Object) overCap(limit int) bool {
	own, elems := 0, 0
	for _, s := range o.Siblings {
		if s.IsElement() {
			elems++
		} else {
			own++
		}
	}
	if own > limit {
		return true
	}
	if elems <= limit {
		return false
	}
	size := 1
	for size < 2*elems {
		size <<= 1
	}
	keys := make([]uint64, size)
	counts := make([]int32, size)
	for _, s := range o.Siblings {
		if !s.IsElement() {
			continue
		}
		h := xxhash.Sum64(s.Field) | 1 // 0 marks an empty slot
		for i := h & uint64(size-1); ; i = (i + 1) & uint64(size-1) {
			if keys[i] == 0 {
				keys[i] = h
			}
			if keys[i] == h {
				counts[i]++
				if int(counts[i]) > limit {
					return true
				}
				break
			}
		}
	}
	return false
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
		if i > 0 && o.Siblings[i-1].Compare(s) >= 0 {
			return fmt.Errorf("%w: siblings not sorted or repeated", ErrMalformed)
		}
		if s.Tombstone && (len(s.Value) > 0 || s.IsElement()) {
			return fmt.Errorf("%w: tombstone with a value or a field", ErrMalformed)
		}
		if s.Type >= typeLimit || (s.IsElement() && s.Type <= TypeCounter) {
			return fmt.Errorf("%w: sibling of type %d", ErrMalformed, s.Type)
		}
	}
	return nil
}

func sortSiblings(s []Sibling) {
	sort.Slice(s, func(i, j int) bool { return s[i].Compare(s[j]) < 0 })
}
