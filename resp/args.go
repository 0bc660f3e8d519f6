package resp

import (
	"math"
	"strconv"
)

// parseInt64 parses an integer argument exactly as Redis's string2ll does:
// base 10, an optional '-', no '+', no spaces, no leading zeros, at most 20
// characters, within int64.
func parseInt64(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	if b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return int64(-v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// parseFloatArg parses a float argument as Redis's string2ld does for
// INCRBYFLOAT: no surrounding spaces, finite.
func parseFloatArg(b []byte) (float64, bool) {
	if len(b) == 0 || len(b) > 5000 || isCSpace(b[0]) || isCSpace(b[len(b)-1]) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// eqFold reports whether arg equals lower, an ASCII lower-case word,
// ignoring case, without allocating.
func eqFold(arg []byte, lower string) bool {
	if len(arg) != len(lower) {
		return false
	}
	for i := range len(arg) {
		c := arg[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// own copies arguments that are handed to the backend's Write: args point
// into the connection's read buffer, which the next batch overwrites,
// while a backend may keep keys and values (a coordinator replicating after
// it answered). One allocation holds them all.
func own(parts ...[]byte) [][]byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(parts))
	for i, p := range parts {
		start := len(buf)
		buf = append(buf, p...)
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out
}

// ownKey copies one key for the backend's Write.
func ownKey(k []byte) []byte { return append(make([]byte, 0, len(k)), k...) }

// own2 copies a key and a value for the backend's Write in one allocation.
func own2(k, v []byte) ([]byte, []byte) {
	buf := make([]byte, len(k)+len(v))
	copy(buf, k)
	copy(buf[len(k):], v)
	return buf[:len(k):len(k)], buf[len(k):]
}

// lowerString returns an ASCII argument lower-cased, for error texts that
// name the command as Redis does.
func lowerString(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return string(out)
}

// boolInt is Redis's :1 / :0 for commands that answer a count, even in
// RESP3.
func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
