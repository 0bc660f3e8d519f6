package crdt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"sort"
	"strconv"

	"github.com/dynago/dynago/version"
)

// Counter is a PN-counter: per actor, the sums of its integer increments and
// decrements (P and N only grow) and of its float increments, plus the base
// a converted string held. Join takes each component's maximum.
type Counter struct {
	// Base is the value a string held when INCR converted it (decimal
	// text; empty for none) and BaseTs that string's timestamp: of two
	// bases the newer wins, so concurrent conversions of one string agree.
	Base   []byte
	BaseTs int64
	Ints   []IntEntry   // sorted by actor
	Floats []FloatEntry // sorted by actor
}

// IntEntry is one actor's integer increments (P) and decrements (N).
type IntEntry struct {
	Actor version.Actor
	P, N  uint64
}

// FloatEntry is one actor's float increments (P) and decrements (N), both
// non-negative.
type FloatEntry struct {
	Actor version.Actor
	P, N  float64
}

// IsFloat reports whether the counter's value is a float: it has float
// increments or a base that is not an integer.
func (c Counter) IsFloat() bool {
	for _, e := range c.Floats {
		if e.P != 0 || e.N != 0 {
			return true
		}
	}
	if len(c.Base) == 0 {
		return false
	}
	_, err := ParseInt(c.Base)
	return err != nil
}

// Int is the counter's integer value; ok is false when it is not an
// integer or does not fit in an int64. After a float increment the value
// is what INCRBYFLOAT printed, an integer if it is a whole number (as
// Redis parses "2" after INCRBYFLOAT k 0.5 on "1.5").
func (c Counter) Int() (n int64, ok bool) {
	for _, e := range c.Floats {
		if e.P != 0 || e.N != 0 {
			n, err := ParseInt(FormatFloat(c.Float()))
			return n, err == nil
		}
	}
	if len(c.Base) > 0 {
		var err error
		if n, err = ParseInt(c.Base); err != nil {
			return 0, false
		}
	}
	return c.intSum(n)
}

// intSum is n plus every actor's integer sum, exactly (in 128 bits: one
// actor's sum may not fit in an int64 when the total does): ok is false
// when the total does not fit in an int64.
func (c Counter) intSum(n int64) (sum int64, ok bool) {
	lo, hi := uint64(n), uint64(n>>63)
	for _, e := range c.Ints {
		var carry uint64
		lo, carry = bits.Add64(lo, e.P, 0)
		hi += carry
		lo, carry = bits.Sub64(lo, e.N, 0)
		hi -= carry
	}
	if int64(hi) != int64(lo)>>63 {
		return 0, false
	}
	return int64(lo), true
}

// finite reports whether every float sum is finite (DecodeCounter refuses
// the others).
func (c Counter) finite() bool {
	for _, e := range c.Floats {
		if math.IsInf(e.P, 0) || math.IsInf(e.N, 0) {
			return false
		}
	}
	return true
}

// Float is the counter's value as a float.
func (c Counter) Float() float64 {
	var f float64
	var base int64 // an integer base joins the exact integer sum
	if len(c.Base) > 0 {
		var err error
		if base, err = ParseInt(c.Base); err != nil {
			base = 0
			f, _ = strconv.ParseFloat(string(c.Base), 64)
		}
	}
	if n, ok := c.intSum(base); ok { // one rounding, not one per actor
		f += float64(n)
	} else {
		f += float64(base)
		for _, e := range c.Ints {
			f += float64(e.P) - float64(e.N)
		}
	}
	for _, e := range c.Floats {
		f += e.P - e.N
	}
	return f
}

// Text is the counter's value as GET shows it.
func (c Counter) Text() []byte {
	if n, ok := c.Int(); ok {
		return strconv.AppendInt(nil, n, 10)
	}
	return FormatFloat(c.Float())
}

// FormatFloat prints f as Redis prints INCRBYFLOAT results: the shortest
// decimal that round-trips, without an exponent.
func FormatFloat(f float64) []byte { return strconv.AppendFloat(nil, f, 'f', -1, 64) }

// AddInt returns c with actor's integer sum moved by delta.
func (c Counter) AddInt(actor version.Actor, delta int64) Counter {
	out := c.clone()
	i := sort.Search(len(out.Ints), func(i int) bool { return out.Ints[i].Actor.Compare(actor) >= 0 })
	if i == len(out.Ints) || out.Ints[i].Actor != actor {
		out.Ints = append(out.Ints, IntEntry{})
		copy(out.Ints[i+1:], out.Ints[i:])
		out.Ints[i] = IntEntry{Actor: actor}
	}
	if delta >= 0 {
		out.Ints[i].P += uint64(delta)
	} else {
		out.Ints[i].N += uint64(-(delta + 1)) + 1
	}
	return out
}

// addInt is AddInt that reports ok=false instead of wrapping the actor's
// sums: P and N only grow, and the join takes their maximum, so a sum that
// wrapped would lose to its own older copies.
func (c Counter) addInt(actor version.Actor, delta int64) (Counter, bool) {
	out := c.AddInt(actor, delta)
	var before IntEntry
	if i := sort.Search(len(c.Ints), func(i int) bool { return c.Ints[i].Actor.Compare(actor) >= 0 }); i < len(c.Ints) && c.Ints[i].Actor == actor {
		before = c.Ints[i]
	}
	i := sort.Search(len(out.Ints), func(i int) bool { return out.Ints[i].Actor.Compare(actor) >= 0 })
	return out, out.Ints[i].P >= before.P && out.Ints[i].N >= before.N
}

// AddFloat returns c with actor's float sum moved by delta.
func (c Counter) AddFloat(actor version.Actor, delta float64) Counter {
	out := c.clone()
	i := sort.Search(len(out.Floats), func(i int) bool { return out.Floats[i].Actor.Compare(actor) >= 0 })
	if i == len(out.Floats) || out.Floats[i].Actor != actor {
		out.Floats = append(out.Floats, FloatEntry{})
		copy(out.Floats[i+1:], out.Floats[i:])
		out.Floats[i] = FloatEntry{Actor: actor}
	}
	if delta >= 0 {
		out.Floats[i].P += delta
	} else {
		out.Floats[i].N -= delta
	}
	return out
}

func (c Counter) clone() Counter {
	return Counter{Base: c.Base, BaseTs: c.BaseTs,
		Ints: append([]IntEntry(nil), c.Ints...), Floats: append([]FloatEntry(nil), c.Floats...)}
}

// JoinCounters is the counters' least upper bound: the newer base, and
// each actor's largest sums.
func JoinCounters(a, b Counter) Counter {
	out := Counter{Base: a.Base, BaseTs: a.BaseTs}
	if b.BaseTs > a.BaseTs || (b.BaseTs == a.BaseTs && bytes.Compare(b.Base, a.Base) > 0) {
		out.Base, out.BaseTs = b.Base, b.BaseTs
	}
	out.Ints = joinEntries(a.Ints, b.Ints, func(e IntEntry) version.Actor { return e.Actor },
		func(x, y IntEntry) IntEntry { return IntEntry{x.Actor, max(x.P, y.P), max(x.N, y.N)} })
	out.Floats = joinEntries(a.Floats, b.Floats, func(e FloatEntry) version.Actor { return e.Actor },
		func(x, y FloatEntry) FloatEntry { return FloatEntry{x.Actor, max(x.P, y.P), max(x.N, y.N)} })
	return out
}

// joinEntries merges two lists of per-actor entries sorted by actor,
// joining the entries of an actor both hold.
func joinEntries[E any](a, b []E, actor func(E) version.Actor, join func(x, y E) E) []E {
	var out []E
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && actor(a[i]).Compare(actor(b[j])) < 0):
			out = append(out, a[i])
			i++
		case i == len(a) || actor(a[i]).Compare(actor(b[j])) > 0:
			out = append(out, b[j])
			j++
		default:
			out = append(out, join(a[i], b[j]))
			i++
			j++
		}
	}
	return out
}

// AppendCounter appends the binary form of c to dst.
func AppendCounter(dst []byte, c Counter) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(c.Base)))
	dst = append(dst, c.Base...)
	dst = binary.AppendVarint(dst, c.BaseTs)
	dst = binary.AppendUvarint(dst, uint64(len(c.Ints)))
	for _, e := range c.Ints {
		dst = append(dst, e.Actor[:]...)
		dst = binary.AppendUvarint(dst, e.P)
		dst = binary.AppendUvarint(dst, e.N)
	}
	dst = binary.AppendUvarint(dst, uint64(len(c.Floats)))
	for _, e := range c.Floats {
		dst = append(dst, e.Actor[:]...)
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(e.P))
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(e.N))
	}
	return dst
}

// DecodeCounter decodes AppendCounter's form; malformed input is
// ErrMalformed, never a panic.
func DecodeCounter(b []byte) (Counter, error) {
	d := version.NewReader(b)
	var c Counter
	if base := d.Bytes(d.Uvarint("base length"), "base"); len(base) > 0 {
		c.Base = base
	}
	c.BaseTs = d.Varint("base timestamp")
	if n := d.Uvarint("integer entries"); n > uint64(d.Len())/(version.ActorLen+2) {
		d.Fail("integer entries")
	} else {
		for range n {
			var e IntEntry
			copy(e.Actor[:], d.Bytes(version.ActorLen, "actor"))
			e.P, e.N = d.Uvarint("increments"), d.Uvarint("decrements")
			if k := len(c.Ints); k > 0 && c.Ints[k-1].Actor.Compare(e.Actor) >= 0 {
				d.Fail("actors not sorted")
			}
			c.Ints = append(c.Ints, e)
		}
	}
	if n := d.Uvarint("float entries"); n > uint64(d.Len())/(version.ActorLen+16) {
		d.Fail("float entries")
	} else {
		for range n {
			var e FloatEntry
			copy(e.Actor[:], d.Bytes(version.ActorLen, "actor"))
			e.P, e.N = readFloat(d), readFloat(d)
			if k := len(c.Floats); (k > 0 && c.Floats[k-1].Actor.Compare(e.Actor) >= 0) || !(e.P >= 0) || !(e.N >= 0) || math.IsInf(e.P, 0) || math.IsInf(e.N, 0) {
				d.Fail("float entry")
			}
			c.Floats = append(c.Floats, e)
		}
	}
	if d.Err() == nil && d.Len() != 0 {
		d.Fail("trailing bytes")
	}
	if err := d.Err(); err != nil {
		return Counter{}, fmt.Errorf("%w (counter)", err)
	}
	return c, nil
}

// readFloat reads a float64 stored as its 8 big-endian bits.
func readFloat(d *version.Reader) float64 {
	b := d.Bytes(8, "float")
	if len(b) < 8 {
		return 0
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b))
}

func errMalformed(what string) error { return fmt.Errorf("%w: %s", version.ErrMalformed, what) }

// ParseInt parses a value as Redis's string2ll does: base 10, optional
// minus sign, no spaces, no plus sign, no leading zeros, fits in int64.
func ParseInt(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 20 {
		return 0, ErrNotInteger
	}
	if b[0] == '+' || (len(b) > 1 && b[0] == '0') || (len(b) > 2 && b[0] == '-' && b[1] == '0') || bytes.Equal(b, []byte("-0")) {
		return 0, ErrNotInteger
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, ErrNotInteger
	}
	return n, nil
}

// ParseFloat parses a value as INCRBYFLOAT does: a finite decimal number
// with no surrounding spaces.
func ParseFloat(b []byte) (float64, error) {
	if len(b) == 0 || len(b) > 5000 || b[0] == ' ' || b[len(b)-1] == ' ' {
		return 0, ErrNotFloat
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, ErrNotFloat
	}
	return f, nil
}
