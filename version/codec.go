package version

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"

	"github.com/cespare/xxhash/v2"
)

// Encoding formats. The first byte of every encoded object or context names
// its format, so later formats can be read beside older ones.
const (
	objectFormatV1  = 1
	contextFormatV1 = 1
)

// Limits on decoded input, so a forged object or context cannot make the
// decoder allocate more than its own length suggests.
const (
	// MaxContextLen bounds a context token's length in characters.
	MaxContextLen = 16 << 10
	// MaxEntries bounds the entries of a version vector.
	MaxEntries = 1024
)

const (
	flagTombstone = 1 << 0
	flagExpiry    = 1 << 1
	flagTyped     = 1 << 2 // a type byte follows the flags
	flagElement   = 1 << 3 // a field follows the type
	flagsKnown    = flagTombstone | flagExpiry | flagTyped | flagElement
)

// AppendVV appends the binary form of v (no format byte) to dst.
func AppendVV(dst []byte, v VV) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(v)))
	for _, e := range v {
		dst = append(dst, e.Actor[:]...)
		dst = binary.AppendUvarint(dst, e.Counter)
	}
	return dst
}

// AppendObject appends the encoded object to dst: a format byte, the VV,
// then the siblings, each naming its dot's actor by index into the VV.
func AppendObject(dst []byte, o Object) []byte {
	dst = append(dst, objectFormatV1)
	dst = AppendVV(dst, o.VV)
	dst = binary.AppendUvarint(dst, uint64(len(o.Siblings)))
	for _, s := range o.Siblings {
		idx := actorIndex(o.VV, s.Dot.Actor)
		dst = binary.AppendUvarint(dst, uint64(idx))
		dst = binary.AppendUvarint(dst, s.Dot.Counter)
		var flags byte
		if s.Tombstone {
			flags |= flagTombstone
		}
		if s.Expiry != 0 {
			flags |= flagExpiry
		}
		if s.Type != TypeString {
			flags |= flagTyped
		}
		if s.IsElement() {
			flags |= flagTyped | flagElement
		}
		dst = append(dst, flags)
		if flags&flagTyped != 0 {
			dst = append(dst, byte(s.Type))
		}
		if s.IsElement() {
			dst = binary.AppendUvarint(dst, uint64(len(s.Field)))
			dst = append(dst, s.Field...)
		}
		dst = binary.AppendVarint(dst, s.Timestamp)
		if s.Expiry != 0 {
			dst = binary.AppendVarint(dst, s.Expiry)
		}
		dst = binary.AppendUvarint(dst, uint64(len(s.Value)))
		dst = append(dst, s.Value...)
	}
	return dst
}

// EncodedLen returns exactly len(AppendObject(nil, o)), for writing the
// encoding in place (engine batches).
func EncodedLen(o Object) int {
	n := 1 + uvarintLen(uint64(len(o.VV))) + uvarintLen(uint64(len(o.Siblings)))
	for _, e := range o.VV {
		n += ActorLen + uvarintLen(e.Counter)
	}
	for _, s := range o.Siblings {
		n += uvarintLen(uint64(actorIndex(o.VV, s.Dot.Actor))) + uvarintLen(s.Dot.Counter) + 1
		if s.Type != TypeString || s.IsElement() {
			n++
		}
		if s.IsElement() {
			n += uvarintLen(uint64(len(s.Field))) + len(s.Field)
		}
		n += varintLen(s.Timestamp)
		if s.Expiry != 0 {
			n += varintLen(s.Expiry)
		}
		n += uvarintLen(uint64(len(s.Value))) + len(s.Value)
	}
	return n
}

func uvarintLen(v uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], v)
}

func varintLen(v int64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutVarint(b[:], v)
}

// EncodedSize returns len(AppendObject(nil, o)) without encoding, as an
// upper bound good enough for buffer sizing.
func (o Object) EncodedSize() int {
	n := 1 + binary.MaxVarintLen64 + len(o.VV)*(ActorLen+binary.MaxVarintLen64) + binary.MaxVarintLen64
	for _, s := range o.Siblings {
		n += 5*binary.MaxVarintLen64 + 2 + binary.MaxVarintLen64 + len(s.Value) + len(s.Field)
	}
	return n
}

func actorIndex(v VV, a Actor) int {
	for i := range v {
		if v[i].Actor == a {
			return i
		}
	}
	// Validate forbids this; encode something Decode will reject rather
	// than panicking on a caller's bug.
	return len(v)
}

// Reader reads binary forms written with encoding/binary's varints, as
// this package's codec does, for the other packages' encodings (package
// crdt's counters). Every read checks bounds; after the first failure
// reads return zero values and Err reports ErrMalformed.
type Reader struct{ d decoder }

// NewReader reads b.
func NewReader(b []byte) *Reader { return &Reader{d: decoder{b: b}} }

// Uvarint reads an unsigned varint; what names it in the error.
func (r *Reader) Uvarint(what string) uint64 { return r.d.uvarint(what) }

// Varint reads a signed varint.
func (r *Reader) Varint(what string) int64 { return r.d.varint(what) }

// Bytes reads n bytes; the result shares b's memory, capped at n.
func (r *Reader) Bytes(n uint64, what string) []byte {
	out := r.d.bytes(n, what)
	return out[:len(out):len(out)]
}

// Len is the number of bytes left.
func (r *Reader) Len() int { return len(r.d.b) }

// Fail records a malformed input (the first failure sticks).
func (r *Reader) Fail(what string) { r.d.fail(what) }

// Err is the first failure, nil if none.
func (r *Reader) Err() error { return r.d.err }

// decoder reads the binary forms; every read checks bounds.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformed, what)
	}
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint(what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n uint64, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail(what)
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) vv() VV {
	n := d.uvarint("vector length")
	// Each entry takes at least ActorLen+1 bytes: refuse counts the input
	// cannot hold before allocating for them.
	if n > MaxEntries || n > uint64(len(d.b))/(ActorLen+1) {
		d.fail("vector length")
		return nil
	}
	if n == 0 || d.err != nil {
		return nil
	}
	v := make(VV, n)
	for i := range v {
		copy(v[i].Actor[:], d.bytes(ActorLen, "actor"))
		v[i].Counter = d.uvarint("counter")
	}
	if d.err != nil {
		return nil
	}
	if err := v.Validate(); err != nil {
		d.err = err
		return nil
	}
	return v
}

// DecodeObject decodes an encoded object and checks its invariants. The
// result shares no memory with b.
func DecodeObject(b []byte) (Object, error) {
	if len(b) == 0 || b[0] != objectFormatV1 {
		return Object{}, fmt.Errorf("%w: unknown object format", ErrMalformed)
	}
	d := decoder{b: b[1:]}
	var o Object
	o.VV = d.vv()
	n := d.uvarint("sibling count")
	// A sibling takes at least 5 bytes (index, counter, flags, timestamp, length).
	if d.err == nil && n > uint64(len(d.b))/5 {
		d.fail("sibling count")
	}
	if d.err != nil {
		return Object{}, d.err
	}
	if n > 0 {
		o.Siblings = make([]Sibling, n)
		// One allocation holds every value: the rest of the input bounds it.
		arena := make([]byte, 0, len(d.b))
		for i := range o.Siblings {
			s := &o.Siblings[i]
			idx := d.uvarint("actor index")
			if d.err == nil && idx >= uint64(len(o.VV)) {
				d.fail("actor index")
			}
			if d.err != nil {
				return Object{}, d.err
			}
			s.Dot.Actor = o.VV[idx].Actor
			s.Dot.Counter = d.uvarint("dot counter")
			flags := d.bytes(1, "flags")
			if d.err != nil {
				return Object{}, d.err
			}
			if flags[0]&^flagsKnown != 0 {
				d.fail("unknown flags")
				return Object{}, d.err
			}
			s.Tombstone = flags[0]&flagTombstone != 0
			if flags[0]&flagTyped != 0 {
				if t := d.bytes(1, "type"); d.err == nil {
					s.Type = Type(t[0])
				}
			}
			if flags[0]&flagElement != 0 {
				f := d.bytes(d.uvarint("field length"), "field")
				if d.err != nil {
					return Object{}, d.err
				}
				start := len(arena)
				arena = append(arena, f...)
				s.Field = arena[start:len(arena):len(arena)]
			}
			s.Timestamp = d.varint("timestamp")
			if flags[0]&flagExpiry != 0 {
				s.Expiry = d.varint("expiry")
				if d.err == nil && s.Expiry == 0 {
					d.fail("zero expiry")
				}
			}
			val := d.bytes(d.uvarint("value length"), "value")
			if d.err != nil {
				return Object{}, d.err
			}
			if len(val) > 0 {
				start := len(arena)
				arena = append(arena, val...)
				s.Value = arena[start:len(arena):len(arena)]
			}
		}
	}
	if len(d.b) != 0 {
		return Object{}, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(d.b))
	}
	if err := o.Validate(); err != nil {
		return Object{}, err
	}
	return o, nil
}

// EncodeContext renders a version vector as the opaque, URL-safe context
// token clients hand back on SETCTX/DELCTX. The empty vector is "".
func EncodeContext(v VV) string {
	if len(v) == 0 {
		return ""
	}
	b := AppendVV([]byte{contextFormatV1}, v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeContext parses a context token. "" is the empty context. Anything
// that is not a token EncodeContext could have produced is ErrMalformed.
func DecodeContext(tok string) (VV, error) {
	if tok == "" {
		return nil, nil
	}
	if len(tok) > MaxContextLen {
		return nil, fmt.Errorf("%w: context too long", ErrMalformed)
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) == 0 || b[0] != contextFormatV1 {
		return nil, fmt.Errorf("%w: not a context token", ErrMalformed)
	}
	d := decoder{b: b[1:]}
	v := d.vv()
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: trailing bytes in context", ErrMalformed)
	}
	return v, nil
}

// Hash is the object's anti-entropy digest: a 64-bit hash of the key and
// its version vector. Two replicas whose objects have the same VV have seen
// the same writes and hold the same siblings, so the VV stands for the
// whole object (docs/architecture.md §7). The zero object hashes to 0 so that a missing
// key contributes nothing to a Merkle leaf's XOR.
func Hash(key []byte, o Object) uint64 {
	if len(o.VV) == 0 {
		return 0
	}
	var buf [256]byte
	b := binary.AppendUvarint(buf[:0], uint64(len(key)))
	b = append(b, key...)
	b = AppendVV(b, o.VV)
	return xxhash.Sum64(b)
}
