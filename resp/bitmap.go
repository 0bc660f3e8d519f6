package resp

import (
	"context"
	"math"

	"github.com/dynago/dynago/coordinator"
	"github.com/dynago/dynago/internal/bitops"
)

// The bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD
// and BITFIELD_RO, with Redis 7's replies (bitops.c). The arithmetic is
// package bitops. SETBIT and BITFIELD's writes are one
// coordinator.OpBitField each, evaluated by the key's coordinator on a
// quorum read like APPEND (incr.go), so concurrent writers leave siblings
// rather than lose a write. A counter reads as its decimal string, as in
// GET.

// msgBitOffset is Redis's reply to a bit offset that is not a
// non-negative integer within the string size limit.
const msgBitOffset = "ERR bit offset is not an integer or out of range"

// parseBitOffset parses a bit offset as Redis's getBitOffsetFromArgument
// does: with hash and bits > 0, "#n" means n*bits (BITFIELD). The byte
// holding the bit must lie within the value limit.
func (s *Server) parseBitOffset(b []byte, hash bool, bits int) (uint64, bool) {
	useHash := hash && bits > 0 && len(b) > 0 && b[0] == '#'
	if useHash {
		b = b[1:]
	}
	off, ok := parseInt64(b)
	if !ok || off < 0 {
		return 0, false
	}
	if useHash {
		if off > math.MaxInt64/int64(bits) {
			return 0, false
		}
		off *= int64(bits)
	}
	return uint64(off), off>>3 < int64(s.cfg.MaxValueBytes)
}

// SETBIT key offset value: the bit's previous value.
func (s *Server) cmdSetBit(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	off, ok := s.parseBitOffset(args[2], false, 0)
	if !ok {
		w.WriteError(msgBitOffset)
		return
	}
	on, ok := parseInt64(args[3])
	if !ok || on&^1 != 0 {
		w.WriteError("ERR bit is not an integer or out of range")
		return
	}
	prog := []bitops.FieldOp{{Kind: bitops.Set, Bits: 1, Offset: off, Value: on}}
	if res, ok := s.writeBits(ctx, w, args[1], prog); ok {
		w.WriteInt(res[0].Val)
	}
}

// writeBits sends a BITFIELD program to key's coordinator and decodes its
// replies.
func (s *Server) writeBits(ctx context.Context, w *Writer, key []byte, prog []bitops.FieldOp) ([]bitops.Reply, bool) {
	op := coordinator.Op{Kind: coordinator.OpBitField, Value: bitops.Encode(nil, prog)}
	res, ok := s.write(ctx, w, ownKey(key), op)
	if !ok {
		return nil, false
	}
	if len(res.Values) != len(prog) {
		s.writeErr(w, errBackendReply, true)
		return nil, false
	}
	out := make([]bitops.Reply, len(prog))
	for i, v := range res.Values {
		if len(v) == 0 {
			out[i].Null = true
			continue
		}
		if out[i].Val, ok = parseInt64(v); !ok {
			s.writeErr(w, errBackendReply, true)
			return nil, false
		}
	}
	return out, true
}

// GETBIT key offset
func (s *Server) cmdGetBit(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	off, ok := s.parseBitOffset(args[2], false, 0)
	if !ok {
		w.WriteError(msgBitOffset)
		return
	}
	live, _, _, err := s.read(ctx, args[1])
	if err != nil {
		s.writeErr(w, err, false)
		return
	}
	w.WriteInt(int64(bitops.Bit(live.Value, off)))
}

// parseBitUnit parses BITCOUNT's and BITPOS's BYTE|BIT: true for BIT.
func parseBitUnit(b []byte) (inBits, ok bool) {
	switch {
	case eqFold(b, "bit"):
		return true, true
	case eqFold(b, "byte"):
		return false, true
	}
	return false, false
}

// BITCOUNT key [start end [BYTE|BIT]]
func (s *Server) cmdBitCount(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	var start, end int64
	var inBits bool
	ranged := len(args) == 4 || len(args) == 5
	switch {
	case ranged:
		var ok1, ok2 bool
		start, ok1 = parseInt64(args[2])
		end, ok2 = parseInt64(args[3])
		if !ok1 || !ok2 {
			w.WriteError(msgNotInteger)
			return
		}
		if len(args) == 5 {
			var ok bool
			if inBits, ok = parseBitUnit(args[4]); !ok {
				w.WriteError(msgSyntax)
				return
			}
		}
	case len(args) != 2:
		w.WriteError(msgSyntax)
		return
	}
	live, _, _, err := s.read(ctx, args[1])
	if err != nil {
		s.writeErr(w, err, false)
		return
	}
	v := live.Value
	if !ranged {
		w.WriteInt(bitops.Count(v, 0, int64(len(v))*8-1))
		return
	}
	if start < 0 && end < 0 && start > end {
		w.WriteInt(0)
		return
	}
	lo, hi := bitops.Span(int64(len(v)), start, end, inBits)
	w.WriteInt(bitops.Count(v, lo, hi))
}

// BITPOS key bit [start [end [BYTE|BIT]]]
func (s *Server) cmdBitPos(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	bit, ok := parseInt64(args[2])
	if !ok {
		w.WriteError(msgNotInteger)
		return
	}
	if bit != 0 && bit != 1 {
		w.WriteError("ERR The bit argument must be 1 or 0.")
		return
	}
	if len(args) > 6 {
		w.WriteError(msgSyntax)
		return
	}
	start, end := int64(0), int64(-1)
	var inBits bool
	endGiven := len(args) >= 5
	if len(args) >= 4 {
		if start, ok = parseInt64(args[3]); !ok {
			w.WriteError(msgNotInteger)
			return
		}
		if len(args) == 6 {
			if inBits, ok = parseBitUnit(args[5]); !ok {
				w.WriteError(msgSyntax)
				return
			}
		}
		if endGiven {
			if end, ok = parseInt64(args[4]); !ok {
				w.WriteError(msgNotInteger)
				return
			}
		}
	}
	live, found, _, err := s.read(ctx, args[1])
	if err != nil {
		s.writeErr(w, err, false)
		return
	}
	if !found {
		// A missing key is an endless run of zeros.
		w.WriteInt(-(bit))
		return
	}
	v := live.Value
	lo, hi := bitops.Span(int64(len(v)), start, end, inBits)
	if lo > hi {
		w.WriteInt(-1)
		return
	}
	pos := bitops.Pos(v, int(bit), lo, hi)
	if pos < 0 && bit == 0 && !endGiven {
		// Without an end the string counts as padded with zeros.
		pos = hi + 1
	}
	w.WriteInt(pos)
}

// BITOP AND|OR|XOR|NOT destkey key [key ...]: the sources are read like
// MGET's and destkey is then written like SET (deleted when the result is
// empty), so it is not atomic across keys (docs/decisions.md).
func (s *Server) cmdBitOp(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	var op bitops.Op
	switch {
	case eqFold(args[1], "and"):
		op = bitops.And
	case eqFold(args[1], "or"):
		op = bitops.Or
	case eqFold(args[1], "xor"):
		op = bitops.Xor
	case eqFold(args[1], "not"):
		op = bitops.Not
	default:
		w.WriteError(msgSyntax)
		return
	}
	if op == bitops.Not && len(args) != 4 {
		w.WriteError("ERR BITOP NOT must be called with a single source key.")
		return
	}
	objs, ok := s.getMany(ctx, w, args[3:])
	if !ok {
		return
	}
	srcs, err := s.stringValues(objs)
	if err != nil {
		s.writeErr(w, err, false)
		return
	}
	out := bitops.Combine(op, srcs)
	if len(out) == 0 {
		if _, ok := s.write(ctx, w, ownKey(args[2]), coordinator.Op{Kind: coordinator.OpDelete}); ok {
			w.WriteInt(0)
		}
		return
	}
	if _, ok := s.write(ctx, w, ownKey(args[2]), coordinator.Op{Kind: coordinator.OpSet, Value: out}); ok {
		w.WriteInt(int64(len(out)))
	}
}

// BITFIELD key [GET type offset | [OVERFLOW WRAP|SAT|FAIL] SET type offset
// value | INCRBY type offset increment ...]. A program of GETs only is a
// read; one with a write goes to the coordinator whole.
func (s *Server) cmdBitField(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.bitField(ctx, w, args, false)
}

// BITFIELD_RO key [GET type offset ...]
func (s *Server) cmdBitFieldRO(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.bitField(ctx, w, args, true)
}

func (s *Server) bitField(ctx context.Context, w *Writer, args [][]byte, readOnly bool) {
	prog, ok := s.parseBitField(w, args[2:])
	if !ok {
		return
	}
	if writes, _ := bitops.Writes(prog); writes {
		if readOnly {
			w.WriteError("ERR BITFIELD_RO only supports the GET subcommand")
			return
		}
		replies, ok := s.writeBits(ctx, w, args[1], prog)
		if !ok {
			return
		}
		w.WriteArray(len(replies))
		for _, r := range replies {
			if r.Null {
				w.WriteNull()
			} else {
				w.WriteInt(r.Val)
			}
		}
		return
	}
	live, _, _, err := s.read(ctx, args[1])
	if err != nil {
		s.writeErr(w, err, false)
		return
	}
	w.WriteArray(len(prog))
	for _, op := range prog {
		w.WriteInt(bitops.Field(live.Value, op))
	}
}

const msgBitFieldType = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."

// parseBitField parses BITFIELD's subcommands with Redis's checks, in
// its order; it reports false after writing the error reply.
func (s *Server) parseBitField(w *Writer, args [][]byte) ([]bitops.FieldOp, bool) {
	var prog []bitops.FieldOp
	overflow := bitops.Wrap
	for j := 0; j < len(args); j++ {
		more := len(args) - j - 1
		var kind bitops.FieldKind
		switch {
		case eqFold(args[j], "get") && more >= 2:
			kind = bitops.Get
		case eqFold(args[j], "set") && more >= 3:
			kind = bitops.Set
		case eqFold(args[j], "incrby") && more >= 3:
			kind = bitops.IncrBy
		case eqFold(args[j], "overflow") && more >= 1:
			j++
			switch {
			case eqFold(args[j], "wrap"):
				overflow = bitops.Wrap
			case eqFold(args[j], "sat"):
				overflow = bitops.Sat
			case eqFold(args[j], "fail"):
				overflow = bitops.Fail
			default:
				w.WriteError("ERR Invalid OVERFLOW type specified")
				return nil, false
			}
			continue
		default:
			w.WriteError(msgSyntax)
			return nil, false
		}
		op := bitops.FieldOp{Kind: kind, Overflow: overflow}
		t := args[j+1]
		n, ok := int64(0), len(t) > 0 && (t[0] == 'i' || t[0] == 'u')
		if ok {
			op.Signed = t[0] == 'i'
			n, ok = parseInt64(t[1:])
		}
		if !ok || n < 1 || (op.Signed && n > 64) || (!op.Signed && n > 63) {
			w.WriteError(msgBitFieldType)
			return nil, false
		}
		op.Bits = uint8(n)
		if op.Offset, ok = s.parseBitOffset(args[j+2], true, int(n)); !ok {
			w.WriteError(msgBitOffset)
			return nil, false
		}
		if kind != bitops.Get {
			if op.Value, ok = parseInt64(args[j+3]); !ok {
				w.WriteError(msgNotInteger)
				return nil, false
			}
			j++
		}
		j += 2
		prog = append(prog, op)
	}
	return prog, true
}
