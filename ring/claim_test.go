package ring

// Each test here pins a sentence of the paper or of docs/architecture.md §2 about the
// claim (paper §6.2, strategy 3: "Q/S tokens per node, equal-sized
// partitions"; §4.3: "the preference list … contains only distinct physical
// nodes"; §4.9: adding a node takes partitions from the others and only
// those move).

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// claimGridQ are the partition counts covered for every S 1..16 and N 1..5.
var claimGridQ = []int{64, 128, 256, 512, 1024}

// TestClaimGrid: for every S 1..16, N 1..5 and Q 64..1024, a fresh claim is
// balanced (Q/S ± 1), its preference lists equal a brute-force walk and
// hold distinct nodes (distinct zones where there are ≥ N of them), and
// every node is within its load band. Zones are used in a random subset of
// the cases (fixed seed).
func TestClaimGrid(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	worst, where := 0.0, ""
	zoned := 0
	for _, q := range claimGridQ {
		qWorst := 0.0
		for s := 1; s <= 16; s++ {
			for n := 1; n <= 5; n++ {
				zones := 0
				if n >= 2 && s >= n && rng.IntN(4) == 0 {
					zones = n + rng.IntN(s-n+1)
					zoned++
				}
				r, err := New(q, n, testMembers(s, zones))
				if err != nil {
					t.Fatalf("New(%d, %d, %d members): %v", q, n, s, err)
				}
				lr := checkRing(t, r)
				qWorst = max(qWorst, lr)
				if lr > worst {
					worst, where = lr, fmt.Sprintf("Q=%d S=%d N=%d zones=%d", q, s, n, zones)
				}
			}
		}
		t.Logf("Q=%d: worst load |count-fair|/tolerance %.3f", q, qWorst)
	}
	t.Logf("grid: %d cases with zones; worst load ratio %.3f at %s", zoned, worst, where)
}

// TestClaimGridLargeQ samples the grid at Q 2048 and 4096 (the full cross
// product is slow under -race), always including its corners.
func TestClaimGridLargeQ(t *testing.T) {
	t.Parallel()
	const seed = 3
	rng := rand.New(rand.NewPCG(seed, seed))
	type tc struct{ q, s, n, zones int }
	cases := []tc{{4096, 16, 5, 0}, {4096, 3, 3, 0}, {2048, 16, 3, 4}, {2048, 1, 1, 0}}
	for len(cases) < 16 {
		c := tc{q: []int{2048, 4096}[rng.IntN(2)], s: 1 + rng.IntN(16), n: 1 + rng.IntN(5)}
		if c.n >= 2 && c.s >= c.n && rng.IntN(3) == 0 {
			c.zones = c.n + rng.IntN(c.s-c.n+1)
		}
		cases = append(cases, c)
	}
	worst := 0.0
	for _, c := range cases {
		r, err := New(c.q, c.n, testMembers(c.s, c.zones))
		if err != nil {
			t.Fatal(err)
		}
		worst = max(worst, checkRing(t, r))
	}
	t.Logf("seed %d: %d cases, worst load ratio %.3f", seed, len(cases), worst)
}

// TestClaimSpacing: a node's partitions lie at least N apart wherever the
// numbers allow, and violations stay few where they do not.
func TestClaimSpacing(t *testing.T) {
	// More nodes than N, and Q/S large enough that no load band asks for a
	// near pair: no violation at all.
	for _, q := range []int{128, 256, 1024} {
		for s := 2; s <= 16; s++ {
			for n := 1; n < s && n <= 5; n++ {
				r, err := New(q, n, testMembers(s, 0))
				if err != nil {
					t.Fatal(err)
				}
				if v := violations(r); v != 0 {
					t.Errorf("Q=%d S=%d N=%d: %d violations", q, s, n, v)
				}
			}
		}
	}
	for _, tc := range []struct {
		q, s, n, zones int
		want           int
	}{
		{256, 3, 3, 0, 1}, // 3 ∤ 256: one pair is the minimum
		{256, 5, 5, 0, 1},
		{256, 4, 4, 0, 0},  // 4 | 256: a perfect period
		{256, 2, 3, 0, 0},  // S < N: spacing S is the best there is
		{1024, 6, 3, 3, 1}, // three zones of two: 3 ∤ 1024 again, one clash
		{1024, 6, 2, 3, 0}, // three zones, N=2: zones N apart too
		{1024, 8, 4, 4, 0},
	} {
		r, err := New(tc.q, tc.n, testMembers(tc.s, tc.zones))
		if err != nil {
			t.Fatal(err)
		}
		if v := violations(r); v != tc.want {
			t.Errorf("Q=%d S=%d N=%d zones=%d: %d violations, want %d", tc.q, tc.s, tc.n, tc.zones, v, tc.want)
		}
	}
}

// TestClaimGrowShrink grows a cluster one node at a time from 1 to 16 and
// shrinks it back, at every Q 64..1024 and N 1..5. After each step the ring
// is balanced and within its load bands, and the partitions that moved are
// at most 1.5 times the ideal plus N: Q/(S+1) for a join, the partitions
// the node owned for a removal. The move counts at Q=256 and 1024, N=3 are
// logged.
func TestClaimGrowShrink(t *testing.T) {
	t.Parallel()
	for _, q := range claimGridQ {
		for n := 1; n <= 5; n++ {
			log := q >= 256 && q != 512 && n == 3
			grow, shrink := growShrink(t, q, n, 0, 1.5)
			if log {
				t.Logf("Q=%d N=%d join S→S+1, moved/ideal: %s", q, n, grow)
				t.Logf("Q=%d N=%d remove S→S-1, moved/owned: %s", q, n, shrink)
			}
		}
	}
}

// TestClaimGrowShrinkZones does the same with zones. When zones differ in
// size a join can shift the zones' fair shares (a zone of one node among
// exactly N zones carries all Q lists; a second node halves that), so the
// bound is looser: twice the ideal plus N.
func TestClaimGrowShrinkZones(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ q, n, zones int }{
		{64, 3, 3}, {256, 3, 3}, {256, 2, 4}, {512, 3, 4},
	} {
		grow, shrink := growShrink(t, tc.q, tc.n, tc.zones, 2)
		t.Logf("Q=%d N=%d zones=%d join: %s", tc.q, tc.n, tc.zones, grow)
		t.Logf("Q=%d N=%d zones=%d remove: %s", tc.q, tc.n, tc.zones, shrink)
	}
}

// growShrink runs the growth and shrink steps and returns the move logs.
func growShrink(t *testing.T, q, n, zones int, factor float64) (grow, shrink string) {
	t.Helper()
	ms := testMembers(16, zones)
	r, err := New(q, n, ms[:1])
	if err != nil {
		t.Fatal(err)
	}
	var gl, sl []string
	step := func(next *Ring, s int, ideal float64, what string) {
		t.Helper()
		moved := len(r.Diff(next))
		if next.Epoch() != r.Epoch()+1 {
			t.Fatalf("Q=%d N=%d %s to S=%d: epoch %d after %d", q, n, what, s, next.Epoch(), r.Epoch())
		}
		if limit := factor*ideal + float64(n); float64(moved) > limit {
			t.Errorf("Q=%d N=%d zones=%d %s to S=%d: %d partitions moved, ideal %.1f, limit %.1f",
				q, n, zones, what, s, moved, ideal, limit)
		}
		checkRing(t, next)
		entry := fmt.Sprintf("%d/%.0f", moved, ideal)
		if what == "join" {
			gl = append(gl, entry)
		} else {
			sl = append(sl, entry)
		}
		r = next
	}
	for s := 2; s <= 16; s++ {
		next, err := r.WithMember(ms[s-1])
		if err != nil {
			t.Fatal(err)
		}
		step(next, s, float64(q)/float64(s), "join")
	}
	for s := 16; s >= 2; s-- {
		id := ms[s-1].ID
		had := owned(r)[id]
		next, err := r.WithoutMember(id)
		if err != nil {
			t.Fatal(err)
		}
		if owned(next)[id] != 0 {
			t.Fatalf("removed %s still owns partitions", id)
		}
		step(next, s-1, float64(had), "remove")
	}
	return strings.Join(gl, " "), strings.Join(sl, " ")
}

// TestClaimLeaving: a Leaving node is no claimant; its partitions go to the
// others and nothing else moves beyond the repair budget.
func TestClaimLeaving(t *testing.T) {
	ms := testMembers(8, 0)
	r, err := New(256, 3, ms)
	if err != nil {
		t.Fatal(err)
	}
	id := ms[5].ID
	had := owned(r)[id]
	l, err := r.WithState(id, Leaving)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := l.Member(id); m.State != Leaving {
		t.Fatalf("state %v, want leaving", m.State)
	}
	if owned(l)[id] != 0 {
		t.Fatalf("leaving node still owns %d partitions", owned(l)[id])
	}
	checkRing(t, l)
	if moved := len(r.Diff(l)); float64(moved) > 1.5*float64(had)+3 {
		t.Fatalf("%d partitions moved for a node that owned %d", moved, had)
	}
}

// TestClaimDeterministic: the claim depends only on its inputs, not on the
// order members are given in nor on anything else (§4.8: every node must
// compute the same ring).
func TestClaimDeterministic(t *testing.T) {
	ms := testMembers(11, 4)
	a, err := New(256, 3, ms)
	if err != nil {
		t.Fatal(err)
	}
	rev := slices.Clone(ms)
	slices.Reverse(rev)
	b, err := New(256, 3, rev)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Equal(b) {
		t.Fatalf("member order changed the ring: %v", a.Diff(b))
	}
	extra := Member{ID: MemberID("extra"), Name: "extra", Zone: "zone-1"}
	a2, _ := a.WithMember(extra)
	b2, _ := b.WithMember(extra)
	if !a2.Equal(b2) {
		t.Fatalf("the same join gave different rings: %v", a2.Diff(b2))
	}
}

// TestRebalance: the exported claim keeps a good assignment as it is,
// fills in unknown owners, and validates its input.
func TestRebalance(t *testing.T) {
	ms := testMembers(6, 0)
	r, err := New(256, 3, ms)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Rebalance(256, 3, r.Owners(), ms)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again, r.Owners()) {
		t.Fatal("rebalancing a balanced ring moved partitions")
	}
	// Unknown owners are orphans: they are claimed, the rest stays.
	prev := r.Owners()
	for p := range prev {
		if p%7 == 0 {
			prev[p] = ""
		}
	}
	got, err := Rebalance(256, 3, prev, ms)
	if err != nil {
		t.Fatal(err)
	}
	for p := range got {
		if prev[p] != "" && got[p] != prev[p] && p%7 != 0 {
			// Allowed only as repair swaps; there should be none here.
			t.Errorf("partition %d moved from %s to %s", p, prev[p], got[p])
		}
	}
	for _, tc := range []struct {
		q, n    int
		prev    []string
		members []Member
		want    error
	}{
		{100, 3, nil, ms, ErrPartitions},
		{256, 0, nil, ms, ErrReplicas},
		{256, MaxReplicas + 1, nil, ms, ErrReplicas},
		{256, 3, make([]string, 10), ms, ErrOwners},
		{256, 3, nil, nil, ErrNoClaimants},
		{256, 3, nil, []Member{{ID: ms[0].ID, Name: "a", State: Leaving}}, ErrNoClaimants},
		{256, 3, nil, []Member{ms[0], ms[0]}, ErrDuplicateMember},
		{256, 3, nil, []Member{{ID: "xyz", Name: "a"}}, ErrMember},
	} {
		if _, err := Rebalance(tc.q, tc.n, tc.prev, tc.members); !errors.Is(err, tc.want) {
			t.Errorf("Rebalance(%d, %d, %d prev, %d members) = %v, want %v", tc.q, tc.n, len(tc.prev), len(tc.members), err, tc.want)
		}
	}
}

// TestClaimMoreNodesThanPartitions: with S > Q every partition still has
// an owner and nobody owns two.
func TestClaimMoreNodesThanPartitions(t *testing.T) {
	r, err := New(16, 3, testMembers(20, 0))
	if err != nil {
		t.Fatal(err)
	}
	for id, k := range owned(r) {
		if k != 1 {
			t.Fatalf("%s owns %d of 16 partitions among 20 nodes", id, k)
		}
	}
	for p := range r.Q() {
		if !slices.Equal(r.PreferenceList(p), naivePreferenceList(r, p)) { // O(Q²), fine at Q=16
			t.Fatalf("PreferenceList(%d) differs from the naive walk", p)
		}
	}
}

// TestLayoutVariants: every fresh layout the claim may pick is balanced on
// its own, before any repair.
func TestLayoutVariants(t *testing.T) {
	for _, q := range []int{16, 64, 128} {
		for s := 1; s <= 20; s++ {
			for n := 1; n <= 5; n++ {
				for _, zones := range []int{0, n, s} {
					cl := testMembers(s, zones)
					slices.SortFunc(cl, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
					for v := range freshVariants {
						c := newClaimer(q, n, cl, nil)
						for p := range c.owner {
							c.owner[p] = -1
						}
						c.layout(v)
						got := make([]int, s)
						for p, x := range c.owner {
							if x < 0 {
								t.Fatalf("Q=%d S=%d N=%d zones=%d variant %d: partition %d unassigned", q, s, n, zones, v, p)
							}
							got[x]++
						}
						for x, k := range got {
							if k < q/s || k > (q+s-1)/s {
								t.Fatalf("Q=%d S=%d N=%d zones=%d variant %d: node %d owns %d", q, s, n, zones, v, x, k)
							}
						}
					}
				}
			}
		}
	}
}
