package bitops

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
)

// Bit returns the bit at offset off of v (0 past the end).
func Bit(v []byte, off uint64) int {
	if off>>3 >= uint64(len(v)) {
		return 0
	}
	return int(v[off>>3]>>(7-off&7)) & 1
}

// Span turns a BITCOUNT/BITPOS start..end range over a value of n bytes
// into bit offsets lo..hi, with Redis's rules: negative indexes count from
// the end, both are clamped to the value, and the range is in bytes unless
// inBits. The range is empty when lo > hi.
func Span(n, start, end int64, inBits bool) (lo, hi int64) {
	total := n
	if inBits {
		total = n * 8
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start, end = max(start, 0), max(end, 0)
	if end >= total {
		end = total - 1
	}
	if !inBits {
		return start * 8, end*8 + 7
	}
	return start, end
}

// Count returns the number of set bits of v in the bit range lo..hi
// (inclusive, within v).
func Count(v []byte, lo, hi int64) int64 {
	if lo > hi {
		return 0
	}
	var n int64
	for lo <= hi && lo&7 != 0 {
		n += int64(Bit(v, uint64(lo)))
		lo++
	}
	for lo+7 <= hi {
		n += int64(bits.OnesCount8(v[lo>>3]))
		lo += 8
	}
	for ; lo <= hi; lo++ {
		n += int64(Bit(v, uint64(lo)))
	}
	return n
}

// Pos returns the offset of the first bit equal to bit in the bit range
// lo..hi of v, or -1.
func Pos(v []byte, bit int, lo, hi int64) int64 {
	skip := byte(0) // a whole byte that cannot hold the bit
	if bit == 0 {
		skip = 0xff
	}
	for lo <= hi {
		if lo&7 == 0 && lo+7 <= hi && v[lo>>3] == skip {
			lo += 8
			continue
		}
		if Bit(v, uint64(lo)) == bit {
			return lo
		}
		lo++
	}
	return -1
}

// Op names a BITOP operation.
type Op uint8

// The BITOP operations.
const (
	And Op = iota + 1
	Or
	Xor
	Not
)

// Combine returns BITOP op over srcs (missing keys are empty strings):
// as long as the longest source, the shorter ones zero-padded. NOT takes
// one source.
func Combine(op Op, srcs [][]byte) []byte {
	n := 0
	for _, s := range srcs {
		n = max(n, len(s))
	}
	if n == 0 {
		return nil
	}
	out := make([]byte, n)
	copy(out, srcs[0])
	if op == Not {
		for i := range out {
			out[i] = ^out[i]
		}
		return out
	}
	for _, s := range srcs[1:] {
		for i := range out {
			var b byte
			if i < len(s) {
				b = s[i]
			}
			switch op {
			case And:
				out[i] &= b
			case Or:
				out[i] |= b
			case Xor:
				out[i] ^= b
			}
		}
	}
	return out
}

// FieldKind is a BITFIELD subcommand.
type FieldKind uint8

// The BITFIELD subcommands (OVERFLOW is a FieldOp's Overflow).
const (
	Get FieldKind = iota + 1
	Set
	IncrBy
)

// Overflow is BITFIELD's OVERFLOW behaviour.
type Overflow uint8

// The overflow behaviours.
const (
	Wrap Overflow = iota
	Sat
	Fail
)

// FieldOp is one BITFIELD GET, SET or INCRBY on an integer of Bits bits
// (1..64 signed, 1..63 unsigned) at bit Offset.
type FieldOp struct {
	Kind     FieldKind
	Signed   bool
	Bits     uint8
	Overflow Overflow
	Offset   uint64
	Value    int64 // SET's value, INCRBY's increment
}

// Reply is one BITFIELD reply: Val, or nil when a FAIL overflow stopped
// the operation.
type Reply struct {
	Val  int64
	Null bool
}

// Writes reports whether ops change the value, and the length the value
// must have for them (Redis grows it to the highest bit written even when
// an overflow stops the write).
func Writes(ops []FieldOp) (writes bool, size uint64) {
	for _, op := range ops {
		if op.Kind != Get {
			writes = true
			size = max(size, (op.Offset+uint64(op.Bits)-1)>>3+1)
		}
	}
	return writes, size
}

// Run applies ops in order to a copy of v grown to Writes' size and
// returns it with one reply per op. v itself is never modified.
func Run(v []byte, ops []FieldOp) ([]byte, []Reply) {
	_, size := Writes(ops)
	out := make([]byte, max(uint64(len(v)), size))
	copy(out, v)
	replies := make([]Reply, len(ops))
	for i, op := range ops {
		old := getField(out, op)
		if op.Kind == Get {
			replies[i].Val = old
			continue
		}
		next, ret := op.Value, old
		var over bool
		if op.Kind == IncrBy {
			next, over = addField(old, op.Value, op)
			ret = next
		} else {
			next, over = addField(op.Value, 0, op)
		}
		if over && op.Overflow == Fail {
			replies[i].Null = true
			continue
		}
		replies[i].Val = ret
		setField(out, op.Offset, op.Bits, uint64(next))
	}
	return out, replies
}

// Field returns the integer op describes, read from v (zero-padded).
func Field(v []byte, op FieldOp) int64 { return getField(v, op) }

func getField(v []byte, op FieldOp) int64 {
	var u uint64
	for j := range uint64(op.Bits) {
		u = u<<1 | uint64(Bit(v, op.Offset+j))
	}
	if op.Signed && op.Bits < 64 && u&(1<<(op.Bits-1)) != 0 {
		u |= math.MaxUint64 << op.Bits
	}
	return int64(u)
}

func setField(v []byte, off uint64, n uint8, u uint64) {
	for j := range uint64(n) {
		o := off + j
		mask := byte(1) << (7 - o&7)
		if u>>(uint64(n)-1-j)&1 != 0 {
			v[o>>3] |= mask
		} else {
			v[o>>3] &^= mask
		}
	}
}

// addField adds incr to value in op's integer type and reports whether
// that overflowed; the result is then wrapped or saturated as op says
// (Redis's checkSignedBitfieldOverflow / checkUnsignedBitfieldOverflow).
func addField(value, incr int64, op FieldOp) (int64, bool) {
	n := uint64(op.Bits)
	if !op.Signed {
		maxU := uint64(1)<<n - 1
		u := uint64(value)
		maxIncr := int64(maxU - u)
		minIncr := -int64(u)
		switch {
		case u > maxU || (incr > 0 && incr > maxIncr):
			if op.Overflow == Sat {
				return int64(maxU), true
			}
		case incr < 0 && incr < minIncr:
			if op.Overflow == Sat {
				return 0, true
			}
		default:
			return value + incr, false
		}
		return int64((u + uint64(incr)) &^ (math.MaxUint64 << n)), true
	}
	maxS := int64(math.MaxInt64)
	if n < 64 {
		maxS = 1<<(n-1) - 1
	}
	minS := -maxS - 1
	maxIncr := int64(uint64(maxS) - uint64(value))
	minIncr := minS - value
	switch {
	case value > maxS || (n != 64 && incr > maxIncr) || (value >= 0 && incr > 0 && incr > maxIncr):
		if op.Overflow == Sat {
			return maxS, true
		}
	case value < minS || (n != 64 && incr < minIncr) || (value < 0 && incr < 0 && incr < minIncr):
		if op.Overflow == Sat {
			return minS, true
		}
	default:
		return value + incr, false
	}
	c := uint64(value) + uint64(incr)
	if n < 64 {
		mask := uint64(math.MaxUint64) << n
		if c&(1<<(n-1)) != 0 {
			c |= mask
		} else {
			c &^= mask
		}
	}
	return int64(c), true
}

// ErrMalformed: an encoded BITFIELD program that does not decode.
var ErrMalformed = errors.New("bitops: malformed field program")

// Encode appends ops in the form Decode reads, for a write op that travels
// between nodes.
func Encode(dst []byte, ops []FieldOp) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ops)))
	for _, op := range ops {
		var signed byte
		if op.Signed {
			signed = 1
		}
		dst = append(dst, byte(op.Kind), signed, op.Bits, byte(op.Overflow))
		dst = binary.AppendUvarint(dst, op.Offset)
		dst = binary.AppendVarint(dst, op.Value)
	}
	return dst
}

// Decode reads Encode's form and checks every op is one Redis accepts.
func Decode(b []byte) ([]FieldOp, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, ErrMalformed
	}
	b = b[k:]
	ops := make([]FieldOp, 0, n)
	for range n {
		if len(b) < 4 {
			return nil, ErrMalformed
		}
		op := FieldOp{Kind: FieldKind(b[0]), Signed: b[1] == 1, Bits: b[2], Overflow: Overflow(b[3])}
		b = b[4:]
		if op.Offset, k = binary.Uvarint(b); k <= 0 {
			return nil, ErrMalformed
		}
		b = b[k:]
		if op.Value, k = binary.Varint(b); k <= 0 {
			return nil, ErrMalformed
		}
		b = b[k:]
		maxBits := uint8(63)
		if op.Signed {
			maxBits = 64
		}
		if op.Kind < Get || op.Kind > IncrBy || op.Overflow > Fail || op.Bits < 1 || op.Bits > maxBits ||
			op.Offset > math.MaxUint64-64 {
			return nil, ErrMalformed
		}
		ops = append(ops, op)
	}
	if len(b) != 0 {
		return nil, ErrMalformed
	}
	return ops, nil
}
