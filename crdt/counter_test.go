package crdt

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/dynago/dynago/version"
	"pgregory.net/rapid"
)

func drawCounter(t *rapid.T) Counter {
	var c Counter
	if rapid.Bool().Draw(t, "base?") {
		c.Base = []byte(rapid.SampledFrom(strValues[:6]).Draw(t, "base"))
		c.BaseTs = rapid.Int64().Draw(t, "basets")
	}
	for i := range rapid.IntRange(0, 3).Draw(t, "ints") {
		c.Ints = append(c.Ints, IntEntry{testActor(i), rapid.Uint64().Draw(t, "p"), rapid.Uint64().Draw(t, "n")})
	}
	for i := range rapid.IntRange(0, 3).Draw(t, "floats") {
		f := rapid.Float64Range(0, 1e300)
		c.Floats = append(c.Floats, FloatEntry{testActor(i), f.Draw(t, "fp"), f.Draw(t, "fn")})
	}
	return c
}

func sameCounter(a, b Counter) bool {
	return bytes.Equal(AppendCounter(nil, a), AppendCounter(nil, b))
}

func TestCounterCodecRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := drawCounter(t)
		enc := AppendCounter(nil, c)
		got, err := DecodeCounter(enc)
		if err != nil || !sameCounter(got, c) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, c, got)
		}
		// Every truncation is refused, without panicking.
		for n := range len(enc) {
			if _, err := DecodeCounter(enc[:n]); !errors.Is(err, version.ErrMalformed) {
				t.Fatalf("truncation to %d of %d bytes accepted", n, len(enc))
			}
		}
		if _, err := DecodeCounter(append(enc, 0)); err == nil {
			t.Fatal("trailing byte accepted")
		}
	})
}

// The join is a join: commutative, associative, idempotent, and it never
// goes below either side.
func TestJoinCountersLaws(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b, c := drawCounter(t), drawCounter(t), drawCounter(t)
		if !sameCounter(JoinCounters(a, b), JoinCounters(b, a)) {
			t.Fatal("join not commutative")
		}
		if !sameCounter(JoinCounters(JoinCounters(a, b), c), JoinCounters(a, JoinCounters(b, c))) {
			t.Fatal("join not associative")
		}
		if !sameCounter(JoinCounters(a, a), a) {
			t.Fatal("join not idempotent")
		}
	})
}

func TestDecodeCounterRejects(t *testing.T) {
	a, b := testActor(1), testActor(2)
	good := Counter{Ints: []IntEntry{{a, 1, 0}}, Floats: []FloatEntry{{a, 0.5, 0}}}
	for name, c := range map[string]Counter{
		"unsorted ints":   {Ints: []IntEntry{{b, 1, 0}, {a, 1, 0}}},
		"repeated ints":   {Ints: []IntEntry{{a, 1, 0}, {a, 2, 0}}},
		"unsorted floats": {Floats: []FloatEntry{{b, 1, 0}, {a, 1, 0}}},
		"negative float":  {Floats: []FloatEntry{{a, -1, 0}}},
		"infinite float":  {Floats: []FloatEntry{{a, math.Inf(1), 0}}},
		"NaN float":       {Floats: []FloatEntry{{a, 0, math.NaN()}}},
	} {
		if _, err := DecodeCounter(AppendCounter(nil, c)); !errors.Is(err, version.ErrMalformed) {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, b := range [][]byte{nil, {0}, {0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}, {5, 'a'}, {0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}} {
		if _, err := DecodeCounter(b); err == nil {
			t.Errorf("DecodeCounter(%x) accepted", b)
		}
	}
	if _, err := DecodeCounter(AppendCounter(nil, good)); err != nil {
		t.Fatal(err)
	}
}

func FuzzDecodeCounter(f *testing.F) {
	a, b := testActor(1), testActor(2)
	f.Add(AppendCounter(nil, Counter{}))
	f.Add(AppendCounter(nil, Counter{Base: []byte("10"), BaseTs: 7, Ints: []IntEntry{{a, 3, 1}, {b, 0, math.MaxUint64}}}))
	f.Add(AppendCounter(nil, Counter{Floats: []FloatEntry{{a, 0.5, 2.25}}}))
	f.Add([]byte{0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := DecodeCounter(in)
		if err != nil {
			return
		}
		again, err := DecodeCounter(AppendCounter(nil, c))
		if err != nil || !sameCounter(again, c) {
			t.Fatalf("re-encoding an accepted counter failed: %v", err)
		}
		_, _ = c.Int()
		_ = c.Text()
		_ = JoinCounters(c, again)
	})
}

func TestParseScore(t *testing.T) {
	for in, want := range map[string]float64{
		"1": 1, "1.5": 1.5, "-2": -2, "1e+20": 1e20, "+3": 3,
		"inf": math.Inf(1), "+inf": math.Inf(1), "-inf": math.Inf(-1), "INF": math.Inf(1), "-Infinity": math.Inf(-1),
	} {
		if got, err := ParseScore([]byte(in)); err != nil || got != want {
			t.Errorf("ParseScore(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "nan", "abc", " 1", "1 ", "1e400", "(1"} {
		if _, err := ParseScore([]byte(in)); err == nil {
			t.Errorf("ParseScore(%q) accepted", in)
		}
	}
	for f, want := range map[float64]string{
		1: "1", 1.5: "1.5", -2: "-2", 0: "0", 1e20: "1e+20", 0.1: "0.1",
		math.Inf(1): "inf", math.Inf(-1): "-inf", 123456789: "123456789",
	} {
		if got := string(FormatScore(f)); got != want {
			t.Errorf("FormatScore(%v) = %q, want %q", f, got, want)
		}
		if back, err := ParseScore(FormatScore(f)); err != nil || back != f {
			t.Errorf("FormatScore(%v) does not parse back: %v %v", f, back, err)
		}
	}
}

func TestParseIntAndFloat(t *testing.T) {
	for in, ok := range map[string]bool{
		"0": true, "-1": true, "10": true, "9223372036854775807": true, "-9223372036854775808": true,
		"": false, "-0": false, "007": false, "+1": false, " 1": false, "1.0": false, "9223372036854775808": false,
	} {
		if _, err := ParseInt([]byte(in)); (err == nil) != ok {
			t.Errorf("ParseInt(%q): %v", in, err)
		}
	}
	for in, ok := range map[string]bool{"1.5": true, "007": true, "1e3": true, "-0": true, "": false, " 1": false, "inf": false, "nan": false, "abc": false} {
		if _, err := ParseFloat([]byte(in)); (err == nil) != ok {
			t.Errorf("ParseFloat(%q): %v", in, err)
		}
	}
}

func TestScoreAndLexBounds(t *testing.T) {
	for _, tc := range []struct {
		in       string
		want     ScoreBound
		above    []float64 // AboveMin true
		notAbove []float64
	}{
		{"1", ScoreBound{Value: 1}, []float64{1, 2}, []float64{0.5}},
		{"(1", ScoreBound{Value: 1, Exclusive: true}, []float64{1.5}, []float64{1}},
		{"-inf", ScoreBound{Value: math.Inf(-1)}, []float64{math.Inf(-1), 0}, nil},
		{"(+inf", ScoreBound{Value: math.Inf(1), Exclusive: true}, nil, []float64{math.Inf(1)}},
	} {
		got, err := ParseScoreBound([]byte(tc.in))
		if err != nil || got != tc.want {
			t.Errorf("ParseScoreBound(%q) = %+v, %v", tc.in, got, err)
		}
		for _, f := range tc.above {
			if !got.AboveMin(f) {
				t.Errorf("%q: %v not above", tc.in, f)
			}
		}
		for _, f := range tc.notAbove {
			if got.AboveMin(f) {
				t.Errorf("%q: %v above", tc.in, f)
			}
		}
	}
	if sb, _ := ParseScoreBound([]byte("(2")); sb.BelowMax(2) || !sb.BelowMax(1.9) {
		t.Error("exclusive upper score bound")
	}
	for _, in := range []string{"", "(", "abc", "((1", "nan"} {
		if _, err := ParseScoreBound([]byte(in)); !errors.Is(err, ErrMinMaxFloat) {
			t.Errorf("ParseScoreBound(%q): %v", in, err)
		}
	}
	for _, tc := range []struct {
		in          string
		above, belo []string // members AboveMin / BelowMax
	}{
		{"-", []string{"", "a"}, nil},
		{"+", nil, []string{"", "z"}},
		{"[b", []string{"b", "c"}, []string{"a", "b"}},
		{"(b", []string{"ba", "c"}, []string{"a", "az"}},
		{"[", []string{"", "a"}, []string{""}},
	} {
		lb, err := ParseLexBound([]byte(tc.in))
		if err != nil {
			t.Fatalf("ParseLexBound(%q): %v", tc.in, err)
		}
		for _, m := range tc.above {
			if !lb.AboveMin([]byte(m)) {
				t.Errorf("%q: %q not above", tc.in, m)
			}
		}
		for _, m := range tc.belo {
			if !lb.BelowMax([]byte(m)) {
				t.Errorf("%q: %q not below", tc.in, m)
			}
		}
	}
	if lb, _ := ParseLexBound([]byte("(b")); lb.AboveMin([]byte("b")) || lb.BelowMax([]byte("b")) {
		t.Error("exclusive lex bound includes its value")
	}
	for _, in := range []string{"", "b", "-a", "++"} {
		if _, err := ParseLexBound([]byte(in)); !errors.Is(err, ErrMinMaxLex) {
			t.Errorf("ParseLexBound(%q): %v", in, err)
		}
	}
}

func TestRankRange(t *testing.T) {
	for _, tc := range []struct {
		start, stop int64
		n           int
		from, to    int
		ok          bool
	}{
		{0, -1, 5, 0, 4, true},
		{0, 0, 5, 0, 0, true},
		{1, 2, 5, 1, 2, true},
		{-2, -1, 5, 3, 4, true},
		{-100, 100, 5, 0, 4, true},
		{3, 1, 5, 0, 0, false},
		{5, 10, 5, 0, 0, false},
		{0, -1, 0, 0, 0, false},
		{-1, -1, 1, 0, 0, true},
		{2, -4, 5, 0, 0, false},
		{math.MinInt64, math.MaxInt64, 3, 0, 2, true},
	} {
		from, to, ok := RankRange(tc.start, tc.stop, tc.n)
		if ok != tc.ok || (ok && (from != tc.from || to != tc.to)) {
			t.Errorf("RankRange(%d, %d, %d) = %d, %d, %v", tc.start, tc.stop, tc.n, from, to, ok)
		}
	}
}
