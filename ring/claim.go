package ring

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/cespare/xxhash/v2"
)

// The claim: which node owns which partition (paper §6.2, strategy 3).
//
// The ring is a cycle of Q equal partitions. A claim gives every partition
// one owner among the S claimants (members in state Valid or Joining). It
// aims, in this order, for:
//
//  1. Balance (hard): every claimant owns floor(Q/S) or ceil(Q/S) partitions.
//  2. Load (held by the tests over the whole grid): a node stores every
//     partition whose preference list names it, so the number of lists
//     naming it, not the number it owns, is its real load. That count must
//     stay within max(10 %, 2) of its fair share (docs/architecture.md §2): L·Q/S with L =
//     min(N, S) the list length; with zones, the zone-aware share below.
//  3. Spread: the walk builds a list from the owners of p, p+1, …, so if a
//     node's partitions lie at least N apart (a zone's too, with ≥ N zones)
//     every list is exactly the owners of N consecutive partitions. Two
//     partitions of one node (zone) closer than that are a "violation": the
//     walk still yields N distinct nodes by skipping, but the list reaches
//     further and load shifts to the next owner.
//  4. Few moves: a claim starts from the previous owners; adding a node to
//     S moves about Q/(S+1) partitions, removing one about the Q/S it owned.
//  5. Determinism: the same inputs give the same owners on every node: no
//     map iteration, no randomness, integer arithmetic only (a fused
//     multiply-add on some CPUs would change float results).
//
// Why load ranks above spread: without violations a node's count is exactly
// L·owned, so balance gives load when Q/S is large. With few partitions per
// node rounding alone breaks it: at Q = 64, S = 9, N = 5 the node owning 8
// (Q/S = 7.1) would carry 40 lists against 35.6 ± 3.6. The only cure that
// keeps balance is a deliberate near pair, two of its partitions N-1 apart,
// which hands one list to the next owner. So the claim accepts a violation
// that brings a node into its band, never the reverse; at Q ≥ 128 (S ≤ 16)
// the bands are wide enough that no claim needs one.
//
// Zones: a list holds at most one node per zone once the owners span N
// zones, so a zone can be in at most Q lists. The N·Q places are shared
// among zones in proportion to their nodes, except that a zone whose share
// would exceed Q gets Q and the rest is shared among the others
// (water-filling); a node's share is its zone's divided by the zone's nodes.
// With equal zones that is N·Q/S again; with a lone node among exactly N
// zones it is all Q lists, which the walk forces anyway.
//
// How, in three steps (Riak's claim v2 taught taking only from nodes above
// target, its v4 repairing a ring by swaps rather than recomputing it; the
// rest is our own):
//
//   - Fresh claim (layout.go): the claimants in blocks, each block every
//     claimant once in a fixed order (zones spread evenly within it), with
//     Q mod S absorbed by omissions or insertions spread over the blocks. A
//     node is then about S apart from itself, ≥ N whenever S > N.
//   - Rebalance (fill.go): targets first (the ceil(Q/S) slots go to the
//     nodes owning most, so nobody gains only to lose again); the orphans of
//     departed nodes go, in ring order, to the node with room that conflicts
//     least and lies farthest from its own partitions; then nodes still
//     short take from nodes above target, preferring partitions whose owner
//     is in a violation there (free repairs). A joiner takes its partitions
//     on an even grid of spacing Q/target.
//   - Repair (repair.go): a deterministic local search over swaps of two
//     partitions' owners (a swap keeps every count, hence balance): first
//     swaps that lower the load excess, then swaps that lower violations
//     without raising it. When a previous ring exists, the swaps for spread
//     must fit a move budget of max(N, moves/2) beyond the moves balance
//     needed, so a join or leave moves at most about 1.5 times the ideal;
//     swaps for load have no budget. (With zones of unequal size a join can
//     shift every zone's share, a zone of one node among N carrying all Q
//     lists until a second node halves it; such steps move up to about
//     twice the ideal.) Below N+1 nodes spread does not matter
//     (every list holds every node) but it is what makes the step to N+1
//     nodes cheap, so the budget is spent there too.
//
// A fresh claim moves nothing, so it tries a few layouts and keeps the best.

// claimer holds one claim computation. Node numbers are indices into the
// claimants, sorted by ID.
type claimer struct {
	q, n, s int
	// d is the node spacing target min(N, S): with fewer nodes than N every
	// list holds all of them, and the best a claim can do is space each node
	// S apart.
	d int
	// zoneAware is set when the claimants span at least N zones; then a
	// zone's partitions should also lie N apart (zw = N).
	zoneAware bool
	zw        int
	zone      []int32 // zone number of each claimant
	zones     int     // distinct zones among the claimants
	seed      []uint64
	owner     []int32 // claimant per partition; -1 while unassigned
	prev      []int32 // previous owners as claimant numbers (-1: none); nil when fresh

	// Repair state, valid between initRepair and the end of repair.
	l       int     // preference-list length min(N, S)
	pref    []int32 // q*l: preference list per partition
	span    []int32 // partitions each walk visited
	maxSpan int     // upper bound of span (never shrinks)
	cnt     []int32 // preference lists naming each claimant
	tnum    []int64 // fair load of each claimant: tnum/tden lists
	tden    []int64
	bad     int64 // Σ excess over the load band (scaled units)
	viol    int   // violating pairs
	moves   int   // partitions whose owner differs from prev
}

// Rebalance returns owners for q partitions, as member IDs, claimed among
// the members in state Valid or Joining for replication factor n. prev holds
// the current owner of each partition (member ID, "" for none) and may be
// empty for a fresh claim; the result changes as few of them as balance and
// spread require. Members and prev are not modified.
func Rebalance(q, n int, prev []string, members []Member) ([]string, error) {
	if !ValidPartitions(q) {
		return nil, fmt.Errorf("%w: %d", ErrPartitions, q)
	}
	if n < 1 || n > MaxReplicas {
		return nil, fmt.Errorf("%w: %d", ErrReplicas, n)
	}
	if len(prev) != 0 && len(prev) != q {
		return nil, fmt.Errorf("%w: %d owners for %d partitions", ErrOwners, len(prev), q)
	}
	ms := slices.Clone(members)
	if err := checkMembers(ms); err != nil {
		return nil, err
	}
	slices.SortFunc(ms, func(a, b Member) int { return cmpString(a.ID, b.ID) })
	cl := claimants(ms)
	if len(cl) == 0 {
		return nil, ErrNoClaimants
	}
	var p []int32
	if len(prev) != 0 {
		idx := make(map[string]int32, len(cl))
		for i, m := range cl {
			idx[m.ID] = int32(i)
		}
		p = make([]int32, q)
		for i, id := range prev {
			if x, ok := idx[id]; ok {
				p[i] = x
			} else {
				p[i] = -1
			}
		}
	}
	own := claim(q, n, cl, p)
	out := make([]string, q)
	for i, x := range own {
		out[i] = cl[x].ID
	}
	return out, nil
}

// claimants returns the members that claim partitions, in ID order.
func claimants(sorted []Member) []Member {
	var cl []Member
	for _, m := range sorted {
		if m.State.claims() {
			cl = append(cl, m)
		}
	}
	return cl
}

// claim computes owners (claimant numbers) for q partitions among cl; prev
// is nil for a fresh claim.
func claim(q, n int, cl []Member, prev []int32) []int32 {
	fresh := true
	for _, x := range prev {
		if x >= 0 {
			fresh = false
			break
		}
	}
	if !fresh {
		c := newClaimer(q, n, cl, prev)
		copy(c.owner, prev)
		c.fill()
		c.repair()
		return c.owner
	}
	// A fresh claim moves nothing, so it can afford to choose among a few
	// layouts (layout.go): rank them by their excess and violations before
	// repair, which is cheap to count, and repair the best. The repair is
	// local, and a layout can leave it in a corner no single swap leaves
	// (zones of unequal size), so while load is still off try the next.
	type cand struct {
		variant int
		bad     int64
		viol    int
	}
	var cands []cand
	for variant := range freshVariants {
		c := newClaimer(q, n, cl, nil)
		c.layout(variant)
		c.initRepair()
		cands = append(cands, cand{variant, c.bad, c.viol})
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		if a.bad != b.bad {
			return cmp.Compare(a.bad, b.bad)
		}
		return cmp.Compare(a.viol, b.viol)
	})
	var best *claimer
	for _, k := range cands {
		c := newClaimer(q, n, cl, nil)
		c.layout(k.variant)
		c.repair()
		if best == nil || c.bad < best.bad || c.bad == best.bad && c.viol < best.viol {
			best = c
		}
		if best.bad == 0 {
			break
		}
	}
	return best.owner
}

// freshVariants is how many layouts a fresh claim tries at most.
const freshVariants = 8

func newClaimer(q, n int, cl []Member, prev []int32) *claimer {
	s := len(cl)
	c := &claimer{q: q, n: n, s: s, d: min(n, s), prev: prev}
	c.owner = make([]int32, q)
	c.zone = make([]int32, s)
	c.seed = make([]uint64, s)
	// Zones are numbered in name order so that numbering does not depend
	// on member order.
	names := make([]string, 0, s)
	for _, m := range cl {
		names = append(names, m.Zone)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	for i, m := range cl {
		z, _ := slices.BinarySearch(names, m.Zone)
		c.zone[i] = int32(z)
		c.seed[i] = xxhash.Sum64String(m.ID)
	}
	c.zones = len(names)
	if len(names) >= n && n > 1 {
		c.zoneAware = true
		c.zw = n
	}
	return c
}

// window is the largest distance at which two partitions can conflict.
func (c *claimer) window() int { return max(c.d, c.zw) }

// conflicts reports whether owners x and y conflict at cyclic distance k.
func (c *claimer) conflicts(x, y int32, k int) bool {
	if x < 0 || y < 0 {
		return false
	}
	if x == y {
		return k < c.d
	}
	return c.zoneAware && k < c.zw && c.zone[x] == c.zone[y]
}

// conflictsAt counts the partitions within the window of p that conflict
// with x placed at p (p's own owner is ignored).
func (c *claimer) conflictsAt(p int, x int32) int {
	n := 0
	w := min(c.window()-1, c.q/2)
	for k := 1; k <= w; k++ {
		if c.conflicts(x, c.owner[(p+k)%c.q], k) {
			n++
		}
		if 2*k != c.q && c.conflicts(x, c.owner[(p-k+c.q)%c.q], k) {
			n++
		}
	}
	return n
}

// ownDistance is the cyclic distance from p to the nearest other partition
// owned by x, capped at limit.
func (c *claimer) ownDistance(p int, x int32, limit int) int {
	limit = min(limit, c.q/2)
	for k := 1; k <= limit; k++ {
		if c.owner[(p+k)%c.q] == x || c.owner[(p-k+c.q)%c.q] == x {
			return k
		}
	}
	return limit + 1
}
