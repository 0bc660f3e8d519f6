package resp

import (
	"context"
	"math/rand/v2"
	"strconv"

	"github.com/dynago/dynago/coordinator"
	"github.com/dynago/dynago/crdt"
	"github.com/dynago/dynago/version"
)

// The convergent data types' shared plumbing (package crdt): reading a
// collection, sending a typed write, and the SCAN-style cursor over a
// collection's elements. The families are in hash.go, set.go and zset.go.

// msgWrongType is Redis's reply to a command of one type on a key of
// another.
const msgWrongType = "WRONGTYPE Operation against a key holding the wrong kind of value"

// readCollection returns key's collection of type t (sorted by field).
// found is false for a missing key; ok is false after an error reply.
func (s *Server) readCollection(ctx context.Context, w *Writer, key []byte, t version.Type) (els []crdt.Element, found, ok bool) {
	o, err := s.b.Get(ctx, key)
	if err == nil {
		els, found, err = crdt.Elements(o, t, s.nowMs())
	}
	if err != nil {
		s.writeErr(w, err, false)
		return nil, false, false
	}
	s.stats.hit(found)
	return els, found, true
}

// lookupElement returns one element of key's collection of type t.
func (s *Server) lookupElement(ctx context.Context, w *Writer, key []byte, t version.Type, field []byte) (e crdt.Element, found, ok bool) {
	o, err := s.b.Get(ctx, key)
	if err == nil {
		e, found, err = crdt.Lookup(o, t, field, s.nowMs())
	}
	if err != nil {
		s.writeErr(w, err, false)
		return crdt.Element{}, false, false
	}
	s.stats.hit(found)
	return e, found, true
}

// writeTyped sends a typed write of key; ok is false after an error reply.
// The key and the op's fields and values are copied out of the connection's
// buffer, as every write's are (own).
func (s *Server) writeTyped(ctx context.Context, w *Writer, key []byte, op crdt.Op) (coordinator.Result, bool) {
	parts := own(append(append([][]byte{key}, op.Fields...), op.Values...)...)
	key, op.Fields, op.Values = parts[0], parts[1:1+len(op.Fields)], parts[1+len(op.Fields):]
	return s.write(ctx, w, key, coordinator.Op{Kind: coordinator.OpTyped, Typed: op})
}

// seed is the randomness a pop or a random pick starts from.
func seed() uint64 { return rand.Uint64() }

// writeStrings writes an array of bulk strings.
func writeStrings(w *Writer, l [][]byte) {
	w.WriteArray(len(l))
	for _, b := range l {
		w.WriteBulk(b)
	}
}

// scanWhole is the size up to which a collection scan returns every
// element in one call, as Redis does for its small encodings: each call
// reads the whole collection anyway.
const scanWhole = 128

// elementScan is HSCAN/SSCAN/ZSCAN key cursor [MATCH pattern] [COUNT n]
// over a collection read whole: the cursor is the index of the next
// element in field order. pair writes one element's entries and says how
// many it wrote.
func (s *Server) elementScan(ctx context.Context, w *Writer, args [][]byte, t version.Type, pair func(w *Writer, e crdt.Element) int) {
	o, ok := parseScanOpts(w, args[2:], false)
	if !ok {
		return
	}
	els, _, ok := s.readCollection(ctx, w, args[1], t)
	if !ok {
		return
	}
	start := min(o.cursor, uint64(len(els)))
	end := min(start+uint64(o.count), uint64(len(els)))
	if len(els) <= scanWhole {
		start, end = 0, uint64(len(els))
	}
	next := end
	if end == uint64(len(els)) {
		next = 0
	}
	var picked []crdt.Element
	for _, e := range els[start:end] {
		if o.pattern != nil {
			matched, decided := o.pattern.match(e.Field, globBudget(o.pattern.size, len(e.Field)))
			if !decided {
				w.WriteError(msgPatternLimit)
				return
			}
			if !matched {
				continue
			}
		}
		picked = append(picked, e)
	}
	w.WriteArray(2)
	w.WriteBulkString(strconv.FormatUint(next, 10))
	n := 0
	body := NewWriter(w.Proto())
	for _, e := range picked {
		n += pair(body, e)
	}
	w.WriteArray(n)
	w.WriteRaw(body.Bytes())
}

// randomPick is HRANDFIELD/SRANDMEMBER/ZRANDMEMBER's choice of count
// elements: a positive count picks distinct elements (at most all), a
// negative one may repeat and picks exactly -count.
func randomPick(els []crdt.Element, count int64) []crdt.Element {
	if count >= 0 {
		n := int(min(count, int64(len(els))))
		out := make([]crdt.Element, 0, n)
		for _, i := range rand.Perm(len(els))[:n] {
			out = append(out, els[i])
		}
		return out
	}
	if len(els) == 0 {
		return nil
	}
	out := make([]crdt.Element, 0, -count)
	for range -count {
		out = append(out, els[rand.IntN(len(els))])
	}
	return out
}

// parsePopCount parses SPOP's and ZPOPMIN/ZPOPMAX's "key [count]": 1
// when absent. It reports false after writing the error reply.
func parsePopCount(w *Writer, args [][]byte) (int64, bool) {
	if len(args) > 3 {
		w.WriteError(msgSyntax)
		return 0, false
	}
	if len(args) < 3 {
		return 1, true
	}
	n, ok := parseInt64(args[2])
	if !ok || n < 0 {
		w.WriteError("ERR value is out of range, must be positive")
		return 0, false
	}
	return n, true
}

// msgRangeCount is the error of a random-pick count out of range.
const msgRangeCount = "ERR value is out of range"

// parseRandCount parses HRANDFIELD/SRANDMEMBER/ZRANDMEMBER's count: an
// integer whose magnitude fits what a reply can hold.
func parseRandCount(w *Writer, b []byte) (int64, bool) {
	n, ok := parseInt64(b)
	if !ok {
		w.WriteError(msgNotInteger)
		return 0, false
	}
	if n < -(1<<31) || n > 1<<31 {
		w.WriteError(msgRangeCount)
		return 0, false
	}
	return n, true
}

// dataCmd is the table entry of a single-key command of a convergent type.
// A collection is read and written whole, so each costs O(N) in its size.
func dataCmd(name string, arity int, flags, cats, group, since, summary string, h HandlerFunc) *Command {
	return &Command{Name: name, Arity: arity, Flags: fl(flags), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true,
		ACLCategories: fl(cats), Summary: summary, Since: since, Group: group,
		Complexity: "O(N) where N is the number of elements of the key", Handler: h}
}
