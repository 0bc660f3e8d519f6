package coordinator

import (
	"errors"
	"strconv"

	"github.com/dynago/dynago/crdt"
	"github.com/dynago/dynago/internal/bitops"
	"github.com/dynago/dynago/version"
)

// Apply evaluates a client write on the key's current object, the way the
// key's coordinator does before replicating the result (docs/architecture.md §3, "who
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
	switch op.Kind {
	case OpIncrBy:
		return applyTyped(cur, crdt.Op{Kind: crdt.OpIncrBy, Int: op.Delta}, actor, counter, nowMs)
	case OpIncrByFloat:
		return applyTyped(cur, crdt.Op{Kind: crdt.OpIncrByFloat, Float: op.Float}, actor, counter, nowMs)
	case OpTyped:
		return applyTyped(cur, op.Typed, actor, counter, nowMs)
	}
	res.Object = cur
	// A counter reads as its number; a collection has no string value, so
	// only SET, DEL and EXPIRE (which do not read it) apply to one.
	val, live, found, err := crdt.StringValue(cur, nowMs)
	if errors.Is(err, crdt.ErrWrongType) && !op.Get && op.Kind != OpAppend && op.Kind != OpSetRange && op.Kind != OpBitField {
		err = nil
	}
	if err != nil {
		return cur, false, res, err
	}
	if op.Get {
		res.Old, res.OldFound = val, found
	}
	ctx := cur.VV
	if op.UseContext {
		ctx = op.Context
	}
	// The new sibling; Kind-specific code fills Value / Tombstone / Expiry.
	s := version.Sibling{Timestamp: nowMs}
	// keep says which covered siblings the write keeps (nil: none).
	var keep func(version.Sibling) bool

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
		// A collection's tombstone has the collection's type even when the
		// context covers none of its live versions (a concurrent write
		// replaced the header it had read, as when RENAME deletes what it
		// read): elements it had not seen must survive it.
		s.Tombstone = true
		s.Type = collectionTombstone(live, found)
		if op.UseContext {
			found = false
			for _, sib := range cur.Live(nowMs) {
				if op.Context.Covers(sib.Dot) {
					found = true
					break
				}
			}
		}

	case OpAppend:
		if found && len(val)+len(op.Value) > maxValueBytes {
			return cur, false, res, ErrValueTooLarge
		}
		v := make([]byte, 0, len(val)+len(op.Value))
		v = append(v, val...)
		s.Value = append(v, op.Value...)
		res.Int = int64(len(s.Value))
		s.Expiry = keptExpiry(live, found)

	case OpSetRange:
		if op.Offset < 0 {
			return cur, false, res, ErrValueTooLarge
		}
		if len(op.Value) == 0 {
			// Redis: SETRANGE with an empty value changes nothing, not
			// even a missing key; it answers the current length.
			res.Int = int64(len(val))
			return cur, false, res, nil
		}
		end := op.Offset + int64(len(op.Value))
		if end > int64(maxValueBytes) {
			return cur, false, res, ErrValueTooLarge
		}
		v := make([]byte, max(int64(len(val)), end))
		copy(v, val)
		copy(v[op.Offset:], op.Value)
		s.Value = v
		res.Int = int64(len(v))
		s.Expiry = keptExpiry(live, found)

	case OpBitField:
		prog, err := bitops.Decode(op.Value)
		if err != nil {
			return cur, false, res, ErrUnknownOp
		}
		if _, size := bitops.Writes(prog); size > uint64(maxValueBytes) {
			return cur, false, res, ErrValueTooLarge
		}
		v, replies := bitops.Run(val, prog)
		res.Values = make([][]byte, len(replies))
		for i, r := range replies {
			res.Values[i] = []byte{}
			if !r.Null {
				res.Values[i] = strconv.AppendInt(nil, r.Val, 10)
			}
		}
		s.Value = v
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
			s.Type = collectionTombstone(live, found)
			break
		}
		// The key stays what it is, elements and all; only its header
		// (a counter's with its state joined) is rewritten.
		h, _, err := crdt.Header(cur, nowMs)
		if err != nil {
			return cur, false, res, err
		}
		s.Type, s.Value = h.Type, h.Value
		keep = crdt.KeepElements(h)
		if !op.Persist {
			s.Expiry = op.ExpireAt
		}

	default:
		return cur, false, res, ErrUnknownOp
	}

	if len(s.Value) > maxValueBytes && s.Type == version.TypeString {
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
	next = cur.Write(actor, n, ctx, keep, s)
	res.Applied = true
	if op.Kind == OpDelete {
		res.Applied = found
	}
	res.Object = next
	return next, true, res, nil
}

// applyTyped runs a convergent type's write (crdt.Apply) and carries its
// reply in a Result.
func applyTyped(cur version.Object, op crdt.Op, actor version.Actor, counter func(floor uint64) (uint64, error), nowMs int64) (version.Object, bool, Result, error) {
	next, write, r, err := crdt.Apply(cur, op, actor, counter, nowMs)
	res := Result{Applied: write, Int: r.Int, Bytes: r.Bytes, Null: r.Null, Values: r.Values, Object: next}
	return next, write, res, err
}

// collectionTombstone is the type of a tombstone that deletes live: a
// collection's own type, so that elements added concurrently, which the
// deleter had not seen, survive the delete (version.Object.Winner); a
// string's tombstone is plain and the newest version wins.
func collectionTombstone(live version.Sibling, found bool) version.Type {
	if found && live.Type >= version.TypeHash {
		return live.Type
	}
	return version.TypeString
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
