package crdt

// The sequential model: with one replica there is no concurrency, and each
// type must behave as Redis 7 does. The model keeps keys as Redis keeps
// them (a string, a map of fields, a set, a map of scores) and computes
// every reply; Apply's replies and the reads after each step must match.

import (
	"errors"
	"maps"
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/dynago/dynago/version"
	"pgregory.net/rapid"
)

type redisModel struct {
	typ version.Type // TypeString for strings and counters
	ok  bool         // the key exists
	str string
	// floaty: the string was written by INCRBYFLOAT (or converted by it)
	floaty bool
	hash   map[string]string
	set    map[string]bool
	zset   map[string]float64
}

// string2ll is Redis's integer parse: canonical base-10 int64 text only.
func string2ll(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && strconv.FormatInt(n, 10) == s
}

// strtold is Redis's float parse for INCRBYFLOAT: a finite number, no
// surrounding space.
func strtold(s string) (float64, bool) {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
}

// incrInt is INCRBY on a value's text (exists=false: no value, 0):
// Redis parses the text as an integer, notInt when it is not one.
func incrInt(text string, exists bool, by int64, notInt error) (int64, error) {
	var n int64
	if exists {
		var ok bool
		if n, ok = string2ll(text); !ok {
			return 0, notInt
		}
	}
	if (by > 0 && n > math.MaxInt64-by) || (by < 0 && n < math.MinInt64-by) {
		return 0, ErrOverflow
	}
	return n + by, nil
}

// incrFloat is INCRBYFLOAT on a value's text; it returns the new text.
func incrFloat(text string, exists bool, by string, notFloat error) ([]byte, error) {
	var f float64
	if exists {
		var ok bool
		if f, ok = strtold(text); !ok {
			return nil, notFloat
		}
	}
	inc, ok := strtold(by)
	if !ok || math.IsInf(f+inc, 0) {
		return nil, ErrNotFloat
	}
	return FormatFloat(f + inc), nil
}

func (m *redisModel) clear() { *m = redisModel{} }

func (m *redisModel) become(t version.Type) {
	if m.ok {
		return
	}
	*m = redisModel{typ: t, ok: true, hash: map[string]string{}, set: map[string]bool{}, zset: map[string]float64{}}
}

// size is the number of elements of a collection.
func (m *redisModel) size() int { return len(m.hash) + len(m.set) + len(m.zset) }

// settle deletes an emptied collection, as Redis does.
func (m *redisModel) settle() {
	if m.ok && m.typ != version.TypeString && m.size() == 0 {
		m.clear()
	}
}

// apply runs s on the model and returns the reply Redis gives. For SPOP,
// whose members are chosen at random, popped says which ones the
// implementation chose (they must be members).
func (m *redisModel) apply(s step, popped [][]byte) (res Result, err error) {
	defer m.settle()
	if s.str {
		m.clear()
		if !s.del {
			m.typ, m.ok, m.str = version.TypeString, true, string(s.value)
		}
		return res, nil
	}
	op := s.op
	want := op.keyType()
	if want == version.TypeCounter {
		want = version.TypeString
	}
	if m.ok && m.typ != want && op.Kind != OpStore {
		return res, ErrWrongType
	}
	switch op.Kind {
	case OpIncrBy:
		n, err := incrInt(m.str, m.ok, op.Int, ErrNotInteger)
		if err != nil {
			return res, err
		}
		m.become(version.TypeString)
		res.Int, m.str = n, strconv.FormatInt(n, 10)
	case OpIncrByFloat:
		text, err := incrFloat(m.str, m.ok, op.Float, ErrNotFloat)
		if err != nil {
			return res, err
		}
		m.become(version.TypeString)
		res.Bytes, m.str, m.floaty = text, string(text), true
	case OpHSet:
		m.become(version.TypeHash)
		if op.Flags&FlagNX != 0 {
			if _, ok := m.hash[string(op.Fields[0])]; ok {
				return res, nil
			}
		}
		for i, f := range op.Fields {
			if _, ok := m.hash[string(f)]; !ok {
				res.Int++
			}
			m.hash[string(f)] = string(op.Values[i])
		}
	case OpHDel, OpSRem, OpZRem:
		for _, f := range op.Fields {
			if m.delete(string(f)) {
				res.Int++
			}
		}
	case OpHIncrBy:
		v, ok := m.hash[string(op.Fields[0])]
		n, err := incrInt(v, ok, op.Int, ErrHashNotInteger)
		if err != nil {
			return res, err
		}
		m.become(version.TypeHash)
		res.Int, m.hash[string(op.Fields[0])] = n, strconv.FormatInt(n, 10)
	case OpHIncrByFloat:
		v, ok := m.hash[string(op.Fields[0])]
		text, err := incrFloat(v, ok, op.Float, ErrHashNotFloat)
		if err != nil {
			return res, err
		}
		m.become(version.TypeHash)
		res.Bytes, m.hash[string(op.Fields[0])], m.floaty = text, string(text), true
	case OpSAdd:
		m.become(version.TypeSet)
		for _, f := range op.Fields {
			if !m.set[string(f)] {
				res.Int++
				m.set[string(f)] = true
			}
		}
	case OpSPop:
		res.Values = [][]byte{}
		if len(popped) != int(min(op.Int, int64(len(m.set)))) {
			return res, errors.New("SPOP popped the wrong number of members")
		}
		for _, f := range popped {
			if !m.delete(string(f)) {
				return res, errors.New("SPOP popped a member that was not there")
			}
			res.Values = append(res.Values, f)
		}
	case OpZAdd:
		return m.zadd(op)
	case OpZPopMin, OpZPopMax:
		res.Values = [][]byte{}
		for _, e := range m.sortedZSet(op.Kind == OpZPopMax)[:min(int64(len(m.zset)), op.Int)] {
			m.delete(string(e.Field))
			res.Values = append(res.Values, e.Field, FormatScore(e.Score))
		}
	case OpZRemRangeByScore, OpZRemRangeByLex, OpZRemRangeByRank:
		return m.zremrange(op)
	case OpStore:
		for _, v := range op.Values {
			if _, err := ParseScore(v); op.Type == version.TypeZSet && err != nil {
				return res, err
			}
		}
		m.clear()
		m.become(op.Type)
		for i, f := range op.Fields {
			switch op.Type {
			case version.TypeHash:
				m.hash[string(f)] = string(op.Values[i])
			case version.TypeSet:
				m.set[string(f)] = true
			case version.TypeZSet:
				m.zset[string(f)], _ = ParseScore(op.Values[i])
			}
		}
		res.Int = int64(m.size())
	}
	return res, nil
}

// beyondFloat reports whether a number the model holds is past float64's
// exact integers.
func (m *redisModel) beyondFloat() bool {
	for _, v := range append(slices.Collect(maps.Values(m.hash)), m.str) {
		if f, ok := strtold(v); ok && math.Abs(f) > 1<<53 {
			return true
		}
	}
	return false
}

func (m *redisModel) delete(f string) bool {
	_, h := m.hash[f]
	_, z := m.zset[f]
	ok := h || z || m.set[f]
	delete(m.hash, f)
	delete(m.set, f)
	delete(m.zset, f)
	return ok
}

// zadd is zaddGenericCommand of Redis 7, element by element.
func (m *redisModel) zadd(op Op) (res Result, err error) {
	scores := make([]float64, len(op.Values))
	for i, v := range op.Values {
		if scores[i], err = ParseScore(v); err != nil {
			return res, err
		}
	}
	nx, xx, gt, lt := op.Flags&FlagNX != 0, op.Flags&FlagXX != 0, op.Flags&FlagGT != 0, op.Flags&FlagLT != 0
	incr := op.Flags&FlagIncr != 0
	m.become(version.TypeZSet)
	var added, updated int64
	for i, f := range op.Fields {
		score := scores[i]
		cur, exists := m.zset[string(f)]
		switch {
		case exists && nx, !exists && xx:
			res.Null = incr
			continue
		case exists:
			if incr {
				score += cur
				if math.IsNaN(score) {
					return Result{}, ErrNaN
				}
			}
			if (gt && score <= cur) || (lt && score >= cur) {
				res.Null = incr
				continue
			}
			if score != cur {
				m.zset[string(f)] = score
				updated++
			}
		default:
			m.zset[string(f)] = score
			added++
		}
		if incr {
			res.Bytes = FormatScore(score)
		}
	}
	if !incr {
		res.Int = added
		if op.Flags&FlagCH != 0 {
			res.Int += updated
		}
	}
	return res, nil
}

// sortedZSet is the sorted set in Redis's order (reversed for ZPOPMAX).
func (m *redisModel) sortedZSet(reverse bool) []Element {
	var els []Element
	for f, sc := range m.zset {
		els = append(els, Element{Field: []byte(f), Score: sc})
	}
	SortByScore(els)
	if reverse {
		slices.Reverse(els)
	}
	return els
}

func (m *redisModel) zremrange(op Op) (res Result, err error) {
	var in func(rank int, e Element) bool
	switch op.Kind {
	case OpZRemRangeByScore:
		lo, err1 := ParseScoreBound(op.Values[0])
		hi, err2 := ParseScoreBound(op.Values[1])
		if err = errors.Join(err1, err2); err != nil {
			return res, ErrMinMaxFloat
		}
		in = func(_ int, e Element) bool { return lo.AboveMin(e.Score) && hi.BelowMax(e.Score) }
	case OpZRemRangeByLex:
		lo, err1 := ParseLexBound(op.Values[0])
		hi, err2 := ParseLexBound(op.Values[1])
		if err = errors.Join(err1, err2); err != nil {
			return res, ErrMinMaxLex
		}
		in = func(_ int, e Element) bool { return lo.AboveMin(e.Field) && hi.BelowMax(e.Field) }
	default:
		start, _ := strconv.ParseInt(string(op.Values[0]), 10, 64)
		stop, _ := strconv.ParseInt(string(op.Values[1]), 10, 64)
		from, to, ok := RankRange(start, stop, len(m.zset))
		in = func(rank int, _ Element) bool { return ok && rank >= from && rank <= to }
	}
	for rank, e := range m.sortedZSet(false) {
		if in(rank, e) {
			m.delete(string(e.Field))
			res.Int++
		}
	}
	return res, nil
}

// read is the model's state as the read functions show it.
func (m *redisModel) read() string {
	if !m.ok {
		return "missing"
	}
	switch m.typ {
	case version.TypeString:
		return "string " + strconv.Quote(m.str)
	case version.TypeHash:
		return "hash " + fmtMap(m.hash)
	case version.TypeSet:
		return "set " + strconv.Quote(fmtStrings(slices.Sorted(maps.Keys(m.set))))
	}
	z := map[string]string{}
	for f, sc := range m.zset {
		z[f] = string(FormatScore(sc))
	}
	return "zset " + fmtMap(z)
}

func TestSequentialMatchesRedisModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var m redisModel
		var o version.Object
		now := int64(1000)
		fams := rapid.SampledFrom([]int{famAll, famCounter | famString, famHash, famSet, famZSet}).Draw(t, "families")
		steps := rapid.IntRange(1, 40).Draw(t, "steps")
		for range steps {
			now += 10
			s := drawStep(t, fams)
			s.expiry = 0 // no clock in the model
			before := o
			next, res, err := run(t, o, s, testActor(0), now)
			if errors.Is(err, ErrOverflow) && wouldWrap(before, s.op, now) {
				continue // a documented limit: nothing written, as the model is
			}
			wantRes, wantErr := m.apply(s, res.Values)
			if !errors.Is(err, wantErr) && !(err == nil && wantErr == nil) {
				t.Fatalf("%v on %s: error %v, Redis %v\n%s", s, m.read(), err, wantErr, dump(before))
			}
			if s.op.Kind == OpZAdd && s.op.Flags&FlagIncr != 0 {
				res.Int = 0 // ZADD INCR answers the score (or nil) only
			}
			if err == nil && !s.str && !sameResult(res, wantRes) {
				t.Fatalf("%v: reply %+v, Redis %+v\n%s", s, res, wantRes, dump(before))
			}
			o = next
			if m.floaty && m.beyondFloat() {
				return // beyond float64's exact integers: Redis's long double differs
			}
			if got, want := readObject(t, o, now), m.read(); got != want {
				t.Fatalf("after %v: reads %s, Redis %s\nbefore:\n%s\nafter:\n%s", s, got, want, dump(before), dump(o))
			}
		}
	})
}

// wouldWrap reports whether an integer increment would wrap the actor's
// monotonic sums in the counter it adds to, which Apply refuses.
func wouldWrap(o version.Object, op Op, nowMs int64) bool {
	var c Counter
	switch op.Kind {
	case OpIncrBy:
		c, _ = counterOf(o, nowMs)
	case OpHIncrBy:
		for _, g := range group(o, version.TypeHash) {
			if string(g[0].Field) == string(op.Fields[0]) {
				c, _ = elementCounter(g)
			}
		}
	default:
		return false
	}
	_, ok := c.addInt(testActor(0), op.Int)
	return !ok
}
