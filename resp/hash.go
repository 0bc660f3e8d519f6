package resp

import (
	"context"
	"math"
	"strconv"

	"github.com/dynago/dynago/crdt"
	"github.com/dynago/dynago/version"
)

// Hashes: an observed-remove map of fields (package crdt). A field's value
// is a register, the newest of its concurrent writes; HINCRBY and
// HINCRBYFLOAT make it a counter, whose concurrent increments add up.
// HSET, HINCRBY and HINCRBYFLOAT apply at the coordinator without a read;
// HDEL and HSETNX read a quorum first, so that they see the acknowledged
// writes.

func (s *Server) hashCommands() []*Command {
	const w, r = "write denyoom fast", "readonly fast"
	return []*Command{
		dataCmd("hset", -4, w, "@write @hash @fast", "hash", "2.0.0", "Creates or modifies the value of fields in a hash.", s.cmdHSet),
		dataCmd("hmset", -4, w, "@write @hash @fast", "hash", "2.0.0", "Sets the values of multiple fields.", s.cmdHSet),
		dataCmd("hsetnx", 4, w, "@write @hash @fast", "hash", "2.0.0", "Sets the value of a field in a hash only when the field doesn't exist.", s.cmdHSetNX),
		dataCmd("hget", 3, r, "@read @hash @fast", "hash", "2.0.0", "Returns the value of a field in a hash.", s.cmdHGet),
		dataCmd("hmget", -3, r, "@read @hash @fast", "hash", "2.0.0", "Returns the values of all fields in a hash.", s.cmdHMGet),
		dataCmd("hgetall", 2, "readonly", "@read @hash @slow", "hash", "2.0.0", "Returns all fields and values in a hash.", s.cmdHGetAll),
		dataCmd("hdel", -3, "write fast", "@write @hash @fast", "hash", "2.0.0", "Deletes one or more fields and their values from a hash.", s.hashRemove),
		dataCmd("hexists", 3, r, "@read @hash @fast", "hash", "2.0.0", "Determines whether a field exists in a hash.", s.cmdHExists),
		dataCmd("hlen", 2, r, "@read @hash @fast", "hash", "2.0.0", "Returns the number of fields in a hash.", s.cmdHLen),
		dataCmd("hkeys", 2, "readonly", "@read @hash @slow", "hash", "2.0.0", "Returns all fields in a hash.", s.hashList(true, false)),
		dataCmd("hvals", 2, "readonly", "@read @hash @slow", "hash", "2.0.0", "Returns all values in a hash.", s.hashList(false, true)),
		dataCmd("hstrlen", 3, r, "@read @hash @fast", "hash", "3.2.0", "Returns the length of the value of a field.", s.cmdHStrlen),
		dataCmd("hincrby", 4, w, "@write @hash @fast", "hash", "2.0.0", "Increments the integer value of a field in a hash by a number (a counter: concurrent increments add up).", s.cmdHIncrBy),
		dataCmd("hincrbyfloat", 4, w, "@write @hash @fast", "hash", "2.6.0", "Increments the floating point value of a field by a number (a counter).", s.cmdHIncrByFloat),
		dataCmd("hrandfield", -2, "readonly", "@read @hash @slow", "hash", "6.2.0", "Returns one or more random fields from a hash.", s.cmdHRandField),
		dataCmd("hscan", -3, "readonly", "@read @hash @slow", "hash", "2.8.0", "Iterates over fields and values of a hash.", s.cmdHScan),
	}
}

// HSET key field value [field value …] (and HMSET, which answers OK).
func (s *Server) cmdHSet(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if len(args)%2 != 0 {
		w.WriteError("ERR wrong number of arguments for '" + lowerString(args[0]) + "' command")
		return
	}
	op := crdt.Op{Kind: crdt.OpHSet}
	for i := 2; i < len(args); i += 2 {
		if s.tooLarge(w, args[i+1]) {
			return
		}
		op.Fields = append(op.Fields, args[i])
		op.Values = append(op.Values, args[i+1])
	}
	res, ok := s.writeTyped(ctx, w, args[1], op)
	switch {
	case !ok:
	case eqFold(args[0], "hmset"):
		w.WriteOK()
	default:
		w.WriteInt(res.Int)
	}
}

// HSETNX key field value
func (s *Server) cmdHSetNX(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if s.tooLarge(w, args[3]) {
		return
	}
	op := crdt.Op{Kind: crdt.OpHSet, Flags: crdt.FlagNX, Fields: args[2:3], Values: args[3:4]}
	if res, ok := s.writeTyped(ctx, w, args[1], op); ok {
		w.WriteInt(res.Int)
	}
}

// HGET key field
func (s *Server) cmdHGet(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.elementValue(ctx, w, args, version.TypeHash, writeValue)
}

// elementValue is HGET and ZSCORE key name: the element's value, or nil.
func (s *Server) elementValue(ctx context.Context, w *Writer, args [][]byte, t version.Type, value func(*Writer, crdt.Element)) {
	e, found, ok := s.lookupElement(ctx, w, args[1], t, args[2])
	switch {
	case !ok:
	case !found:
		w.WriteNull()
	default:
		value(w, e)
	}
}

// writeValue writes a hash field's value.
func writeValue(w *Writer, e crdt.Element) { w.WriteBulk(e.Value) }

// HMGET key field [field …]
func (s *Server) cmdHMGet(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.elementValues(ctx, w, args, version.TypeHash, writeValue)
}

// elementValues is HMGET and ZMSCORE key name [name …]: each element's
// value, or nil.
func (s *Server) elementValues(ctx context.Context, w *Writer, args [][]byte, t version.Type, value func(*Writer, crdt.Element)) {
	els, _, ok := s.readCollection(ctx, w, args[1], t)
	if !ok {
		return
	}
	w.WriteArray(len(args) - 2)
	for _, f := range args[2:] {
		if e, found := findElement(els, f); found {
			value(w, e)
		} else {
			w.WriteNull()
		}
	}
}

// HGETALL key: a map under RESP3, field and value pairs under RESP2.
func (s *Server) cmdHGetAll(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	els, _, ok := s.readCollection(ctx, w, args[1], version.TypeHash)
	if !ok {
		return
	}
	w.WriteMap(len(els))
	for _, e := range els {
		w.WriteBulk(e.Field)
		w.WriteBulk(e.Value)
	}
}

// hashRemove is HDEL key field [field …].
func (s *Server) hashRemove(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.removeElements(ctx, w, args, crdt.OpHDel)
}

// removeElements is HDEL, SREM and ZREM: the number of elements removed.
func (s *Server) removeElements(ctx context.Context, w *Writer, args [][]byte, kind crdt.OpKind) {
	if res, ok := s.writeTyped(ctx, w, args[1], crdt.Op{Kind: kind, Fields: args[2:]}); ok {
		w.WriteInt(res.Int)
	}
}

// HEXISTS key field
func (s *Server) cmdHExists(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if _, found, ok := s.lookupElement(ctx, w, args[1], version.TypeHash, args[2]); ok {
		w.WriteInt(b2i(found))
	}
}

// HLEN key
func (s *Server) cmdHLen(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.collectionLen(ctx, w, args[1], version.TypeHash)
}

// collectionLen is HLEN, SCARD and ZCARD.
func (s *Server) collectionLen(ctx context.Context, w *Writer, key []byte, t version.Type) {
	if els, _, ok := s.readCollection(ctx, w, key, t); ok {
		w.WriteInt(int64(len(els)))
	}
}

// hashList is HKEYS (fields) and HVALS (values).
func (s *Server) hashList(fields, values bool) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		els, _, ok := s.readCollection(ctx, w, args[1], version.TypeHash)
		if !ok {
			return
		}
		w.WriteArray(len(els))
		for _, e := range els {
			if fields {
				w.WriteBulk(e.Field)
			} else {
				w.WriteBulk(e.Value)
			}
		}
	}
}

// HSTRLEN key field
func (s *Server) cmdHStrlen(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if e, _, ok := s.lookupElement(ctx, w, args[1], version.TypeHash, args[2]); ok {
		w.WriteInt(int64(len(e.Value)))
	}
}

// HINCRBY key field increment
func (s *Server) cmdHIncrBy(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	n, ok := parseInt64(args[3])
	if !ok {
		w.WriteError(msgNotInteger)
		return
	}
	if res, ok := s.writeTyped(ctx, w, args[1], crdt.Op{Kind: crdt.OpHIncrBy, Fields: args[2:3], Int: n}); ok {
		w.WriteInt(res.Int)
	}
}

// HINCRBYFLOAT key field increment
func (s *Server) cmdHIncrByFloat(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if f, err := strconv.ParseFloat(string(args[3]), 64); err == nil && (math.IsInf(f, 0) || math.IsNaN(f)) {
		w.WriteError("ERR value is NaN or Infinity")
		return
	}
	if _, ok := parseFloatArg(args[3]); !ok {
		w.WriteError(msgNotFloat)
		return
	}
	op := crdt.Op{Kind: crdt.OpHIncrByFloat, Fields: args[2:3], Float: string(args[3])}
	if res, ok := s.writeTyped(ctx, w, args[1], op); ok {
		w.WriteBulk(res.Bytes)
	}
}

// HRANDFIELD key [count [WITHVALUES]]
func (s *Server) cmdHRandField(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.randomElements(ctx, w, args, version.TypeHash, "withvalues", writeValue)
}

// randomElements is HRANDFIELD, SRANDMEMBER and ZRANDMEMBER: without a
// count one element or nil; with one an array, each element followed by
// its value (value != nil) when the option withOpt is given (RESP3: a pair
// per element).
func (s *Server) randomElements(ctx context.Context, w *Writer, args [][]byte, t version.Type, withOpt string, value func(*Writer, crdt.Element)) {
	if len(args) > 4 || (len(args) == 4 && (withOpt == "" || !eqFold(args[3], withOpt))) {
		w.WriteError(msgSyntax)
		return
	}
	var count int64
	if len(args) >= 3 {
		var ok bool
		if count, ok = parseRandCount(w, args[2]); !ok {
			return
		}
	}
	els, _, ok := s.readCollection(ctx, w, args[1], t)
	if !ok {
		return
	}
	if len(args) == 2 {
		if len(els) == 0 {
			w.WriteNull()
			return
		}
		w.WriteBulk(randomPick(els, 1)[0].Field)
		return
	}
	writeElements(w, randomPick(els, count), len(args) == 4, value)
}

// writeElements writes elements' names, each followed by its value when
// with is set: under RESP3 a [name, value] pair per element, under RESP2
// one flat array (HRANDFIELD WITHVALUES, ZRANGE WITHSCORES).
func writeElements(w *Writer, els []crdt.Element, with bool, value func(*Writer, crdt.Element)) {
	if !with {
		w.WriteArray(len(els))
		for _, e := range els {
			w.WriteBulk(e.Field)
		}
		return
	}
	pairs := w.Proto() >= 3
	if pairs {
		w.WriteArray(len(els))
	} else {
		w.WriteArray(2 * len(els))
	}
	for _, e := range els {
		if pairs {
			w.WriteArray(2)
		}
		w.WriteBulk(e.Field)
		value(w, e)
	}
}

// HSCAN key cursor [MATCH pattern] [COUNT count]
func (s *Server) cmdHScan(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.elementScan(ctx, w, args, version.TypeHash, func(w *Writer, e crdt.Element) int {
		w.WriteBulk(e.Field)
		w.WriteBulk(e.Value)
		return 2
	})
}

// findElement finds field in elements sorted by field.
func findElement(els []crdt.Element, field []byte) (crdt.Element, bool) {
	lo, hi := 0, len(els)
	for lo < hi {
		m := (lo + hi) / 2
		if string(els[m].Field) < string(field) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(els) && string(els[lo].Field) == string(field) {
		return els[lo], true
	}
	return crdt.Element{}, false
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
