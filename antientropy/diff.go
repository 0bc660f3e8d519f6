package antientropy

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

// ErrProtocol reports a request or reply that does not fit the exchange:
// nodes outside the tree, parents out of order, a reply of the wrong
// length, or keys outside the segments asked for.
var ErrProtocol = errors.New("antientropy: protocol error")

// LevelRequest asks the peer for the hashes of the nodes at Depth that are
// children of Parents, nodes at Depth-1 in increasing order. At depth 0
// Parents is empty and the request asks for the root.
type LevelRequest struct {
	Depth   int
	Parents []int
}

// Answer returns the hashes the peer asked for in req, in the order of
// req.Parents and then of the children: what the responding replica sends
// back. req usually comes from the network, so every range is checked; a
// request that does not fit the tree is an ErrProtocol, never a panic.
// Answer reads the whole reply under one lock, so it is consistent with
// itself even while updates go on.
func (t *Tree) Answer(req LevelRequest) ([]uint64, error) {
	if err := t.checkParents(req.Depth, req.Parents); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if req.Depth == 0 {
		return []uint64{t.mu.nodes[0]}, nil
	}
	out := make([]uint64, 0, t.childCount(req.Depth-1, req.Parents))
	for _, p := range req.Parents {
		first, n := t.Children(req.Depth-1, p)
		lo := t.offsets[req.Depth] + first
		out = append(out, t.mu.nodes[lo:lo+n]...)
	}
	return out, nil
}

// checkParents validates that parents are strictly increasing nodes at
// depth-1 (or that depth is 0 and parents is empty).
func (t *Tree) checkParents(depth int, parents []int) error {
	if depth < 0 || depth > t.Depth() {
		return fmt.Errorf("%w: depth %d outside 0..%d", ErrProtocol, depth, t.Depth())
	}
	if depth == 0 {
		if len(parents) != 0 {
			return fmt.Errorf("%w: parents given for the root", ErrProtocol)
		}
		return nil
	}
	return checkIndexes(parents, t.Width(depth-1), "parent")
}

// checkIndexes validates a strictly increasing list of indexes in [0, n).
func checkIndexes(idx []int, n int, what string) error {
	prev := -1
	for _, i := range idx {
		if i <= prev || i >= n {
			return fmt.Errorf("%w: %s %d after %d (want increasing, below %d)", ErrProtocol, what, i, prev, n)
		}
		prev = i
	}
	return nil
}

// childCount returns the number of children of parents, nodes at depth.
func (t *Tree) childCount(depth int, parents []int) int {
	n := 0
	for _, p := range parents {
		_, c := t.Children(depth, p)
		n += c
	}
	return n
}

// DiffChildren compares the remote hashes of the children of parents
// (nodes at depth, strictly increasing) with the local ones and returns the
// children, nodes at depth+1, whose hashes differ. remote holds the
// children of parents[0] first, then of parents[1], and so on: what the
// peer's Answer returns for LevelRequest{depth+1, parents}.
//
// This is one step of the descent: the next step passes the returned
// children as parents at depth+1, until depth+1 is the leaves' depth and
// the returned nodes are the differing segments.
func (t *Tree) DiffChildren(depth int, parents []int, remote []uint64) ([]int, error) {
	if depth < 0 || depth >= t.Depth() {
		return nil, fmt.Errorf("%w: no children at depth %d (leaves at %d)", ErrProtocol, depth, t.Depth())
	}
	if err := checkIndexes(parents, t.Width(depth), "parent"); err != nil {
		return nil, err
	}
	if want := t.childCount(depth, parents); len(remote) != want {
		return nil, fmt.Errorf("%w: %d hashes for %d children", ErrProtocol, len(remote), want)
	}
	var differing []int
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range parents {
		first, n := t.Children(depth, p)
		local := t.mu.nodes[t.offsets[depth+1]+first:][:n]
		for j, h := range local {
			if h != remote[j] {
				differing = append(differing, first+j)
			}
		}
		remote = remote[n:]
	}
	return differing, nil
}

// Phase is the state of an Exchange.
type Phase uint8

const (
	// PhaseHashes: send Request() to the peer, pass its reply to
	// HandleHashes.
	PhaseHashes Phase = iota
	// PhaseKeys: ask the peer for its (key, hash) list of Segments(), scan
	// the same segments locally, and pass both to HandleKeys.
	PhaseKeys
	// PhaseDone: the exchange is over; Cost() is final.
	PhaseDone
)

// String returns the phase's name, for logs.
func (p Phase) String() string {
	switch p {
	case PhaseHashes:
		return "hashes"
	case PhaseKeys:
		return "keys"
	case PhaseDone:
		return "done"
	}
	return fmt.Sprintf("Phase(%d)", uint8(p))
}

// Cost counts what an exchange sent and received, in the wire encoding of
// this package (payloads only; the transport adds its framing). It shows
// that an exchange costs in proportion to the difference between the two
// replicas, not to the data they hold.
type Cost struct {
	// Rounds counts request/reply round trips, the key round included.
	Rounds int
	// HashesReceived counts tree-node hashes the peer sent.
	HashesReceived int
	// Segments counts the differing leaf segments found.
	Segments int
	// KeysReceived counts the (key, hash) pairs the peer sent.
	KeysReceived int
	// BytesSent counts request bytes from the initiator to the peer.
	BytesSent int
	// BytesReceived counts reply bytes from the peer to the initiator.
	BytesReceived int
}

// Exchange is the initiator's side of one anti-entropy exchange of a
// partition with one peer, as a pure state machine (no I/O): it yields the
// next request, consumes the reply, and ends with the differing segments
// and then the differing keys. The caller moves the messages; the peer
// answers with Tree.Answer and a scan of its keys.
//
// The steps, for a tree of depth D:
//
//  1. Request {0, nil}: the peer sends its root. Equal roots end the
//     exchange after one round.
//  2. Request {d, parents} for d = 1..D: the peer sends the hashes of the
//     children of the nodes that differed at depth d-1; only the
//     differing children are asked about at the next depth.
//  3. At depth D the differing nodes are the differing segments
//     (Segments). The peer sends (key, hash) for every key it holds in
//     them; the initiator lists its own and HandleKeys returns KeysDiff.
//
// An Exchange is not safe for concurrent use: one goroutine drives it.
// The local tree may change while the exchange runs (so may the peer's);
// a difference missed or invented that way is transient and the next
// exchange settles it. To keep the local side of the comparison stable,
// run the exchange on a Clone.
type Exchange struct {
	local *Tree
	phase Phase
	// req is the pending request in PhaseHashes.
	req LevelRequest
	// segments are the differing leaves, set when the descent ends.
	segments []int
	cost     Cost
}

// NewExchange starts an exchange of local against a peer's tree of the same
// shape (the transport checks the shape first, since it decides segments).
func NewExchange(local *Tree) *Exchange {
	return &Exchange{local: local, req: LevelRequest{Depth: 0}}
}

// Phase returns the exchange's state.
func (e *Exchange) Phase() Phase { return e.phase }

// Request returns the request to send in PhaseHashes. The Parents slice
// belongs to the exchange; it stays valid until the next HandleHashes.
func (e *Exchange) Request() LevelRequest {
	if e.phase != PhaseHashes {
		panic("antientropy: Request outside PhaseHashes")
	}
	return e.req
}

// HandleHashes consumes the peer's reply to Request() and moves on: to a
// deeper request, to PhaseKeys if segments differ, or to PhaseDone. A reply
// of the wrong length is an ErrProtocol and leaves the exchange unchanged.
func (e *Exchange) HandleHashes(remote []uint64) error {
	if e.phase != PhaseHashes {
		return fmt.Errorf("%w: hashes received in phase %v", ErrProtocol, e.phase)
	}
	var differing []int
	if e.req.Depth == 0 {
		if len(remote) != 1 {
			return fmt.Errorf("%w: %d hashes for the root", ErrProtocol, len(remote))
		}
		if remote[0] != e.local.Root() {
			differing = []int{0}
		}
	} else {
		var err error
		differing, err = e.local.DiffChildren(e.req.Depth-1, e.req.Parents, remote)
		if err != nil {
			return err
		}
	}
	e.cost.Rounds++
	e.cost.HashesReceived += len(remote)
	e.cost.BytesSent += len(AppendLevelRequest(nil, e.req))
	e.cost.BytesReceived += hashesSize(len(remote))
	switch {
	case len(differing) == 0:
		// Equal roots, or a difference that vanished between rounds.
		e.phase = PhaseDone
	case e.req.Depth == e.local.Depth():
		e.segments = differing
		e.cost.Segments = len(differing)
		e.phase = PhaseKeys
	default:
		e.req = LevelRequest{Depth: e.req.Depth + 1, Parents: differing}
	}
	return nil
}

// Segments returns the differing leaf segments, in increasing order: empty
// until the descent reaches the leaves, and empty if the trees agree.
func (e *Exchange) Segments() []int { return e.segments }

// HandleKeys ends the exchange: local and remote are the (key, hash) lists
// of both replicas for Segments(), the remote one as the peer sent it.
// It returns KeysDiff(local, remote). A remote key outside Segments() is an
// ErrProtocol (the peer scanned the wrong segments, or the shapes differ).
func (e *Exchange) HandleKeys(local, remote []KeyHash) (onlyLocal, onlyRemote, differ [][]byte, err error) {
	if e.phase != PhaseKeys {
		return nil, nil, nil, fmt.Errorf("%w: keys received in phase %v", ErrProtocol, e.phase)
	}
	asked := e.local.SegmentFilter(e.segments)
	for _, kh := range remote {
		if !asked(kh.Key) {
			return nil, nil, nil, fmt.Errorf("%w: key %q outside the segments asked for", ErrProtocol, kh.Key)
		}
	}
	e.cost.Rounds++
	e.cost.KeysReceived += len(remote)
	e.cost.BytesSent += len(AppendSegments(nil, e.segments))
	e.cost.BytesReceived += keyHashesSize(remote)
	e.phase = PhaseDone
	onlyLocal, onlyRemote, differ = KeysDiff(local, remote)
	return onlyLocal, onlyRemote, differ, nil
}

// Cost returns what the exchange has sent and received so far.
func (e *Exchange) Cost() Cost { return e.cost }

// SegmentFilter returns a predicate for "key lies in one of segments",
// for the scan that lists a partition's keys in the differing segments:
// one hash and one bit test per key. Segments outside the tree are
// ignored.
func (t *Tree) SegmentFilter(segments []int) func(key []byte) bool {
	set := make([]uint64, (t.leaves+63)/64)
	for _, s := range segments {
		if s >= 0 && s < t.leaves {
			set[s/64] |= 1 << (s % 64)
		}
	}
	return func(key []byte) bool {
		s := t.Segment(key)
		return set[s/64]&(1<<(s%64)) != 0
	}
}

// KeyHash is one key of a partition and its version.Hash, as listed for
// the differing segments at the end of an exchange.
type KeyHash struct {
	Key  []byte
	Hash uint64
}

// KeysDiff compares two replicas' (key, hash) lists: keys only the local
// side holds, keys only the remote side holds, and keys both hold with
// different hashes (different version vectors, so one side has writes the
// other lacks, or both have). Each result is sorted by key. A hash of 0
// means no object, as in the tree, so such an entry counts as absent.
// Keys within one list must be distinct; the lists need not be sorted
// (they are sorted by key on the wire, and then KeysDiff does not copy).
// The returned keys alias the inputs' Key slices.
func KeysDiff(local, remote []KeyHash) (onlyLocal, onlyRemote, differ [][]byte) {
	local, remote = sortedByKey(local), sortedByKey(remote)
	i, j := 0, 0
	for i < len(local) || j < len(remote) {
		var c int
		switch {
		case i == len(local):
			c = 1
		case j == len(remote):
			c = -1
		default:
			c = bytes.Compare(local[i].Key, remote[j].Key)
		}
		switch {
		case c < 0:
			if local[i].Hash != 0 {
				onlyLocal = append(onlyLocal, local[i].Key)
			}
			i++
		case c > 0:
			if remote[j].Hash != 0 {
				onlyRemote = append(onlyRemote, remote[j].Key)
			}
			j++
		default:
			l, r := local[i], remote[j]
			switch {
			case l.Hash == r.Hash:
			case r.Hash == 0:
				onlyLocal = append(onlyLocal, l.Key)
			case l.Hash == 0:
				onlyRemote = append(onlyRemote, r.Key)
			default:
				differ = append(differ, l.Key)
			}
			i, j = i+1, j+1
		}
	}
	return onlyLocal, onlyRemote, differ
}

func compareKeyHash(a, b KeyHash) int { return bytes.Compare(a.Key, b.Key) }

// sortedByKey returns l if it is sorted by key, else a sorted copy: the
// caller's slice is never reordered.
func sortedByKey(l []KeyHash) []KeyHash {
	if slices.IsSortedFunc(l, compareKeyHash) {
		return l
	}
	l = slices.Clone(l)
	slices.SortFunc(l, compareKeyHash)
	return l
}
