package crdt

import (
	"bytes"
	"encoding/binary"
	"math"
	"sort"

	"github.com/dynago/dynago/version"
)

// Element values start with a tag byte: a register holds the bytes (or, in
// a sorted set, the score's 8 bytes) that follow; a counter holds an
// encoded Counter.
const (
	tagRegister = 'r'
	tagCounter  = 'c'
)

// KeyType is the type of the key's live version: TypeString for a string or
// a counter, a collection's type, and ok=false for a missing key.
func KeyType(o version.Object, nowMs int64) (version.Type, bool) {
	w, ok := o.Value(nowMs)
	if !ok {
		return 0, false
	}
	if w.Type == version.TypeCounter {
		return version.TypeString, true
	}
	return w.Type, true
}

// StringValue is what GET reads: a string's value, or a counter's value
// as text. found is false for a missing key; a collection is ErrWrongType.
// sib is the key's live version (its expiry and timestamp).
func StringValue(o version.Object, nowMs int64) (val []byte, sib version.Sibling, found bool, err error) {
	w, ok := o.Value(nowMs)
	if !ok {
		return nil, version.Sibling{}, false, nil
	}
	switch w.Type {
	case version.TypeString:
		return w.Value, w, true, nil
	case version.TypeCounter:
		c, err := counterOf(o, nowMs)
		if err != nil {
			return nil, w, true, err
		}
		return c.Text(), w, true, nil
	}
	return nil, w, true, ErrWrongType
}

// counterOf joins the live counter headers of o.
func counterOf(o version.Object, nowMs int64) (Counter, error) {
	var c Counter
	n := 0
	for _, s := range o.Siblings {
		if s.IsElement() || s.Type != version.TypeCounter || !s.Live(nowMs) {
			continue
		}
		d, err := DecodeCounter(s.Value)
		if err != nil {
			return Counter{}, err
		}
		if n++; n == 1 {
			c = d // the usual case: one version, nothing to join
		} else {
			c = JoinCounters(c, d)
		}
	}
	return c, nil
}

// Element is one element of a collection as reads see it: its name and its
// value (a hash field's value, a sorted set member's score; nothing for a
// set member).
type Element struct {
	Field []byte
	Value []byte
	Score float64
}

// Elements returns the live collection of type t held by o, sorted by
// field, with found=false when the key is missing and ErrWrongType when
// the key holds another type.
func Elements(o version.Object, t version.Type, nowMs int64) (els []Element, found bool, err error) {
	w, ok := o.Value(nowMs)
	if !ok {
		return nil, false, nil
	}
	if w.Type != t {
		return nil, true, ErrWrongType
	}
	groups := group(o, t)
	els = make([]Element, 0, len(groups))
	for _, g := range groups {
		e, err := readElement(g, t)
		if err != nil {
			return nil, true, err
		}
		els = append(els, e)
	}
	return els, true, nil
}

// Lookup returns one element of the collection of type t in o (ok=false
// when absent). The key's type is checked as by Elements.
func Lookup(o version.Object, t version.Type, field []byte, nowMs int64) (e Element, ok bool, err error) {
	w, live := o.Value(nowMs)
	if !live {
		return Element{}, false, nil
	}
	if w.Type != t {
		return Element{}, false, ErrWrongType
	}
	var g []version.Sibling
	for _, s := range o.Siblings {
		if s.IsElement() && s.Type == t && bytes.Equal(s.Field, field) {
			g = append(g, s)
		}
	}
	if len(g) == 0 {
		return Element{}, false, nil
	}
	e, err = readElement(g, t)
	return e, err == nil, err
}

// group collects the element siblings of type t by field, sorted by field.
// It sorts positions, not the (large) siblings themselves.
func group(o version.Object, t version.Type) [][]version.Sibling {
	var idx []int32
	for i, s := range o.Siblings {
		if s.IsElement() && s.Type == t {
			idx = append(idx, int32(i))
		}
	}
	sibs := o.Siblings
	sort.Slice(idx, func(i, j int) bool {
		if c := bytes.Compare(sibs[idx[i]].Field, sibs[idx[j]].Field); c != 0 {
			return c < 0
		}
		return idx[i] < idx[j]
	})
	els := make([]version.Sibling, len(idx))
	for i, k := range idx {
		els[i] = sibs[k]
	}
	var groups [][]version.Sibling
	for i := 0; i < len(els); {
		j := i + 1
		for j < len(els) && bytes.Equal(els[j].Field, els[i].Field) {
			j++
		}
		groups = append(groups, els[i:j:j])
		i = j
	}
	return groups
}

// readElement reads one element from its concurrent siblings: the newest
// one decides; a counter joins with the other counters of the element.
func readElement(g []version.Sibling, t version.Type) (Element, error) {
	newest := g[0]
	for _, s := range g[1:] {
		if s.Timestamp > newest.Timestamp || (s.Timestamp == newest.Timestamp && s.Dot.Compare(newest.Dot) > 0) {
			newest = s
		}
	}
	e := Element{Field: newest.Field}
	if t == version.TypeSet {
		return e, nil
	}
	if len(newest.Value) == 0 {
		return e, errMalformed("element value")
	}
	if newest.Value[0] == tagCounter {
		c, err := elementCounter(g)
		if err != nil {
			return e, err
		}
		if t == version.TypeZSet {
			e.Score = c.Float()
			return e, nil
		}
		e.Value = c.Text()
		return e, nil
	}
	v := newest.Value[1:]
	if t == version.TypeZSet {
		if len(v) != 8 {
			return e, errMalformed("score")
		}
		e.Score = math.Float64frombits(binary.BigEndian.Uint64(v))
		return e, nil
	}
	e.Value = v
	return e, nil
}

// elementCounter joins the counter siblings of one element.
func elementCounter(g []version.Sibling) (Counter, error) {
	var c Counter
	for _, s := range g {
		if len(s.Value) == 0 || s.Value[0] != tagCounter {
			continue
		}
		d, err := DecodeCounter(s.Value[1:])
		if err != nil {
			return Counter{}, err
		}
		c = JoinCounters(c, d)
	}
	return c, nil
}

// registerValue encodes a register element value.
func registerValue(v []byte) []byte {
	out := make([]byte, 1+len(v))
	out[0] = tagRegister
	copy(out[1:], v)
	return out
}

// scoreValue encodes a sorted set score register.
func scoreValue(f float64) []byte {
	return binary.BigEndian.AppendUint64([]byte{tagRegister}, math.Float64bits(f))
}

// counterValue encodes a counter element value.
func counterValue(c Counter) []byte { return AppendCounter([]byte{tagCounter}, c) }

// Header returns the key's live version for a write that keeps the key as
// it is but for its expiry (EXPIRE, PERSIST): a counter's header carries
// the join of its concurrent states. ok is false for a missing key.
func Header(o version.Object, nowMs int64) (h version.Sibling, ok bool, err error) {
	w, ok := o.Value(nowMs)
	if !ok || w.Type != version.TypeCounter {
		return w, ok, nil
	}
	c, err := counterOf(o, nowMs)
	if err != nil {
		return w, true, err
	}
	w.Value = AppendCounter(nil, c)
	return w, true, nil
}

// KeepElements is the keep rule of a write that rewrites only the header
// h of a key: the elements of h's type stay.
func KeepElements(h version.Sibling) func(version.Sibling) bool {
	return func(s version.Sibling) bool { return s.IsElement() && s.Type == h.Type }
}

// CountElements counts the elements of type t that o holds, whatever the
// key's live type (SIBLINGS's summary of a typed version).
func CountElements(o version.Object, t version.Type) int {
	return len(group(o, t))
}
