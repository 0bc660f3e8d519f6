package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Kind is the type of a dumped value.
type Kind uint8

// The kinds dynago stores.
const (
	String Kind = iota + 1
	Hash
	Set
	ZSet
)

// Value is one key's value. Fields are a hash's fields, a set's or a
// sorted set's members; Values a hash's values; Scores a sorted set's.
type Value struct {
	Kind   Kind
	Str    []byte
	Fields [][]byte
	Values [][]byte
	Scores []float64
}

// Version is the RDB version Encode stamps (Redis 7.0's; Redis 7.2 writes
// 11 but reads every version up to its own).
const Version = 10

// MaxVersion is the newest RDB version Decode accepts (Redis 7.2's).
const MaxVersion = 11

// Errors Decode returns.
var (
	// ErrChecksum: the payload is too short, its RDB version is newer than
	// MaxVersion, or its CRC-64 is wrong (Redis: "DUMP payload version or
	// checksum are wrong").
	ErrChecksum = errors.New("rdb: payload version or checksum are wrong")
	// ErrBadFormat: the checksum holds but the object does not decode
	// (Redis: "Bad data format").
	ErrBadFormat = errors.New("rdb: bad data format")
	// ErrUnsupported: a valid object of a type dynago does not store
	// (lists, streams, modules, the pre-7 ziplist and zipmap encodings).
	ErrUnsupported = errors.New("rdb: unsupported type")
)

// The RDB object types (Redis's rdb.h).
const (
	typeString       = 0
	typeList         = 1
	typeSet          = 2
	typeZSet         = 3
	typeHash         = 4
	typeZSet2        = 5
	typeSetIntset    = 11
	typeHashListpack = 16
	typeZSetListpack = 17
	typeSetListpack  = 20
)

// typeNames names the types Decode refuses, for ErrUnsupported's message.
var typeNames = map[byte]string{
	typeList: "list", 6: "module", 7: "module", 9: "hash (zipmap)", 10: "list (ziplist)",
	12: "sorted set (ziplist)", 13: "hash (ziplist)", 14: "list (quicklist)",
	15: "stream", 18: "list (quicklist)", 19: "stream", 21: "stream",
}

// Encode returns v's DUMP payload.
func Encode(v Value) []byte {
	var b []byte
	switch v.Kind {
	case String:
		b = appendString(append(b, typeString), v.Str)
	case Hash:
		b = appendLen(append(b, typeHash), uint64(len(v.Fields)))
		for i, f := range v.Fields {
			b = appendString(appendString(b, f), v.Values[i])
		}
	case Set:
		b = appendLen(append(b, typeSet), uint64(len(v.Fields)))
		for _, f := range v.Fields {
			b = appendString(b, f)
		}
	case ZSet:
		b = appendLen(append(b, typeZSet2), uint64(len(v.Fields)))
		for i, f := range v.Fields {
			b = binary.LittleEndian.AppendUint64(appendString(b, f), math.Float64bits(v.Scores[i]))
		}
	}
	b = binary.LittleEndian.AppendUint16(b, Version)
	return binary.LittleEndian.AppendUint64(b, CRC64(0, b))
}

func appendLen(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n))
	case n < 1<<14:
		return append(b, byte(n>>8)|0x40, byte(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0x80), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, 0x81), n)
}

func appendString(b, s []byte) []byte { return append(appendLen(b, uint64(len(s))), s...) }

// Decode checks payload's version and checksum and decodes its object.
func Decode(payload []byte) (Value, error) {
	if len(payload) < 10 {
		return Value{}, ErrChecksum
	}
	body, footer := payload[:len(payload)-10], payload[len(payload)-10:]
	if binary.LittleEndian.Uint16(footer) > MaxVersion ||
		binary.LittleEndian.Uint64(footer[2:]) != CRC64(0, payload[:len(payload)-8]) {
		return Value{}, ErrChecksum
	}
	if len(body) == 0 {
		return Value{}, ErrBadFormat
	}
	d := &reader{b: body[1:]}
	v, err := d.object(body[0])
	if err == nil && len(d.b) != 0 {
		err = ErrBadFormat // trailing bytes: Redis reads the object and ignores them, but nothing writes them
	}
	return v, err
}

// reader consumes an RDB object; every read checks the bytes left.
type reader struct{ b []byte }

func (d *reader) take(n uint64) ([]byte, error) {
	if n > uint64(len(d.b)) {
		return nil, ErrBadFormat
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out, nil
}

// length reads an RDB length; encoded is true for the special string
// encodings (then n is the encoding: 0-2 integers, 3 LZF).
func (d *reader) length() (n uint64, encoded bool, err error) {
	h, err := d.take(1)
	if err != nil {
		return 0, false, err
	}
	switch h[0] >> 6 {
	case 0:
		return uint64(h[0] & 0x3f), false, nil
	case 1:
		b, err := d.take(1)
		if err != nil {
			return 0, false, err
		}
		return uint64(h[0]&0x3f)<<8 | uint64(b[0]), false, nil
	case 2:
		switch h[0] {
		case 0x80:
			b, err := d.take(4)
			if err != nil {
				return 0, false, err
			}
			return uint64(binary.BigEndian.Uint32(b)), false, nil
		case 0x81:
			b, err := d.take(8)
			if err != nil {
				return 0, false, err
			}
			return binary.BigEndian.Uint64(b), false, nil
		}
		return 0, false, ErrBadFormat
	}
	return uint64(h[0] & 0x3f), true, nil
}

// count reads a collection's length: each element takes at least min
// bytes, so a count beyond what is left is malformed (and allocates nothing).
func (d *reader) count(min int) (int, error) {
	n, enc, err := d.length()
	if err != nil || enc || n == 0 || n > uint64(len(d.b)/min) {
		return 0, ErrBadFormat // Redis refuses empty collections too
	}
	return int(n), nil
}

// str reads an RDB string in any of its encodings.
func (d *reader) str() ([]byte, error) {
	n, enc, err := d.length()
	if err != nil {
		return nil, err
	}
	if !enc {
		return d.take(n)
	}
	switch n {
	case 0, 1, 2:
		b, err := d.take(1 << n)
		if err != nil {
			return nil, err
		}
		var v int64
		switch n {
		case 0:
			v = int64(int8(b[0]))
		case 1:
			v = int64(int16(binary.LittleEndian.Uint16(b)))
		case 2:
			v = int64(int32(binary.LittleEndian.Uint32(b)))
		}
		return strconv.AppendInt(nil, v, 10), nil
	case 3:
		clen, e1, err1 := d.length()
		ulen, e2, err2 := d.length()
		if err1 != nil || err2 != nil || e1 || e2 {
			return nil, ErrBadFormat
		}
		c, err := d.take(clen)
		if err != nil {
			return nil, err
		}
		return lzfDecompress(c, ulen)
	}
	return nil, ErrBadFormat
}

func (d *reader) object(t byte) (Value, error) {
	switch t {
	case typeString:
		s, err := d.str()
		return Value{Kind: String, Str: s}, err
	case typeSet:
		n, err := d.count(1)
		if err != nil {
			return Value{}, err
		}
		v := Value{Kind: Set, Fields: make([][]byte, n)}
		for i := range v.Fields {
			if v.Fields[i], err = d.str(); err != nil {
				return Value{}, err
			}
		}
		return v, nil
	case typeHash:
		n, err := d.count(2)
		if err != nil {
			return Value{}, err
		}
		v := Value{Kind: Hash, Fields: make([][]byte, n), Values: make([][]byte, n)}
		for i := range v.Fields {
			if v.Fields[i], err = d.str(); err != nil {
				return Value{}, err
			}
			if v.Values[i], err = d.str(); err != nil {
				return Value{}, err
			}
		}
		return v, nil
	case typeZSet, typeZSet2:
		n, err := d.count(2)
		if err != nil {
			return Value{}, err
		}
		v := Value{Kind: ZSet, Fields: make([][]byte, n), Scores: make([]float64, n)}
		for i := range v.Fields {
			if v.Fields[i], err = d.str(); err != nil {
				return Value{}, err
			}
			if t == typeZSet2 {
				b, err := d.take(8)
				if err != nil {
					return Value{}, err
				}
				v.Scores[i] = math.Float64frombits(binary.LittleEndian.Uint64(b))
			} else if v.Scores[i], err = d.textDouble(); err != nil {
				return Value{}, err
			}
			if math.IsNaN(v.Scores[i]) {
				return Value{}, ErrBadFormat
			}
		}
		return v, nil
	case typeSetIntset:
		blob, err := d.str()
		if err != nil {
			return Value{}, err
		}
		members, err := intset(blob)
		return Value{Kind: Set, Fields: members}, err
	case typeHashListpack, typeZSetListpack, typeSetListpack:
		blob, err := d.str()
		if err != nil {
			return Value{}, err
		}
		els, err := listpack(blob)
		if err != nil || len(els) == 0 {
			return Value{}, ErrBadFormat
		}
		if t == typeSetListpack {
			return Value{Kind: Set, Fields: els}, nil
		}
		if len(els)%2 != 0 {
			return Value{}, ErrBadFormat
		}
		v := Value{Kind: Hash}
		if t == typeZSetListpack {
			v.Kind = ZSet
		}
		for i := 0; i < len(els); i += 2 {
			v.Fields = append(v.Fields, els[i])
			if t == typeHashListpack {
				v.Values = append(v.Values, els[i+1])
				continue
			}
			sc, err := strconv.ParseFloat(string(els[i+1]), 64)
			if err != nil || math.IsNaN(sc) {
				return Value{}, ErrBadFormat
			}
			v.Scores = append(v.Scores, sc)
		}
		return v, nil
	}
	if name, ok := typeNames[t]; ok {
		return Value{}, fmt.Errorf("%w: %s", ErrUnsupported, name)
	}
	return Value{}, ErrBadFormat
}

// textDouble reads the old sorted set encoding's score: a length byte
// (253 nan, 254 +inf, 255 -inf) and that many ASCII bytes.
func (d *reader) textDouble() (float64, error) {
	h, err := d.take(1)
	if err != nil {
		return 0, err
	}
	switch h[0] {
	case 253:
		return math.NaN(), nil
	case 254:
		return math.Inf(1), nil
	case 255:
		return math.Inf(-1), nil
	}
	b, err := d.take(uint64(h[0]))
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, ErrBadFormat
	}
	return f, nil
}

// intset decodes Redis's intset: encoding (bytes per integer: 2, 4 or 8)
// and length as little-endian uint32s, then the integers.
func intset(b []byte) ([][]byte, error) {
	if len(b) < 8 {
		return nil, ErrBadFormat
	}
	width := binary.LittleEndian.Uint32(b)
	n := binary.LittleEndian.Uint32(b[4:])
	b = b[8:]
	if (width != 2 && width != 4 && width != 8) || n == 0 || uint64(len(b)) != uint64(n)*uint64(width) {
		return nil, ErrBadFormat
	}
	out := make([][]byte, n)
	for i := range out {
		var v int64
		switch width {
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(b)))
		case 4:
			v = int64(int32(binary.LittleEndian.Uint32(b)))
		case 8:
			v = int64(binary.LittleEndian.Uint64(b))
		}
		b = b[width:]
		out[i] = strconv.AppendInt(nil, v, 10)
	}
	return out, nil
}
