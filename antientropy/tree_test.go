package antientropy

// Tests of the tree itself, after Dynamo §4.7: "each node maintains a
// separate Merkle tree for each key range ... leaves are hashes of the
// values of individual keys. Parent nodes higher in the tree are hashes of
// their respective children." docs/architecture.md §7 makes the leaf a segment of keys
// and the combination an XOR, so that a write updates the tree in O(depth).

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"pgregory.net/rapid"
)

func TestNewTreeShapes(t *testing.T) {
	for _, tc := range []struct {
		leaves, fanout int
		widths         []int
		err            error
	}{
		{0, 0, []int{1, 32, 1024}, nil}, // the defaults
		{1024, 32, []int{1, 32, 1024}, nil},
		{2048, 32, []int{1, 2, 64, 2048}, nil},
		{16, 4, []int{1, 4, 16}, nil},
		{8, 2, []int{1, 2, 4, 8}, nil},
		{8, 16, []int{1, 8}, nil},
		{2, 2, []int{1, 2}, nil},
		{1, 2, []int{1}, nil},
		{MaxLeaves, MaxFanout, []int{1, 1 << 10, MaxLeaves}, nil},
		{3, 2, nil, ErrShape},
		{-4, 2, nil, ErrShape},
		{MaxLeaves * 2, 2, nil, ErrShape},
		{1024, 1, nil, ErrShape},
		{1024, 3, nil, ErrShape},
		{1024, -2, nil, ErrShape},
		{1024, MaxFanout * 2, nil, ErrShape},
	} {
		tr, err := NewTree(tc.leaves, tc.fanout)
		if !errors.Is(err, tc.err) {
			t.Errorf("NewTree(%d, %d) error %v, want %v", tc.leaves, tc.fanout, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		var widths []int
		for d := 0; d <= tr.Depth(); d++ {
			widths = append(widths, tr.Width(d))
		}
		if !slices.Equal(widths, tc.widths) {
			t.Errorf("NewTree(%d, %d) widths %v, want %v", tc.leaves, tc.fanout, widths, tc.widths)
		}
		if tr.Root() != 0 {
			t.Errorf("NewTree(%d, %d) root %#x, want 0", tc.leaves, tc.fanout, tr.Root())
		}
	}
}

func TestChildren(t *testing.T) {
	tr, _ := NewTree(2048, 32)
	for _, tc := range []struct{ depth, i, first, n int }{
		{0, 0, 0, 2}, // the narrow level below the root
		{1, 0, 0, 32},
		{1, 1, 32, 32},
		{2, 63, 2016, 32},
	} {
		first, n := tr.Children(tc.depth, tc.i)
		if first != tc.first || n != tc.n {
			t.Errorf("Children(%d, %d) = %d, %d; want %d, %d", tc.depth, tc.i, first, n, tc.first, tc.n)
		}
	}
	for _, bad := range [][2]int{{3, 0}, {-1, 0}, {0, 1}, {1, 2}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Children(%d, %d) did not panic", bad[0], bad[1])
				}
			}()
			tr.Children(bad[0], bad[1])
		}()
	}
}

// The segment function is part of the wire format: replicas must agree on
// it, so its values are pinned.
func TestSegmentPinned(t *testing.T) {
	tr, _ := NewTree(0, 0)
	for _, tc := range []struct {
		key string
		seg int
	}{
		{"", 635},
		{"foo", 258},
		{"{user1}.cart", 766},
		{"key:0", 595},
	} {
		if got := tr.Segment([]byte(tc.key)); got != tc.seg {
			t.Errorf("Segment(%q) = %d, want %d", tc.key, got, tc.seg)
		}
	}
	one, _ := NewTree(1, 2)
	if got := one.Segment([]byte("foo")); got != 0 {
		t.Errorf("one-leaf Segment = %d, want 0", got)
	}
}

// Keys spread evenly over the segments, so each segment's share of an
// exchange's key round is about keys/leaves.
func TestSegmentSpread(t *testing.T) {
	tr, _ := NewTree(0, 0)
	counts := make([]int, tr.Leaves())
	const n = 100_000
	for _, k := range keys(n) {
		counts[tr.Segment([]byte(k))]++
	}
	mean := n / tr.Leaves()
	lo, hi := slices.Min(counts), slices.Max(counts)
	if lo < mean/2 || hi > mean*3/2 {
		t.Errorf("segment sizes %d..%d for a mean of %d", lo, hi, mean)
	}
}

// An Update is exactly what a rebuild from scratch would give, after any
// sequence of inserts, updates and deletes.
func TestUpdateMatchesBuild(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		leaves, fanout := drawShape(t)
		tr, err := NewTree(leaves, fanout)
		if err != nil {
			t.Fatal(err)
		}
		m := drawModel(t, "init", 50)
		tr.Build(m.iter)
		pool := rapid.SliceOfN(rapid.StringN(0, 6, -1), 1, 20).Draw(t, "pool")
		for i, n := 0, rapid.IntRange(0, 200).Draw(t, "ops"); i < n; i++ {
			k := rapid.SampledFrom(pool).Draw(t, "key")
			c := rapid.Uint64Range(0, 4).Draw(t, "counter") // 0 deletes
			tr.Update([]byte(k), objHash(k, m[k]), objHash(k, c))
			if c == 0 {
				delete(m, k)
			} else {
				m[k] = c
			}
		}
		checkInvariant(t, tr)
		want := m.build(t, leaves, fanout)
		if !slices.Equal(nodes(tr), nodes(want)) {
			t.Fatalf("updated tree differs from rebuilt tree")
		}
		var x uint64
		for k, c := range m {
			x ^= objHash(k, c)
		}
		if tr.Root() != x {
			t.Fatalf("root %#x, want XOR of all hashes %#x", tr.Root(), x)
		}
	})
}

func TestLevelCloneReset(t *testing.T) {
	m := uniform(keys(5000), 1)
	tr := m.build(t, 0, 0)
	all := nodes(tr)
	for d := 0; d <= tr.Depth(); d++ {
		got := tr.Level(d, 0, tr.Width(d))
		if !slices.Equal(got, all[tr.offsets[d]:tr.offsets[d+1]]) {
			t.Fatalf("Level(%d) differs from the nodes", d)
		}
	}
	if got := tr.Level(2, 1000, 24); !slices.Equal(got, all[tr.offsets[2]+1000:]) {
		t.Fatalf("Level(2, 1000, 24) = %v", got)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Level past the end did not panic")
			}
		}()
		tr.Level(2, 1000, 25)
	}()

	c := tr.Clone()
	if c.Root() != tr.Root() || !slices.Equal(nodes(c), all) {
		t.Fatal("clone differs")
	}
	tr.Update([]byte("key:1"), objHash("key:1", 1), objHash("key:1", 2))
	if c.Root() == tr.Root() || !slices.Equal(nodes(c), all) {
		t.Fatal("clone shares state with the original")
	}
	tr.Reset()
	if slices.ContainsFunc(nodes(tr), func(h uint64) bool { return h != 0 }) {
		t.Fatal("Reset left hashes")
	}
	if c.Root() == 0 {
		t.Fatal("Reset of the original emptied the clone")
	}
}

// Updates of many keys of one partition from many goroutines, with readers
// alongside (run under -race), end where a rebuild ends.
func TestConcurrentUpdates(t *testing.T) {
	tr, _ := NewTree(0, 0)
	const writers, perWriter = 8, 2000
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() { // a reader: snapshots must always be consistent
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if err := invariantErr(tr.Clone()); err != nil {
				t.Error(err)
				return
			}
			if _, err := tr.Answer(LevelRequest{Depth: 2, Parents: []int{0, 5}}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var ww sync.WaitGroup
	want := model{}
	for w := range writers {
		ks := keys(writers * perWriter)[w*perWriter : (w+1)*perWriter]
		for _, k := range ks {
			want[k] = 2
		}
		ww.Add(1)
		go func() {
			defer ww.Done()
			for _, k := range ks { // each key is written by one goroutine only
				tr.Update([]byte(k), 0, objHash(k, 1))
				tr.Update([]byte(k), objHash(k, 1), objHash(k, 2))
			}
		}()
	}
	ww.Wait()
	close(done)
	wg.Wait()
	if !slices.Equal(nodes(tr), nodes(want.build(t, 0, 0))) {
		t.Fatal("concurrent updates differ from a rebuild")
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		leaves, fanout := drawShape(t)
		m := drawModel(t, "m", 40)
		tr := m.build(t, leaves, fanout)
		b, err := tr.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got Tree // the zero Tree is fine for UnmarshalBinary
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if !got.SameShape(tr) || !slices.Equal(nodes(&got), nodes(tr)) {
			t.Fatal("round trip changed the tree")
		}
		// The loaded tree works: the same update gives the same root.
		tr.Update([]byte("x"), 0, 1)
		got.Update([]byte("x"), 0, 1)
		if got.Root() != tr.Root() {
			t.Fatal("loaded tree updates differently")
		}
	})
}

func TestUnmarshalErrors(t *testing.T) {
	tr := model{"a": 1, "b": 2}.build(t, 16, 4)
	good, _ := tr.MarshalBinary()
	body := func(b []byte) []byte { return withChecksum(b) }
	for _, tc := range []struct {
		name string
		b    []byte
		err  error
	}{
		{"empty", nil, ErrMalformed},
		{"truncated", good[:len(good)-1], ErrMalformed},
		{"bit flip", flip(good, 10), ErrMalformed},
		{"format", body([]byte{2, 16, 4}), ErrMalformed},
		{"no shape", body([]byte{treeFormatV1}), ErrMalformed},
		{"leaves not a power of two", body(append([]byte{treeFormatV1, 3, 4}, make([]byte, 24)...)), ErrShape},
		{"zero leaves", body([]byte{treeFormatV1, 0, 4}), ErrShape},
		{"zero fanout", body(append([]byte{treeFormatV1, 1, 0}, make([]byte, 8)...)), ErrShape},
		{"huge leaves", body([]byte{treeFormatV1, 0xff, 0xff, 0xff, 0xff, 0x0f, 4}), ErrMalformed},
		{"short leaves", body([]byte{treeFormatV1, 16, 4, 0, 0}), ErrMalformed},
	} {
		var u Tree
		if err := u.UnmarshalBinary(tc.b); !errors.Is(err, tc.err) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.err)
		}
	}
	// A failed load leaves the tree as it was.
	before := tr.Root()
	if err := tr.UnmarshalBinary(flip(good, 3)); err == nil || tr.Root() != before {
		t.Errorf("failed load changed the tree (err %v)", err)
	}
}

func flip(b []byte, i int) []byte {
	b = slices.Clone(b)
	b[i] ^= 1
	return b
}

func TestSetLeafHealsADriftedTree(t *testing.T) {
	truth, _ := NewTree(64, 4)
	drift, _ := NewTree(64, 4)
	keys := make([][]byte, 200)
	hash := func(i int) uint64 { return uint64(i)*0x9E3779B97F4A7C15 + 1 }
	for i := range keys {
		keys[i] = []byte{byte(i), byte(i >> 8), 'k'}
		truth.Update(keys[i], 0, hash(i))
		drift.Update(keys[i], 0, hash(i))
	}
	// One lost update leaves drift wrong in one segment.
	truth.Update(keys[7], hash(7), 42)
	if truth.Root() == drift.Root() {
		t.Fatal("setup: trees agree")
	}
	seg := truth.Segment(keys[7])
	want := truth.Level(truth.Depth(), seg, 1)[0]
	if !drift.SetLeaf(seg, want) {
		t.Fatal("SetLeaf reported no change")
	}
	if truth.Root() != drift.Root() {
		t.Fatal("SetLeaf did not fix the path to the root")
	}
	if drift.SetLeaf(seg, want) {
		t.Fatal("setting the same hash again reported a change")
	}
}

func TestSetLeafIfSetsOnlyAnUnmovedLeaf(t *testing.T) {
	tr, _ := NewTree(64, 4)
	keys := make([][]byte, 200)
	hash := func(i int) uint64 { return uint64(i)*0x9E3779B97F4A7C15 + 1 }
	for i := range keys {
		keys[i] = []byte{byte(i), byte(i >> 8), 'k'}
		tr.Update(keys[i], 0, hash(i))
	}
	seg := tr.Segment(keys[7])
	leaf := func() uint64 { return tr.Level(tr.Depth(), seg, 1)[0] }
	read := leaf()

	// The leaf moved since it was read (a concurrent write's Update): no
	// change, and the write's update survives.
	tr.Update(keys[7], hash(7), 42)
	moved := leaf()
	before := nodes(tr)
	if tr.SetLeafIf(seg, read, 12345) {
		t.Fatal("SetLeafIf changed a leaf that moved since it was read")
	}
	if !slices.Equal(nodes(tr), before) {
		t.Fatal("a refused SetLeafIf changed the tree")
	}

	// The leaf is still what the caller read: it is set, and the path to
	// the root follows.
	if !tr.SetLeafIf(seg, moved, 12345) {
		t.Fatal("SetLeafIf did not set an unmoved leaf")
	}
	if got := leaf(); got != 12345 {
		t.Fatalf("leaf = %#x after SetLeafIf, want 0x3039", got)
	}
	checkInvariant(t, tr)
	want, _ := NewTree(64, 4)
	want.Build(func(fn func([]byte, uint64)) {
		for i, k := range keys {
			h := hash(i)
			if i == 7 {
				h = 42
			}
			fn(k, h)
		}
	})
	want.SetLeaf(seg, 12345)
	if !slices.Equal(nodes(tr), nodes(want)) {
		t.Fatal("SetLeafIf left a different tree than SetLeaf")
	}

	// Setting the hash the leaf already holds is no change; a segment out
	// of range is refused.
	if tr.SetLeafIf(seg, 12345, 12345) {
		t.Fatal("setting the same hash again reported a change")
	}
	if tr.SetLeafIf(-1, 0, 1) || tr.SetLeafIf(tr.Leaves(), 0, 1) {
		t.Fatal("SetLeafIf accepted a segment out of range")
	}
	checkInvariant(t, tr)
}
