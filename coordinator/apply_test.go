package coordinator

// Tests of Apply, the coordinator's evaluation of one client write on the
// key's current object (docs/architecture.md §3, "who makes the dot"). Each case pins a
// Redis command's semantics or a DVV rule.

import (
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/dynago/dynago/crdt"
	"github.com/dynago/dynago/internal/bitops"
	"github.com/dynago/dynago/version"
)

var (
	actorA = version.NewActor([]byte{0xA, 1, 2, 3, 4, 5, 6, 7}, 1)
	actorB = version.NewActor([]byte{0xB, 1, 2, 3, 4, 5, 6, 7}, 1)
)

const testMax = 64

// set applies a plain SET of v at time now through actor a.
func set(t *testing.T, cur version.Object, a version.Actor, v string, now int64) version.Object {
	t.Helper()
	next, write, _, err := Apply(cur, Op{Kind: OpSet, Value: []byte(v)}, a, now, testMax)
	if err != nil || !write {
		t.Fatalf("SET %q: write=%v err=%v", v, write, err)
	}
	return next
}

// value is what GET reads (a counter's number included).
func value(o version.Object, now int64) (string, bool) {
	v, _, ok, err := crdt.StringValue(o, now)
	return string(v), ok && err == nil
}

func TestApplySetConditions(t *testing.T) {
	cur := set(t, version.Object{}, actorA, "old", 100)
	for _, tc := range []struct {
		name      string
		cur       version.Object
		op        Op
		wantWrite bool
		wantOld   string
		oldFound  bool
	}{
		{"NX on existing", cur, Op{Kind: OpSet, Value: []byte("x"), NX: true}, false, "", false},
		{"NX on missing", version.Object{}, Op{Kind: OpSet, Value: []byte("x"), NX: true}, true, "", false},
		{"XX on missing", version.Object{}, Op{Kind: OpSet, Value: []byte("x"), XX: true}, false, "", false},
		{"XX on existing", cur, Op{Kind: OpSet, Value: []byte("x"), XX: true}, true, "", false},
		{"GET returns old", cur, Op{Kind: OpSet, Value: []byte("x"), Get: true}, true, "old", true},
		{"NX GET on existing returns old, no write", cur, Op{Kind: OpSet, Value: []byte("x"), NX: true, Get: true}, false, "old", true},
		{"GET on missing", version.Object{}, Op{Kind: OpSet, Value: []byte("x"), Get: true}, true, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next, write, res, err := Apply(tc.cur, tc.op, actorA, 200, testMax)
			if err != nil {
				t.Fatal(err)
			}
			if write != tc.wantWrite || res.Applied != tc.wantWrite {
				t.Fatalf("write=%v applied=%v, want %v", write, res.Applied, tc.wantWrite)
			}
			if string(res.Old) != tc.wantOld || res.OldFound != tc.oldFound {
				t.Fatalf("old=%q/%v, want %q/%v", res.Old, res.OldFound, tc.wantOld, tc.oldFound)
			}
			if !write && !equalObj(next, tc.cur) {
				t.Fatal("a write that was not applied changed the object")
			}
			if write {
				if v, ok := value(next, 200); !ok || v != "x" {
					t.Fatalf("value after write = %q, %v", v, ok)
				}
			}
		})
	}
}

func equalObj(a, b version.Object) bool {
	return string(version.AppendObject(nil, a)) == string(version.AppendObject(nil, b))
}

func TestApplyBlindSetSupersedesSeenSiblings(t *testing.T) {
	// Two concurrent writes leave two siblings; a blind SET through a
	// coordinator that has merged both replaces both.
	a := set(t, version.Object{}, actorA, "a", 100)
	b := set(t, version.Object{}, actorB, "b", 100)
	both := version.Merge(a, b)
	if len(both.Siblings) != 2 {
		t.Fatalf("want 2 siblings, got %d", len(both.Siblings))
	}
	next := set(t, both, actorA, "c", 150)
	if len(next.Siblings) != 1 || string(next.Siblings[0].Value) != "c" {
		t.Fatalf("blind SET did not supersede the siblings it saw: %+v", next.Siblings)
	}
	// A write the coordinator had not seen survives a blind SET.
	late := set(t, version.Object{}, actorB, "late", 90)
	late = set(t, late, actorB, "later", 91) // dot (B,2): not seen by a
	merged := version.Merge(next, late)
	if len(merged.Siblings) != 2 {
		t.Fatalf("unseen concurrent write was lost: %+v", merged.Siblings)
	}
}

func TestApplyTimestampStaysAheadOfSeenVersions(t *testing.T) {
	// The coordinator's clock is behind the version it overwrites (skew):
	// the new version must still be GET's winner after merging with a
	// replica that holds a concurrent, older-stamped sibling.
	ahead := set(t, version.Object{}, actorB, "from-the-future", 10_000)
	next := set(t, ahead, actorA, "new", 500)
	if next.Siblings[0].Timestamp <= 10_000 {
		t.Fatalf("timestamp %d not ahead of the superseded version", next.Siblings[0].Timestamp)
	}
}

func TestApplySetContext(t *testing.T) {
	a := set(t, version.Object{}, actorA, "a", 100)
	// SETCTX with the empty context adds a sibling.
	op := Op{Kind: OpSet, Value: []byte("b"), UseContext: true}
	two, _, _, err := Apply(a, op, actorA, 101, testMax)
	if err != nil || len(two.Siblings) != 2 {
		t.Fatalf("SETCTX \"\": %v, %d siblings", err, len(two.Siblings))
	}
	// SETCTX with the context read replaces both.
	op = Op{Kind: OpSet, Value: []byte("ab"), UseContext: true, Context: two.VV}
	one, _, _, err := Apply(two, op, actorA, 102, testMax)
	if err != nil || len(one.Siblings) != 1 || string(one.Siblings[0].Value) != "ab" {
		t.Fatalf("SETCTX ctx: %v %+v", err, one.Siblings)
	}
	// Two writers with the same stale context both survive.
	stale := a.VV
	x, _, _, _ := Apply(one, Op{Kind: OpSet, Value: []byte("x"), UseContext: true, Context: stale}, actorA, 103, testMax)
	y, _, _, _ := Apply(x, Op{Kind: OpSet, Value: []byte("y"), UseContext: true, Context: stale}, actorA, 104, testMax)
	var vals []string
	for _, s := range y.Live(105) {
		vals = append(vals, string(s.Value))
	}
	if len(vals) != 3 { // "ab" (not covered by the stale ctx), "x", "y"
		t.Fatalf("stale-context writes: live values %q, want ab, x, y", vals)
	}
}

func TestApplyDelete(t *testing.T) {
	cur := set(t, version.Object{}, actorA, "v", 100)
	next, write, res, err := Apply(cur, Op{Kind: OpDelete, Get: true}, actorA, 110, testMax)
	if err != nil || !write || !res.Applied || string(res.Old) != "v" {
		t.Fatalf("DEL/GETDEL: write=%v res=%+v err=%v", write, res, err)
	}
	if _, ok := next.Value(111); ok || !next.Dead(111) {
		t.Fatal("deleted key still reads")
	}
	// DEL of a missing or deleted key writes nothing and answers 0.
	if _, write, res, _ := Apply(next, Op{Kind: OpDelete}, actorA, 120, testMax); write || res.Applied {
		t.Fatal("DEL of a deleted key wrote")
	}
	// DELCTX writes even when nothing live is covered, and says 0.
	_, write, res, _ = Apply(next, Op{Kind: OpDelete, UseContext: true, Context: next.VV}, actorA, 130, testMax)
	if !write || res.Applied {
		t.Fatalf("DELCTX on dead key: write=%v applied=%v", write, res.Applied)
	}
	// DELCTX with a stale context leaves the version it did not see.
	two := version.Merge(cur, set(t, version.Object{}, actorB, "w", 101))
	after, _, res, _ := Apply(two, Op{Kind: OpDelete, UseContext: true, Context: cur.VV}, actorA, 140, testMax)
	if !res.Applied {
		t.Fatal("DELCTX removing a live version said 0")
	}
	// The version the context did not cover stays a live sibling (GETCTX
	// shows it), though plain GET's newest-timestamp rule picks the newer,
	// concurrent tombstone.
	if live := after.Live(141); len(live) != 1 || string(live[0].Value) != "w" {
		t.Fatalf("after DELCTX with a partial context live siblings = %+v; want w", live)
	}
}

func TestApplyIncr(t *testing.T) {
	for _, tc := range []struct {
		cur   string
		delta int64
		want  int64
		err   error
	}{
		{"", 1, 1, nil},
		{"10", -3, 7, nil},
		{"-5", 5, 0, nil},
		{"abc", 1, 0, ErrNotInteger},
		{" 1", 1, 0, ErrNotInteger},
		{"01", 1, 0, ErrNotInteger},
		{"+1", 1, 0, ErrNotInteger},
		{"-0", 1, 0, ErrNotInteger},
		{"9223372036854775807", 1, 0, ErrOverflow},
		{"-9223372036854775808", -1, 0, ErrOverflow},
		{"9223372036854775808", 1, 0, ErrNotInteger},
	} {
		cur := version.Object{}
		if tc.cur != "" {
			cur = set(t, cur, actorA, tc.cur, 100)
		}
		next, write, res, err := Apply(cur, Op{Kind: OpIncrBy, Delta: tc.delta}, actorA, 110, testMax)
		if !errors.Is(err, tc.err) {
			t.Fatalf("INCRBY %q %d: err %v, want %v", tc.cur, tc.delta, err, tc.err)
		}
		if err != nil {
			if write {
				t.Fatalf("INCRBY %q failed but wrote", tc.cur)
			}
			continue
		}
		if res.Int != tc.want {
			t.Fatalf("INCRBY %q %d = %d, want %d", tc.cur, tc.delta, res.Int, tc.want)
		}
		if v, _ := value(next, 111); v != strconv.FormatInt(res.Int, 10) {
			t.Fatalf("stored %q, reply %d", v, res.Int)
		}
	}
}

func TestApplyKeepsTTLOnReadModifyWrite(t *testing.T) {
	cur, _, _, _ := Apply(version.Object{}, Op{Kind: OpSet, Value: []byte("1"), ExpireAt: 5000}, actorA, 100, testMax)
	for _, op := range []Op{
		{Kind: OpIncrBy, Delta: 1},
		{Kind: OpAppend, Value: []byte("0")},
		{Kind: OpSetRange, Offset: 0, Value: []byte("7")},
		{Kind: OpIncrByFloat, Float: "1.5"},
		{Kind: OpSet, Value: []byte("k"), KeepTTL: true},
		bitOp(bitops.FieldOp{Kind: bitops.Set, Bits: 1, Offset: 3, Value: 1}),
	} {
		next, _, _, err := Apply(cur, op, actorA, 200, testMax)
		if err != nil {
			t.Fatalf("%+v: %v", op, err)
		}
		if w, _ := next.Value(201); w.Expiry != 5000 {
			t.Fatalf("kind %d lost the TTL: expiry %d", op.Kind, w.Expiry)
		}
	}
	// A plain SET clears it.
	next := set(t, cur, actorA, "plain", 200)
	if w, _ := next.Value(201); w.Expiry != 0 {
		t.Fatal("plain SET kept the TTL")
	}
}

func TestApplyExpire(t *testing.T) {
	noTTL := set(t, version.Object{}, actorA, "v", 100)
	withTTL, _, _, _ := Apply(version.Object{}, Op{Kind: OpSet, Value: []byte("v"), ExpireAt: 5000}, actorA, 100, testMax)
	for _, tc := range []struct {
		name    string
		cur     version.Object
		op      Op
		applied bool
		expiry  int64 // after, when applied and not deleted
		deleted bool
	}{
		{"missing key", version.Object{}, Op{Kind: OpExpire, ExpireAt: 9000}, false, 0, false},
		{"set ttl", noTTL, Op{Kind: OpExpire, ExpireAt: 9000}, true, 9000, false},
		{"NX with ttl", withTTL, Op{Kind: OpExpire, ExpireAt: 9000, Cond: ExpireNX}, false, 0, false},
		{"NX without", noTTL, Op{Kind: OpExpire, ExpireAt: 9000, Cond: ExpireNX}, true, 9000, false},
		{"XX without", noTTL, Op{Kind: OpExpire, ExpireAt: 9000, Cond: ExpireXX}, false, 0, false},
		{"GT greater", withTTL, Op{Kind: OpExpire, ExpireAt: 9000, Cond: ExpireGT}, true, 9000, false},
		{"GT smaller", withTTL, Op{Kind: OpExpire, ExpireAt: 4000, Cond: ExpireGT}, false, 0, false},
		{"GT no ttl (infinite)", noTTL, Op{Kind: OpExpire, ExpireAt: 9000, Cond: ExpireGT}, false, 0, false},
		{"LT no ttl (infinite)", noTTL, Op{Kind: OpExpire, ExpireAt: 9000, Cond: ExpireLT}, true, 9000, false},
		{"past deletes", noTTL, Op{Kind: OpExpire, ExpireAt: 50}, true, 0, true},
		{"persist", withTTL, Op{Kind: OpExpire, Persist: true}, true, 0, false},
		{"persist without ttl", noTTL, Op{Kind: OpExpire, Persist: true}, false, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next, write, res, err := Apply(tc.cur, tc.op, actorA, 200, testMax)
			if err != nil || write != tc.applied || res.Applied != tc.applied {
				t.Fatalf("write=%v applied=%v err=%v; want %v", write, res.Applied, err, tc.applied)
			}
			if !tc.applied {
				return
			}
			w, ok := next.Value(201)
			if tc.deleted {
				if ok {
					t.Fatal("key with a past expiry still reads")
				}
				return
			}
			if !ok || w.Expiry != tc.expiry || string(w.Value) != "v" {
				t.Fatalf("after: %q expiry %d ok=%v; want v, %d", w.Value, w.Expiry, ok, tc.expiry)
			}
		})
	}
}

func TestApplyExpiredValueReadsMissing(t *testing.T) {
	cur, _, _, _ := Apply(version.Object{}, Op{Kind: OpSet, Value: []byte("v"), ExpireAt: 150}, actorA, 100, testMax)
	// NX succeeds on an expired key; INCR starts from 0.
	if _, write, _, _ := Apply(cur, Op{Kind: OpSet, Value: []byte("n"), NX: true}, actorA, 200, testMax); !write {
		t.Fatal("SET NX refused on an expired key")
	}
	if _, _, res, err := Apply(cur, Op{Kind: OpIncrBy, Delta: 2}, actorA, 200, testMax); err != nil || res.Int != 2 {
		t.Fatalf("INCRBY on expired key = %d, %v", res.Int, err)
	}
}

func TestApplyValueLimits(t *testing.T) {
	big := make([]byte, testMax+1)
	if _, write, _, err := Apply(version.Object{}, Op{Kind: OpSet, Value: big}, actorA, 1, testMax); !errors.Is(err, ErrValueTooLarge) || write {
		t.Fatalf("oversized SET: write=%v err=%v", write, err)
	}
	cur := set(t, version.Object{}, actorA, string(make([]byte, testMax-1)), 1)
	if _, _, _, err := Apply(cur, Op{Kind: OpAppend, Value: []byte("ab")}, actorA, 2, testMax); !errors.Is(err, ErrValueTooLarge) {
		t.Fatalf("APPEND past the limit: %v", err)
	}
	if _, _, _, err := Apply(version.Object{}, Op{Kind: OpSetRange, Offset: testMax, Value: []byte("x")}, actorA, 2, testMax); !errors.Is(err, ErrValueTooLarge) {
		t.Fatalf("SETRANGE past the limit: %v", err)
	}
}

func TestApplyAppendSetRangeIncrByFloat(t *testing.T) {
	cur := set(t, version.Object{}, actorA, "Hello", 1)
	next, _, res, _ := Apply(cur, Op{Kind: OpAppend, Value: []byte(" World")}, actorA, 2, testMax)
	if v, _ := value(next, 3); v != "Hello World" || res.Int != 11 {
		t.Fatalf("APPEND: %q %d", v, res.Int)
	}
	next, _, res, _ = Apply(next, Op{Kind: OpSetRange, Offset: 6, Value: []byte("Redis")}, actorA, 3, testMax)
	if v, _ := value(next, 4); v != "Hello Redis" || res.Int != 11 {
		t.Fatalf("SETRANGE: %q %d", v, res.Int)
	}
	next, _, _, _ = Apply(version.Object{}, Op{Kind: OpSetRange, Offset: 3, Value: []byte("x")}, actorA, 3, testMax)
	if v, _ := value(next, 4); v != "\x00\x00\x00x" {
		t.Fatalf("SETRANGE padding: %q", v)
	}
	if _, write, res, _ := Apply(version.Object{}, Op{Kind: OpSetRange, Offset: 3}, actorA, 3, testMax); write || res.Int != 0 {
		t.Fatal("SETRANGE with an empty value created the key")
	}
	f := set(t, version.Object{}, actorA, "10.50", 1)
	_, _, res, err := Apply(f, Op{Kind: OpIncrByFloat, Float: "0.1"}, actorA, 2, testMax)
	if err != nil || string(res.Bytes) != "10.6" {
		t.Fatalf("INCRBYFLOAT: %q %v", res.Bytes, err)
	}
	for _, bad := range []string{"abc", "", " 1", "inf", "nan"} {
		if _, _, _, err := Apply(f, Op{Kind: OpIncrByFloat, Float: bad}, actorA, 2, testMax); !errors.Is(err, ErrNotFloat) {
			t.Fatalf("INCRBYFLOAT %q: %v", bad, err)
		}
	}
	huge := set(t, version.Object{}, actorA, "1.7e308", 1)
	if _, _, _, err := Apply(huge, Op{Kind: OpIncrByFloat, Float: "1.7e308"}, actorA, 2, testMax); !errors.Is(err, ErrNotFloat) {
		t.Fatalf("INCRBYFLOAT overflow to inf: %v", err)
	}
}

// bitOp is SETBIT/BITFIELD's write of prog.
func bitOp(prog ...bitops.FieldOp) Op {
	return Op{Kind: OpBitField, Value: bitops.Encode(nil, prog)}
}

func TestApplyBitField(t *testing.T) {
	// SETBIT on a missing key grows it with zeros and answers the old bit.
	next, write, res, err := Apply(version.Object{}, bitOp(bitops.FieldOp{Kind: bitops.Set, Bits: 1, Offset: 9, Value: 1}), actorA, 1, testMax)
	if v, _ := value(next, 2); err != nil || !write || v != "\x00\x40" || len(res.Values) != 1 || string(res.Values[0]) != "0" {
		t.Fatalf("SETBIT: %q %q %v", v, res.Values, err)
	}
	// A counter is its decimal string ("12" = 0x31 0x32); the result is a
	// string that supersedes it.
	ctr, _, _, _ := Apply(version.Object{}, Op{Kind: OpIncrBy, Delta: 12}, actorA, 1, testMax)
	next, _, res, err = Apply(ctr, bitOp(bitops.FieldOp{Kind: bitops.IncrBy, Bits: 8, Offset: 8, Value: 1},
		bitops.FieldOp{Kind: bitops.IncrBy, Bits: 2, Offset: 0, Value: 9, Overflow: bitops.Fail}), actorA, 2, testMax)
	if v, _ := value(next, 3); err != nil || v != "13" || string(res.Values[0]) != "51" || len(res.Values[1]) != 0 {
		t.Fatalf("BITFIELD on a counter: %q %q %v", v, res.Values, err)
	}
	if len(next.Siblings) != 1 || next.Siblings[0].Type != version.TypeString {
		t.Fatalf("BITFIELD did not replace the counter: %+v", next.Siblings)
	}
	// A collection is WRONGTYPE; a program past the limit is refused; a
	// malformed one (from a confused peer) is an unknown op.
	h, _, _, _ := Apply(version.Object{}, Op{Kind: OpTyped, Typed: crdt.Op{Kind: crdt.OpHSet, Type: version.TypeHash,
		Fields: [][]byte{[]byte("f")}, Values: [][]byte{[]byte("v")}}}, actorA, 1, testMax)
	if _, write, _, err := Apply(h, bitOp(bitops.FieldOp{Kind: bitops.Set, Bits: 1}), actorA, 2, testMax); !errors.Is(err, crdt.ErrWrongType) || write {
		t.Fatalf("SETBIT on a hash: write=%v err=%v", write, err)
	}
	if _, _, _, err := Apply(version.Object{}, bitOp(bitops.FieldOp{Kind: bitops.Set, Bits: 8, Offset: testMax * 8}), actorA, 2, testMax); !errors.Is(err, ErrValueTooLarge) {
		t.Fatalf("SETBIT past the limit: %v", err)
	}
	if _, _, _, err := Apply(version.Object{}, Op{Kind: OpBitField, Value: []byte{1}}, actorA, 2, testMax); !errors.Is(err, ErrUnknownOp) {
		t.Fatalf("malformed program: %v", err)
	}
}

func TestApplyBitFieldOfConcurrentWritersLeavesSiblings(t *testing.T) {
	// Two coordinators each read the same version and set a different
	// bit: neither write covers the other, so both survive the merge (no
	// silent loss), as for APPEND.
	base := set(t, version.Object{}, actorA, "\x00", 1)
	a, _, _, _ := Apply(base, bitOp(bitops.FieldOp{Kind: bitops.Set, Bits: 1, Offset: 0, Value: 1}), actorA, 2, testMax)
	b, _, _, _ := Apply(base, bitOp(bitops.FieldOp{Kind: bitops.Set, Bits: 1, Offset: 7, Value: 1}), actorB, 2, testMax)
	merged := version.Merge(a, b)
	var vals []string
	for _, s := range merged.Live(3) {
		vals = append(vals, string(s.Value))
	}
	if len(vals) != 2 || !slices.Contains(vals, "\x80") || !slices.Contains(vals, "\x01") {
		t.Fatalf("concurrent SETBITs: siblings %q", vals)
	}
}

func TestApplyOnlyTheCoordinatorMintsDots(t *testing.T) {
	// Every write gets the next counter of the coordinating actor, even
	// when the client's context knows a larger counter of that actor.
	cur := set(t, version.Object{}, actorA, "1", 1)
	ctx := version.VV{{Actor: actorA, Counter: 7}}
	next, _, _, _ := Apply(cur, Op{Kind: OpSet, Value: []byte("2"), UseContext: true, Context: ctx}, actorA, 2, testMax)
	if got := next.Siblings[len(next.Siblings)-1].Dot; got.Actor != actorA || got.Counter != 8 {
		t.Fatalf("dot %v, want (A, 8)", got)
	}
	if err := next.Validate(); err != nil {
		t.Fatal(err)
	}
}

// A key reaped on its coordinator (every replica had the tombstone) and
// written again must get a dot the tombstone still held elsewhere does not
// cover; otherwise merging with that tombstone drops the acknowledged
// write. Found by the integration test TestWriteAfterReapBeatsOldTombstone.
func TestWriteAfterReapIsNotCoveredByTheOldTombstone(t *testing.T) {
	clock, _ := NewDotClock(nil)
	apply := func(cur version.Object, op Op) version.Object {
		next, _, _, err := ApplyWithCounter(cur, op, actorA, clock.Next, 100, testMax)
		if err != nil {
			t.Fatal(err)
		}
		return next
	}
	v := apply(version.Object{}, Op{Kind: OpSet, Value: []byte("old")})
	tomb := apply(v, Op{Kind: OpDelete})
	// The coordinator reaped its copy; another replica keeps tomb.
	fresh := apply(version.Object{}, Op{Kind: OpSet, Value: []byte("new")})
	merged := version.Merge(fresh, tomb)
	if w, ok := merged.Value(101); !ok || string(w.Value) != "new" {
		t.Fatalf("after merging the old tombstone: %+v", merged.Siblings)
	}
	// Without the clock, the counter would be reused and the write lost.
	reused, _, _, _ := Apply(version.Object{}, Op{Kind: OpSet, Value: []byte("new")}, actorA, 100, testMax)
	if _, ok := version.Merge(reused, tomb).Value(101); ok {
		t.Fatal("setup: a reused counter is not covered by the tombstone; the test proves nothing")
	}
}

func TestDotClockNeverGoesBackAcrossRestarts(t *testing.T) {
	meta := &metaMap{m: map[string][]byte{}}
	c1, _ := NewDotClock(meta)
	last := uint64(0)
	for i := 0; i < 10; i++ {
		n, err := c1.Next(0)
		if err != nil || n <= last {
			t.Fatalf("Next = %d, %v after %d", n, err, last)
		}
		last = n
	}
	if n, _ := c1.Next(last + 1000); n != last+1000 {
		t.Fatalf("floor ignored: %d", n)
	}
	if _, err := c1.Next(version.MaxCounter); !errors.Is(err, version.ErrMalformed) {
		t.Fatalf("a forged counter near the limit was followed: %v", err)
	}
	c2, _ := NewDotClock(meta) // a restart
	if n, _ := c2.Next(0); n <= last+1000 {
		t.Fatalf("after a restart the clock went back to %d", n)
	}
}

// DEL of a collection removes what its coordinator had seen: a member added
// concurrently survives, and the key reads as the set of that member,
// whichever write has the newer timestamp.
func TestApplyDeleteOfACollectionIsObservedRemove(t *testing.T) {
	sadd := func(cur version.Object, actor version.Actor, m string, now int64) version.Object {
		next, _, _, err := Apply(cur, Op{Kind: OpTyped, Typed: crdt.Op{Kind: crdt.OpSAdd, Fields: [][]byte{[]byte(m)}}}, actor, now, testMax)
		if err != nil {
			t.Fatal(err)
		}
		return next
	}
	base := sadd(version.Object{}, actorA, "x", 100)
	for _, delAt := range []int64{150, 250} { // before and after the concurrent add
		deleted, write, res, err := Apply(base, Op{Kind: OpDelete}, actorA, delAt, testMax)
		if err != nil || !write || !res.Applied {
			t.Fatalf("DEL: write %v applied %v err %v", write, res.Applied, err)
		}
		added := sadd(base, actorB, "y", 200)
		for _, merged := range []version.Object{version.Merge(deleted, added), version.Merge(added, deleted)} {
			els, found, err := crdt.Elements(merged, version.TypeSet, 300)
			if err != nil || !found || len(els) != 1 || string(els[0].Field) != "y" {
				t.Fatalf("DEL at %d merged with a concurrent SADD y: %v found %v err %v; want the set {y}", delAt, els, found, err)
			}
		}
	}
}

// DELCTX with the context of an earlier read of a set (RENAME deleting its
// source) leaves a tombstone of the set's type even when a later SADD
// replaced the header the read saw: the member added after the read
// survives however new the tombstone is.
func TestApplyDeleteWithAnOlderContextKeepsLaterMembers(t *testing.T) {
	sadd := func(cur version.Object, m string, now int64) version.Object {
		next, _, _, err := Apply(cur, Op{Kind: OpTyped, Typed: crdt.Op{Kind: crdt.OpSAdd, Fields: [][]byte{[]byte(m)}}}, actorA, now, testMax)
		if err != nil {
			t.Fatal(err)
		}
		return next
	}
	read := sadd(version.Object{}, "x", 100)
	later := sadd(read, "y", 200)
	deleted, _, _, err := Apply(later, Op{Kind: OpDelete, UseContext: true, Context: read.VV}, actorA, 300, testMax)
	if err != nil {
		t.Fatal(err)
	}
	els, found, err := crdt.Elements(deleted, version.TypeSet, 400)
	if err != nil || !found || len(els) != 1 || string(els[0].Field) != "y" {
		t.Fatalf("after the delete: %v found %v err %v; want the set {y}", els, found, err)
	}
}
