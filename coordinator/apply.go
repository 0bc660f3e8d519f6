package coordinator

import (
	"bytes"
	"math"
	"strconv"

	"github.com/dynago/dynago/version"
)

// Apply evaluates a client write on the key's current object, the way the
// key's coordinator does before replicating the result (DESIGN §3, "who
// makes the dot"). It is a pure function: no I/O, no clock but nowMs.
//
// It returns the object to store and write=true, or write=false when a
// condition stopped the write (then next is cur and nothing may be
// stored). An error is a client error (ErrNotInteger, ErrOverflow,
// ErrNotFloat, ErrValueTooLarge) and nothing is written.
//
// The current value is the one a plain GET returns (Object.Value): the
// newest live sibling. Read-modify-write ops (INCR, APPEND, ...) start from
// it. Unless op.UseContext, the write's context is cur's version vector, so
// the new version supersedes every sibling the coordinator has seen.
func Apply(cur version.Object, op Op, actor version.Actor, nowMs int64, maxValueBytes int) (next version.Object, write bool, res Result, err error) {
	return ApplyWithCounter(cur, op, actor, nil, nowMs, maxValueBytes)
}

// ApplyWithCounter is Apply with the dot's counter taken from counter,
// given the smallest counter the write may carry (Object.NextCounter); nil
// uses that smallest counter. The coordinator passes its DotClock.
func ApplyWithCounter(cur version.Object, op Op, actor version.Actor, counter func(floor uint64) (uint64, error), nowMs int64, maxValueBytes int) (next version.Object, write bool, res Result, err error) {
	live, found := cur.Value(nowMs)
	res.Object = cur
	if op.Get {
		res.Old, res.OldFound = live.Value, found
	}
	ctx := cur.VV
	if op.UseContext {
		ctx = op.Context
	}
	// The new sibling; Kind-specific code fills Value / Tombstone / Expiry.
	s := version.Sibling{Timestamp: nowMs}

	switch op.Kind {
	case OpSet:
		if (op.NX && found) || (op.XX && !found) {
			return cur, false, res, nil
		}
		s.Value = op.Value
		s.Expiry = op.ExpireAt
		if op.KeepTTL && found {
			s.Expiry = live.Expiry
		}

	case OpDelete:
		// DEL on a key with no live value writes nothing (Redis answers 0).
		// DELCTX always writes: the client's context names what it removes,
		// and its tombstone must reach replicas that still hold those
		// versions even if this coordinator saw none of them live.
		if !op.UseContext && !found {
			return cur, false, res, nil
		}
		if op.UseContext {
			found = false
			for _, sib := range cur.Siblings {
				if sib.Live(nowMs) && op.Context.Covers(sib.Dot) {
					found = true
					break
				}
			}
		}
		s.Tombstone = true

	case OpIncrBy:
		n := int64(0)
		if found {
			if n, err = parseInt(live.Value); err != nil {
				return cur, false, res, err
			}
		}
		if (op.Delta > 0 && n > math.MaxInt64-op.Delta) || (op.Delta < 0 && n < math.MinInt64-op.Delta) {
			return cur, false, res, ErrOverflow
		}
		n += op.Delta
		res.Int = n
		s.Value = strconv.AppendInt(nil, n, 10)
		s.Expiry = keptExpiry(live, found)

	case OpIncrByFloat:
		inc, err := parseFloat([]byte(op.Float))
		if err != nil {
			return cur, false, res, err
		}
		f := 0.0
		if found {
			if f, err = parseFloat(live.Value); err != nil {
				return cur, false, res, err
			}
		}
		f += inc
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return cur, false, res, ErrNotFloat
		}
		// Redis prints the result with %.17Lg and no exponent; 'f' with the
		// shortest precision that round-trips is the closest Go spelling.
		s.Value = strconv.AppendFloat(nil, f, 'f', -1, 64)
		res.Bytes = s.Value
		s.Expiry = keptExpiry(live, found)

	case OpAppend:
		if found && len(live.Value)+len(op.Value) > maxValueBytes {
			return cur, false, res, ErrValueTooLarge
		}
		v := make([]byte, 0, len(live.Value)+len(op.Value))
		if found {
			v = append(v, live.Value...)
		}
		s.Value = append(v, op.Value...)
		res.Int = int64(len(s.Value))
		s.Expiry = keptExpiry(live, found)

	case OpSetRange:
		if op.Offset < 0 {
			return cur, false, res, ErrValueTooLarge
		}
		var old []byte
		if found {
			old = live.Value
		}
		if len(op.Value) == 0 {
			// Redis: SETRANGE with an empty value changes nothing, not
			// even a missing key; it answers the current length.
			res.Int = int64(len(old))
			return cur, false, res, nil
		}
		end := op.Offset + int64(len(op.Value))
		if end > int64(maxValueBytes) {
			return cur, false, res, ErrValueTooLarge
		}
		v := make([]byte, max(int64(len(old)), end))
		copy(v, old)
		copy(v[op.Offset:], op.Value)
		s.Value = v
		res.Int = int64(len(v))
		s.Expiry = keptExpiry(live, found)

	case OpExpire:
		if !found {
			return cur, false, res, nil
		}
		switch {
		case op.Persist:
			if live.Expiry == 0 {
				return cur, false, res, nil
			}
		case !expireCondHolds(op.Cond, live.Expiry, op.ExpireAt):
			return cur, false, res, nil
		}
		if !op.Persist && op.ExpireAt <= nowMs {
			// Redis deletes a key given an expiry in the past.
			s.Tombstone = true
			break
		}
		s.Value = live.Value
		if !op.Persist {
			s.Expiry = op.ExpireAt
		}

	default:
		return cur, false, res, ErrUnknownOp
	}

	if len(s.Value) > maxValueBytes {
		return cur, false, res, ErrValueTooLarge
	}
	// A write supersedes the versions it has seen; keep its timestamp
	// ahead of theirs so that GET's newest-timestamp rule agrees with
	// causality even when the coordinators' clocks disagree.
	for _, sib := range cur.Siblings {
		if ctx.Covers(sib.Dot) && sib.Timestamp >= s.Timestamp {
			s.Timestamp = sib.Timestamp + 1
		}
	}
	n := cur.NextCounter(actor, ctx)
	if counter != nil {
		if n, err = counter(n); err != nil {
			return cur, false, res, err
		}
	}
	next = cur.PutCounter(actor, n, ctx, s)
	res.Applied = true
	if op.Kind == OpDelete {
		res.Applied = found
	}
	res.Object = next
	return next, true, res, nil
}

// keptExpiry is the expiry a read-modify-write keeps: Redis's INCR,
// APPEND and SETRANGE leave a key's TTL alone.
func keptExpiry(live version.Sibling, found bool) int64 {
	if found {
		return live.Expiry
	}
	return 0
}

// expireCondHolds applies EXPIRE's NX/XX/GT/LT to the current expiry cur
// (0: none) and the new one. As in Redis, a key without an expiry counts
// as an infinite TTL for GT and LT.
func expireCondHolds(c ExpireCond, cur, next int64) bool {
	switch c {
	case ExpireNX:
		return cur == 0
	case ExpireXX:
		return cur != 0
	case ExpireGT:
		return cur != 0 && next > cur
	case ExpireLT:
		return cur == 0 || next < cur
	}
	return true
}

// parseInt parses a value as Redis's string2ll does: base 10, optional
// minus sign, no spaces, no plus sign, no leading zeros, fits in int64.
func parseInt(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 20 {
		return 0, ErrNotInteger
	}
	if b[0] == '+' || (len(b) > 1 && b[0] == '0') || (len(b) > 2 && b[0] == '-' && b[1] == '0') || bytes.Equal(b, []byte("-0")) {
		return 0, ErrNotInteger
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, ErrNotInteger
	}
	return n, nil
}

// parseFloat parses a value as INCRBYFLOAT does: a finite decimal number
// with no surrounding spaces.
func parseFloat(b []byte) (float64, error) {
	if len(b) == 0 || len(b) > 5000 || b[0] == ' ' || b[len(b)-1] == ' ' {
		return 0, ErrNotFloat
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, ErrNotFloat
	}
	return f, nil
}
