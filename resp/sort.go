package resp

import (
	"bytes"
	"cmp"
	"context"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/dynago/dynago/crdt"
	"github.com/dynago/dynago/version"
)

// SORT and SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...]
// [ASC|DESC] [ALPHA] [STORE destination], following Redis 7.2's
// sortCommandGeneric on sets and sorted sets. The BY and GET keys are read
// in one batch through a quorum each, after the key itself: the reply is
// not a snapshot across keys. STORE writes a list in Redis; dynago has no
// lists yet, so SORT … STORE answers an error.

// sortOpts are SORT's parsed options.
type sortOpts struct {
	desc, alpha  bool
	start, count int64 // LIMIT; count -1: to the end
	by           []byte
	dontsort     bool // BY a pattern without '*'
	gets         [][]byte
	store        bool // STORE destination (refused for now)
}

// parseSort parses SORT's options as Redis does: one pass, errors at the
// first bad token. It reports false after writing the error.
func parseSort(w *Writer, args [][]byte, readonly bool) (sortOpts, bool) {
	o := sortOpts{count: -1}
	for j := 2; j < len(args); j++ {
		left := len(args) - j - 1
		switch a := args[j]; {
		case eqFold(a, "asc"):
			o.desc = false
		case eqFold(a, "desc"):
			o.desc = true
		case eqFold(a, "alpha"):
			o.alpha = true
		case eqFold(a, "limit") && left >= 2:
			var ok bool
			if o.start, o.count, ok = parseLimit(w, args[j+1:]); !ok {
				return o, false
			}
			j += 2
		case !readonly && eqFold(a, "store") && left >= 1:
			o.store = true
			j++
		case eqFold(a, "by") && left >= 1:
			o.by = args[j+1]
			o.dontsort = bytes.IndexByte(o.by, '*') < 0
			j++
		case eqFold(a, "get") && left >= 1:
			o.gets = append(o.gets, args[j+1])
			j++
		default:
			w.WriteError(msgSyntax)
			return o, false
		}
	}
	return o, true
}

// msgSortStore is the answer to SORT … STORE until dynago has lists.
const msgSortStore = "ERR SORT STORE is not supported: it stores a list, and dynago has no lists yet"

// sortHandler is SORT (readonly false) and SORT_RO.
func (s *Server) sortHandler(readonly bool) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		o, ok := parseSort(w, args, readonly)
		if !ok {
			return
		}
		if o.store {
			w.WriteError(msgSortStore)
			return
		}
		obj, err := s.b.Get(ctx, args[1])
		if err != nil {
			s.writeErr(w, err, false)
			return
		}
		now := s.nowMs()
		var els []crdt.Element
		live, found := obj.Value(now)
		s.stats.hit(found)
		if found {
			switch live.Type {
			case version.TypeSet:
				if els, _, err = crdt.Elements(obj, version.TypeSet, now); err == nil && o.dontsort {
					intsetOrder(els)
				}
			case version.TypeZSet:
				if els, _, err = crdt.Elements(obj, version.TypeZSet, now); err == nil {
					crdt.SortByScore(els) // a sorted set's own order, for BY nosort
				}
			default:
				w.WriteError(msgWrongType)
				return
			}
			if err != nil {
				s.writeErr(w, err, false)
				return
			}
		}
		s.sortReply(ctx, w, o, els, found && live.Type == version.TypeZSet)
	}
}

// sortReply sorts els (unless BY names a fixed key), applies LIMIT and
// writes the elements or their GET lookups.
func (s *Server) sortReply(ctx context.Context, w *Writer, o sortOpts, els []crdt.Element, zset bool) {
	l := newLookups()
	if !o.dontsort {
		if o.by != nil {
			for _, e := range els {
				l.want(o.by, e.Field)
			}
			if !s.fetch(ctx, w, l) {
				return
			}
		}
		if !sortElements(els, o, l) {
			w.WriteError("ERR One or more scores can't be converted into double")
			return
		}
	} else if zset && o.desc {
		slices.Reverse(els) // a sorted set keeps its order, reversed by DESC; a set ignores DESC
	}
	n := int64(len(els))
	start := max(o.start, 0)
	end := n - 1
	if o.count >= 0 {
		end = start + min(o.count, math.MaxInt64-start) - 1
	}
	if start >= n {
		start, end = n-1, n-2
	}
	end = min(end, n-1)
	var out []crdt.Element
	if end >= start {
		out = els[start : end+1]
	}
	if len(o.gets) == 0 {
		w.WriteArray(len(out))
		for _, e := range out {
			w.WriteBulk(e.Field)
		}
		return
	}
	for _, e := range out {
		for _, g := range o.gets {
			l.want(g, e.Field)
		}
	}
	if !s.fetch(ctx, w, l) {
		return
	}
	w.WriteArray(len(out) * len(o.gets))
	for _, e := range out {
		for _, g := range o.gets {
			if v, ok := l.value(g, e.Field); ok {
				w.WriteBulk(v)
			} else {
				w.WriteNull()
			}
		}
	}
}

// sortElements sorts els as Redis's sortCompare does: numerically by the
// element (or its BY value; a missing one is 0), ties by the element's
// bytes; with ALPHA by bytes, a missing BY value first. It reports false
// when a value is not a number.
func sortElements(els []crdt.Element, o sortOpts, l *lookups) bool {
	type item struct {
		score float64
		by    []byte
		hasBy bool
		el    crdt.Element
	}
	items := make([]item, len(els))
	for i, e := range els {
		it := item{el: e}
		val, has := e.Field, true
		if o.by != nil {
			val, has = l.value(o.by, e.Field)
		}
		it.by, it.hasBy = val, has
		if !o.alpha && has {
			sc, ok := strtod(val)
			if !ok {
				return false
			}
			it.score = sc
		}
		items[i] = it
	}
	compare := func(a, b item) int {
		var c int
		switch {
		case !o.alpha:
			switch {
			case a.score > b.score:
				c = 1
			case a.score < b.score:
				c = -1
			default:
				c = bytes.Compare(a.el.Field, b.el.Field)
			}
		case o.by != nil && (!a.hasBy || !b.hasBy):
			switch {
			case a.hasBy == b.hasBy:
			case !a.hasBy:
				c = -1
			default:
				c = 1
			}
		default:
			c = bytes.Compare(a.by, b.by)
		}
		if o.desc {
			return -c
		}
		return c
	}
	slices.SortStableFunc(items, compare)
	for i := range items {
		els[i] = items[i].el
	}
	return true
}

// intsetOrder puts a set Redis would keep as an intset in its order,
// numeric, for BY nosort; other sets stay in byte order (Redis: insertion
// or hash order, which dynago does not have).
func intsetOrder(els []crdt.Element) {
	if (keyValue{typ: version.TypeSet, els: els}).encoding() != "intset" {
		return
	}
	slices.SortFunc(els, func(a, b crdt.Element) int {
		x, _ := strictInt(a.Field)
		y, _ := strictInt(b.Field)
		return cmp.Compare(x, y)
	})
}

// strtod is C's strtod as SORT uses it: leading white space, the whole
// rest a number (decimal, hex, inf), no NaN, no overflow; "" is 0.
func strtod(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, true
	}
	s := strings.TrimLeft(string(b), " \t\n\v\f\r")
	if s == "" || strings.ContainsRune(s, '_') {
		return 0, false
	}
	if t := strings.TrimLeft(s, "+-"); len(t) > 2 && (t[:2] == "0x" || t[:2] == "0X") && !strings.ContainsAny(t, "pP") {
		s += "p0" // C reads hex without a binary exponent; Go wants one
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// lookups are the values BY and GET patterns name, read in one batch.
type lookups struct {
	keys  map[string]int // key -> index in order
	order [][]byte
	objs  []version.Object
	now   int64
}

func newLookups() *lookups { return &lookups{keys: map[string]int{}} }

// patternKey is Redis's lookupKeyByPattern's substitution: the first '*'
// of pattern replaced by el, and the hash field after a "->" that follows
// the '*' (with something after it). self is true for "#" (the element
// itself); ok is false when the pattern has no '*' (a fixed key is not
// read).
func patternKey(pattern, el []byte) (key, field []byte, self, ok bool) {
	if string(pattern) == "#" {
		return nil, nil, true, true
	}
	star := bytes.IndexByte(pattern, '*')
	if star < 0 {
		return nil, nil, false, false
	}
	post := pattern[star+1:]
	if f := bytes.Index(post, []byte("->")); f >= 0 && f+2 < len(post) {
		field = post[f+2:]
		post = post[:f]
	}
	key = append(append(append(make([]byte, 0, len(pattern)+len(el)), pattern[:star]...), el...), post...)
	return key, field, false, true
}

// want records the key pattern names for el.
func (l *lookups) want(pattern, el []byte) {
	if key, _, self, ok := patternKey(pattern, el); ok && !self {
		if _, seen := l.keys[string(key)]; !seen {
			l.keys[string(key)] = len(l.order)
			l.order = append(l.order, key)
		}
	}
}

// fetch reads the keys wanted and not yet read. It reports false after
// writing an error.
func (s *Server) fetch(ctx context.Context, w *Writer, l *lookups) bool {
	l.now = s.nowMs()
	if len(l.order) == len(l.objs) {
		return true
	}
	objs, err := s.b.GetMany(ctx, l.order[len(l.objs):])
	if err == nil && len(objs) != len(l.order)-len(l.objs) {
		err = errBackendCount
	}
	if err != nil {
		s.writeErr(w, err, false)
		return false
	}
	l.objs = append(l.objs, objs...)
	return true
}

// value is what pattern names for el: the element itself for "#", a
// string key's value, or a hash's field; ok is false when there is none
// (a missing key or field, a key of another type).
func (l *lookups) value(pattern, el []byte) ([]byte, bool) {
	key, field, self, ok := patternKey(pattern, el)
	if self {
		return el, true
	}
	if !ok {
		return nil, false
	}
	i, ok := l.keys[string(key)]
	if !ok || i >= len(l.objs) {
		return nil, false
	}
	o := l.objs[i]
	if field == nil {
		v, _, found, err := crdt.StringValue(o, l.now)
		return v, found && err == nil
	}
	e, found, err := crdt.Lookup(o, version.TypeHash, field, l.now)
	return e.Value, found && err == nil
}
