package resp

import (
	"bytes"
	"context"
	"math"
	"slices"

	"github.com/dynago/dynago/crdt"
	"github.com/dynago/dynago/version"
)

// Sets: an add-wins observed-remove set of members (package crdt). SADD
// applies at the coordinator without a read; SREM and SPOP read a quorum
// first, so that they remove the acknowledged adds they saw, and an add
// concurrent with a removal survives it.
//
// The multi-key commands read their keys with one GetMany (the keys may
// live on different nodes) and are not atomic across keys: the *STORE
// commands compute the result from that read and then replace the
// destination (a missing source is an empty set, an empty result deletes
// the destination); SMOVE removes the member from the source and, if it
// was there, adds it to the destination, two writes that another client
// may see between.

func (s *Server) setCommands() []*Command {
	const w, r = "write denyoom fast", "readonly fast"
	return []*Command{
		dataCmd("sadd", -3, w, "@write @set @fast", "set", "1.0.0", "Adds one or more members to a set. Creates the key if it doesn't exist.", s.cmdSAdd),
		dataCmd("srem", -3, "write fast", "@write @set @fast", "set", "1.0.0", "Removes one or more members from a set. Deletes the set if the last member was removed.", s.setRemove),
		dataCmd("smembers", 2, "readonly", "@read @set @slow", "set", "1.0.0", "Returns all members of a set.", s.cmdSMembers),
		dataCmd("sismember", 3, r, "@read @set @fast", "set", "1.0.0", "Determines whether a member belongs to a set.", s.cmdSIsMember),
		dataCmd("smismember", -3, r, "@read @set @fast", "set", "6.2.0", "Determines whether multiple members belong to a set.", s.cmdSMIsMember),
		dataCmd("scard", 2, r, "@read @set @fast", "set", "1.0.0", "Returns the number of members in a set.", s.cmdSCard),
		dataCmd("spop", -2, "write fast", "@write @set @fast", "set", "1.0.0", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", s.cmdSPop),
		dataCmd("srandmember", -2, "readonly", "@read @set @slow", "set", "1.0.0", "Get one or multiple random members from a set.", s.cmdSRandMember),
		dataCmd("sscan", -3, "readonly", "@read @set @slow", "set", "2.8.0", "Iterates over members of a set.", s.cmdSScan),
		setsCmd("smove", 4, "write fast", "@write @set @fast", "1.0.0", 1, 2, "Moves a member from one set to another (two writes, not atomic).", s.cmdSMove),
		setsCmd("sinter", -2, "readonly", "@read @set @slow", "1.0.0", 1, -1, "Returns the intersect of multiple sets.", s.setAlgebra(setInter)),
		setsCmd("sunion", -2, "readonly", "@read @set @slow", "1.0.0", 1, -1, "Returns the union of multiple sets.", s.setAlgebra(setUnion)),
		setsCmd("sdiff", -2, "readonly", "@read @set @slow", "1.0.0", 1, -1, "Returns the difference of multiple sets.", s.setAlgebra(setDiff)),
		setsCmd("sinterstore", -3, "write denyoom", "@write @set @slow", "1.0.0", 1, -1, "Stores the intersect of multiple sets in a key.", s.setStore(setInter)),
		setsCmd("sunionstore", -3, "write denyoom", "@write @set @slow", "1.0.0", 1, -1, "Stores the union of multiple sets in a key.", s.setStore(setUnion)),
		setsCmd("sdiffstore", -3, "write denyoom", "@write @set @slow", "1.0.0", 1, -1, "Stores the difference of multiple sets in a key.", s.setStore(setDiff)),
		// Redis reports SINTERCARD's keys as movable (numkeys key …); the
		// table's positions name only the first key.
		setsCmd("sintercard", -3, "readonly movablekeys", "@read @set @slow", "7.0.0", 2, 2, "Returns the number of members of the intersect of multiple sets.", s.cmdSInterCard),
	}
}

// setsCmd is the table entry of a set command on several keys: not
// Parallel, since it touches more than one key.
func setsCmd(name string, arity int, flags, cats, since string, first, last int, summary string, h HandlerFunc) *Command {
	c := dataCmd(name, arity, flags, cats, "set", since, summary, h)
	c.FirstKey, c.LastKey, c.Parallel = first, last, false
	c.Complexity = "O(N) where N is the total number of elements in all given sets"
	return c
}

// SADD key member [member …]
func (s *Server) cmdSAdd(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if res, ok := s.writeTyped(ctx, w, args[1], crdt.Op{Kind: crdt.OpSAdd, Fields: args[2:]}); ok {
		w.WriteInt(res.Int)
	}
}

// setRemove is SREM key member [member …].
func (s *Server) setRemove(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.removeElements(ctx, w, args, crdt.OpSRem)
}

// SMEMBERS key: a set under RESP3.
func (s *Server) cmdSMembers(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if els, _, ok := s.readCollection(ctx, w, args[1], version.TypeSet); ok {
		writeMembers(w, fieldsOf(els))
	}
}

// SISMEMBER key member
func (s *Server) cmdSIsMember(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if _, found, ok := s.lookupElement(ctx, w, args[1], version.TypeSet, args[2]); ok {
		w.WriteInt(b2i(found))
	}
}

// SMISMEMBER key member [member …]
func (s *Server) cmdSMIsMember(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	els, _, ok := s.readCollection(ctx, w, args[1], version.TypeSet)
	if !ok {
		return
	}
	w.WriteArray(len(args) - 2)
	for _, m := range args[2:] {
		_, found := findElement(els, m)
		w.WriteInt(b2i(found))
	}
}

// SCARD key
func (s *Server) cmdSCard(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.collectionLen(ctx, w, args[1], version.TypeSet)
}

// SPOP key [count]: without a count one member or nil; with one a set
// (RESP3) of up to count members.
func (s *Server) cmdSPop(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	count, ok := parsePopCount(w, args)
	if !ok {
		return
	}
	res, ok := s.writeTyped(ctx, w, args[1], crdt.Op{Kind: crdt.OpSPop, Int: count, Seed: seed()})
	switch {
	case !ok:
	case len(args) == 3:
		writeMembers(w, res.Values)
	case len(res.Values) == 0:
		w.WriteNull()
	default:
		w.WriteBulk(res.Values[0])
	}
}

// SRANDMEMBER key [count]
func (s *Server) cmdSRandMember(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.randomElements(ctx, w, args, version.TypeSet, "", nil)
}

// SSCAN key cursor [MATCH pattern] [COUNT count]
func (s *Server) cmdSScan(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.elementScan(ctx, w, args, version.TypeSet, func(w *Writer, e crdt.Element) int {
		w.WriteBulk(e.Field)
		return 1
	})
}

// SMOVE source destination member. Redis answers 0 for a missing source
// before it checks the destination's type; a destination of another type
// is WRONGTYPE and leaves the source alone. The member is removed from the
// source (a quorum read first) and, if it was there, added to the
// destination: two writes, so a failure between them loses the member.
func (s *Server) cmdSMove(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	src, dst, member := args[1], args[2], args[3]
	objs, ok := s.getMany(ctx, w, args[1:3])
	if !ok {
		return
	}
	now := s.nowMs()
	srcType, found := crdt.KeyType(objs[0], now)
	if !found {
		w.WriteInt(0)
		return
	}
	if dstType, ok := crdt.KeyType(objs[1], now); srcType != version.TypeSet || (ok && dstType != version.TypeSet) {
		w.WriteError(msgWrongType)
		return
	}
	if bytes.Equal(src, dst) {
		_, isMember, err := crdt.Lookup(objs[0], version.TypeSet, member, now)
		if err != nil {
			s.writeErr(w, err, false)
			return
		}
		w.WriteInt(b2i(isMember))
		return
	}
	res, ok := s.writeTyped(ctx, w, src, crdt.Op{Kind: crdt.OpSRem, Fields: args[3:4]})
	if !ok {
		return
	}
	if res.Int == 0 {
		w.WriteInt(0)
		return
	}
	if _, ok := s.writeTyped(ctx, w, dst, crdt.Op{Kind: crdt.OpSAdd, Fields: args[3:4]}); ok {
		w.WriteInt(1)
	}
}

// setOp computes SINTER, SUNION or SDIFF from its keys' members (each
// sorted; nil for a missing key). limit > 0 stops an intersection at that
// many members (SINTERCARD's LIMIT). The result is sorted.
type setOp func(sets [][]crdt.Element, limit int) [][]byte

func setInter(sets [][]crdt.Element, limit int) [][]byte {
	smallest := slices.MinFunc(sets, func(a, b []crdt.Element) int { return len(a) - len(b) })
	var out [][]byte
	for _, e := range smallest {
		if inAll(sets, e.Field) {
			out = append(out, e.Field)
			if len(out) == limit {
				break
			}
		}
	}
	return out
}

func inAll(sets [][]crdt.Element, m []byte) bool {
	for _, els := range sets {
		if _, found := findElement(els, m); !found {
			return false
		}
	}
	return true
}

func setUnion(sets [][]crdt.Element, _ int) [][]byte {
	var out [][]byte
	for _, els := range sets {
		out = append(out, fieldsOf(els)...)
	}
	slices.SortFunc(out, bytes.Compare)
	return slices.CompactFunc(out, bytes.Equal)
}

func setDiff(sets [][]crdt.Element, _ int) [][]byte {
	var out [][]byte
	for _, e := range sets[0] {
		if !inAny(sets[1:], e.Field) {
			out = append(out, e.Field)
		}
	}
	return out
}

func inAny(sets [][]crdt.Element, m []byte) bool {
	for _, els := range sets {
		if _, found := findElement(els, m); found {
			return true
		}
	}
	return false
}

// readSets reads the sets at keys with one GetMany: a missing key is an
// empty set, and any key of another type is WRONGTYPE (Redis checks every
// key before it computes). ok is false after an error reply.
func (s *Server) readSets(ctx context.Context, w *Writer, keys [][]byte) ([][]crdt.Element, bool) {
	objs, err := s.b.GetMany(ctx, keys)
	if err == nil && len(objs) != len(keys) {
		err = errBackendCount
	}
	sets := make([][]crdt.Element, len(keys))
	now := s.nowMs()
	for i := 0; err == nil && i < len(objs); i++ {
		var found bool
		sets[i], found, err = crdt.Elements(objs[i], version.TypeSet, now)
		s.stats.hit(found)
	}
	if err != nil {
		s.writeErr(w, err, false)
		return nil, false
	}
	return sets, true
}

// setAlgebra is SINTER, SUNION and SDIFF key [key …]: a set under RESP3.
func (s *Server) setAlgebra(op setOp) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		if sets, ok := s.readSets(ctx, w, args[1:]); ok {
			writeMembers(w, op(sets, 0))
		}
	}
}

// setStore is SINTERSTORE, SUNIONSTORE and SDIFFSTORE destination key
// [key …]: the result replaces the destination, whatever it held (an
// empty result deletes it); the reply is its cardinality.
func (s *Server) setStore(op setOp) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		sets, ok := s.readSets(ctx, w, args[2:])
		if !ok {
			return
		}
		members := op(sets, 0)
		store := crdt.Op{Kind: crdt.OpStore, Type: version.TypeSet, Fields: members}
		if _, ok := s.writeTyped(ctx, w, args[1], store); ok {
			w.WriteInt(int64(len(members)))
		}
	}
}

// SINTERCARD numkeys key [key …] [LIMIT limit]
func (s *Server) cmdSInterCard(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	n, ok := parseInt64(args[1])
	if !ok || n < 1 {
		w.WriteError("ERR numkeys should be greater than 0")
		return
	}
	if n > int64(len(args)-2) {
		w.WriteError("ERR Number of keys can't be greater than number of args")
		return
	}
	keys := args[2 : 2+n]
	var limit int64
	for i := 2 + int(n); i < len(args); i++ {
		if !eqFold(args[i], "limit") || i+1 == len(args) {
			w.WriteError(msgSyntax)
			return
		}
		i++
		if limit, ok = parseInt64(args[i]); !ok || limit < 0 {
			w.WriteError("ERR LIMIT can't be negative")
			return
		}
	}
	if sets, ok := s.readSets(ctx, w, keys); ok {
		w.WriteInt(int64(len(setInter(sets, int(min(limit, math.MaxInt32))))))
	}
}

// writeMembers writes members as a set (an array under RESP2).
func writeMembers(w *Writer, members [][]byte) {
	w.WriteSet(len(members))
	for _, m := range members {
		w.WriteBulk(m)
	}
}

// fieldsOf lists the elements' fields.
func fieldsOf(els []crdt.Element) [][]byte {
	out := make([][]byte, len(els))
	for i, e := range els {
		out[i] = e.Field
	}
	return out
}
