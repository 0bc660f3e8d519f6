package ring

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// Test helpers: naive restatements of the ring's rules, written from the
// spec (docs/architecture.md §2) without the package's precomputation, so that the fast
// code is checked against a dumb alternative (STYLE 10).

// testMembers returns s members named node-00…; with zones > 0, member i is
// in zone i mod zones.
func testMembers(s, zones int) []Member {
	ms := make([]Member, s)
	for i := range ms {
		name := fmt.Sprintf("node-%02d", i)
		ms[i] = Member{
			ID:          MemberID(name),
			Name:        name,
			ClientAddr:  fmt.Sprintf("10.0.0.%d:6379", i+1),
			ClusterAddr: fmt.Sprintf("10.0.0.%d:7379", i+1),
		}
		if zones > 0 {
			ms[i].Zone = fmt.Sprintf("zone-%d", i%zones)
		}
	}
	return ms
}

// naiveOwners lists the distinct owners of r and whether its lists must keep
// to distinct zones (the owners span at least N zones).
func naiveOwners(r *Ring) (owners map[string]Member, zoneAware bool) {
	owners = map[string]Member{}
	zones := map[string]bool{}
	for p := range r.Q() {
		m, ok := r.Member(r.Owner(p))
		if !ok {
			panic("owner is not a member")
		}
		owners[m.ID] = m
		zones[m.Zone] = true
	}
	return owners, r.N() > 1 && len(zones) >= r.N()
}

// naiveRing is r's owners as plain data, for walking by hand.
type naiveRing struct {
	q, n      int
	at        []Member // owner of each partition
	owners    int
	zoneAware bool
}

func newNaiveRing(r *Ring) *naiveRing {
	owners, zoneAware := naiveOwners(r)
	nr := &naiveRing{q: r.Q(), n: r.N(), owners: len(owners), zoneAware: zoneAware}
	for p := range r.Q() {
		nr.at = append(nr.at, owners[r.Owner(p)])
	}
	return nr
}

// list walks p, p+1, … collecting owners, skipping a node already listed
// and, zone-aware, a node whose zone is already listed.
func (nr *naiveRing) list(p int) []string {
	want := min(nr.n, nr.owners)
	var ids, zones []string
	for k := 0; k < nr.q && len(ids) < want; k++ {
		m := nr.at[(p+k)%nr.q]
		if slices.Contains(ids, m.ID) || nr.zoneAware && slices.Contains(zones, m.Zone) {
			continue
		}
		ids = append(ids, m.ID)
		zones = append(zones, m.Zone)
	}
	return ids
}

// walk is the preference list followed by every other owner in order of
// first appearance after p.
func (nr *naiveRing) walk(p int) []string {
	ids := nr.list(p)
	for k := 0; k < nr.q && len(ids) < nr.owners; k++ {
		if id := nr.at[(p+k)%nr.q].ID; !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// naivePreferenceList is the naive preference list of p.
func naivePreferenceList(r *Ring, p int) []string { return newNaiveRing(r).list(p) }

// fairShare is the number of preference lists each owner should be in:
// L·Q/S, or with zones the water-filled share of its zone (claim.go).
func fairShare(r *Ring) map[string]float64 {
	owners, zoneAware := naiveOwners(r)
	s := float64(len(owners))
	q := float64(r.Q())
	out := map[string]float64{}
	if !zoneAware {
		for id := range owners {
			out[id] = float64(min(r.N(), len(owners))) * q / s
		}
		return out
	}
	size := map[string]float64{}
	for _, m := range owners {
		size[m.Zone]++
	}
	// Repeatedly cap any zone whose proportional share exceeds Q.
	places, nodes := float64(r.N())*q, s
	full := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for z, k := range size {
			if !full[z] && k*places/nodes >= q-1e-9 {
				full[z], changed = true, true
				places -= q
				nodes -= k
			}
		}
	}
	for id, m := range owners {
		if full[m.Zone] {
			out[id] = q / size[m.Zone]
		} else {
			out[id] = places / nodes
		}
	}
	return out
}

// loadRatio returns, over all owners, the worst |count - fair| / tolerance,
// where count is the number of preference lists naming the owner and the
// tolerance max(fair/10, 2) (docs/architecture.md §2). The rule holds when it is ≤ 1.
func loadRatio(r *Ring) float64 {
	cnt := map[string]int{}
	for p := range r.Q() {
		for _, id := range r.PreferenceList(p) {
			cnt[id]++
		}
	}
	worst := 0.0
	for id, fair := range fairShare(r) {
		worst = max(worst, math.Abs(float64(cnt[id])-fair)/max(fair/10, 2))
	}
	return worst
}

// violations counts pairs of partitions closer than the spacing target
// with the same owner (closer than min(N, owners)) or, zone-aware, the same
// zone (closer than N).
func violations(r *Ring) int {
	owners, zoneAware := naiveOwners(r)
	d := min(r.N(), len(owners))
	v := 0
	for p := range r.Q() {
		for k := 1; k < max(d, r.N()) && 2*k <= r.Q(); k++ {
			if 2*k == r.Q() && p >= r.Q()/2 {
				continue
			}
			a, b := owners[r.Owner(p)], owners[r.Owner((p+k)%r.Q())]
			if a.ID == b.ID && k < d || zoneAware && a.Zone == b.Zone && k < r.N() {
				v++
			}
		}
	}
	return v
}

// owned counts the partitions each member owns.
func owned(r *Ring) map[string]int {
	out := map[string]int{}
	for p := range r.Q() {
		out[r.Owner(p)]++
	}
	return out
}

// checkRing asserts what every claimed ring must satisfy and returns its
// load ratio: claimants own floor or ceil of Q/S and others nothing;
// preference lists and walks equal the naive ones and hold distinct nodes
// (distinct zones when zone-aware); every owner is within its load band.
func checkRing(t testing.TB, r *Ring) float64 {
	t.Helper()
	var cl []string
	for _, m := range r.Members() {
		if m.State.claims() {
			cl = append(cl, m.ID)
		}
	}
	own := owned(r)
	lo, hi := r.Q()/len(cl), (r.Q()+len(cl)-1)/len(cl)
	for _, id := range cl {
		if own[id] < lo || own[id] > hi {
			t.Fatalf("%v: %s owns %d, want %d..%d", r, id, own[id], lo, hi)
		}
	}
	if len(own) != min(len(cl), r.Q()) {
		t.Fatalf("%v: %d owners for %d claimants", r, len(own), len(cl))
	}
	nr := newNaiveRing(r)
	for p := range r.Q() {
		pl, want := r.PreferenceList(p), nr.list(p)
		if !slices.Equal(pl, want) {
			t.Fatalf("%v: PreferenceList(%d) = %v, naive %v", r, p, pl, want)
		}
		if w, want := r.Walk(p), nr.walk(p); !slices.Equal(w, want) {
			t.Fatalf("%v: Walk(%d) = %v, naive %v", r, p, w, want)
		}
		var zones []string
		for _, id := range pl {
			m, _ := r.Member(id)
			if nr.zoneAware && slices.Contains(zones, m.Zone) {
				t.Fatalf("%v: PreferenceList(%d) = %v repeats zone %q", r, p, pl, m.Zone)
			}
			zones = append(zones, m.Zone)
		}
		if len(pl) != min(r.N(), len(own)) || len(slices.Compact(slices.Sorted(slices.Values(pl)))) != len(pl) {
			t.Fatalf("%v: PreferenceList(%d) = %v: want %d distinct", r, p, pl, min(r.N(), len(own)))
		}
	}
	lr := loadRatio(r)
	if r.Q() >= len(cl) && lr > 1+1e-9 {
		t.Fatalf("%v: load rule broken: worst |count-fair|/tolerance = %.3f", r, lr)
	}
	return lr
}
