package crdt

import (
	"testing"

	"github.com/dynago/dynago/version"
)

// A store (SINTERSTORE, SUNIONSTORE …) replaces the key whatever type it
// held, as Redis's do, and an empty result deletes it; it reads a quorum
// first, since it removes everything the key held.
func TestStoreReplacesAnyType(t *testing.T) {
	a := version.NewActor([]byte("node-one"), 1)
	str := version.Object{}.Write(a, 1, nil, nil, version.Sibling{Value: []byte("v"), Timestamp: 1})
	op := Op{Kind: OpStore, Type: version.TypeSet, Fields: [][]byte{[]byte("b"), []byte("a"), []byte("b")}}
	if !op.NeedsRead() {
		t.Error("OpStore does not read a quorum first")
	}
	next, write, res, err := Apply(str, op, a, nil, 10)
	if err != nil || !write || res.Int != 2 {
		t.Fatalf("store over a string: write %v res %+v err %v", write, res, err)
	}
	els, found, err := Elements(next, version.TypeSet, 10)
	if err != nil || !found || len(els) != 2 || string(els[0].Field) != "a" || string(els[1].Field) != "b" {
		t.Fatalf("stored set: %+v found %v err %v", els, found, err)
	}
	next, write, _, err = Apply(next, Op{Kind: OpStore, Type: version.TypeSet}, a, nil, 20)
	if err != nil || !write {
		t.Fatalf("empty store: write %v err %v", write, err)
	}
	if _, ok := KeyType(next, 20); ok {
		t.Error("an empty store left the key")
	}
}

// A store with an expiry (RENAME, COPY, RESTORE of a collection) gives the
// new collection that expiry; with FlagNX it writes only a missing key.
func TestStoreExpiryAndNX(t *testing.T) {
	a := version.NewActor([]byte("node-one"), 1)
	op := Op{Kind: OpStore, Type: version.TypeHash, Int: 5000, Flags: FlagNX,
		Fields: [][]byte{[]byte("f")}, Values: [][]byte{[]byte("v")}}
	next, write, _, err := Apply(version.Object{}, op, a, nil, 10)
	if err != nil || !write {
		t.Fatalf("store NX on a missing key: write %v err %v", write, err)
	}
	if h, ok := next.Value(10); !ok || h.Expiry != 5000 {
		t.Fatalf("header %+v live %v; want expiry 5000", h, ok)
	}
	if _, ok := KeyType(next, 5000); ok {
		t.Error("the stored hash outlived its expiry")
	}
	if _, write, _, err := Apply(next, op, a, nil, 20); err != nil || write {
		t.Errorf("store NX on a live key: write %v err %v; want nothing written", write, err)
	}
	op.Flags, op.Int = 0, 0
	next, write, _, err = Apply(next, op, a, nil, 30)
	if h, _ := next.Value(30); err != nil || !write || h.Expiry != 0 {
		t.Errorf("store without expiry over one with: write %v err %v expiry %d", write, err, h.Expiry)
	}
}

// A malformed op (one a forwarding node could send) is refused, not
// applied and not a panic.
func TestMalformedOpsAreRefused(t *testing.T) {
	a := version.NewActor([]byte("node-one"), 1)
	f := [][]byte{[]byte("f")}
	for _, op := range []Op{
		{},
		{Kind: opLimit},
		{Kind: OpHSet, Fields: f},
		{Kind: OpHSet},
		{Kind: OpZAdd, Fields: f, Values: [][]byte{[]byte("1"), []byte("2")}},
		{Kind: OpZAdd, Flags: FlagIncr, Fields: [][]byte{[]byte("a"), []byte("b")}, Values: [][]byte{[]byte("1"), []byte("2")}},
		{Kind: OpHIncrBy},
		{Kind: OpSRem},
		{Kind: OpSPop, Int: -1},
		{Kind: OpZPopMin, Int: -5},
		{Kind: OpZRemRangeByRank, Values: f},
		{Kind: OpStore, Type: version.TypeHash, Fields: f},
		{Kind: OpStore, Type: version.TypeCounter},
		{Kind: OpStore, Type: version.TypeSet, Int: -1},
	} {
		if _, write, _, err := Apply(version.Object{}, op, a, nil, 10); err == nil || write {
			t.Errorf("%+v: write %v err %v; want refused", op, write, err)
		}
	}
}
