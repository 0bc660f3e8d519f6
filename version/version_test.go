package version

// These tests pin the DVV-set rules of docs/architecture.md §3 and Dynamo §4.4: merge is a
// join (commutative, associative, idempotent), a write with context c
// replaces exactly the siblings c covers, and writers sharing a stale context
// all survive as siblings.

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func actor(i int) Actor { return NewActor([]byte{byte(i), 0xAA, 0, 0, 0, 0, 0, byte(i)}, uint32(i+1)) }

// history drives a few replicas through random coordinator writes (with
// fresh, stale, empty or foreign contexts) and merges, and returns every
// object any replica held along the way. Objects reachable like this are the
// only ones the store ever sees, so the laws are checked on them.
func history(t *rapid.T) []Object {
	nReplicas := rapid.IntRange(1, 4).Draw(t, "replicas")
	replicas := make([]Object, nReplicas)
	var seen []Object
	var contexts []VV
	steps := rapid.IntRange(1, 30).Draw(t, "steps")
	for i := 0; i < steps; i++ {
		r := rapid.IntRange(0, nReplicas-1).Draw(t, "replica")
		switch rapid.IntRange(0, 3).Draw(t, "op") {
		case 0, 1: // a write coordinated by replica r
			var ctx VV
			switch rapid.IntRange(0, 2).Draw(t, "ctxkind") {
			case 0:
				ctx = replicas[r].VV // blind write: local context
			case 1:
				if len(contexts) > 0 {
					ctx = contexts[rapid.IntRange(0, len(contexts)-1).Draw(t, "stale")]
				}
			}
			s := Sibling{
				Value:     []byte(fmt.Sprintf("v%d", i)),
				Tombstone: rapid.IntRange(0, 5).Draw(t, "tomb") == 0,
				Timestamp: int64(rapid.IntRange(0, 50).Draw(t, "ts")),
			}
			if s.Tombstone {
				s.Value = nil
			}
			replicas[r] = replicas[r].Put(actor(r), ctx, s)
		case 2: // replication / repair: merge another replica in
			from := rapid.IntRange(0, nReplicas-1).Draw(t, "from")
			replicas[r] = Merge(replicas[r], replicas[from])
		case 3: // a client reads and keeps the context for later
			contexts = append(contexts, replicas[r].VV)
		}
		if err := replicas[r].Validate(); err != nil {
			t.Fatalf("invariant broken: %v\n%+v", err, replicas[r])
		}
		seen = append(seen, replicas[r])
	}
	return append(seen, replicas...)
}

func pick(t *rapid.T, objs []Object, label string) Object {
	return objs[rapid.IntRange(0, len(objs)-1).Draw(t, label)]
}

func equalObjects(a, b Object) bool {
	return bytes.Equal(AppendObject(nil, a), AppendObject(nil, b))
}

func TestMergeCommutative(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		objs := history(t)
		a, b := pick(t, objs, "a"), pick(t, objs, "b")
		if !equalObjects(Merge(a, b), Merge(b, a)) {
			t.Fatalf("merge(a,b) != merge(b,a)\na=%+v\nb=%+v", a, b)
		}
	})
}

func TestMergeAssociative(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		objs := history(t)
		a, b, c := pick(t, objs, "a"), pick(t, objs, "b"), pick(t, objs, "c")
		if !equalObjects(Merge(Merge(a, b), c), Merge(a, Merge(b, c))) {
			t.Fatalf("merge not associative\na=%+v\nb=%+v\nc=%+v", a, b, c)
		}
	})
}

func TestMergeIdempotent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		objs := history(t)
		a, b := pick(t, objs, "a"), pick(t, objs, "b")
		if !equalObjects(Merge(a, a), a) {
			t.Fatalf("merge(a,a) != a: %+v", a)
		}
		ab := Merge(a, b)
		if !equalObjects(Merge(ab, b), ab) {
			t.Fatalf("merge(merge(a,b),b) != merge(a,b)")
		}
	})
}

// Merging with the zero object (a replica that has nothing) changes nothing.
func TestMergeIdentity(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := pick(t, history(t), "a")
		if !equalObjects(Merge(a, Object{}), a) || !equalObjects(Merge(Object{}, a), a) {
			t.Fatalf("zero object is not the identity")
		}
	})
}

// A write with context c removes exactly the siblings c covers and keeps
// the others, and its VV descends both the old object and c.
func TestPutReplacesExactlyCovered(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		objs := history(t)
		o := pick(t, objs, "o")
		ctx := pick(t, objs, "ctx").VV
		a := actor(rapid.IntRange(0, 5).Draw(t, "actor"))
		out := o.Put(a, ctx, Sibling{Value: []byte("new"), Timestamp: 7})
		if err := out.Validate(); err != nil {
			t.Fatal(err)
		}
		want := map[Dot]bool{}
		for _, s := range o.Siblings {
			if !ctx.Covers(s.Dot) {
				want[s.Dot] = true
			}
		}
		var newDots int
		for _, s := range out.Siblings {
			if string(s.Value) == "new" && s.Dot.Actor == a && !o.VV.Covers(s.Dot) && !ctx.Covers(s.Dot) {
				newDots++
				continue
			}
			if !want[s.Dot] {
				t.Fatalf("sibling %s survived though context covers it", s.Dot)
			}
			delete(want, s.Dot)
		}
		if newDots != 1 || len(want) != 0 {
			t.Fatalf("new dots %d, missing survivors %v", newDots, want)
		}
		if !out.VV.Descends(o.VV) || !out.VV.Descends(ctx) {
			t.Fatalf("VV %s does not descend object %s and context %s", out.VV, o.VV, ctx)
		}
	})
}

// The sibling scenario of issue 2 and Riak's sibling_explosion: k writers
// with the same stale context all survive; a write with the merged context
// leaves one.
func TestConcurrentWritersSameStaleContext(t *testing.T) {
	for _, k := range []int{2, 4, 8} {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			coord := actor(0)
			var o Object
			// Every writer starts from the same stale (empty) context and then
			// writes with the context its own previous write returned, like
			// Riak's sibling_explosion clients.
			ctx := make([]VV, k)
			for round := 0; round < 100; round++ {
				w := round % k
				o = o.Put(coord, ctx[w], Sibling{Value: []byte(fmt.Sprintf("w%d-r%d", w, round)), Timestamp: int64(round)})
				ctx[w] = o.VV
				if len(o.Siblings) > k {
					t.Fatalf("round %d: %d siblings from %d writers", round, len(o.Siblings), k)
				}
			}
			if len(o.Siblings) != k {
				t.Fatalf("%d siblings at the end, want one per writer (%d)", len(o.Siblings), k)
			}
			merged := o.Put(coord, o.VV, Sibling{Value: []byte("merged"), Timestamp: 1000})
			if len(merged.Siblings) != 1 || string(merged.Siblings[0].Value) != "merged" {
				t.Fatalf("merge write left %d siblings", len(merged.Siblings))
			}
		})
	}
}

func TestTwoStaleWritesBothSurvive(t *testing.T) {
	var o Object
	a, b := actor(1), actor(2)
	o = o.Put(a, nil, Sibling{Value: []byte("a"), Timestamp: 1})
	o = o.Put(a, nil, Sibling{Value: []byte("b"), Timestamp: 2})
	if len(o.Siblings) != 2 {
		t.Fatalf("got %d siblings, want 2", len(o.Siblings))
	}
	// Same stale context at another coordinator, merged in afterwards.
	other := Object{}.Put(b, nil, Sibling{Value: []byte("c"), Timestamp: 3})
	m := Merge(o, other)
	if len(m.Live(0)) != 3 {
		t.Fatalf("got %d live siblings, want 3", len(m.Live(0)))
	}
	final := m.Put(a, m.VV, Sibling{Value: []byte("abc"), Timestamp: 4})
	if len(final.Siblings) != 1 {
		t.Fatalf("got %d siblings after merge write", len(final.Siblings))
	}
	// A replica still holding the old siblings converges to the merge write.
	if got := Merge(other, final); !equalObjects(got, final) {
		t.Fatalf("stale replica did not converge: %+v", got)
	}
}

func TestWinnerAndExpiry(t *testing.T) {
	var o Object
	o = o.Put(actor(1), nil, Sibling{Value: []byte("old"), Timestamp: 10})
	o = o.Put(actor(2), nil, Sibling{Value: []byte("new"), Timestamp: 20, Expiry: 100})
	if s, ok := o.Value(50); !ok || string(s.Value) != "new" {
		t.Fatalf("before expiry got %q %v", s.Value, ok)
	}
	if _, ok := o.Value(100); ok {
		t.Fatal("expired winner must read as missing")
	}
	if o.Dead(100) {
		t.Fatal("object with a live sibling is not dead")
	}
	c, changed := o.Compact(100)
	if !changed || !c.Siblings[1].Tombstone || c.Siblings[1].Value != nil {
		t.Fatalf("compact did not drop the expired value: %+v", c)
	}
	if !equalObjects(Merge(o, c), c) || !equalObjects(Merge(c, o), c) {
		t.Fatal("compacted copy must win the merge from either side")
	}
	del := o.Put(actor(1), o.VV, Sibling{Tombstone: true, Timestamp: 30})
	if !del.Dead(0) || del.DeathTime() != 30 {
		t.Fatalf("tombstone object: dead=%v death=%d", del.Dead(0), del.DeathTime())
	}
}

func TestCap(t *testing.T) {
	var o Object
	for i := 0; i < 10; i++ {
		o = o.Put(actor(i), nil, Sibling{Value: []byte{byte(i)}, Timestamp: int64(i)})
	}
	c, folded := o.Cap(4)
	if folded != 6 || len(c.Siblings) != 4 {
		t.Fatalf("folded %d kept %d", folded, len(c.Siblings))
	}
	for _, s := range c.Siblings {
		if s.Timestamp < 6 {
			t.Fatalf("kept an old sibling %d", s.Timestamp)
		}
	}
	// A replica holding the uncapped object converges on the capped one.
	if !equalObjects(Merge(o, c), c) {
		t.Fatal("capped object does not win the merge")
	}
}

func TestObjectRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o := pick(t, history(t), "o")
		if rapid.Bool().Draw(t, "expiry") && len(o.Siblings) > 0 {
			o.Siblings[0].Expiry = 123456789
		}
		if rapid.Bool().Draw(t, "typed") && len(o.Siblings) > 0 {
			o.Siblings[len(o.Siblings)-1].Type = TypeHash
			if rapid.Bool().Draw(t, "element") && !o.Siblings[len(o.Siblings)-1].Tombstone {
				o.Siblings[len(o.Siblings)-1].Field = []byte("field")
			}
		}
		enc := AppendObject(nil, o)
		if n := EncodedLen(o); n != len(enc) {
			t.Fatalf("EncodedLen %d, encoding %d bytes", n, len(enc))
		}
		got, err := DecodeObject(enc)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if !bytes.Equal(AppendObject(nil, got), enc) {
			t.Fatalf("round trip changed the object")
		}
		if len(enc) > o.EncodedSize() {
			t.Fatalf("EncodedSize %d < %d", o.EncodedSize(), len(enc))
		}
		tok := EncodeContext(o.VV)
		vv, err := DecodeContext(tok)
		if err != nil || !vv.Equal(o.VV) {
			t.Fatalf("context round trip: %v %s != %s", err, vv, o.VV)
		}
	})
}

func TestDecodeContextRejects(t *testing.T) {
	good := EncodeContext(VV{{actor(1), 3}, {actor(2), 1}})
	for _, tok := range []string{
		"!!!", "AA", good[:len(good)-2], good + "A", "AQ", // format, truncated, trailing
		EncodeContext(VV{{actor(2), 1}, {actor(1), 3}}), // unsorted
		EncodeContext(VV{{actor(1), 0}}),                // zero counter
		EncodeContext(VV{{actor(1), MaxCounter + 1}}),   // overflow guard
		string(make([]byte, MaxContextLen+1)),
	} {
		if _, err := DecodeContext(tok); err == nil {
			t.Errorf("DecodeContext(%q) accepted", tok)
		}
	}
	if vv, err := DecodeContext(""); err != nil || vv != nil {
		t.Fatalf("empty context: %v %v", vv, err)
	}
}

func TestHash(t *testing.T) {
	var o Object
	if Hash([]byte("k"), o) != 0 {
		t.Fatal("missing key must hash to 0")
	}
	o = o.Put(actor(1), nil, Sibling{Value: []byte("x")})
	h1 := Hash([]byte("k"), o)
	if h1 == 0 || h1 == Hash([]byte("j"), o) {
		t.Fatal("hash must depend on the key")
	}
	o2 := o.Put(actor(1), o.VV, Sibling{Value: []byte("y")})
	if Hash([]byte("k"), o2) == h1 {
		t.Fatal("hash must change with the version")
	}
}

func FuzzDecodeObject(f *testing.F) {
	var o Object
	o = o.Put(actor(1), nil, Sibling{Value: []byte("a"), Timestamp: 1, Expiry: 5})
	o = o.Put(actor(2), nil, Sibling{Tombstone: true, Timestamp: 2})
	f.Add(AppendObject(nil, o))
	f.Add(AppendObject(nil, Object{}))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{1, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := DecodeObject(b)
		if err != nil {
			return
		}
		// Anything accepted is well formed and survives a round trip.
		if err := o.Validate(); err != nil {
			t.Fatalf("accepted an invalid object: %v", err)
		}
		again, err := DecodeObject(AppendObject(nil, o))
		if err != nil || !equalObjects(again, o) {
			t.Fatalf("re-encoding an accepted object failed: %v", err)
		}
		_ = Merge(o, o)
	})
}

func FuzzDecodeContext(f *testing.F) {
	f.Add(EncodeContext(VV{{actor(1), 3}, {actor(2), 1}}))
	f.Add("")
	f.Add("AQ")
	f.Add("AQE")
	f.Fuzz(func(t *testing.T, tok string) {
		vv, err := DecodeContext(tok)
		if err != nil {
			return
		}
		if err := vv.Validate(); err != nil {
			t.Fatalf("accepted an invalid context: %v", err)
		}
		again, err := DecodeContext(EncodeContext(vv))
		if err != nil || !again.Equal(vv) {
			t.Fatalf("re-encoding an accepted context failed: %v", err)
		}
	})
}

// typedHistory drives a few replicas through typed writes shaped as
// package crdt makes them: a header (no field) and element siblings with
// fields from a small alphabet that includes the empty field, stamped with
// the write's dot; removals drop the elements they name and keep the rest;
// deletions write a tombstone and keep nothing. It returns every object
// any replica held along the way.
func typedHistory(t *rapid.T) []Object {
	fields := []string{"", "a", "b"}
	types := []Type{TypeHash, TypeSet, TypeZSet}
	nReplicas := rapid.IntRange(1, 3).Draw(t, "replicas")
	replicas := make([]Object, nReplicas)
	var seen []Object
	steps := rapid.IntRange(1, 25).Draw(t, "steps")
	for i := 0; i < steps; i++ {
		r := rapid.IntRange(0, nReplicas-1).Draw(t, "replica")
		ts := int64(rapid.IntRange(0, 50).Draw(t, "ts"))
		o := replicas[r]
		switch rapid.IntRange(0, 4).Draw(t, "op") {
		case 0, 1: // add or set elements, remove others
			typ := rapid.SampledFrom(types).Draw(t, "type")
			add := []Sibling{{Type: typ, Timestamp: ts}}
			touched := map[string]bool{}
			for _, f := range fields {
				switch rapid.IntRange(0, 2).Draw(t, "field op") {
				case 1:
					add = append(add, Sibling{Type: typ, Field: []byte(f), Value: []byte(fmt.Sprintf("r%d", i)), Timestamp: ts})
					touched[f] = true
				case 2:
					touched[f] = true
				}
			}
			keep := func(s Sibling) bool { return s.IsElement() && s.Type == typ && !touched[string(s.Field)] }
			replicas[r] = o.Write(actor(r), 0, o.VV, keep, add...)
		case 2: // DEL, or a string SET over whatever was there
			s := Sibling{Tombstone: true, Timestamp: ts}
			if rapid.Bool().Draw(t, "set") {
				s = Sibling{Value: []byte("s"), Timestamp: ts, Expiry: int64(rapid.IntRange(0, 60).Draw(t, "expiry"))}
			}
			replicas[r] = o.Write(actor(r), 0, o.VV, nil, s)
		case 3:
			from := rapid.IntRange(0, nReplicas-1).Draw(t, "from")
			replicas[r] = Merge(o, replicas[from])
		case 4: // a replica's housekeeping
			replicas[r], _ = o.Compact(int64(rapid.IntRange(0, 60).Draw(t, "now")))
			if rapid.Bool().Draw(t, "cap") {
				replicas[r], _ = replicas[r].Cap(1)
			}
		}
		if err := replicas[r].Validate(); err != nil {
			t.Fatalf("invariant broken: %v\n%+v", err, replicas[r])
		}
		seen = append(seen, replicas[r])
	}
	return append(seen, replicas...)
}

// sameObject compares sibling by sibling with Sibling.Equal, so that a nil
// field and an empty one differ.
func sameObject(a, b Object) bool {
	return a.VV.Equal(b.VV) && slices.EqualFunc(a.Siblings, b.Siblings, Sibling.Equal)
}

func TestTypedMergeLaws(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		objs := typedHistory(t)
		a, b, c := pick(t, objs, "a"), pick(t, objs, "b"), pick(t, objs, "c")
		if !sameObject(Merge(a, b), Merge(b, a)) {
			t.Fatalf("merge(a,b) != merge(b,a)\na=%+v\nb=%+v", a, b)
		}
		if !sameObject(Merge(Merge(a, b), c), Merge(a, Merge(b, c))) {
			t.Fatalf("merge not associative\na=%+v\nb=%+v\nc=%+v", a, b, c)
		}
		if ab := Merge(a, b); !sameObject(Merge(a, a), a) || !sameObject(Merge(ab, b), ab) {
			t.Fatalf("merge not idempotent")
		}
		if err := Merge(a, b).Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestTypedRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		for _, o := range typedHistory(t) {
			got, err := DecodeObject(AppendObject(nil, o))
			if err != nil {
				t.Fatalf("decode: %v\n%+v", err, o)
			}
			if !sameObject(got, o) {
				t.Fatalf("round trip changed the object\n%+v\n%+v", o, got)
			}
		}
	})
}

// Regression: an element with the empty field (HSET h "" v) sorted and
// merged as the same sibling as the header its write stamped with the same
// dot, so the write was invalid and a merge could drop either one.
func TestEmptyFieldIsAnElement(t *testing.T) {
	o := Object{}.Write(actor(1), 0, nil, nil,
		Sibling{Type: TypeHash, Timestamp: 1},
		Sibling{Type: TypeHash, Field: []byte{}, Value: []byte("v"), Timestamp: 1},
		Sibling{Type: TypeHash, Field: []byte("a"), Value: []byte("w"), Timestamp: 1})
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(o.Siblings) != 3 || o.Siblings[0].IsElement() || !o.Siblings[1].IsElement() || len(o.Siblings[1].Field) != 0 {
		t.Fatalf("want header, \"\", \"a\" in that order: %+v", o.Siblings)
	}
	hdr, empty := o.Siblings[0], o.Siblings[1]
	if hdr.Compare(empty) >= 0 || empty.Compare(hdr) <= 0 || empty.Compare(empty) != 0 {
		t.Fatal("the header must sort before the element with the empty field")
	}
	got, err := DecodeObject(AppendObject(nil, o))
	if err != nil || !sameObject(got, o) || got.Siblings[1].Field == nil {
		t.Fatalf("round trip: %v\n%+v", err, got)
	}
	if m := Merge(o, got); !sameObject(m, o) {
		t.Fatalf("merge of two copies lost a sibling: %+v", m)
	}
	// A concurrent write elsewhere keeps both through the merge.
	other := Object{}.Write(actor(2), 0, nil, nil, Sibling{Type: TypeHash, Timestamp: 2})
	if m := Merge(o, other); len(m.Siblings) != 4 {
		t.Fatalf("merge with a concurrent header: %+v", m.Siblings)
	}
}

// The key's own versions decide Winner, Live, Dead and DeathTime; elements
// never do, and Compact drops the elements of a dead object.
func TestElementsDoNotDecideTheKey(t *testing.T) {
	o := Object{}.Write(actor(1), 0, nil, nil,
		Sibling{Type: TypeSet, Timestamp: 5, Expiry: 100},
		Sibling{Type: TypeSet, Field: []byte("m"), Timestamp: 50})
	if w, ok := o.Winner(); !ok || w.IsElement() || w.Timestamp != 5 {
		t.Fatalf("winner %+v %v", w, ok)
	}
	if len(o.Live(0)) != 1 || o.Dead(0) || !o.Dead(100) || o.DeathTime() != 100 {
		t.Fatalf("live %d dead %v/%v death %d", len(o.Live(0)), o.Dead(0), o.Dead(100), o.DeathTime())
	}
	c, changed := o.Compact(100)
	if !changed || len(c.Siblings) != 1 || !c.Siblings[0].Tombstone || c.Siblings[0].IsElement() {
		t.Fatalf("compact of an expired set: %+v", c.Siblings)
	}
	if !sameObject(Merge(o, c), c) || !sameObject(Merge(c, o), c) {
		t.Fatal("the compacted copy must win the merge from either side")
	}
}

// Cap folds each element's concurrent versions separately from the key's.
func TestCapGroupsByField(t *testing.T) {
	var o Object
	for i := 0; i < 3; i++ {
		o = Merge(o, Object{}.Write(actor(i), 0, nil, nil,
			Sibling{Type: TypeHash, Timestamp: int64(i)},
			Sibling{Type: TypeHash, Field: []byte{}, Value: []byte{byte(i)}, Timestamp: int64(i)},
			Sibling{Type: TypeHash, Field: []byte("f"), Value: []byte{byte(i)}, Timestamp: int64(i)}))
	}
	c, folded := o.Cap(2)
	if folded != 3 || len(c.Siblings) != 6 {
		t.Fatalf("folded %d kept %d", folded, len(c.Siblings))
	}
	for _, s := range c.Siblings {
		if s.Timestamp == 0 {
			t.Fatalf("kept the oldest of a group: %+v", s)
		}
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func FuzzDecodeTypedObject(f *testing.F) {
	o := Object{}.Write(actor(1), 0, nil, nil,
		Sibling{Type: TypeZSet, Timestamp: 1, Expiry: 9},
		Sibling{Type: TypeZSet, Field: []byte{}, Value: []byte("r12345678"), Timestamp: 1})
	f.Add(AppendObject(nil, o))
	f.Add(AppendObject(nil, Object{}.Put(actor(2), nil, Sibling{Type: TypeCounter, Value: []byte{0, 0, 0, 0}})))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := DecodeObject(b)
		if err != nil {
			return
		}
		again, err := DecodeObject(AppendObject(nil, o))
		if err != nil || !sameObject(again, o) {
			t.Fatalf("re-encoding an accepted object failed: %v", err)
		}
		_, _ = o.Compact(0)
		_, _ = o.Cap(1)
		_ = Merge(o, again)
	})
}

// Regression: a removal that empties a collection wrote a plain tombstone
// which, newer by the clock, hid a member added concurrently (add wins);
// concurrent removals of the last members left a header with no elements
// that read as an empty, live collection and was never dead.
func TestEmptiedCollections(t *testing.T) {
	set := func(o Object, a Actor, ts int64, add []string, remove ...string) Object {
		gone := map[string]bool{}
		for _, f := range append(remove, add...) {
			gone[f] = true
		}
		sibs := []Sibling{{Type: TypeSet, Timestamp: ts}}
		for _, f := range add {
			sibs = append(sibs, Sibling{Type: TypeSet, Field: []byte(f), Timestamp: ts})
		}
		return o.Write(a, 0, o.VV, func(s Sibling) bool { return s.IsElement() && !gone[string(s.Field)] }, sibs...)
	}
	base := set(Object{}, actor(1), 10, []string{"x", "y"})
	emptied := base.Write(actor(1), 0, base.VV, nil, Sibling{Type: TypeSet, Tombstone: true, Timestamp: 30})
	added := set(base, actor(2), 20, []string{"z"})
	m := Merge(emptied, added)
	if w, ok := m.Value(0); !ok || w.Tombstone || w.Type != TypeSet {
		t.Fatalf("the emptying tombstone hid a concurrent add: %+v %v", w, ok)
	}
	if m.Dead(0) || len(m.Live(0)) != 1 {
		t.Fatalf("dead=%v live=%d", m.Dead(0), len(m.Live(0)))
	}
	if w, ok := emptied.Winner(); !ok || !w.Tombstone {
		t.Fatal("alone, the emptied collection is a tombstone")
	}
	// Concurrent removals of the last members: headers, no elements.
	a := set(base, actor(1), 20, nil, "x")
	b := set(base, actor(2), 20, nil, "y")
	m = Merge(a, b)
	if _, ok := m.Value(0); ok || !m.Dead(0) || len(m.Live(0)) != 0 {
		t.Fatalf("an empty collection reads as live: %+v", m)
	}
	if _, ok := a.Value(0); !ok {
		t.Fatal("a collection with an element is live")
	}
}
