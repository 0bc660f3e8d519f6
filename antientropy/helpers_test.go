package antientropy

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"pgregory.net/rapid"

	"github.com/dynago/dynago/version"
)

// testActor is the one coordinator of the test objects.
var testActor = version.NewActor([]byte("node-a"), 1)

// objHash is the real anti-entropy hash of key at version counter (0: no
// object). Tests use it instead of drawing raw hashes, because rapid draws
// small, structured numbers whose XORs cancel far more often than the
// 2^-64 of real hashes, and a cancelling pair is a legitimate blind spot
// of any XOR tree, not a bug to find.
func objHash(key string, counter uint64) uint64 {
	if counter == 0 {
		return 0
	}
	return version.Hash([]byte(key), version.Object{VV: version.VV{{Actor: testActor, Counter: counter}}})
}

// fataler is what the helpers need of a *testing.T, *testing.B or
// *rapid.T (which is no testing.TB).
type fataler interface {
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// model is a partition's contents as a test sees them: key -> version
// counter.
type model map[string]uint64

// build returns a tree of the given shape built from m.
func (m model) build(t fataler, leaves, fanout int) *Tree {
	tr, err := NewTree(leaves, fanout)
	if err != nil {
		t.Fatal(err)
	}
	tr.Build(m.iter)
	return tr
}

func (m model) iter(fn func(key []byte, h uint64)) {
	for k, c := range m {
		fn([]byte(k), objHash(k, c))
	}
}

// list returns m's (key, hash) pairs sorted by key, as a scan of the
// partition on disk would yield them.
func (m model) list() []KeyHash {
	var l []KeyHash
	for _, k := range slices.Sorted(maps.Keys(m)) {
		l = append(l, KeyHash{Key: []byte(k), Hash: objHash(k, m[k])})
	}
	return l
}

// replica is one side of an exchange: its tree and its sorted key list.
type replica struct {
	tree *Tree
	keys []KeyHash
}

func (m model) replica(t fataler, leaves, fanout int) replica {
	return replica{tree: m.build(t, leaves, fanout), keys: m.list()}
}

// scan lists the keys in segments, as the engine's partition scan will.
func (r replica) scan(segments []int) []KeyHash {
	in := r.tree.SegmentFilter(segments)
	var l []KeyHash
	for _, kh := range r.keys {
		if in(kh.Key) {
			l = append(l, kh)
		}
	}
	return l
}

// nodes returns a copy of every node hash of tr.
func nodes(tr *Tree) []uint64 {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return slices.Clone(tr.mu.nodes)
}

// checkInvariant fails unless every inner node is the XOR of its children.
func checkInvariant(t fataler, tr *Tree) {
	if err := invariantErr(tr); err != nil {
		t.Fatal(err)
	}
}

func invariantErr(tr *Tree) error {
	ns := nodes(tr)
	for d := 0; d < tr.Depth(); d++ {
		for i := range tr.Width(d) {
			first, n := tr.Children(d, i)
			var x uint64
			for _, h := range ns[tr.offsets[d+1]+first:][:n] {
				x ^= h
			}
			if got := ns[tr.offsets[d]+i]; got != x {
				return fmt.Errorf("node %d at depth %d = %#x, XOR of children = %#x", i, d, got, x)
			}
		}
	}
	return nil
}

// shapes are the tree shapes the property tests draw from: the default,
// a leaves count that is not a power of the fanout, a binary tree, and
// the one-leaf tree whose root is its leaf.
var shapes = [][2]int{{1024, 32}, {2048, 32}, {64, 2}, {16, 4}, {1, 2}, {8, 16}}

func drawShape(t *rapid.T) (leaves, fanout int) {
	s := rapid.SampledFrom(shapes).Draw(t, "shape")
	return s[0], s[1]
}

// drawModel draws a partition of up to max keys with counters >= 1.
func drawModel(t *rapid.T, label string, max int) model {
	m := model{}
	for i, n := 0, rapid.IntRange(0, max).Draw(t, label+"Len"); i < n; i++ {
		m[rapid.StringN(0, 8, -1).Draw(t, label+"Key")] = rapid.Uint64Range(1, 5).Draw(t, label+"Ctr")
	}
	return m
}

// keys returns n distinct keys of the form "key:i".
func keys(n int) []string {
	ks := make([]string, n)
	for i := range ks {
		ks[i] = "key:" + strconv.Itoa(i)
	}
	return ks
}

// uniform returns the model holding every key of ks at counter.
func uniform(ks []string, counter uint64) model {
	m := make(model, len(ks))
	for _, k := range ks {
		m[k] = counter
	}
	return m
}

func pct(f float64) string { return fmt.Sprintf("%g%%", 100*f) }
