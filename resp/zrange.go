package resp

import (
	"context"
	"slices"

	"github.com/dynago/dynago/crdt"
)

// The sorted-set ranges: ZRANGE with its BYSCORE, BYLEX, REV and LIMIT
// options, the legacy ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX,
// ZREVRANGEBYLEX and ZREVRANGE, ZRANGESTORE, and the bounds of ZCOUNT,
// ZLEXCOUNT and the ZREMRANGE family. The options are parsed and checked
// as Redis's zrangeGenericCommand does, with its error texts.

// rangeBy is what a range selects by.
type rangeBy uint8

const (
	byAuto  rangeBy = iota // ZRANGE, ZRANGESTORE: BYSCORE or BYLEX may follow, else by rank
	byRank                 // start and stop indexes
	byScore                // score bounds: 1.5, (1.5, -inf, +inf
	byLex                  // member bounds: [a, (a, -, +
)

// zrange is a parsed range.
type zrange struct {
	by          rangeBy
	rev         bool
	start, stop int64 // byRank
	min, max    crdt.ScoreBound
	lmin, lmax  crdt.LexBound
	offset      int64
	limit       int64 // -1: no LIMIT (or LIMIT x -1: all)
	withScores  bool
}

// parseBounds parses the range's two ends as its kind reads them: the
// error is one errors.go maps to Redis's reply.
func (rg *zrange) parseBounds(lo, hi []byte) error {
	var err1, err2 error
	switch rg.by {
	case byRank:
		var ok1, ok2 bool
		rg.start, ok1 = parseInt64(lo)
		rg.stop, ok2 = parseInt64(hi)
		if !ok1 || !ok2 {
			return crdt.ErrNotInteger
		}
	case byScore:
		rg.min, err1 = crdt.ParseScoreBound(lo)
		rg.max, err2 = crdt.ParseScoreBound(hi)
	case byLex:
		rg.lmin, err1 = crdt.ParseLexBound(lo)
		rg.lmax, err2 = crdt.ParseLexBound(hi)
	}
	if err1 != nil {
		return err1
	}
	return err2
}

// pick returns the elements of els (in score order) that the range
// selects, in reply order.
func (rg *zrange) pick(els []crdt.Element) []crdt.Element {
	if rg.rev {
		els = slices.Clone(els)
		slices.Reverse(els)
	}
	if rg.by == byRank {
		from, to, ok := crdt.RankRange(rg.start, rg.stop, len(els))
		if !ok {
			return nil
		}
		return els[from : to+1]
	}
	var out []crdt.Element
	skip := rg.offset
	if skip < 0 {
		return nil // Redis skips forever on a negative offset
	}
	for _, e := range els {
		in := rg.min.AboveMin(e.Score) && rg.max.BelowMax(e.Score)
		if rg.by == byLex {
			in = rg.lmin.AboveMin(e.Field) && rg.lmax.BelowMax(e.Field)
		}
		switch {
		case !in:
		case skip > 0:
			skip--
		case rg.limit >= 0 && int64(len(out)) >= rg.limit:
			return out
		default:
			out = append(out, e)
		}
	}
	return out
}

// parseLimit parses LIMIT's offset and count, the first two of args (the
// caller checked there are two). It reports false after writing the error.
func parseLimit(w *Writer, args [][]byte) (offset, count int64, ok bool) {
	offset, ok1 := parseInt64(args[0])
	count, ok2 := parseInt64(args[1])
	if !ok1 || !ok2 {
		w.WriteError(msgNotInteger)
		return 0, 0, false
	}
	return offset, count, true
}

// parseZRange parses a range command's arguments from its min (at):
// min max [options]. by and rev are the command's own; ZRANGE and
// ZRANGESTORE (byAuto) take BYSCORE, BYLEX and REV as options, and a store
// takes no WITHSCORES. It reports false after writing the error.
func (s *Server) parseZRange(w *Writer, args [][]byte, at int, by rangeBy, rev, store bool) (zrange, bool) {
	rg := zrange{by: by, rev: rev, limit: -1}
	auto := by == byAuto
	for j := at + 2; j < len(args); j++ {
		left := len(args) - j - 1
		switch a := args[j]; {
		case !store && eqFold(a, "withscores"):
			rg.withScores = true
		case eqFold(a, "limit") && left >= 2:
			var ok bool
			if rg.offset, rg.limit, ok = parseLimit(w, args[j+1:]); !ok {
				return rg, false
			}
			j += 2
		case auto && !rg.rev && eqFold(a, "rev"):
			rg.rev = true
		case rg.by == byAuto && eqFold(a, "bylex"):
			rg.by = byLex
		case rg.by == byAuto && eqFold(a, "byscore"):
			rg.by = byScore
		default:
			w.WriteError(msgSyntax)
			return rg, false
		}
	}
	if rg.by == byAuto {
		rg.by = byRank
	}
	switch {
	case rg.limit != -1 && rg.by == byRank:
		w.WriteError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
		return rg, false
	case rg.withScores && rg.by == byLex:
		w.WriteError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
		return rg, false
	}
	lo, hi := args[at], args[at+1]
	if rg.rev && rg.by != byRank {
		lo, hi = hi, lo // given as max min
	}
	if err := rg.parseBounds(lo, hi); err != nil {
		s.writeErr(w, err, false)
		return rg, false
	}
	return rg, true
}

// zsetRange is ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset
// count] [WITHSCORES] and the legacy range commands, whose by and rev are
// fixed (ZREVRANGEBYSCORE key max min …).
func (s *Server) zsetRange(by rangeBy, rev bool) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		if els, rg, ok := s.pickRange(ctx, w, args, 2, by, rev, false); ok {
			writeElements(w, els, rg.withScores, writeScore)
		}
	}
}

// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
func (s *Server) cmdZRangeStore(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if els, _, ok := s.pickRange(ctx, w, args, 3, byAuto, false, true); ok {
		s.storeElements(ctx, w, args[1], els)
	}
}

// pickRange parses the range whose min is args[at] (see parseZRange) and
// picks it from the sorted set named just before.
func (s *Server) pickRange(ctx context.Context, w *Writer, args [][]byte, at int, by rangeBy, rev, store bool) ([]crdt.Element, zrange, bool) {
	rg, ok := s.parseZRange(w, args, at, by, rev, store)
	if !ok {
		return nil, rg, false
	}
	els, ok := s.readZSet(ctx, w, args[at-1])
	if !ok {
		return nil, rg, false
	}
	return rg.pick(els), rg, true
}
