package antientropy

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"

	"github.com/cespare/xxhash/v2"
)

// Tree shape defaults and limits.
const (
	// DefaultLeaves is the number of leaf segments of a tree built with
	// leaves == 0: about a hundred keys per segment for a partition of
	// 100k keys, and 8 KiB of leaf hashes.
	DefaultLeaves = 1024
	// DefaultFanout is the number of children of an inner node of a tree
	// built with fanout == 0. With DefaultLeaves it gives a root over 32
	// branches over 32 leaves each: at most three rounds of hashes, then the
	// key round.
	DefaultFanout = 32
	// MaxLeaves bounds the leaves of a tree (8 MiB of leaf hashes), so a
	// forged shape in a saved tree or on the wire cannot make us allocate
	// more than that.
	MaxLeaves = 1 << 20
	// MaxFanout bounds the fanout, and with it the hashes in one reply per
	// differing parent.
	MaxFanout = 1 << 10
)

// segmentSeed seeds the key -> segment hash. It differs from every other
// use of xxhash in dynago (version.Hash uses the unseeded hash of a
// different input), so a key's segment is independent of its object hash.
// It is part of the wire and on-disk format: every replica must put a key
// in the same segment, so it must never change.
const segmentSeed uint64 = 0x6479_6e61_676f_6165 // "dynagoae"

// ErrShape reports a tree shape (leaves, fanout) that is not a power of
// two within the limits, or two trees whose shapes differ.
var ErrShape = errors.New("antientropy: bad tree shape")

// Tree is the Merkle tree of one partition on one node (docs/architecture.md §7). Its
// leaves are the segments of the partition's key space; a leaf's hash is
// the XOR of version.Hash(key, object) over the keys in the segment, and an
// inner node's hash is the XOR of its children's.
//
// All methods are safe for concurrent use. Update holds the tree's mutex
// for O(depth) XORs; Level, Root and Clone see a consistent tree.
type Tree struct {
	leaves, fanout int
	// shift is log2(fanout): child j of node i is i<<shift + j.
	shift uint
	// segBits is log2(leaves): a key's segment is the top segBits bits of
	// its segment hash.
	segBits uint
	// offsets[d] is the index in nodes of the first node at depth d;
	// offsets[depth+1] == len(nodes). Immutable after NewTree.
	offsets []int

	mu struct {
		sync.Mutex
		// nodes holds every node's hash, level by level from the root
		// (nodes[0]) to the leaves (the last `leaves` entries). The
		// invariant nodes[parent] == XOR(children) holds whenever mu is
		// unlocked.
		nodes []uint64
	}
}

// NewTree returns an empty tree of the given shape. Leaves and fanout must
// be powers of two (leaves >= 1, fanout >= 2) within MaxLeaves and
// MaxFanout; zero selects DefaultLeaves or DefaultFanout. Replicas that
// exchange trees must use the same shape, since the shape decides a key's
// segment.
//
// When leaves is not a power of fanout, the level below the root is
// narrower than fanout: 2048 leaves with fanout 32 give widths 1, 2, 64,
// 2048.
func NewTree(leaves, fanout int) (*Tree, error) {
	if leaves == 0 {
		leaves = DefaultLeaves
	}
	if fanout == 0 {
		fanout = DefaultFanout
	}
	if err := checkShape(leaves, fanout); err != nil {
		return nil, err
	}
	t := &Tree{
		leaves:  leaves,
		fanout:  fanout,
		shift:   uint(bits.TrailingZeros(uint(fanout))),
		segBits: uint(bits.TrailingZeros(uint(leaves))),
	}
	// Widths from the leaves up, then offsets from the root down.
	widths := []int{leaves}
	for w := leaves; w > 1; {
		w = max(1, w>>t.shift)
		widths = append(widths, w)
	}
	t.offsets = make([]int, len(widths)+1)
	for d := range widths {
		t.offsets[d+1] = t.offsets[d] + widths[len(widths)-1-d]
	}
	t.mu.nodes = make([]uint64, t.offsets[len(widths)])
	return t, nil
}

func checkShape(leaves, fanout int) error {
	pow2 := func(n int) bool { return n > 0 && n&(n-1) == 0 }
	if !pow2(leaves) || leaves > MaxLeaves {
		return fmt.Errorf("%w: %d leaves (want a power of two in 1..%d)", ErrShape, leaves, MaxLeaves)
	}
	if !pow2(fanout) || fanout < 2 || fanout > MaxFanout {
		return fmt.Errorf("%w: fanout %d (want a power of two in 2..%d)", ErrShape, fanout, MaxFanout)
	}
	return nil
}

// Leaves returns the number of leaf segments.
func (t *Tree) Leaves() int { return t.leaves }

// Fanout returns the number of children of a full inner node.
func (t *Tree) Fanout() int { return t.fanout }

// Depth returns the depth of the leaves: the root is at depth 0, the leaves
// at Depth(). A tree with one leaf has depth 0 (the leaf is the root).
func (t *Tree) Depth() int { return len(t.offsets) - 2 }

// Width returns the number of nodes at the given depth.
func (t *Tree) Width(depth int) int {
	return t.offsets[depth+1] - t.offsets[depth]
}

// Children returns the range [first, first+n) of the children, at depth+1,
// of node i at depth. It panics if depth is the leaves' depth or i is out
// of range, like a slice index would.
func (t *Tree) Children(depth, i int) (first, n int) {
	if depth < 0 || depth >= t.Depth() || i < 0 || i >= t.Width(depth) {
		panic(fmt.Sprintf("antientropy: Children(%d, %d) out of range", depth, i))
	}
	first = i << t.shift
	return first, min(t.fanout, t.Width(depth+1)-first)
}

// SameShape reports whether t and u have the same leaves and fanout, so
// that their hashes can be compared node by node.
func (t *Tree) SameShape(u *Tree) bool {
	return t.leaves == u.leaves && t.fanout == u.fanout
}

// Segment returns the leaf segment of key, in [0, Leaves()). It hashes the
// key only (never the partition, the object or the node), so a key lands in
// the same segment on every replica that uses the same shape.
func (t *Tree) Segment(key []byte) int {
	var d xxhash.Digest
	d.ResetWithSeed(segmentSeed)
	d.Write(key)
	// Top bits: Go defines h >> 64 as 0, which is right for one leaf.
	return int(d.Sum64() >> (64 - t.segBits))
}

// Update replaces key's contribution oldHash by newHash: it XORs
// oldHash^newHash into the key's leaf and every node on the path to the
// root, O(depth), with no I/O. Use 0 for a missing object (an insert has
// oldHash 0, a removal newHash 0); version.Hash already returns 0 for it.
//
// The caller passes the hash of the object it is replacing; it must hold
// the key's lock (so two writes of one key cannot both XOR out the same
// old hash). Updates of different keys may run concurrently with each
// other and with every other method; Build is the exception (see Build).
func (t *Tree) Update(key []byte, oldHash, newHash uint64) {
	delta := oldHash ^ newHash
	if delta == 0 {
		return
	}
	i := t.Segment(key)
	t.mu.Lock()
	t.xorPath(i, delta)
	t.mu.Unlock()
}

// xorPath XORs delta into leaf i and every node on the path from it to the
// root. The caller holds t.mu.
func (t *Tree) xorPath(i int, delta uint64) {
	for d := t.Depth(); d >= 0; d-- {
		t.mu.nodes[t.offsets[d]+i] ^= delta
		i >>= t.shift
	}
}

// Root returns the root hash: 0 for an empty partition, equal on two
// replicas that hold the same versions of the same keys.
func (t *Tree) Root() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.mu.nodes[0]
}

// Level returns the hashes of count nodes at depth, starting at node first.
// It panics if the range is outside the level, like a slice expression;
// Answer validates ranges that come from the network.
func (t *Tree) Level(depth, first, count int) []uint64 {
	return t.appendLevel(nil, depth, first, count)
}

func (t *Tree) appendLevel(dst []uint64, depth, first, count int) []uint64 {
	if depth < 0 || depth > t.Depth() || first < 0 || count < 0 || first+count > t.Width(depth) {
		panic(fmt.Sprintf("antientropy: Level(%d, %d, %d) out of range", depth, first, count))
	}
	lo := t.offsets[depth] + first
	t.mu.Lock()
	dst = append(dst, t.mu.nodes[lo:lo+count]...)
	t.mu.Unlock()
	return dst
}

// Reset empties the tree, as for a partition that holds no keys.
func (t *Tree) Reset() {
	t.mu.Lock()
	clear(t.mu.nodes)
	t.mu.Unlock()
}

// Clone returns an independent copy of t, a consistent snapshot even while
// updates go on. An exchange may run against a clone so that its
// comparisons at successive depths agree with each other.
func (t *Tree) Clone() *Tree {
	c := &Tree{
		leaves:  t.leaves,
		fanout:  t.fanout,
		shift:   t.shift,
		segBits: t.segBits,
		offsets: t.offsets, // immutable, so shared
	}
	t.mu.Lock()
	c.mu.nodes = append([]uint64(nil), t.mu.nodes...)
	t.mu.Unlock()
	return c
}

// Build replaces the tree's contents with the XOR of the hashes iter
// yields: iter calls fn once per key of the partition with the key's
// version.Hash. The key slice is not retained, so iter may reuse it.
//
// Build accumulates into a private array without holding the tree's lock
// (iter typically scans the partition on disk), then installs the result
// at once. An Update that runs while iter is running is therefore lost or
// counted twice, depending on whether iter saw the new object: the caller
// must keep the partition's writes out of the tree during Build (for
// instance, build a fresh Tree from a storage snapshot and replay the
// writes made since the snapshot into it before swapping it in).
func (t *Tree) Build(iter func(fn func(key []byte, h uint64))) {
	nodes := make([]uint64, t.offsets[len(t.offsets)-1])
	leafOff := t.offsets[t.Depth()]
	iter(func(key []byte, h uint64) {
		nodes[leafOff+t.Segment(key)] ^= h
	})
	t.fillInner(nodes)
	t.mu.Lock()
	t.mu.nodes = nodes
	t.mu.Unlock()
}

// fillInner recomputes every inner node of nodes from the leaves, bottom
// up: O(leaves).
func (t *Tree) fillInner(nodes []uint64) {
	for d := t.Depth() - 1; d >= 0; d-- {
		parents := nodes[t.offsets[d]:t.offsets[d+1]]
		children := nodes[t.offsets[d+1]:t.offsets[d+2]]
		clear(parents)
		for j, h := range children {
			parents[j>>t.shift] ^= h
		}
	}
}

// SetLeaf sets segment seg's hash to h, fixing the nodes above it, and
// reports whether it changed. An exchange calls it after computing the
// segment's true hash from the stored keys: a tree that drifted (an update
// that raced with Build, a crash between a write and its tree update)
// heals at the next exchange that touches the segment.
func (t *Tree) SetLeaf(seg int, h uint64) bool {
	if seg < 0 || seg >= t.leaves {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	delta := t.mu.nodes[t.offsets[t.Depth()]+seg] ^ h
	if delta == 0 {
		return false
	}
	t.xorPath(seg, delta)
	return true
}

// SetLeafIf is SetLeaf done only if segment seg's hash is still expect: the
// comparison and the change happen under one lock, so an Update that lands
// after the caller read the leaf is not overwritten. It reports whether it
// changed the leaf (false when the leaf moved, or already was h).
func (t *Tree) SetLeafIf(seg int, expect, h uint64) bool {
	if seg < 0 || seg >= t.leaves {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	leaf := t.mu.nodes[t.offsets[t.Depth()]+seg]
	if leaf != expect || leaf == h {
		return false
	}
	t.xorPath(seg, leaf^h)
	return true
}
