package crdt

import (
	"errors"
	"math"
	"testing"

	"github.com/dynago/dynago/version"
)

// FormatScore prints what Redis 7.2's d2string prints (fpconv_dtoa's
// layout of the shortest digits; integers within ±2^62 as integers).
func TestFormatScore(t *testing.T) {
	for _, tt := range []struct {
		f    float64
		want string
	}{
		{0, "0"},
		{1, "1"},
		{-3, "-3"},
		{0.1, "0.1"},
		{-2.5, "-2.5"},
		{1234567.5, "1234567.5"},
		{0.00001, "0.00001"},
		{0.000001, "0.000001"},
		{1.5e-7, "1.5e-7"},
		{-1.5e-7, "-1.5e-7"},
		{1e17, "100000000000000000"},
		{1e19, "1e+19"},
		{1.2345678901234567e19, "12345678901234567000"},
		{1e20, "1e+20"},
		{1e300, "1e+300"},
		{1.25e-100, "1.25e-100"},
		{123456789.125, "123456789.125"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
	} {
		got := string(FormatScore(tt.f))
		if got != tt.want {
			t.Errorf("FormatScore(%v) = %q, want %q", tt.f, got, tt.want)
		}
		if back, err := ParseScore([]byte(got)); err != nil || back != tt.f {
			t.Errorf("ParseScore(%q) = %v, %v", got, back, err)
		}
	}
}

// OpStore overwrites a key of another type (ZUNIONSTORE into a string key),
// and an empty store deletes it.
func TestZStoreReplacesAnyType(t *testing.T) {
	actor := version.NewActor([]byte("node"), 1)
	str := version.Object{}.Write(actor, 1, nil, nil, version.Sibling{Value: []byte("v"), Timestamp: 1})
	op := Op{Kind: OpStore, Type: version.TypeZSet, Fields: [][]byte{[]byte("m")}, Values: [][]byte{[]byte("2.5")}}
	next, write, _, err := Apply(str, op, actor, nil, 10)
	if err != nil || !write {
		t.Fatalf("store over a string: write %v, %v", write, err)
	}
	els, found, err := Elements(next, version.TypeZSet, 10)
	if err != nil || !found || len(els) != 1 || els[0].Score != 2.5 {
		t.Fatalf("stored %v %v %v", els, found, err)
	}
	next, _, _, err = Apply(next, Op{Kind: OpStore, Type: version.TypeSet}, actor, nil, 11)
	if _, live := next.Value(11); err != nil || live {
		t.Fatalf("empty store: live %v, %v", live, err)
	}
}

// ZINCRBY by an infinity, or past the largest float, leaves a readable
// infinite score (a counter cannot hold one), and the opposite infinity
// is Redis's NaN error.
func TestIncrementToInfinity(t *testing.T) {
	actor := version.NewActor([]byte("node"), 1)
	incr := func(o version.Object, by string, now int64) (version.Object, Result, error) {
		op := Op{Kind: OpZAdd, Flags: FlagIncr, Fields: [][]byte{[]byte("m")}, Values: [][]byte{[]byte(by)}}
		next, _, res, err := Apply(o, op, actor, nil, now)
		return next, res, err
	}
	score := func(o version.Object) float64 {
		e, ok, err := Lookup(o, version.TypeZSet, []byte("m"), 100)
		if !ok || err != nil {
			t.Fatalf("lookup: %v %v", ok, err)
		}
		return e.Score
	}
	o, _, err := incr(version.Object{}, "1.5e308", 1)
	if err != nil {
		t.Fatal(err)
	}
	if o, _, err = incr(o, "1.5e308", 2); err != nil || !math.IsInf(score(o), 1) {
		t.Fatalf("past the largest float: %v", err)
	}
	if o, _, err = incr(o, "-1", 3); err != nil || !math.IsInf(score(o), 1) {
		t.Fatalf("inf - 1: %v", err)
	}
	if _, _, err = incr(o, "-inf", 4); !errors.Is(err, ErrNaN) {
		t.Fatalf("inf + -inf: %v, want ErrNaN", err)
	}
	o, _, _ = incr(version.Object{}, "-inf", 5)
	if !math.IsInf(score(o), -1) {
		t.Fatalf("-inf: %v", score(o))
	}
}
