package crdt

import (
	"bytes"
	"errors"
	"math"
	"sort"
	"strconv"
)

// ErrMinMaxFloat / ErrMinMaxLex: a score or lex range bound that does not
// parse (Redis's "min or max is not a float" and "min or max not valid
// string range item").
var (
	ErrMinMaxFloat = errors.New("crdt: min or max is not a float")
	ErrMinMaxLex   = errors.New("crdt: min or max not valid string range item")
)

// SortByScore orders a sorted set's elements as Redis does: by score, ties
// by member bytes.
func SortByScore(els []Element) {
	sort.Slice(els, func(i, j int) bool {
		if els[i].Score != els[j].Score {
			return els[i].Score < els[j].Score
		}
		return bytes.Compare(els[i].Field, els[j].Field) < 0
	})
}

// ParseScore parses a score as ZADD does: a decimal, or inf/+inf/-inf in
// any case; NaN is refused.
func ParseScore(b []byte) (float64, error) {
	switch string(bytes.ToLower(b)) {
	case "inf", "+inf", "infinity", "+infinity":
		return math.Inf(1), nil
	case "-inf", "-infinity":
		return math.Inf(-1), nil
	}
	if len(b) == 0 || b[0] == ' ' || b[len(b)-1] == ' ' {
		return 0, ErrNotFloat
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) {
		return 0, ErrNotFloat
	}
	return f, nil
}

// FormatScore prints a score as Redis 7.2's d2string does: inf and -inf
// for the infinities, an integer's digits when the score is one within
// ±2^62, otherwise the shortest decimal that round-trips, laid out as
// fpconv_dtoa lays it out (plain up to about 1e21 and down to 1e-6, else
// d.ddde±x with no padding of the exponent).
func FormatScore(f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	case f == math.Trunc(f) && math.Abs(f) <= math.MaxInt64/2:
		return strconv.AppendInt(nil, int64(f), 10)
	}
	var out []byte
	if f < 0 {
		out, f = append(out, '-'), -f
	}
	// d.ddde±x: the shortest digits and the decimal exponent.
	e := strconv.AppendFloat(nil, f, 'e', -1, 64)
	at := bytes.IndexByte(e, 'e')
	exp, _ := strconv.Atoi(string(e[at+1:]))
	digits := append(e[:1:1], bytes.TrimPrefix(e[1:at], []byte("."))...)
	nd := len(digits)
	k := exp - nd + 1 // the value is digits × 10^k
	absExp := max(exp, -exp)
	switch {
	case k >= 0 && absExp < nd+7:
		out = append(out, digits...)
		return append(out, bytes.Repeat([]byte("0"), k)...)
	case k < 0 && (k > -7 || absExp < 4):
		off := nd + k
		if off > 0 {
			out = append(out, digits[:off]...)
			out = append(out, '.')
			return append(out, digits[off:]...)
		}
		out = append(out, "0."...)
		out = append(out, bytes.Repeat([]byte("0"), -off)...)
		return append(out, digits...)
	}
	out = append(out, digits[0])
	if nd > 1 {
		out = append(out, '.')
		out = append(out, digits[1:]...)
	}
	out = append(out, 'e')
	if exp < 0 {
		out = append(out, '-')
	} else {
		out = append(out, '+')
	}
	return strconv.AppendInt(out, int64(absExp), 10)
}

// ScoreBound is one end of a ZRANGEBYSCORE range.
type ScoreBound struct {
	Value     float64
	Exclusive bool
}

// ParseScoreBound parses "1.5", "(1.5", "-inf", "+inf".
func ParseScoreBound(b []byte) (ScoreBound, error) {
	var sb ScoreBound
	if len(b) > 0 && b[0] == '(' {
		sb.Exclusive = true
		b = b[1:]
	}
	f, err := ParseScore(b)
	if err != nil {
		return sb, ErrMinMaxFloat
	}
	sb.Value = f
	return sb, nil
}

// AboveMin reports whether score lies above the lower bound.
func (sb ScoreBound) AboveMin(score float64) bool {
	if sb.Exclusive {
		return score > sb.Value
	}
	return score >= sb.Value
}

// BelowMax reports whether score lies below the upper bound.
func (sb ScoreBound) BelowMax(score float64) bool {
	if sb.Exclusive {
		return score < sb.Value
	}
	return score <= sb.Value
}

// LexBound is one end of a ZRANGEBYLEX range: "-" and "+" are the
// infinities, "[x" inclusive, "(x" exclusive.
type LexBound struct {
	Value     []byte
	Exclusive bool
	Inf       int // -1 for "-", +1 for "+", 0 otherwise
}

// ParseLexBound parses a lex range bound.
func ParseLexBound(b []byte) (LexBound, error) {
	switch {
	case len(b) == 1 && b[0] == '-':
		return LexBound{Inf: -1}, nil
	case len(b) == 1 && b[0] == '+':
		return LexBound{Inf: 1}, nil
	case len(b) > 0 && b[0] == '[':
		return LexBound{Value: b[1:]}, nil
	case len(b) > 0 && b[0] == '(':
		return LexBound{Value: b[1:], Exclusive: true}, nil
	}
	return LexBound{}, ErrMinMaxLex
}

// AboveMin reports whether m lies above the lower bound.
func (lb LexBound) AboveMin(m []byte) bool {
	switch lb.Inf {
	case -1:
		return true
	case 1:
		return false
	}
	c := bytes.Compare(m, lb.Value)
	return c > 0 || (c == 0 && !lb.Exclusive)
}

// BelowMax reports whether m lies below the upper bound.
func (lb LexBound) BelowMax(m []byte) bool {
	switch lb.Inf {
	case -1:
		return false
	case 1:
		return true
	}
	c := bytes.Compare(m, lb.Value)
	return c < 0 || (c == 0 && !lb.Exclusive)
}

// RankRange resolves Redis's start/stop indexes (negative from the end)
// against n elements; ok is false for an empty range.
func RankRange(start, stop int64, n int) (from, to int, ok bool) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if stop < 0 {
		stop += ln
	}
	start = max(start, 0)
	if start > stop || start >= ln {
		return 0, 0, false
	}
	stop = min(stop, ln-1)
	return int(start), int(stop), true
}
