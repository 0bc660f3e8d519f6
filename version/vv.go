package version

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
)

// ActorLen is the encoded size of an Actor in bytes.
const ActorLen = 12

// Actor names one incarnation of one node: the first 8 bytes of the node id
// followed by the 4-byte incarnation number created with the data directory.
type Actor [ActorLen]byte

// NewActor builds the actor for node (its id's first 8 bytes are used) and
// incarnation.
func NewActor(nodeID []byte, incarnation uint32) Actor {
	var a Actor
	copy(a[:8], nodeID)
	binary.BigEndian.PutUint32(a[8:], incarnation)
	return a
}

// NodePrefix is the node part of the actor (the first 8 bytes of the node id).
func (a Actor) NodePrefix() [8]byte {
	var p [8]byte
	copy(p[:], a[:8])
	return p
}

// Incarnation is the incarnation part of the actor.
func (a Actor) Incarnation() uint32 { return binary.BigEndian.Uint32(a[8:]) }

// String renders the actor as 24 hex digits.
func (a Actor) String() string { return hex.EncodeToString(a[:]) }

// Compare orders actors bytewise.
func (a Actor) Compare(b Actor) int { return bytes.Compare(a[:], b[:]) }

// Dot identifies one write: the actor that coordinated it and that actor's
// counter for the key.
type Dot struct {
	Actor   Actor
	Counter uint64
}

// Compare orders dots by actor, then counter.
func (d Dot) Compare(e Dot) int {
	if c := d.Actor.Compare(e.Actor); c != 0 {
		return c
	}
	switch {
	case d.Counter < e.Counter:
		return -1
	case d.Counter > e.Counter:
		return 1
	}
	return 0
}

// String renders the dot as "actor:counter".
func (d Dot) String() string { return d.Actor.String() + ":" + strconv.FormatUint(d.Counter, 10) }

// Entry is one actor's counter in a version vector.
type Entry struct {
	Actor   Actor
	Counter uint64
}

// VV is a version vector: entries sorted by actor, distinct actors, counters
// above zero. The zero value (nil) is the empty vector. Methods never modify
// their receiver; results share no memory with their inputs.
type VV []Entry

// Get returns the counter of actor a (0 when absent).
func (v VV) Get(a Actor) uint64 {
	i := sort.Search(len(v), func(i int) bool { return v[i].Actor.Compare(a) >= 0 })
	if i < len(v) && v[i].Actor == a {
		return v[i].Counter
	}
	return 0
}

// Covers reports whether the vector has seen dot d.
func (v VV) Covers(d Dot) bool { return d.Counter <= v.Get(d.Actor) }

// Join returns the pointwise maximum of v and w.
func (v VV) Join(w VV) VV {
	out := make(VV, 0, max(len(v), len(w)))
	i, j := 0, 0
	for i < len(v) && j < len(w) {
		switch c := v[i].Actor.Compare(w[j].Actor); {
		case c < 0:
			out = append(out, v[i])
			i++
		case c > 0:
			out = append(out, w[j])
			j++
		default:
			out = append(out, Entry{v[i].Actor, max(v[i].Counter, w[j].Counter)})
			i++
			j++
		}
	}
	out = append(out, v[i:]...)
	out = append(out, w[j:]...)
	if len(out) == 0 {
		return nil
	}
	return out
}

// withDot returns v with actor d.Actor's counter raised to at least d.Counter.
func (v VV) withDot(d Dot) VV { return v.Join(VV{{d.Actor, d.Counter}}) }

// Descends reports whether v has seen everything w has (v >= w).
func (v VV) Descends(w VV) bool {
	for _, e := range w {
		if v.Get(e.Actor) < e.Counter {
			return false
		}
	}
	return true
}

// Equal reports whether v and w are the same vector.
func (v VV) Equal(w VV) bool {
	if len(v) != len(w) {
		return false
	}
	for i := range v {
		if v[i] != w[i] {
			return false
		}
	}
	return true
}

// Ordering is the causal relation between two version vectors.
type Ordering int

// The four causal relations.
const (
	Equal Ordering = iota
	Before
	After
	Concurrent
)

// Compare returns how v relates to w causally.
func (v VV) Compare(w VV) Ordering {
	vw, wv := v.Descends(w), w.Descends(v)
	switch {
	case vw && wv:
		return Equal
	case vw:
		return After
	case wv:
		return Before
	}
	return Concurrent
}

// Clone returns a copy of v.
func (v VV) Clone() VV {
	if v == nil {
		return nil
	}
	return append(VV(nil), v...)
}

// Validate checks the VV invariants.
func (v VV) Validate() error {
	for i, e := range v {
		if e.Counter == 0 {
			return fmt.Errorf("%w: zero counter for actor %s", ErrMalformed, e.Actor)
		}
		if e.Counter > MaxCounter {
			return fmt.Errorf("%w: counter %d out of range", ErrMalformed, e.Counter)
		}
		if i > 0 && v[i-1].Actor.Compare(e.Actor) >= 0 {
			return fmt.Errorf("%w: actors not sorted or repeated", ErrMalformed)
		}
	}
	return nil
}

// String renders the vector for logs and debugging.
func (v VV) String() string {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range v {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%d", e.Actor, e.Counter)
	}
	b.WriteByte('}')
	return b.String()
}
