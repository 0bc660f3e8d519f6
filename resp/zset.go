package resp

import (
	"context"
	"math"
	"slices"
	"sort"

	"github.com/dynago/dynago/crdt"
	"github.com/dynago/dynago/version"
)

// Sorted sets: an observed-remove map from members to scores (package
// crdt). A score is a register, the newest of its concurrent writes;
// ZINCRBY and ZADD INCR make it a counter, whose concurrent increments add
// up. ZADD without NX, XX, GT or LT and ZINCRBY apply at the coordinator
// without a read; ZREM, the pops, the ZREMRANGE family and conditional
// ZADDs read a quorum first, so they see the acknowledged writes. Reads
// take the whole set and order it by score, ties by member, as Redis does.
//
// ZRANGESTORE, ZUNIONSTORE and ZINTERSTORE read their sources and then
// replace the destination (crdt.OpStore): in a cluster the keys live on
// different nodes, so the command is not atomic across them. The ranges
// are in zrange.go.

func (s *Server) zsetCommands() []*Command {
	const w, r, g = "write denyoom fast", "readonly fast", "sorted-set"
	const cw, cr = "@write @sortedset @fast", "@read @sortedset @fast"
	const sw, sr = "@write @sortedset @slow", "@read @sortedset @slow"
	return []*Command{
		dataCmd("zadd", -4, w, cw, g, "1.2.0", "Adds one or more members to a sorted set, or updates their scores (INCR: a counter, concurrent increments add up).", s.cmdZAdd),
		dataCmd("zincrby", 4, w, cw, g, "1.2.0", "Increments the score of a member in a sorted set (a counter: concurrent increments add up).", s.cmdZIncrBy),
		dataCmd("zrem", -3, "write fast", cw, g, "1.2.0", "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", s.zsetRemove),
		dataCmd("zscore", 3, r, cr, g, "1.2.0", "Returns the score of a member in a sorted set.", s.cmdZScore),
		dataCmd("zmscore", -3, r, cr, g, "6.2.0", "Returns the score of one or more members in a sorted set.", s.cmdZMScore),
		dataCmd("zcard", 2, r, cr, g, "1.2.0", "Returns the number of members in a sorted set.", s.cmdZCard),
		dataCmd("zcount", 4, r, cr, g, "2.0.0", "Returns the count of members in a sorted set that have scores within a range.", s.zsetCount(byScore)),
		dataCmd("zlexcount", 4, r, cr, g, "2.8.9", "Returns the number of members in a sorted set within a lexicographical range.", s.zsetCount(byLex)),
		dataCmd("zrank", -3, r, cr, g, "2.0.0", "Returns the index of a member in a sorted set ordered by ascending scores.", s.zsetRank(false)),
		dataCmd("zrevrank", -3, r, cr, g, "2.0.0", "Returns the index of a member in a sorted set ordered by descending scores.", s.zsetRank(true)),
		dataCmd("zrange", -4, "readonly", sr, g, "1.2.0", "Returns members in a sorted set within a range of indexes, scores (BYSCORE) or members (BYLEX).", s.zsetRange(byAuto, false)),
		dataCmd("zrangebyscore", -4, "readonly", sr, g, "1.0.5", "Returns members in a sorted set within a range of scores.", s.zsetRange(byScore, false)),
		dataCmd("zrevrangebyscore", -4, "readonly", sr, g, "2.2.0", "Returns members in a sorted set within a range of scores in reverse order.", s.zsetRange(byScore, true)),
		dataCmd("zrangebylex", -4, "readonly", sr, g, "2.8.9", "Returns members in a sorted set within a lexicographical range.", s.zsetRange(byLex, false)),
		dataCmd("zrevrangebylex", -4, "readonly", sr, g, "2.8.9", "Returns members in a sorted set within a lexicographical range in reverse order.", s.zsetRange(byLex, true)),
		dataCmd("zrevrange", -4, "readonly", sr, g, "1.2.0", "Returns members in a sorted set within a range of indexes in reverse order.", s.zsetRange(byRank, true)),
		dataCmd("zpopmin", -2, "write fast", cw, g, "5.0.0", "Returns the lowest-scoring members from a sorted set after removing them.", s.zsetPop(crdt.OpZPopMin)),
		dataCmd("zpopmax", -2, "write fast", cw, g, "5.0.0", "Returns the highest-scoring members from a sorted set after removing them.", s.zsetPop(crdt.OpZPopMax)),
		dataCmd("zrandmember", -2, "readonly", sr, g, "6.2.0", "Returns one or more random members from a sorted set.", s.cmdZRandMember),
		dataCmd("zscan", -3, "readonly", sr, g, "2.8.0", "Iterates over members and scores of a sorted set.", s.cmdZScan),
		dataCmd("zremrangebyscore", 4, "write", sw, g, "1.2.0", "Removes members in a sorted set within a range of scores.", s.zsetRemoveRange(crdt.OpZRemRangeByScore, byScore)),
		dataCmd("zremrangebyrank", 4, "write", sw, g, "2.0.0", "Removes members in a sorted set within a range of indexes.", s.zsetRemoveRange(crdt.OpZRemRangeByRank, byRank)),
		dataCmd("zremrangebylex", 4, "write", sw, g, "2.8.9", "Removes members in a sorted set within a lexicographical range.", s.zsetRemoveRange(crdt.OpZRemRangeByLex, byLex)),
		// The stores name several keys, so they are not Parallel. Redis
		// gives ZUNIONSTORE and ZINTERSTORE movable keys (destination
		// numkeys key …) with the legacy positions 1 1 1; so does dynago,
		// and COMMAND GETKEYS names only the destination.
		zsetStoreCmd("zrangestore", -5, "write denyoom", 2, "6.2.0", "Stores a range of members from a sorted set in a key (the source read, then the destination written: not atomic across keys in a cluster).",
			"O(N) where N is the number of elements of the source", s.cmdZRangeStore),
		zsetStoreCmd("zunionstore", -4, "write denyoom movablekeys", 1, "2.0.0", "Stores the union of multiple sorted sets (or sets) in a key (the sources read, then the destination written: not atomic across keys in a cluster).",
			"O(N) where N is the number of elements of the sources", s.zsetCombine(false)),
		zsetStoreCmd("zinterstore", -4, "write denyoom movablekeys", 1, "2.0.0", "Stores the intersection of multiple sorted sets (or sets) in a key (the sources read, then the destination written: not atomic across keys in a cluster).",
			"O(N) where N is the number of elements of the sources", s.zsetCombine(true)),
	}
}

// zsetStoreCmd is the table entry of a command that writes a destination
// key (the first) from sources.
func zsetStoreCmd(name string, arity int, flags string, lastKey int, since, summary, complexity string, h HandlerFunc) *Command {
	return &Command{Name: name, Arity: arity, Flags: fl(flags), FirstKey: 1, LastKey: lastKey, Step: 1,
		ACLCategories: fl("@write @sortedset @slow"), Summary: summary, Since: since, Group: "sorted-set",
		Complexity: complexity, Handler: h}
}

// Redis's error texts for ZADD's options.
const (
	msgZAddXXNX = "ERR XX and NX options at the same time are not compatible"
	msgZAddGTLT = "ERR GT, LT, and/or NX options at the same time are not compatible"
	msgZAddIncr = "ERR INCR option supports a single increment-element pair"
)

// zaddFlags are ZADD's options by name.
var zaddFlags = [...]struct {
	name string
	flag uint16
}{{"nx", crdt.FlagNX}, {"xx", crdt.FlagXX}, {"gt", crdt.FlagGT}, {"lt", crdt.FlagLT}, {"ch", crdt.FlagCH}, {"incr", crdt.FlagIncr}}

// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member …]
func (s *Server) cmdZAdd(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	var flags uint16
	i := 2
options:
	for ; i < len(args); i++ {
		for _, f := range zaddFlags {
			if eqFold(args[i], f.name) {
				flags |= f.flag
				continue options
			}
		}
		break
	}
	pairs := args[i:]
	has := func(f uint16) bool { return flags&f != 0 }
	switch {
	case len(pairs) == 0 || len(pairs)%2 != 0:
		w.WriteError(msgSyntax)
		return
	case has(crdt.FlagNX) && has(crdt.FlagXX):
		w.WriteError(msgZAddXXNX)
		return
	case has(crdt.FlagNX) && has(crdt.FlagGT|crdt.FlagLT), has(crdt.FlagGT) && has(crdt.FlagLT):
		w.WriteError(msgZAddGTLT)
		return
	case has(crdt.FlagIncr) && len(pairs) > 2:
		w.WriteError(msgZAddIncr)
		return
	}
	op := crdt.Op{Kind: crdt.OpZAdd, Flags: flags}
	for j := 0; j < len(pairs); j += 2 {
		if _, err := crdt.ParseScore(pairs[j]); err != nil {
			w.WriteError(msgNotFloat)
			return
		}
		if s.tooLarge(w, pairs[j+1]) {
			return
		}
		op.Values = append(op.Values, pairs[j])
		op.Fields = append(op.Fields, pairs[j+1])
	}
	res, ok := s.writeTyped(ctx, w, args[1], op)
	switch {
	case !ok:
	case has(crdt.FlagIncr) && res.Null: // a condition stopped it
		w.WriteNull()
	case has(crdt.FlagIncr):
		writeScoreText(w, res.Bytes)
	default:
		w.WriteInt(res.Int)
	}
}

// ZINCRBY key increment member: ZADD key INCR increment member, a
// counter.
func (s *Server) cmdZIncrBy(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.cmdZAdd(ctx, c, [][]byte{args[0], args[1], []byte("incr"), args[2], args[3]}, w)
}

// writeScoreText writes a score crdt printed as a double.
func writeScoreText(w *Writer, score []byte) {
	f, err := crdt.ParseScore(score)
	if err != nil {
		f = math.NaN()
	}
	w.WriteDouble(f)
}

// zsetRemove is ZREM key member [member …].
func (s *Server) zsetRemove(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.removeElements(ctx, w, args, crdt.OpZRem)
}

// ZSCORE key member
func (s *Server) cmdZScore(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.elementValue(ctx, w, args, version.TypeZSet, writeScore)
}

// ZMSCORE key member [member …]
func (s *Server) cmdZMScore(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.elementValues(ctx, w, args, version.TypeZSet, writeScore)
}

// ZCARD key
func (s *Server) cmdZCard(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.collectionLen(ctx, w, args[1], version.TypeZSet)
}

// readZSet returns key's sorted set in score order (ties by member).
func (s *Server) readZSet(ctx context.Context, w *Writer, key []byte) ([]crdt.Element, bool) {
	els, _, ok := s.readCollection(ctx, w, key, version.TypeZSet)
	if ok {
		crdt.SortByScore(els)
	}
	return els, ok
}

// zsetCount is ZCOUNT key min max (by score) and ZLEXCOUNT key min max.
func (s *Server) zsetCount(by rangeBy) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		rg := zrange{by: by, limit: -1}
		if err := rg.parseBounds(args[2], args[3]); err != nil {
			s.writeErr(w, err, false)
			return
		}
		if els, ok := s.readZSet(ctx, w, args[1]); ok {
			w.WriteInt(int64(len(rg.pick(els))))
		}
	}
}

// zsetRank is ZRANK and ZREVRANK key member [WITHSCORE] (7.2): the
// member's index, with its score when asked; nil (a null array with
// WITHSCORE) when the key or member is missing.
func (s *Server) zsetRank(rev bool) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		switch {
		case len(args) > 4:
			w.WriteError("ERR wrong number of arguments for '" + lowerString(args[0]) + "' command")
			return
		case len(args) == 4 && !eqFold(args[3], "withscore"):
			w.WriteError(msgSyntax)
			return
		}
		with := len(args) == 4
		els, ok := s.readZSet(ctx, w, args[1])
		if !ok {
			return
		}
		for i, e := range els {
			if string(e.Field) != string(args[2]) {
				continue
			}
			if rev {
				i = len(els) - 1 - i
			}
			if with {
				w.WriteArray(2)
			}
			w.WriteInt(int64(i))
			if with {
				w.WriteDouble(e.Score)
			}
			return
		}
		if with {
			w.WriteNullArray()
		} else {
			w.WriteNull()
		}
	}
}

// zsetPop is ZPOPMIN and ZPOPMAX key [count]: without a count one member
// and its score (an empty array when there is none); with one an array of
// them, under RESP3 a [member, score] pair each.
func (s *Server) zsetPop(kind crdt.OpKind) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		count, ok := parsePopCount(w, args)
		if !ok {
			return
		}
		res, ok := s.writeTyped(ctx, w, args[1], crdt.Op{Kind: kind, Int: count})
		if !ok {
			return
		}
		pairs := len(res.Values) / 2
		nested := len(args) == 3 && w.Proto() >= 3
		if nested {
			w.WriteArray(pairs)
		} else {
			w.WriteArray(2 * pairs)
		}
		for i := 0; i < 2*pairs; i += 2 {
			if nested {
				w.WriteArray(2)
			}
			w.WriteBulk(res.Values[i])
			writeScoreText(w, res.Values[i+1])
		}
	}
}

// ZRANDMEMBER key [count [WITHSCORES]]
func (s *Server) cmdZRandMember(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.randomElements(ctx, w, args, version.TypeZSet, "withscores", writeScore)
}

// writeScore writes an element's score as a double.
func writeScore(w *Writer, e crdt.Element) { w.WriteDouble(e.Score) }

// ZSCAN key cursor [MATCH pattern] [COUNT count]: scores are bulk strings
// under RESP3 too, as in Redis.
func (s *Server) cmdZScan(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.elementScan(ctx, w, args, version.TypeZSet, func(w *Writer, e crdt.Element) int {
		w.WriteBulk(e.Field)
		w.WriteBulk(crdt.FormatScore(e.Score))
		return 2
	})
}

// zsetRemoveRange is ZREMRANGEBYSCORE, ZREMRANGEBYRANK and ZREMRANGEBYLEX
// key min max: the range is checked here, so that a bad one is an error
// whatever the key holds, and applied at the coordinator.
func (s *Server) zsetRemoveRange(kind crdt.OpKind, by rangeBy) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		rg := zrange{by: by}
		if err := rg.parseBounds(args[2], args[3]); err != nil {
			s.writeErr(w, err, false)
			return
		}
		if res, ok := s.writeTyped(ctx, w, args[1], crdt.Op{Kind: kind, Values: args[2:4]}); ok {
			w.WriteInt(res.Int)
		}
	}
}

// storeElements replaces dst with the sorted set els (deleting it when els
// is empty) and answers their number.
func (s *Server) storeElements(ctx context.Context, w *Writer, dst []byte, els []crdt.Element) {
	op := crdt.Op{Kind: crdt.OpStore, Type: version.TypeZSet}
	for _, e := range els {
		op.Fields = append(op.Fields, e.Field)
		op.Values = append(op.Values, crdt.FormatScore(e.Score))
	}
	if _, ok := s.writeTyped(ctx, w, dst, op); ok {
		w.WriteInt(int64(len(els)))
	}
}

// zsetSource is one input of ZUNIONSTORE or ZINTERSTORE.
type zsetSource struct {
	els    []crdt.Element // sorted by member
	weight float64
}

// readSources reads the sources of ZUNIONSTORE and ZINTERSTORE: sorted
// sets, or sets whose members score 1 (as in Redis); a missing key is
// empty, any other type WRONGTYPE.
func (s *Server) readSources(ctx context.Context, w *Writer, keys [][]byte) ([]zsetSource, bool) {
	objs, ok := s.getMany(ctx, w, keys)
	if !ok {
		return nil, false
	}
	now := s.nowMs()
	srcs := make([]zsetSource, len(keys))
	for i, o := range objs {
		srcs[i].weight = 1
		t, found := crdt.KeyType(o, now)
		s.stats.hit(found)
		if !found {
			continue
		}
		if t != version.TypeSet {
			t = version.TypeZSet // anything else answers WRONGTYPE
		}
		els, _, err := crdt.Elements(o, t, now)
		if err != nil {
			s.writeErr(w, err, false)
			return nil, false
		}
		if t == version.TypeSet {
			for j := range els {
				els[j].Score = 1
			}
		}
		srcs[i].els = els
	}
	return srcs, true
}

// How ZUNIONSTORE and ZINTERSTORE combine a member's weighted scores:
// the index of the AGGREGATE option's value in aggrNames.
const (
	aggrSum = iota
	aggrMin
	aggrMax
)

var aggrNames = []string{"sum", "min", "max"}

// aggregate folds val into target as Redis's zunionInterAggregate does
// (a sum of opposite infinities is 0).
func aggregate(target *float64, val float64, how int) {
	switch how {
	case aggrSum:
		*target += val
		if math.IsNaN(*target) {
			*target = 0
		}
	case aggrMin:
		if val < *target {
			*target = val
		}
	case aggrMax:
		if val > *target {
			*target = val
		}
	}
}

// zsetCombine is ZUNIONSTORE and ZINTERSTORE destination numkeys key
// [key …] [WEIGHTS weight …] [AGGREGATE SUM|MIN|MAX], checked in Redis's
// order: numkeys, the sources' types, then the options.
func (s *Server) zsetCombine(inter bool) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		n, ok := parseInt64(args[2])
		switch {
		case !ok:
			w.WriteError(msgNotInteger)
			return
		case n < 1:
			w.WriteError("ERR at least 1 input key is needed for '" + lowerString(args[0]) + "' command")
			return
		case n > int64(len(args)-3):
			w.WriteError(msgSyntax)
			return
		}
		srcs, ok := s.readSources(ctx, w, args[3:3+n])
		if !ok {
			return
		}
		how := aggrSum
		for j := 3 + int(n); j < len(args); {
			left := len(args) - j
			switch {
			case left > int(n) && eqFold(args[j], "weights"):
				for i := range srcs {
					f, err := crdt.ParseScore(args[j+1+i])
					if err != nil {
						w.WriteError("ERR weight value is not a float")
						return
					}
					srcs[i].weight = f
				}
				j += 1 + int(n)
			case left >= 2 && eqFold(args[j], "aggregate"):
				if how = slices.IndexFunc(aggrNames, func(a string) bool { return eqFold(args[j+1], a) }); how < 0 {
					w.WriteError(msgSyntax)
					return
				}
				j += 2
			default:
				w.WriteError(msgSyntax)
				return
			}
		}
		s.storeElements(ctx, w, args[1], combine(srcs, inter, how))
	}
}

// combine computes the union or intersection of weighted sources in
// Redis's order (the smallest source first), so that sums round alike.
func combine(srcs []zsetSource, inter bool, how int) []crdt.Element {
	sort.SliceStable(srcs, func(i, j int) bool { return len(srcs[i].els) < len(srcs[j].els) })
	weighted := func(src zsetSource, score float64) float64 {
		if v := src.weight * score; !math.IsNaN(v) {
			return v
		}
		return 0
	}
	var out []crdt.Element
	if inter {
	members:
		for _, e := range srcs[0].els {
			score := weighted(srcs[0], e.Score)
			for _, src := range srcs[1:] {
				o, found := findElement(src.els, e.Field)
				if !found {
					continue members
				}
				aggregate(&score, src.weight*o.Score, how)
			}
			out = append(out, crdt.Element{Field: e.Field, Score: score})
		}
		return out
	}
	at := map[string]int{}
	for _, src := range srcs {
		for _, e := range src.els {
			score := weighted(src, e.Score)
			if i, ok := at[string(e.Field)]; ok {
				aggregate(&out[i].Score, score, how)
				continue
			}
			at[string(e.Field)] = len(out)
			out = append(out, crdt.Element{Field: e.Field, Score: score})
		}
	}
	return out
}
