package crdt

import (
	"bytes"
	"math"
	"math/rand/v2"

	"github.com/dynago/dynago/version"
)

// OpKind names a typed write.
type OpKind uint8

// The typed writes. Fields and Values carry the command's elements (a
// sorted set's scores as the client wrote them, parsed here so a forwarded
// op is applied exactly as meant).
const (
	OpIncrBy           OpKind = iota + 1 // INCR family on a counter: Int
	OpIncrByFloat                        // INCRBYFLOAT: Float
	OpHSet                               // HSET/HMSET (FlagNX: HSETNX): Fields, Values
	OpHDel                               // HDEL: Fields
	OpHIncrBy                            // HINCRBY: Fields[0], Int
	OpHIncrByFloat                       // HINCRBYFLOAT: Fields[0], Float
	OpSAdd                               // SADD: Fields
	OpSRem                               // SREM: Fields
	OpSPop                               // SPOP: Int members chosen with Seed
	OpZAdd                               // ZADD: Fields, Values (scores); Flag*
	OpZRem                               // ZREM: Fields
	OpZPopMin                            // ZPOPMIN: Int members
	OpZPopMax                            // ZPOPMAX: Int members
	OpZRemRangeByScore                   // Values[0], Values[1]: score bounds
	OpZRemRangeByRank                    // Values[0], Values[1]: ranks
	OpZRemRangeByLex                     // Values[0], Values[1]: lex bounds
	OpStore                              // replace the key with a collection of Type: Fields, Values; Int: expiry (unix ms, 0 none); FlagNX
	opLimit
)

// ZADD's and HSETNX's options.
const (
	FlagNX uint16 = 1 << iota
	FlagXX
	FlagGT
	FlagLT
	FlagCH
	FlagIncr
)

// Op is one typed write, plain data so that it can be forwarded.
type Op struct {
	Kind   OpKind
	Type   version.Type // OpStore: the collection's type
	Flags  uint16
	Int    int64
	Float  string
	Seed   uint64
	Fields [][]byte
	Values [][]byte
}

// Valid reports whether the op is one this node knows.
// An op from another node (a forwarded write) is checked the same way:
// a malformed one is refused, never applied or a panic.
func (op Op) Valid() bool {
	pairs := len(op.Fields) == len(op.Values)
	switch op.Kind {
	case OpIncrBy, OpIncrByFloat:
		return true
	case OpHSet, OpZAdd:
		return pairs && len(op.Fields) > 0 && (op.Flags&FlagIncr == 0 || len(op.Fields) == 1)
	case OpHDel, OpSAdd, OpSRem, OpZRem:
		return len(op.Fields) > 0
	case OpHIncrBy, OpHIncrByFloat:
		return len(op.Fields) == 1
	case OpSPop, OpZPopMin, OpZPopMax:
		return op.Int >= 0
	case OpZRemRangeByScore, OpZRemRangeByRank, OpZRemRangeByLex:
		return len(op.Values) == 2
	case OpStore:
		if op.Int < 0 {
			return false
		}
		switch op.Type {
		case version.TypeSet:
			return true
		case version.TypeHash, version.TypeZSet:
			return pairs
		}
	}
	return false
}

// NeedsRead reports whether the op depends on state the coordinator may
// not hold locally, so that it must read a quorum first: removals (to
// remove what the last acknowledged writes added; a store removes all the
// key held) and conditional writes.
// Additions and increments apply to the local object alone.
func (op Op) NeedsRead() bool {
	switch op.Kind {
	case OpHDel, OpSRem, OpSPop, OpZRem, OpZPopMin, OpZPopMax,
		OpZRemRangeByScore, OpZRemRangeByRank, OpZRemRangeByLex, OpStore:
		return true
	case OpHSet:
		return op.Flags&FlagNX != 0
	case OpZAdd:
		return op.Flags&(FlagNX|FlagXX|FlagGT|FlagLT) != 0
	}
	return false
}

// keyType is the type of key the op writes.
func (op Op) keyType() version.Type {
	switch op.Kind {
	case OpIncrBy, OpIncrByFloat:
		return version.TypeCounter
	case OpHSet, OpHDel, OpHIncrBy, OpHIncrByFloat:
		return version.TypeHash
	case OpSAdd, OpSRem, OpSPop:
		return version.TypeSet
	case OpStore:
		return op.Type
	}
	return version.TypeZSet
}

// Result is what a typed write answers.
type Result struct {
	Int    int64
	Bytes  []byte
	Null   bool
	Values [][]byte
}

// Apply evaluates a typed write on the key's current object at its
// coordinator: the counterpart of the string writes' Apply. counter gives
// the dot's counter from the smallest one the write may carry (nil: that
// one). It returns the object to store and write=true, or write=false when
// the op changes nothing. An error is a client error and nothing is
// written.
func Apply(cur version.Object, op Op, actor version.Actor, counter func(floor uint64) (uint64, error), nowMs int64) (next version.Object, write bool, res Result, err error) {
	if !op.Valid() {
		return cur, false, res, ErrUnknownOp
	}
	t := op.keyType()
	w, live := cur.Value(nowMs)
	// OpStore overwrites whatever the key holds, as the *STORE commands do.
	if live && w.Type != t && op.Kind != OpStore && !(t == version.TypeCounter && w.Type == version.TypeString) {
		return cur, false, res, ErrWrongType
	}
	if op.Kind == OpStore && op.Flags&FlagNX != 0 && live {
		// RENAMENX, COPY and RESTORE without REPLACE: only a missing key.
		return cur, false, res, nil
	}
	b := &builder{cur: cur, t: t, now: nowMs, actor: actor, exists: live && w.Type == t, live: live, header: w}
	if t == version.TypeCounter {
		return b.counter(op, actor, counter)
	}
	if b.exists {
		if err := b.load(op); err != nil {
			return cur, false, res, err
		}
	}
	if res, err = b.apply(op); err != nil || !b.changed {
		return cur, false, res, err
	}
	next, err = b.finish(actor, counter)
	return next, err == nil, res, err
}

// builder collects a collection write: the elements it sets or removes.
type builder struct {
	cur     version.Object
	t       version.Type
	now     int64
	actor   version.Actor
	exists  bool // the key holds a value of type t
	live    bool // the key holds a value (header is its live version)
	header  version.Sibling
	els     []Element           // the current elements the op needs
	groups  [][]version.Sibling // their siblings
	index   map[string]int      // field -> position in els
	set     []version.Sibling   // new element siblings (dot minted later)
	touched map[string]bool     // fields whose covered siblings are dropped
	changed bool
	replace bool  // OpStore: drop every covered sibling
	expiry  int64 // OpStore: the new collection's expiry (unix ms, 0: none)
}

// needsAll reports whether the op looks at every element (pops, ranges,
// a replacement) rather than at the fields it names.
func (op Op) needsAll() bool {
	switch op.Kind {
	case OpSPop, OpZPopMin, OpZPopMax, OpZRemRangeByScore, OpZRemRangeByRank, OpZRemRangeByLex:
		return true
	}
	return false
}

// load reads the current elements the op needs: every element for
// needsAll ops (sorted by field), else only the fields it names, so that
// a write of one field does not decode the whole collection.
func (b *builder) load(op Op) error {
	if op.Kind == OpStore {
		return nil // a replacement keeps nothing; finish drops what is covered
	}
	var groups [][]version.Sibling
	if op.needsAll() {
		groups = group(b.cur, b.t)
	} else {
		want := make(map[string]int, len(op.Fields))
		for _, f := range op.Fields {
			if _, ok := want[string(f)]; !ok {
				want[string(f)] = len(want)
			}
		}
		groups = make([][]version.Sibling, len(want))
		for _, s := range b.cur.Siblings {
			if s.IsElement() && s.Type == b.t {
				if i, ok := want[string(s.Field)]; ok {
					groups[i] = append(groups[i], s)
				}
			}
		}
	}
	b.index = make(map[string]int, len(groups))
	for _, g := range groups {
		if len(g) == 0 {
			continue
		}
		e, err := readElement(g, b.t)
		if err != nil {
			return err
		}
		b.index[string(e.Field)] = len(b.els)
		b.els = append(b.els, e)
		b.groups = append(b.groups, g)
	}
	return nil
}

// find returns the position of field among the loaded elements.
func (b *builder) find(field []byte) (int, bool) {
	i, ok := b.index[string(field)]
	return i, ok
}

func (b *builder) touch(field []byte) bool {
	if b.touched == nil {
		b.touched = make(map[string]bool)
	}
	if b.touched[string(field)] {
		return false
	}
	b.touched[string(field)] = true
	return true
}

// put sets field to value (an encoded element value, nil for a set).
// A field set twice in one command keeps the last value.
func (b *builder) put(field, value []byte) (isNew bool) {
	_, found := b.find(field)
	first := b.touch(field)
	if !first {
		for i := range b.set {
			if bytes.Equal(b.set[i].Field, field) {
				b.set[i].Value = value
				return false
			}
		}
	}
	b.set = append(b.set, version.Sibling{Type: b.t, Field: own(field), Value: value})
	b.changed = true
	return !found && first
}

// del removes field; it reports whether it was there.
func (b *builder) del(field []byte) bool {
	if _, found := b.find(field); !found || !b.touch(field) {
		return false
	}
	b.changed = true
	return true
}

func own(b []byte) []byte { return append(make([]byte, 0, len(b)), b...) }

// empty reports whether the write leaves the collection without elements:
// it sets none, and every current element is one it removed.
func (b *builder) empty() bool {
	if len(b.set) > 0 {
		return false
	}
	if !b.exists || b.replace {
		return true
	}
	for _, s := range b.cur.Siblings {
		if s.IsElement() && s.Type == b.t && !b.touched[string(s.Field)] {
			return false
		}
	}
	return true
}

// finish builds the next object: a new header with the kept expiry, the
// new element siblings, and the current ones the write did not touch. A
// collection left empty is deleted, as Redis deletes empty collections.
func (b *builder) finish(actor version.Actor, counter func(uint64) (uint64, error)) (version.Object, error) {
	ctx := b.cur.VV
	ts := b.now
	for _, s := range b.cur.Siblings {
		if (!s.IsElement() || b.touched[string(s.Field)] || b.replace || !b.exists) && s.Timestamp >= ts {
			ts = s.Timestamp + 1
		}
	}
	n := b.cur.NextCounter(actor, ctx)
	if counter != nil {
		var err error
		if n, err = counter(n); err != nil {
			return b.cur, err
		}
	}
	if b.empty() {
		// A tombstone of the collection's type: it yields to elements
		// added concurrently (version.Object.Winner), so removals stay
		// observed-remove when they empty the collection.
		return b.cur.Write(actor, n, ctx, nil, version.Sibling{Tombstone: true, Type: b.t, Timestamp: ts}), nil
	}
	h := version.Sibling{Type: b.t, Timestamp: ts}
	switch {
	case b.replace:
		h.Expiry = b.expiry
	case b.exists:
		h.Expiry = b.header.Expiry
	}
	add := make([]version.Sibling, 0, len(b.set)+1)
	add = append(add, h)
	for _, s := range b.set {
		s.Timestamp = ts
		add = append(add, s)
	}
	keep := func(s version.Sibling) bool {
		return b.exists && !b.replace && s.IsElement() && s.Type == b.t && !b.touched[string(s.Field)]
	}
	return b.cur.Write(actor, n, ctx, keep, add...), nil
}

// apply runs a collection op on the builder.
func (b *builder) apply(op Op) (Result, error) {
	var res Result
	switch op.Kind {
	case OpHSet:
		if op.Flags&FlagNX != 0 {
			if _, found := b.find(op.Fields[0]); found {
				return res, nil
			}
		}
		for i, f := range op.Fields {
			if b.put(f, registerValue(op.Values[i])) {
				res.Int++
			}
		}
	case OpSAdd:
		for _, f := range op.Fields {
			if b.put(f, nil) {
				res.Int++
			}
		}
	case OpHDel, OpSRem, OpZRem:
		for _, f := range op.Fields {
			if b.del(f) {
				res.Int++
			}
		}
	case OpHIncrBy, OpHIncrByFloat:
		return b.hincr(op)
	case OpSPop:
		return b.spop(op), nil
	case OpZAdd:
		return b.zadd(op)
	case OpZPopMin, OpZPopMax:
		return b.zpop(op), nil
	case OpZRemRangeByScore, OpZRemRangeByRank, OpZRemRangeByLex:
		return b.zremrange(op)
	case OpStore:
		b.replace, b.changed, b.expiry = true, true, op.Int
		for i, f := range op.Fields {
			var v []byte
			switch b.t {
			case version.TypeHash:
				v = registerValue(op.Values[i])
			case version.TypeZSet:
				sc, err := ParseScore(op.Values[i])
				if err != nil {
					return res, err
				}
				v = scoreValue(sc)
			}
			if b.touch(f) {
				b.set = append(b.set, version.Sibling{Type: b.t, Field: own(f), Value: v})
				continue
			}
			for i := range b.set { // a field given twice keeps the last value, as put does
				if bytes.Equal(b.set[i].Field, f) {
					b.set[i].Value = v
				}
			}
		}
		res.Int = int64(len(b.set))
	}
	return res, nil
}

// elementCounterOf is the counter an increment of the element at i starts
// from: its counter, or a register converted to a counter's base.
func (b *builder) elementCounterOf(i int, found bool) (Counter, bool, error) {
	if !found {
		return Counter{}, true, nil
	}
	g := b.groups[i]
	newest := g[0]
	for _, s := range g[1:] {
		if s.Timestamp > newest.Timestamp || (s.Timestamp == newest.Timestamp && s.Dot.Compare(newest.Dot) > 0) {
			newest = s
		}
	}
	if len(newest.Value) > 0 && newest.Value[0] == tagCounter {
		c, err := elementCounter(g)
		return c, true, err
	}
	if b.t == version.TypeZSet {
		return Counter{Base: []byte(formatExact(b.els[i].Score)), BaseTs: newest.Timestamp}, true, nil
	}
	return Counter{Base: own(b.els[i].Value), BaseTs: newest.Timestamp}, false, nil
}

// hincr is HINCRBY and HINCRBYFLOAT.
func (b *builder) hincr(op Op) (Result, error) {
	var res Result
	f := op.Fields[0]
	i, found := b.find(f)
	c, isCounter, err := b.elementCounterOf(i, found)
	if err != nil {
		return res, err
	}
	if !isCounter && len(c.Base) == 0 { // an empty string is no number
		if op.Kind == OpHIncrBy {
			return res, ErrHashNotInteger
		}
		return res, ErrHashNotFloat
	}
	if op.Kind == OpHIncrBy {
		n, ok := c.Int()
		if !ok {
			return res, ErrHashNotInteger
		}
		if (op.Int > 0 && n > math.MaxInt64-op.Int) || (op.Int < 0 && n < math.MinInt64-op.Int) {
			return res, ErrOverflow
		}
		res.Int = n + op.Int
		if c, ok = c.addInt(b.actor, op.Int); !ok {
			return res, ErrOverflow
		}
	} else {
		if len(c.Base) > 0 {
			if _, err := ParseFloat(c.Base); err != nil {
				return res, ErrHashNotFloat
			}
		}
		inc, err := ParseFloat([]byte(op.Float))
		if err != nil {
			return res, ErrNotFloat
		}
		v := c.Float() + inc
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return res, ErrNotFloat
		}
		c = c.AddFloat(b.actor, inc)
		res.Bytes = FormatFloat(v)
	}
	b.put(f, counterValue(c))
	return res, nil
}

// spop removes up to Int members chosen with Seed.
func (b *builder) spop(op Op) Result {
	res := Result{Values: [][]byte{}}
	n := len(b.els)
	count := int(min(op.Int, int64(n)))
	rng := rand.New(rand.NewPCG(op.Seed, op.Seed^0x9e3779b97f4a7c15))
	for _, i := range rng.Perm(n)[:count] {
		b.del(b.els[i].Field)
		res.Values = append(res.Values, b.els[i].Field)
	}
	return res
}

// zadd is ZADD with its options; ZINCRBY is ZADD INCR.
func (b *builder) zadd(op Op) (Result, error) {
	var res Result
	incr := op.Flags&FlagIncr != 0
	var set map[string]float64 // scores this command set: a member given twice sees the first
	for k, m := range op.Fields {
		sc, err := ParseScore(op.Values[k])
		if err != nil {
			return res, err
		}
		i, found := b.find(m)
		var old float64
		if found {
			old = b.els[i].Score
		}
		if s, ok := set[string(m)]; ok && !incr { // INCR takes one member
			old, found = s, true
		}
		if (op.Flags&FlagNX != 0 && found) || (op.Flags&FlagXX != 0 && !found) {
			if incr {
				res.Null = true
			}
			continue
		}
		if incr {
			c, _, err := b.elementCounterOf(i, found)
			if err != nil {
				return res, err
			}
			old := c.Float()
			v := old + sc
			if math.IsNaN(v) {
				return res, ErrNaN
			}
			if found && ((op.Flags&FlagGT != 0 && v <= old) || (op.Flags&FlagLT != 0 && v >= old)) {
				res.Null = true
				continue
			}
			if !found {
				res.Int++
			}
			if nc := c.AddFloat(b.actor, sc); !math.IsInf(v, 0) && nc.finite() {
				b.put(m, counterValue(nc))
			} else {
				// A counter's sums are finite; an infinite score absorbs
				// any finite increment, so it is written as a plain score.
				b.put(m, scoreValue(v))
			}
			res.Bytes = FormatScore(v)
			continue
		}
		if set == nil {
			set = make(map[string]float64)
		}
		if found {
			if (op.Flags&FlagGT != 0 && sc <= old) || (op.Flags&FlagLT != 0 && sc >= old) || sc == old {
				continue
			}
			if op.Flags&FlagCH != 0 {
				res.Int++
			}
			b.put(m, scoreValue(sc))
			set[string(m)] = sc
			continue
		}
		if b.put(m, scoreValue(sc)) {
			res.Int++
		}
		set[string(m)] = sc
	}
	return res, nil
}

// sortedByScore returns the current elements' indexes in score order.
func (b *builder) sortedByScore() []Element {
	els := append([]Element(nil), b.els...)
	SortByScore(els)
	return els
}

// zpop removes the Int lowest (ZPOPMIN) or highest members.
func (b *builder) zpop(op Op) Result {
	res := Result{Values: [][]byte{}}
	els := b.sortedByScore()
	if op.Kind == OpZPopMax {
		for i, j := 0, len(els)-1; i < j; i, j = i+1, j-1 {
			els[i], els[j] = els[j], els[i]
		}
	}
	for _, e := range els[:min(int64(len(els)), op.Int)] {
		b.del(e.Field)
		res.Values = append(res.Values, e.Field, FormatScore(e.Score))
	}
	return res
}

// zremrange removes a score, rank or lex range.
func (b *builder) zremrange(op Op) (Result, error) {
	var res Result
	els := b.sortedByScore()
	var victims []Element
	switch op.Kind {
	case OpZRemRangeByScore:
		lo, err1 := ParseScoreBound(op.Values[0])
		hi, err2 := ParseScoreBound(op.Values[1])
		if err1 != nil || err2 != nil {
			return res, ErrMinMaxFloat
		}
		for _, e := range els {
			if lo.AboveMin(e.Score) && hi.BelowMax(e.Score) {
				victims = append(victims, e)
			}
		}
	case OpZRemRangeByLex:
		lo, err1 := ParseLexBound(op.Values[0])
		hi, err2 := ParseLexBound(op.Values[1])
		if err1 != nil || err2 != nil {
			return res, ErrMinMaxLex
		}
		for _, e := range els {
			if lo.AboveMin(e.Field) && hi.BelowMax(e.Field) {
				victims = append(victims, e)
			}
		}
	case OpZRemRangeByRank:
		start, err1 := ParseInt(op.Values[0])
		stop, err2 := ParseInt(op.Values[1])
		if err1 != nil || err2 != nil {
			return res, ErrNotInteger
		}
		if from, to, ok := RankRange(start, stop, len(els)); ok {
			victims = els[from : to+1]
		}
	}
	for _, e := range victims {
		if b.del(e.Field) {
			res.Int++
		}
	}
	return res, nil
}

// counter is the INCR family on a counter key (or a string holding a
// number, which it converts).
func (b *builder) counter(op Op, actor version.Actor, counter func(uint64) (uint64, error)) (version.Object, bool, Result, error) {
	var res Result
	var c Counter
	if b.live {
		switch b.header.Type {
		case version.TypeCounter:
			var err error
			if c, err = counterOf(b.cur, b.now); err != nil {
				return b.cur, false, res, err
			}
		default: // a string: its number becomes the base
			if len(b.header.Value) == 0 { // an empty string is no number
				if op.Kind == OpIncrBy {
					return b.cur, false, res, ErrNotInteger
				}
				return b.cur, false, res, ErrNotFloat
			}
			c = Counter{Base: b.header.Value, BaseTs: b.header.Timestamp}
		}
	} else {
		b.header = version.Sibling{}
	}
	if op.Kind == OpIncrBy {
		n, ok := c.Int()
		if !ok {
			return b.cur, false, res, ErrNotInteger
		}
		if (op.Int > 0 && n > math.MaxInt64-op.Int) || (op.Int < 0 && n < math.MinInt64-op.Int) {
			return b.cur, false, res, ErrOverflow
		}
		res.Int = n + op.Int
		if c, ok = c.addInt(actor, op.Int); !ok {
			return b.cur, false, res, ErrOverflow
		}
	} else {
		if len(c.Base) > 0 {
			if _, err := ParseFloat(c.Base); err != nil {
				return b.cur, false, res, ErrNotFloat
			}
		}
		inc, err := ParseFloat([]byte(op.Float))
		if err != nil {
			return b.cur, false, res, ErrNotFloat
		}
		v := c.Float() + inc
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return b.cur, false, res, ErrNotFloat
		}
		c = c.AddFloat(actor, inc)
		res.Bytes = FormatFloat(v)
	}
	ts := b.now
	for _, s := range b.cur.Siblings {
		if !s.IsElement() && s.Timestamp >= ts {
			ts = s.Timestamp + 1
		}
	}
	h := version.Sibling{Type: version.TypeCounter, Timestamp: ts, Value: AppendCounter(nil, c)}
	if b.live {
		h.Expiry = b.header.Expiry // INCR keeps the TTL, as in Redis
	}
	n := b.cur.NextCounter(actor, b.cur.VV)
	if counter != nil {
		var err error
		if n, err = counter(n); err != nil {
			return b.cur, false, res, err
		}
	}
	return b.cur.Write(actor, n, b.cur.VV, nil, h), true, res, nil
}

// formatExact prints a score so that parsing it gives the same float.
func formatExact(f float64) string { return string(FormatScore(f)) }
