package ring

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Limits on what a ring may hold. They bound what Decode allocates for a
// forged input and the precomputed walks (Q × owners strings).
const (
	// MaxReplicas bounds N, the replication factor.
	MaxReplicas = 16
	// MaxMembers bounds the member list, tombstones included.
	MaxMembers = 1024
	// MaxFieldLen bounds a member's name, addresses and zone, in bytes.
	MaxFieldLen = 255
)

// maxWalkEntries caps the precomputed walk table (16 MiB of strings).
const maxWalkEntries = 1 << 20

// Sentinel errors; match them with errors.Is.
var (
	// ErrPartitions: the partition count is not a power of two in
	// MinPartitions..MaxPartitions.
	ErrPartitions = errors.New("ring: invalid partition count")
	// ErrReplicas: the replication factor is outside 1..MaxReplicas.
	ErrReplicas = errors.New("ring: invalid replication factor")
	// ErrMember: a member has a malformed ID, name, field or state.
	ErrMember = errors.New("ring: invalid member")
	// ErrDuplicateMember: two members share an ID.
	ErrDuplicateMember = errors.New("ring: duplicate member")
	// ErrTooManyMembers: more than MaxMembers members.
	ErrTooManyMembers = errors.New("ring: too many members")
	// ErrUnknownMember: no member has the given ID.
	ErrUnknownMember = errors.New("ring: unknown member")
	// ErrRemoved: the member was removed; its tombstone keeps it out.
	ErrRemoved = errors.New("ring: member was removed")
	// ErrNoClaimants: no member is Valid or Joining, so nobody can own
	// partitions.
	ErrNoClaimants = errors.New("ring: no member can own partitions")
	// ErrOwners: an owner list does not match the ring (length, or an owner
	// that is unknown or removed).
	ErrOwners = errors.New("ring: invalid owners")
	// ErrNoPending: the partition has no pending owner to commit.
	ErrNoPending = errors.New("ring: no pending owner")
	// ErrMismatch: two rings differ in partition count or replication
	// factor, which never change in a cluster.
	ErrMismatch = errors.New("ring: rings of different shape")
)

// MemberState is where a member stands in the ring's lifecycle (§4.8,
// §4.9). Membership changes only by explicit operator action: a member that
// failure detection marks dead keeps its state and its partitions.
type MemberState uint8

const (
	// Valid members own partitions and take part in claims. It is the zero
	// value, so a Member literal without a state is a full member.
	Valid MemberState = iota
	// Joining members take part in claims; they become Valid once they hold
	// their data.
	Joining
	// Leaving members take no part in new claims but still own (and serve)
	// their partitions until each is handed off.
	Leaving
	// Removed members are tombstones: they own nothing, and a ring that
	// lists them refuses to re-add their ID, so a stale gossip message cannot
	// bring a removed node back.
	Removed
)

// String returns the lower-case name of s.
func (s MemberState) String() string {
	switch s {
	case Valid:
		return "valid"
	case Joining:
		return "joining"
	case Leaving:
		return "leaving"
	case Removed:
		return "removed"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// claims reports whether a member in state s takes part in a claim.
func (s MemberState) claims() bool { return s == Valid || s == Joining }

// Member is one node of the cluster as the ring records it.
type Member struct {
	// ID is 40 lower-case hex digits, stable across restarts; MemberID
	// derives it from the node name. It is also the node id Redis cluster
	// clients see (CLUSTER NODES).
	ID string
	// Name is the operator's name for the node.
	Name string
	// ClientAddr is the host:port clients dial (the announce address).
	ClientAddr string
	// ClusterAddr is the host:port of gossip and internode RPC.
	ClusterAddr string
	// Zone is the failure zone (rack, data centre); "" means none. Zones are
	// honoured when the owners span at least N of them.
	Zone string
	// State is the member's lifecycle state.
	State MemberState
}

// MemberID returns the stable member ID for a node name: the SHA-1 of the
// name in lower-case hex, 40 digits like a Redis Cluster node id.
func MemberID(name string) string {
	sum := sha1.Sum([]byte(name))
	return hex.EncodeToString(sum[:])
}

// validID reports whether id is 40 lower-case hex digits.
func validID(id string) bool {
	if len(id) != 40 {
		return false
	}
	for i := range len(id) {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// check validates one member's fields.
func (m *Member) check() error {
	switch {
	case !validID(m.ID):
		return fmt.Errorf("%w: id %q is not 40 lower-case hex digits", ErrMember, m.ID)
	case m.Name == "" || len(m.Name) > MaxFieldLen:
		return fmt.Errorf("%w: %s: name must be 1..%d bytes", ErrMember, m.ID, MaxFieldLen)
	case len(m.ClientAddr) > MaxFieldLen || len(m.ClusterAddr) > MaxFieldLen || len(m.Zone) > MaxFieldLen:
		return fmt.Errorf("%w: %s: field longer than %d bytes", ErrMember, m.ID, MaxFieldLen)
	case m.State > Removed:
		return fmt.Errorf("%w: %s: %v", ErrMember, m.ID, m.State)
	}
	return nil
}

// checkMembers validates every member and that IDs are unique.
func checkMembers(ms []Member) error {
	if len(ms) > MaxMembers {
		return fmt.Errorf("%w: %d", ErrTooManyMembers, len(ms))
	}
	seen := make(map[string]bool, len(ms))
	for i := range ms {
		if err := ms[i].check(); err != nil {
			return err
		}
		if seen[ms[i].ID] {
			return fmt.Errorf("%w: %s", ErrDuplicateMember, ms[i].ID)
		}
		seen[ms[i].ID] = true
	}
	return nil
}

func cmpString(a, b string) int { return strings.Compare(a, b) }

// Ring is the cluster's map from partitions to nodes (§4.2, §4.3): the
// partition count Q, the replication factor N the claim targets, an epoch,
// the members sorted by ID, one owner per partition and, while ownership
// moves (§4.9), an optional pending next owner per partition.
//
// A Ring is immutable once built and safe for concurrent use. Changes
// return a new Ring with a higher epoch. Building a ring precomputes every
// partition's walk, so PreferenceList and Walk cost a slice expression.
type Ring struct {
	q, n    int
	epoch   uint64
	members []Member // sorted by ID
	owners  []int32  // member index per partition
	pending []int32  // member index per partition, -1 for none; nil if none at all

	// Precomputed by build.
	index     map[string]int32 // member ID → index
	zoneAware bool
	owned     int      // distinct owners
	plen      int      // preference-list length: min(N, owned)
	width     int      // length of every stored walk: owned, capped
	walks     []string // q × width: the walk of each partition
	enc       []byte   // Encode's result
	sum       uint64   // hash of enc, the Merge tie-break

	targetOnce sync.Once // computes target on first use
	target     *Ring     // Target's result
}

// New returns a ring of q partitions whose owners are a fresh claim among
// the Valid and Joining members for replication factor n. Its epoch is 1.
func New(q, n int, members []Member) (*Ring, error) {
	owners, err := Rebalance(q, n, nil, members)
	if err != nil {
		return nil, err
	}
	return assemble(q, n, 1, members, owners, nil)
}

// assemble builds a ring from member IDs.
func assemble(q, n int, epoch uint64, members []Member, owners, pending []string) (*Ring, error) {
	ms := slices.Clone(members)
	slices.SortFunc(ms, func(a, b Member) int { return cmpString(a.ID, b.ID) })
	if len(owners) != q || pending != nil && len(pending) != q {
		return nil, fmt.Errorf("%w: %d owners, %d pending for %d partitions", ErrOwners, len(owners), len(pending), q)
	}
	r := &Ring{q: q, n: n, epoch: epoch, members: ms}
	r.index = make(map[string]int32, len(ms))
	for i, m := range ms {
		r.index[m.ID] = int32(i)
	}
	r.owners = make([]int32, q)
	for p, id := range owners {
		x, ok := r.index[id]
		if !ok {
			return nil, fmt.Errorf("%w: partition %d: %q", ErrOwners, p, id)
		}
		r.owners[p] = x
	}
	if pending != nil {
		r.pending = make([]int32, q)
		for p, id := range pending {
			r.pending[p] = -1
			if id == "" {
				continue
			}
			x, ok := r.index[id]
			if !ok {
				return nil, fmt.Errorf("%w: pending %d: %q", ErrOwners, p, id)
			}
			r.pending[p] = x
		}
	}
	if err := r.build(); err != nil {
		return nil, err
	}
	return r, nil
}

// build validates the ring and precomputes its walks and encoding.
func (r *Ring) build() error {
	if !ValidPartitions(r.q) {
		return fmt.Errorf("%w: %d", ErrPartitions, r.q)
	}
	if r.n < 1 || r.n > MaxReplicas {
		return fmt.Errorf("%w: %d", ErrReplicas, r.n)
	}
	if len(r.members) == 0 {
		return ErrNoClaimants
	}
	if err := checkMembers(r.members); err != nil {
		return err
	}
	if r.index == nil {
		r.index = make(map[string]int32, len(r.members))
		for i, m := range r.members {
			r.index[m.ID] = int32(i)
		}
	}
	if len(r.owners) != r.q {
		return fmt.Errorf("%w: %d owners for %d partitions", ErrOwners, len(r.owners), r.q)
	}
	for p, x := range r.owners {
		if r.members[x].State == Removed {
			return fmt.Errorf("%w: partition %d owned by removed %s", ErrOwners, p, r.members[x].ID)
		}
	}
	if r.pending != nil {
		moving := false
		for p, x := range r.pending {
			switch {
			case x < 0:
				continue
			case x == r.owners[p]:
				return fmt.Errorf("%w: partition %d pending to its owner", ErrOwners, p)
			case r.members[x].State == Removed:
				return fmt.Errorf("%w: partition %d pending to removed %s", ErrOwners, p, r.members[x].ID)
			}
			moving = true
		}
		if !moving {
			r.pending = nil
		}
	}
	r.computeWalks()
	r.enc = r.appendEncoding(nil)
	r.sum = hashEncoding(r.enc)
	return nil
}

// computeWalks precomputes, for every partition p, the walk: the distinct
// owners of p, p+1, … in order of first appearance, with the preference
// list moved to the front. The preference list takes owners in that order,
// skipping (when zone-aware) an owner whose zone it already holds, until it
// has min(N, owners) nodes; the nodes it skipped follow, in walk order,
// among the fallbacks.
//
// The order of first appearance from p is kept as a move-to-front list
// while p runs backwards over two turns of the ring (the first turn only
// primes it), so the whole table costs O(Q × owners), its own size.
func (r *Ring) computeWalks() {
	nm := len(r.members)
	pos := make([]int32, nm) // index of a member in order, -1 if absent
	for i := range pos {
		pos[i] = -1
	}
	zoneNum := make([]int32, nm)
	var zones []string
	for _, x := range r.owners {
		if pos[x] < 0 {
			pos[x] = 0
			zones = append(zones, r.members[x].Zone)
		}
	}
	slices.Sort(zones)
	zones = slices.Compact(zones)
	width := 0
	for i := range nm {
		if pos[i] == 0 {
			width++
			z, _ := slices.BinarySearch(zones, r.members[i].Zone)
			zoneNum[i] = int32(z)
		}
		pos[i] = -1
	}
	r.owned = width
	r.plen = min(r.n, width)
	r.zoneAware = r.n > 1 && len(zones) >= r.n
	// Keep at most maxWalkEntries strings: the walks stop after the first
	// max(N, maxWalkEntries/Q) nodes. That bounds what a forged or huge
	// ring (1024 owners, Q = 16384) costs, and still leaves every node of
	// any realistic cluster, and 64 at the largest Q, as fallbacks.
	width = min(width, max(r.plen, maxWalkEntries/r.q))
	r.width = width
	r.walks = make([]string, r.q*width)

	order := make([]int32, 0, width)
	front := func(x int32) {
		i := pos[x]
		if i < 0 {
			order = append(order, 0)
			i = int32(len(order) - 1)
		}
		copy(order[1:i+1], order[:i])
		order[0] = x
		for k := range i + 1 {
			pos[order[k]] = int32(k)
		}
	}
	for p := r.q - 1; p >= 0; p-- {
		front(r.owners[p])
	}
	zseen := make([]int, len(zones)) // == p+1 when the zone is in p's list
	rest := make([]int32, 0, width)
	for p := r.q - 1; p >= 0; p-- {
		front(r.owners[p])
		w := r.walks[p*width : (p+1)*width]
		if !r.zoneAware {
			for k := range w {
				w[k] = r.members[order[k]].ID
			}
			continue
		}
		k := 0
		rest = rest[:0]
		for _, x := range order {
			if k < r.plen && zseen[zoneNum[x]] != p+1 {
				zseen[zoneNum[x]] = p + 1
				w[k] = r.members[x].ID
				k++
			} else if len(rest) < width {
				rest = append(rest, x)
			}
		}
		for _, x := range rest[:width-k] {
			w[k] = r.members[x].ID
			k++
		}
	}
}

// Q returns the number of partitions.
func (r *Ring) Q() int { return r.q }

// N returns the replication factor the claim targets: the length of a
// preference list when there are at least N owners.
func (r *Ring) N() int { return r.n }

// Epoch returns the ring's version; every change increments it, and Merge
// prefers the higher.
func (r *Ring) Epoch() uint64 { return r.epoch }

// Members returns a copy of the members, sorted by ID, tombstones included.
func (r *Ring) Members() []Member { return slices.Clone(r.members) }

// Member returns the member with the given ID.
func (r *Ring) Member(id string) (Member, bool) {
	x, ok := r.index[id]
	if !ok {
		return Member{}, false
	}
	return r.members[x], true
}

// Owner returns the ID of the node owning partition p (0 ≤ p < Q).
func (r *Ring) Owner(p int) string { return r.members[r.owners[p]].ID }

// Owners returns the owner of every partition, as member IDs.
func (r *Ring) Owners() []string {
	out := make([]string, r.q)
	for p := range out {
		out[p] = r.Owner(p)
	}
	return out
}

// Pending returns the ID of the node partition p is being handed to, or ""
// when it is not moving. While a partition is pending, writes go to both
// owners and reads to the current one (docs/architecture.md §5).
func (r *Ring) Pending(p int) string {
	if r.pending == nil || r.pending[p] < 0 {
		return ""
	}
	return r.members[r.pending[p]].ID
}

// PartitionOf returns the partition of key: its slot, cut into Q runs.
func (r *Ring) PartitionOf(key []byte) int { return PartitionOf(Slot(key), r.q) }

// PreferenceList returns the home replicas of partition p (0 ≤ p < Q): the
// first min(N, owners) distinct owners walking p, p+1, …, skipping a node
// already listed and, when the owners span at least N zones, a node whose
// zone is already listed (§4.3). It is precomputed; the caller must not
// modify the slice.
func (r *Ring) PreferenceList(p int) []string {
	i := p * r.width
	return r.walks[i : i+r.plen : i+r.plen]
}

// Walk returns the owners in the order a request for partition p tries
// them: the preference list, then the fallbacks a sloppy quorum uses in
// order of first appearance after p (§4.6). It holds every owner, except
// that the precomputed table is capped at 2^20 entries, so with very many
// owners a walk stops after max(N, 2^20/Q) of them (64 at Q = 16384). It is
// precomputed; the caller must not modify the slice.
func (r *Ring) Walk(p int) []string {
	i := p * r.width
	return r.walks[i : i+r.width : i+r.width]
}

// ZoneAware reports whether preference lists keep to distinct zones: the
// owners span at least N zones.
func (r *Ring) ZoneAware() bool { return r.zoneAware }

// Diff returns, in increasing order, the partitions whose owner differs in
// other. Rings of different shape differ everywhere.
func (r *Ring) Diff(other *Ring) []int {
	var out []int
	for p := range r.q {
		if other == nil || other.q != r.q || r.Owner(p) != other.Owner(p) {
			out = append(out, p)
		}
	}
	return out
}

// Equal reports whether r and other hold the same ring: epoch, shape,
// members, owners and pending owners.
func (r *Ring) Equal(other *Ring) bool {
	if r == nil || other == nil {
		return r == other
	}
	return string(r.enc) == string(other.enc)
}

// String summarises the ring for logs.
func (r *Ring) String() string {
	live := 0
	for _, m := range r.members {
		if m.State != Removed {
			live++
		}
	}
	return fmt.Sprintf("ring{epoch %d, Q %d, N %d, %d members, %d owners}", r.epoch, r.q, r.n, live, r.owned)
}
