package crdt

// Regression tests for bugs the property and model tests found; each case
// is the shrunk failing history.

import (
	"errors"
	"math"
	"testing"

	"github.com/dynago/dynago/version"
)

// applyAt runs ops at replica r in order (now advancing) and fails on an
// unexpected error; it returns the last reply and error.
func applyAt(t *testing.T, o *version.Object, r int, now int64, ops ...Op) (Result, error) {
	t.Helper()
	var res Result
	var err error
	for i, op := range ops {
		*o, res, err = run(t, *o, step{op: op}, testActor(r), now+int64(i))
	}
	return res, err
}

func sadd(m ...string) Op { return Op{Kind: OpSAdd, Fields: bytesOf(m...)} }
func srem(m ...string) Op { return Op{Kind: OpSRem, Fields: bytesOf(m...)} }

func bytesOf(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i, x := range s {
		out[i] = []byte(x)
	}
	return out
}

func setMembers(t *testing.T, o version.Object) []string {
	t.Helper()
	els, _, err := Elements(o, version.TypeSet, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	return fieldsOf(els)
}

// A remove that empties a set wrote a plain tombstone, newer by the clock
// than a concurrent SADD it never saw, and hid the added member.
func TestEmptyingRemoveDoesNotHideConcurrentAdd(t *testing.T) {
	var a, b version.Object
	applyAt(t, &a, 0, 100, sadd("x"))
	b = a
	applyAt(t, &a, 0, 300, srem("x")) // empties the set: a later clock
	applyAt(t, &b, 1, 200, sadd("y")) // concurrent, never seen by the remove
	for _, m := range []version.Object{version.Merge(a, b), version.Merge(b, a)} {
		if got := setMembers(t, m); len(got) != 1 || got[0] != "y" {
			t.Fatalf("merged set %q, want [y]\n%s", got, dump(m))
		}
		// The next write at a replica holding the merge keeps y.
		next := m
		applyAt(t, &next, 2, 400, sadd("z"))
		if got := setMembers(t, next); len(got) != 2 {
			t.Fatalf("after SADD z: %q", got)
		}
	}
}

// Concurrent removals of the last two members left a live header with no
// elements: TYPE said set, SCARD 0, and the key was never dead.
func TestConcurrentRemovalsLeaveNoEmptyCollection(t *testing.T) {
	var a, b version.Object
	applyAt(t, &a, 0, 100, sadd("x", "y"))
	b = a
	applyAt(t, &a, 0, 200, srem("x"))
	applyAt(t, &b, 1, 200, srem("y"))
	m := version.Merge(a, b)
	if typ, ok := KeyType(m, 300); ok {
		t.Fatalf("empty set reads as %v\n%s", typ, dump(m))
	}
	if _, found, _ := Elements(m, version.TypeSet, 300); found {
		t.Fatal("Elements found an empty set")
	}
	if !m.Dead(300) {
		t.Fatal("an empty set must be dead so that it can be reaped")
	}
	// It is a missing key to any command: HSET does not see a set.
	if _, err := applyAt(t, &m, 2, 400, Op{Kind: OpHSet, Fields: bytesOf("f"), Values: bytesOf("v")}); err != nil {
		t.Fatal(err)
	}
}

func TestApplyRegressions(t *testing.T) {
	incr := func(n int64) Op { return Op{Kind: OpIncrBy, Int: n} }
	incrf := func(f string) Op { return Op{Kind: OpIncrByFloat, Float: f} }
	hset := func(f, v string) Op { return Op{Kind: OpHSet, Fields: bytesOf(f), Values: bytesOf(v)} }
	zadd := func(flags uint16, pairs ...string) Op {
		op := Op{Kind: OpZAdd, Flags: flags}
		for i := 0; i < len(pairs); i += 2 {
			op.Values = append(op.Values, []byte(pairs[i]))
			op.Fields = append(op.Fields, []byte(pairs[i+1]))
		}
		return op
	}
	set := func(v string) func(*version.Object) {
		return func(o *version.Object) {
			*o = o.Write(testActor(0), 0, o.VV, nil, version.Sibling{Value: []byte(v), Timestamp: 1})
		}
	}
	for _, tc := range []struct {
		name    string
		setup   func(*version.Object)
		ops     []Op
		wantErr error
		want    Result
		read    string // readObject's view afterwards
	}{
		{"INCR after INCRBYFLOAT made a whole number", set("1.5"), []Op{incrf("0.5"), incr(1)}, nil, Result{Int: 3}, `string "3"`},
		{"INCR of an empty string", set(""), []Op{incr(1)}, ErrNotInteger, Result{}, `string ""`},
		{"INCRBYFLOAT of an empty string", set(""), []Op{incrf("1")}, ErrNotFloat, Result{}, `string ""`},
		{"HINCRBY of an empty value", nil, []Op{hset("f", ""), {Kind: OpHIncrBy, Fields: bytesOf("f"), Int: 1}}, ErrHashNotInteger, Result{}, `hash ["f"=""]`},
		{"HINCRBYFLOAT of an empty value", nil, []Op{hset("f", ""), {Kind: OpHIncrByFloat, Fields: bytesOf("f"), Float: "1"}}, ErrHashNotFloat, Result{}, `hash ["f"=""]`},
		{"HINCRBY after HINCRBYFLOAT made a whole number", nil, []Op{{Kind: OpHIncrByFloat, Fields: bytesOf("f"), Float: "2.5"}, {Kind: OpHIncrByFloat, Fields: bytesOf("f"), Float: "0.5"}, {Kind: OpHIncrBy, Fields: bytesOf("f"), Int: 1}}, nil, Result{Int: 4}, `hash ["f"="4"]`},
		{"ZADD NX with a member twice", nil, []Op{zadd(FlagNX, "1", "m", "2", "m")}, nil, Result{Int: 1}, `zset ["m"="1"]`},
		{"ZADD GT with a member twice", nil, []Op{zadd(0, "0", "m"), zadd(FlagGT|FlagCH, "5", "m", "3", "m")}, nil, Result{Int: 1}, `zset ["m"="5"]`},
		{"ZADD CH with a member twice", nil, []Op{zadd(0, "0", "m"), zadd(FlagCH, "1", "m", "1", "m")}, nil, Result{Int: 1}, `zset ["m"="1"]`},
		{"ZADD CH adds then updates", nil, []Op{zadd(FlagCH, "1", "m", "2", "m")}, nil, Result{Int: 2}, `zset ["m"="2"]`},
		{"ZINCRBY to inf", nil, []Op{zadd(FlagIncr, "inf", "m"), zadd(FlagIncr, "1", "m")}, nil, Result{Bytes: []byte("inf")}, `zset ["m"="inf"]`},
		{"ZINCRBY inf then -inf", nil, []Op{zadd(FlagIncr, "inf", "m"), zadd(FlagIncr, "-inf", "m")}, ErrNaN, Result{}, `zset ["m"="inf"]`},
		{"STORE over a string", set("s"), []Op{{Kind: OpStore, Type: version.TypeSet, Fields: bytesOf("a")}}, nil, Result{Int: 1}, `set "[a]"`},
		{"STORE keeps the last value of a field", nil, []Op{{Kind: OpStore, Type: version.TypeHash, Fields: bytesOf("a", "a"), Values: bytesOf("1", "2")}}, nil, Result{Int: 1}, `hash ["a"="2"]`},
		{"an empty field is a hash field", nil, []Op{hset("", "v"), hset("a", "w")}, nil, Result{Int: 1}, `hash [""="v" "a"="w"]`},
		{"KeyType of a counter is string", nil, []Op{incr(5)}, nil, Result{Int: 5}, `string "5"`},
		{"actor sum would wrap", nil, []Op{incr(1 << 62), incr(-(1 << 62)), incr(1 << 62), incr(-(1 << 62)), incr(1 << 62), incr(-(1 << 62)), incr(1 << 62)}, ErrOverflow, Result{}, `string "0"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o version.Object
			if tc.setup != nil {
				tc.setup(&o)
			}
			res, err := applyAt(t, &o, 0, 100, tc.ops...)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && tc.ops[len(tc.ops)-1].Flags&FlagIncr == 0 && !sameResult(res, tc.want) ||
				tc.want.Bytes != nil && string(res.Bytes) != string(tc.want.Bytes) {
				t.Fatalf("reply %+v, want %+v", res, tc.want)
			}
			if got := readObject(t, o, 1<<40); got != tc.read {
				t.Fatalf("reads %s, want %s\n%s", got, tc.read, dump(o))
			}
		})
	}
}

// Regressions: one actor's sum beyond int64 while the total fits, an
// integer base past float64's precision, and an actor sum that would wrap.
func TestCounterExactSums(t *testing.T) {
	a, b := testActor(1), testActor(2)
	c := Counter{Ints: []IntEntry{{a, 1 << 63, 0}, {b, 0, 6}}}
	if n, ok := c.Int(); !ok || n != math.MaxInt64-5 {
		t.Fatalf("Int = %d %v", n, ok)
	}
	c = Counter{Ints: []IntEntry{{a, 1<<62 + 1, 0}, {b, 0, 1 << 62}}, Floats: []FloatEntry{{a, 0.5, 0}}}
	if f := c.Float(); f != 1.5 {
		t.Fatalf("Float = %v, want 1.5", f)
	}
	c = Counter{Base: []byte("9223372036854775806"), Ints: []IntEntry{{a, 0, 1<<63 + 7}}}
	if f := c.Float(); f != -9 {
		t.Fatalf("Float = %v, want -9", f)
	}
	if n, ok := (Counter{Ints: []IntEntry{{a, 1 << 63, 0}}}).Int(); ok {
		t.Fatalf("2^63 fits in an int64: %d", n)
	}
	if _, ok := (Counter{Ints: []IntEntry{{a, math.MaxUint64 - 1, math.MaxUint64 - 3}}}).addInt(a, 5); ok {
		t.Fatal("a wrapping actor sum was accepted")
	}
}
