package crdt

// Shared helpers of the crdt tests: actors, generators of typed ops over
// small alphabets (so that members, fields and replicas collide), replicas
// that coordinate writes and merge, and a canonical object comparison.

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dynago/dynago/version"
	"pgregory.net/rapid"
)

func testActor(i int) version.Actor {
	return version.NewActor([]byte{'n', byte(i), 0, 0, 0, 0, 0, byte(i)}, uint32(i+1))
}

// members is the alphabet of members and fields: "" is a valid member
// (HSET h "" v) and must stay an element.
var members = []string{"", "a", "b", "c", "d", "e"}

// Values for SET, HSET and scores, chosen to hit the parsers' edges; the
// numbers are dyadic so float sums do not depend on their order.
var (
	strValues   = []string{"10", "-5", "abc", "1.5", "007", " 1", "", "0", "9223372036854775806"}
	floatIncrs  = []string{"0.5", "1", "-1.5", "2.25", "10", "1e2", "abc", "inf", ""}
	scoreValues = []string{"1", "2", "-1", "1.5", "0", "inf", "-inf", "2.5"}
	scoreBounds = []string{"-inf", "+inf", "1", "(1", "2", "(2.5", "-1", "abc"}
	lexBounds   = []string{"-", "+", "[a", "(b", "[c", "(", "[", "x"}
	intIncrs    = []int64{1, -1, 5, -7, 100, 1 << 62, -(1 << 62)}
)

func drawMember(t *rapid.T, label string) []byte {
	return []byte(rapid.SampledFrom(members).Draw(t, label))
}

func drawMembers(t *rapid.T, label string) [][]byte {
	n := rapid.IntRange(1, 3).Draw(t, label+"#")
	out := make([][]byte, n)
	for i := range out {
		out[i] = drawMember(t, label)
	}
	return out
}

func drawFrom(t *rapid.T, vals []string, n int, label string) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(rapid.SampledFrom(vals).Draw(t, label))
	}
	return out
}

// Op families a history may draw from.
const (
	famCounter = 1 << iota
	famHash
	famSet
	famZSet
	famString // SET and DEL, written as the string layer writes them
	famAll    = famCounter | famHash | famSet | famZSet | famString
)

// step is one thing a replica does: a typed op, or a string write (SET
// with Value, DEL with del).
type step struct {
	op     Op
	str    bool
	del    bool
	value  []byte
	expiry int64 // a relative expiry for SET, 0 for none
}

func (s step) String() string {
	switch {
	case s.str && s.del:
		return "DEL"
	case s.str:
		return fmt.Sprintf("SET %q ex=%d", s.value, s.expiry)
	}
	return fmt.Sprintf("%+v", s.op)
}

// drawStep draws a step of one of the families in fams.
func drawStep(t *rapid.T, fams int) step {
	var choices []func() step
	if fams&famCounter != 0 {
		choices = append(choices,
			func() step {
				return step{op: Op{Kind: OpIncrBy, Int: rapid.SampledFrom(intIncrs).Draw(t, "incr")}}
			},
			func() step {
				return step{op: Op{Kind: OpIncrByFloat, Float: rapid.SampledFrom(floatIncrs).Draw(t, "incrf")}}
			})
	}
	if fams&famHash != 0 {
		choices = append(choices,
			func() step {
				f := drawMembers(t, "hfield")
				op := Op{Kind: OpHSet, Fields: f, Values: drawFrom(t, strValues, len(f), "hval")}
				if rapid.IntRange(0, 3).Draw(t, "hsetnx") == 0 {
					op.Flags, op.Fields, op.Values = FlagNX, f[:1], op.Values[:1]
				}
				return step{op: op}
			},
			func() step { return step{op: Op{Kind: OpHDel, Fields: drawMembers(t, "hdel")}} },
			func() step {
				return step{op: Op{Kind: OpHIncrBy, Fields: [][]byte{drawMember(t, "hincr")}, Int: rapid.SampledFrom(intIncrs).Draw(t, "by")}}
			},
			func() step {
				return step{op: Op{Kind: OpHIncrByFloat, Fields: [][]byte{drawMember(t, "hincrf")}, Float: rapid.SampledFrom(floatIncrs).Draw(t, "byf")}}
			})
	}
	if fams&famSet != 0 {
		choices = append(choices,
			func() step { return step{op: Op{Kind: OpSAdd, Fields: drawMembers(t, "sadd")}} },
			func() step { return step{op: Op{Kind: OpSRem, Fields: drawMembers(t, "srem")}} },
			func() step {
				return step{op: Op{Kind: OpSPop, Int: int64(rapid.IntRange(0, 3).Draw(t, "spop")), Seed: rapid.Uint64().Draw(t, "seed")}}
			})
	}
	if fams&famZSet != 0 {
		choices = append(choices,
			func() step { return step{op: drawZAdd(t)} },
			func() step { return step{op: Op{Kind: OpZRem, Fields: drawMembers(t, "zrem")}} },
			func() step {
				k := rapid.SampledFrom([]OpKind{OpZPopMin, OpZPopMax}).Draw(t, "zpop")
				return step{op: Op{Kind: k, Int: int64(rapid.IntRange(0, 3).Draw(t, "count"))}}
			},
			func() step {
				switch rapid.IntRange(0, 2).Draw(t, "zremrange") {
				case 0:
					return step{op: Op{Kind: OpZRemRangeByScore, Values: drawFrom(t, scoreBounds, 2, "sbound")}}
				case 1:
					return step{op: Op{Kind: OpZRemRangeByLex, Values: drawFrom(t, lexBounds, 2, "lbound")}}
				}
				r := func(l string) []byte { return []byte(fmt.Sprint(rapid.IntRange(-4, 4).Draw(t, l))) }
				return step{op: Op{Kind: OpZRemRangeByRank, Values: [][]byte{r("start"), r("stop")}}}
			})
	}
	if fams&(famHash|famSet|famZSet) != 0 {
		choices = append(choices, func() step { return step{op: drawStore(t, fams)} })
	}
	if fams&famString != 0 {
		choices = append(choices, func() step {
			s := step{str: true, del: rapid.Bool().Draw(t, "del")}
			if !s.del {
				s.value = []byte(rapid.SampledFrom(strValues).Draw(t, "set"))
				if rapid.IntRange(0, 4).Draw(t, "ex?") == 0 {
					s.expiry = int64(rapid.IntRange(1, 40).Draw(t, "ex"))
				}
			}
			return s
		})
	}
	return choices[rapid.IntRange(0, len(choices)-1).Draw(t, "kind")]()
}

// drawZAdd draws a ZADD with a valid combination of options (the RESP
// layer refuses the others): INCR takes one pair, NX excludes XX, GT, LT.
func drawZAdd(t *rapid.T) Op {
	op := Op{Kind: OpZAdd, Fields: drawMembers(t, "zadd")}
	switch rapid.IntRange(0, 3).Draw(t, "cond") {
	case 1:
		op.Flags |= FlagNX
	case 2:
		op.Flags |= FlagXX
	}
	if op.Flags&FlagNX == 0 {
		op.Flags |= rapid.SampledFrom([]uint16{0, 0, FlagGT, FlagLT}).Draw(t, "gtlt")
	}
	if rapid.Bool().Draw(t, "ch") {
		op.Flags |= FlagCH
	}
	if rapid.IntRange(0, 3).Draw(t, "incr?") == 0 {
		op.Flags |= FlagIncr
		op.Fields = op.Fields[:1]
	}
	op.Values = drawFrom(t, scoreValues, len(op.Fields), "score")
	return op
}

func drawStore(t *rapid.T, fams int) Op {
	var types []version.Type
	for f, typ := range map[int]version.Type{famHash: version.TypeHash, famSet: version.TypeSet, famZSet: version.TypeZSet} {
		if fams&f != 0 {
			types = append(types, typ)
		}
	}
	sortTypes(types)
	op := Op{Kind: OpStore, Type: rapid.SampledFrom(types).Draw(t, "storetype")}
	n := rapid.IntRange(0, 3).Draw(t, "storen")
	for range n {
		op.Fields = append(op.Fields, drawMember(t, "storef"))
	}
	switch op.Type {
	case version.TypeHash:
		op.Values = drawFrom(t, strValues, n, "storev")
	case version.TypeZSet:
		op.Values = drawFrom(t, scoreValues, n, "stores")
	}
	return op
}

func sortTypes(ts []version.Type) {
	for i := range ts {
		for j := i + 1; j < len(ts); j++ {
			if ts[j] < ts[i] {
				ts[i], ts[j] = ts[j], ts[i]
			}
		}
	}
}

// clientErrors are the errors Apply may answer; anything else (a malformed
// object above all) means a reachable state broke an invariant.
var clientErrors = []error{ErrWrongType, ErrNotInteger, ErrOverflow, ErrNotFloat,
	ErrHashNotInteger, ErrHashNotFloat, ErrNaN, ErrMinMaxFloat, ErrMinMaxLex}

func isClientError(err error) bool {
	for _, e := range clientErrors {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// tb is what both *testing.T and *rapid.T offer.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// run applies s at the coordinator holding cur, as the coordinator and the
// string layer do, and checks what comes out: a client error writes nothing,
// a write is a valid object that descends cur.
func run(t tb, cur version.Object, s step, actor version.Actor, nowMs int64) (next version.Object, res Result, err error) {
	t.Helper()
	if s.str {
		sib := version.Sibling{Type: version.TypeString, Value: s.value, Timestamp: nowMs}
		if s.del {
			sib = version.Sibling{Tombstone: true, Timestamp: nowMs}
		}
		if s.expiry != 0 {
			sib.Expiry = nowMs + s.expiry
		}
		next = cur.Write(actor, 0, cur.VV, nil, sib)
	} else {
		var write bool
		next, write, res, err = Apply(cur, s.op, actor, nil, nowMs)
		switch {
		case err != nil && !isClientError(err):
			t.Fatalf("%v: unexpected error %v on\n%s", s, err, dump(cur))
		case (err != nil || !write) && !sameObject(next, cur):
			t.Fatalf("%v: no write (err %v) but the object changed", s, err)
		}
	}
	if verr := next.Validate(); verr != nil {
		t.Fatalf("%v: invalid object: %v\nbefore:\n%s\nafter:\n%s", s, verr, dump(cur), dump(next))
	}
	if !next.VV.Descends(cur.VV) {
		t.Fatalf("%v: VV %s does not descend %s", s, next.VV, cur.VV)
	}
	return next, res, err
}

// sameObject is the canonical comparison: the same VV and the same
// siblings, field by field (Sibling.Equal), in order.
func sameObject(a, b version.Object) bool {
	return a.VV.Equal(b.VV) && slices.EqualFunc(a.Siblings, b.Siblings, version.Sibling.Equal)
}

func dump(o version.Object) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  vv %s\n", o.VV)
	for _, s := range o.Siblings {
		field := "<header>"
		if s.IsElement() {
			field = fmt.Sprintf("%q", s.Field)
		}
		fmt.Fprintf(&b, "  %s %s type=%d tomb=%v ts=%d exp=%d val=%q\n", s.Dot, field, s.Type, s.Tombstone, s.Timestamp, s.Expiry, s.Value)
	}
	return b.String()
}

// view is everything the read functions say about an object at one time,
// as comparable text.
func view(o version.Object, nowMs int64) string {
	var b strings.Builder
	typ, ok := KeyType(o, nowMs)
	fmt.Fprintf(&b, "type=%v/%v ", typ, ok)
	val, _, found, err := StringValue(o, nowMs)
	fmt.Fprintf(&b, "string=%q/%v/%v ", val, found, err)
	for _, t := range []version.Type{version.TypeHash, version.TypeSet, version.TypeZSet} {
		els, found, err := Elements(o, t, nowMs)
		fmt.Fprintf(&b, "%v=%v/%v:", t, found, err)
		for _, e := range els {
			fmt.Fprintf(&b, " %q=%q/%v", e.Field, e.Value, e.Score)
		}
		b.WriteString(" ")
	}
	return b.String()
}

// cluster is a few replicas of one key, each coordinating writes on its
// own object and merging the others' (replication, hints, anti-entropy).
type cluster struct {
	objs   []version.Object
	skew   []int64 // each replica's clock offset, so timestamps disagree
	now    int64
	seen   []version.Object // every object any replica held
	stable []version.Object // snapshots for re-delivery
}

func newCluster(t *rapid.T) *cluster {
	n := rapid.IntRange(1, 4).Draw(t, "replicas")
	c := &cluster{objs: make([]version.Object, n), skew: make([]int64, n), now: 1000}
	for i := range c.skew {
		c.skew[i] = int64(rapid.IntRange(-20, 20).Draw(t, "skew"))
	}
	return c
}

// do runs one step at replica r and records the result.
func (c *cluster) do(t *rapid.T, r int, s step) (prev version.Object, res Result, err error) {
	c.now += 5
	prev = c.objs[r]
	c.objs[r], res, err = run(t, prev, s, testActor(r), c.now+c.skew[r])
	c.seen = append(c.seen, c.objs[r])
	return prev, res, err
}

// merge delivers replica from's object (or an old snapshot) to replica to.
func (c *cluster) merge(t *rapid.T, to int, o version.Object) {
	c.objs[to] = version.Merge(c.objs[to], o)
	if err := c.objs[to].Validate(); err != nil {
		t.Fatalf("merge made an invalid object: %v\n%s", err, dump(c.objs[to]))
	}
	c.seen = append(c.seen, c.objs[to])
}

// randomHistory drives the cluster through steps random ops and merges.
// onStep is called after each op (may be nil).
func (c *cluster) randomHistory(t *rapid.T, fams int, onStep func(r int, s step, prev version.Object, res Result, err error)) {
	steps := rapid.IntRange(1, 40).Draw(t, "steps")
	for range steps {
		r := rapid.IntRange(0, len(c.objs)-1).Draw(t, "replica")
		switch rapid.IntRange(0, 3).Draw(t, "what") {
		case 0:
			from := rapid.IntRange(0, len(c.objs)-1).Draw(t, "from")
			c.merge(t, r, c.objs[from])
			if rapid.Bool().Draw(t, "keep") {
				c.stable = append(c.stable, c.objs[from])
			}
		default:
			s := drawStep(t, fams)
			prev, res, err := c.do(t, r, s)
			if onStep != nil {
				onStep(r, s, prev, res, err)
			}
		}
	}
}

// converge has every replica exchange state with every other in a random
// order, for as many rounds as it takes to spread anything anywhere, and
// re-delivers old snapshots along the way.
func (c *cluster) converge(t *rapid.T) {
	n := len(c.objs)
	var pairs [][2]int
	for i := range n {
		for j := range n {
			if i != j {
				pairs = append(pairs, [2]int{i, j})
			}
		}
	}
	for range n {
		for _, p := range rapid.Permutation(pairs).Draw(t, "order") {
			c.merge(t, p[0], c.objs[p[1]])
			if len(c.stable) > 0 && rapid.IntRange(0, 3).Draw(t, "redeliver?") == 0 {
				c.merge(t, p[0], rapid.SampledFrom(c.stable).Draw(t, "old"))
			}
		}
	}
	for i := 1; i < n; i++ {
		if !sameObject(c.objs[i], c.objs[0]) {
			t.Fatalf("replicas 0 and %d differ after convergence:\n%s---\n%s", i, dump(c.objs[0]), dump(c.objs[i]))
		}
	}
}

func fieldsOf(els []Element) []string {
	out := make([]string, 0, len(els))
	for _, e := range els {
		out = append(out, string(e.Field))
	}
	return out
}

// readObject is the object's state as the read functions show it.
func readObject(t tb, o version.Object, nowMs int64) string {
	typ, ok := KeyType(o, nowMs)
	if !ok {
		return "missing"
	}
	if typ == version.TypeString {
		v, _, found, err := StringValue(o, nowMs)
		if err != nil || !found {
			t.Fatalf("StringValue: %v %v", found, err)
		}
		return "string " + strconv.Quote(string(v))
	}
	els, found, err := Elements(o, typ, nowMs)
	if err != nil || !found {
		t.Fatalf("Elements: %v %v", found, err)
	}
	switch typ {
	case version.TypeHash:
		h := map[string]string{}
		for _, e := range els {
			h[string(e.Field)] = string(e.Value)
		}
		return "hash " + fmtMap(h)
	case version.TypeSet:
		return "set " + strconv.Quote(fmtStrings(fieldsOf(els)))
	}
	z := map[string]string{}
	for _, e := range els {
		z[string(e.Field)] = string(FormatScore(e.Score))
	}
	return "zset " + fmtMap(z)
}

func fmtMap(m map[string]string) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, strconv.Quote(k)+"="+strconv.Quote(m[k]))
	}
	return fmtStrings(out)
}

func fmtStrings(s []string) string {
	sort.Strings(s)
	return "[" + joinQuoted(s) + "]"
}

func joinQuoted(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

func sameResult(a, b Result) bool {
	return a.Int == b.Int && a.Null == b.Null && string(a.Bytes) == string(b.Bytes) &&
		slices.EqualFunc(a.Values, b.Values, func(x, y []byte) bool { return string(x) == string(y) })
}
