package ring

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestMemberID(t *testing.T) {
	id := MemberID("node-a")
	if !validID(id) {
		t.Fatalf("MemberID = %q, not 40 lower-case hex digits", id)
	}
	if MemberID("node-a") != id || MemberID("node-b") == id {
		t.Fatal("MemberID is not a stable function of the name")
	}
	// SHA-1 of the name (printf node-a | sha1sum), so tools can derive it.
	if id != "0702c1cc60ff9e1331c47331a36ddd5d994ea38a" {
		t.Fatalf("MemberID(node-a) = %s", id)
	}
	for _, bad := range []string{"", strings.Repeat("A", 40), strings.Repeat("a", 39), strings.Repeat("g", 40)} {
		if validID(bad) {
			t.Errorf("validID(%q) = true", bad)
		}
	}
}

func TestNewErrors(t *testing.T) {
	ok := testMembers(3, 0)
	long := strings.Repeat("x", MaxFieldLen+1)
	for _, tc := range []struct {
		name    string
		q, n    int
		members []Member
		want    error
	}{
		{"q not a power of two", 100, 3, ok, ErrPartitions},
		{"q too small", 8, 3, ok, ErrPartitions},
		{"n zero", 256, 0, ok, ErrReplicas},
		{"n too large", 256, MaxReplicas + 1, ok, ErrReplicas},
		{"no members", 256, 3, nil, ErrNoClaimants},
		{"only leaving", 256, 3, []Member{{ID: ok[0].ID, Name: "a", State: Leaving}}, ErrNoClaimants},
		{"bad id", 256, 3, []Member{{ID: "ABC", Name: "a"}}, ErrMember},
		{"no name", 256, 3, []Member{{ID: ok[0].ID}}, ErrMember},
		{"long zone", 256, 3, []Member{{ID: ok[0].ID, Name: "a", Zone: long}}, ErrMember},
		{"bad state", 256, 3, []Member{{ID: ok[0].ID, Name: "a", State: 9}}, ErrMember},
		{"duplicate", 256, 3, []Member{ok[0], ok[0]}, ErrDuplicateMember},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.q, tc.n, tc.members); !errors.Is(err, tc.want) {
				t.Fatalf("New = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestRingAccessors(t *testing.T) {
	ms := testMembers(5, 0)
	ms = append(ms, Member{ID: MemberID("gone"), Name: "gone", State: Removed})
	r, err := New(256, 3, ms)
	if err != nil {
		t.Fatal(err)
	}
	if r.Q() != 256 || r.N() != 3 || r.Epoch() != 1 || r.ZoneAware() {
		t.Fatalf("Q %d N %d epoch %d zoneAware %v", r.Q(), r.N(), r.Epoch(), r.ZoneAware())
	}
	got := r.Members()
	if len(got) != 6 || !slices.IsSortedFunc(got, func(a, b Member) int { return strings.Compare(a.ID, b.ID) }) {
		t.Fatalf("Members not sorted by ID: %v", got)
	}
	got[0].Name = "changed"
	if m, _ := r.Member(got[0].ID); m.Name == "changed" {
		t.Fatal("Members returned the ring's own slice")
	}
	if m, ok := r.Member(MemberID("gone")); !ok || m.State != Removed {
		t.Fatalf("tombstone: %v %v", m, ok)
	}
	if _, ok := r.Member(MemberID("nobody")); ok {
		t.Fatal("unknown member found")
	}
	if owned(r)[MemberID("gone")] != 0 {
		t.Fatal("a removed member owns partitions")
	}
	for p := range r.Q() {
		if r.Pending(p) != "" {
			t.Fatalf("fresh ring has pending partition %d", p)
		}
		if r.PreferenceList(p)[0] != r.Owner(p) {
			t.Fatalf("partition %d: list %v does not start at owner %s", p, r.PreferenceList(p), r.Owner(p))
		}
	}
	for _, key := range []string{"foo", "{user1}.cart", ""} {
		if got, want := r.PartitionOf([]byte(key)), PartitionOf(Slot([]byte(key)), 256); got != want {
			t.Errorf("PartitionOf(%q) = %d, want %d", key, got, want)
		}
	}
	// Appending to a returned list must not write into the table.
	pl := r.PreferenceList(7)
	_ = append(pl, "x")
	if r.Walk(7)[len(pl)] == "x" {
		t.Fatal("append to a preference list overwrote the walk")
	}
	if !strings.Contains(r.String(), "epoch 1") {
		t.Fatalf("String() = %q", r.String())
	}
}

// TestSmallClusters: with fewer nodes than N every node is a replica of
// every key (docs/architecture.md §2), and a single node is a complete ring.
func TestSmallClusters(t *testing.T) {
	for s := 1; s <= 3; s++ {
		r, err := New(64, 3, testMembers(s, 0))
		if err != nil {
			t.Fatal(err)
		}
		for p := range r.Q() {
			if len(r.PreferenceList(p)) != s || len(r.Walk(p)) != s {
				t.Fatalf("S=%d: partition %d list %v walk %v", s, p, r.PreferenceList(p), r.Walk(p))
			}
		}
	}
}

// TestZoneAwareness: lists keep to distinct zones only when the owners span
// at least N zones; with fewer, zones are ignored rather than shortening
// the lists.
func TestZoneAwareness(t *testing.T) {
	r, err := New(256, 3, testMembers(6, 2))
	if err != nil {
		t.Fatal(err)
	}
	if r.ZoneAware() {
		t.Fatal("two zones for N=3: zone-aware")
	}
	checkRing(t, r)
	r, err = New(256, 3, testMembers(6, 3))
	if err != nil {
		t.Fatal(err)
	}
	if !r.ZoneAware() {
		t.Fatal("three zones for N=3: not zone-aware")
	}
	checkRing(t, r)
}

// TestMembershipChanges: each change bumps the epoch and keeps the ring
// valid; tombstones keep removed members out (§4.8).
func TestMembershipChanges(t *testing.T) {
	ms := testMembers(6, 0)
	r, err := New(256, 3, ms[:5])
	if err != nil {
		t.Fatal(err)
	}

	// A new address only: same owners.
	moved := ms[2]
	moved.ClientAddr = "192.0.2.7:6379"
	r2, err := r.WithMember(moved)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Epoch() != 2 || len(r.Diff(r2)) != 0 {
		t.Fatalf("address change: epoch %d, %d partitions moved", r2.Epoch(), len(r.Diff(r2)))
	}
	if m, _ := r2.Member(moved.ID); m.ClientAddr != "192.0.2.7:6379" {
		t.Fatalf("address not updated: %v", m)
	}

	// A join, then a zone change.
	r3, err := r2.WithMember(ms[5])
	if err != nil {
		t.Fatal(err)
	}
	checkRing(t, r3)
	r4, err := r3.WithZone(ms[5].ID, "zone-x")
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := r4.Member(ms[5].ID); m.Zone != "zone-x" || r4.Epoch() != 4 {
		t.Fatalf("zone change: %v epoch %d", m, r4.Epoch())
	}

	// Joining → Valid moves nothing: both claim.
	r5, err := r4.WithState(ms[5].ID, Joining)
	if err != nil {
		t.Fatal(err)
	}
	if len(r4.Diff(r5)) != 0 {
		t.Fatal("Valid → Joining moved partitions")
	}

	// Removal leaves a tombstone that refuses the ID back.
	r6, err := r5.WithoutMember(ms[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	checkRing(t, r6)
	if m, ok := r6.Member(ms[0].ID); !ok || m.State != Removed {
		t.Fatalf("no tombstone: %v", m)
	}
	if _, err := r6.WithMember(ms[0]); !errors.Is(err, ErrRemoved) {
		t.Fatalf("re-adding a removed member: %v", err)
	}
	if _, err := r6.WithZone(ms[0].ID, "z"); !errors.Is(err, ErrRemoved) {
		t.Fatalf("changing a removed member: %v", err)
	}
	if _, err := r6.WithoutMember(MemberID("nobody")); !errors.Is(err, ErrUnknownMember) {
		t.Fatalf("removing an unknown member: %v", err)
	}
	gone := ms[0]
	gone.State = Removed
	if _, err := r6.WithMember(gone); !errors.Is(err, ErrMember) {
		t.Fatalf("WithMember with state Removed: %v", err)
	}
	if r7, err := r6.WithState(ms[1].ID, Removed); err != nil || !r7.Equal(mustRemove(t, r6, ms[1].ID)) {
		t.Fatalf("WithState(Removed) differs from WithoutMember: %v", err)
	}
	// The receiver never changes.
	if r.Epoch() != 1 || len(r.Members()) != 5 {
		t.Fatal("a change modified its receiver")
	}
}

func mustRemove(t *testing.T, r *Ring, id string) *Ring {
	t.Helper()
	r2, err := r.WithoutMember(id)
	if err != nil {
		t.Fatal(err)
	}
	return r2
}

// TestStageCommit: a claim staged on the current ring leaves the old owners
// serving and marks each moving partition pending (§4.9, docs/architecture.md §5);
// committing a partition hands it over.
func TestStageCommit(t *testing.T) {
	ms := testMembers(5, 0)
	cur, err := New(256, 3, ms[:4])
	if err != nil {
		t.Fatal(err)
	}
	target, err := cur.WithMember(ms[4])
	if err != nil {
		t.Fatal(err)
	}
	staged, err := cur.Stage(target)
	if err != nil {
		t.Fatal(err)
	}
	if staged.Epoch() != target.Epoch()+1 {
		t.Fatalf("staged epoch %d, target %d", staged.Epoch(), target.Epoch())
	}
	if len(cur.Diff(staged)) != 0 {
		t.Fatal("staging changed owners")
	}
	moving := cur.Diff(target)
	for p := range staged.Q() {
		want := ""
		if slices.Contains(moving, p) {
			want = target.Owner(p)
		}
		if staged.Pending(p) != want {
			t.Fatalf("partition %d pending %q, want %q", p, staged.Pending(p), want)
		}
	}
	// Pending partitions survive a change that does not touch the claim,
	// and an encoding round trip.
	addr := ms[1]
	addr.ClusterAddr = "192.0.2.1:7379"
	renamed, err := staged.WithMember(addr)
	if err != nil {
		t.Fatal(err)
	}
	if renamed.Pending(moving[0]) != target.Owner(moving[0]) {
		t.Fatal("an address change dropped pending owners")
	}
	back, err := Decode(staged.Encode())
	if err != nil || !back.Equal(staged) {
		t.Fatalf("round trip of a staged ring: %v", err)
	}

	// Commit every moving partition: the ring reaches the target's owners.
	r := staged
	for _, p := range moving {
		if r, err = r.Commit(p); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.Diff(target)) != 0 {
		t.Fatalf("after commits %d partitions differ from the target", len(r.Diff(target)))
	}
	for p := range r.Q() {
		if r.Pending(p) != "" {
			t.Fatalf("partition %d still pending", p)
		}
	}
	if _, err := r.Commit(0); !errors.Is(err, ErrNoPending) {
		t.Fatalf("Commit without pending: %v", err)
	}
	if _, err := r.Commit(256); !errors.Is(err, ErrOwners) {
		t.Fatalf("Commit out of range: %v", err)
	}
	other, _ := New(128, 3, ms)
	if _, err := cur.Stage(other); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Stage across shapes: %v", err)
	}
}

// TestLeavingHandoff: a leaving node keeps serving its partitions while
// they are pending to others, so its walks and lists still name it; a
// forgotten node's partitions cannot wait for it.
func TestLeavingHandoff(t *testing.T) {
	ms := testMembers(6, 3)
	cur, err := New(128, 3, ms)
	if err != nil {
		t.Fatal(err)
	}
	leaving := ms[2].ID
	target, err := cur.WithState(leaving, Leaving)
	if err != nil {
		t.Fatal(err)
	}
	staged, err := cur.Stage(target)
	if err != nil {
		t.Fatal(err)
	}
	if owned(staged)[leaving] != owned(cur)[leaving] {
		t.Fatal("the leaving node lost partitions before handing them off")
	}
	nr := newNaiveRing(staged)
	for p := range staged.Q() {
		if !slices.Equal(staged.Walk(p), nr.walk(p)) {
			t.Fatalf("partition %d: walk %v, naive %v", p, staged.Walk(p), nr.walk(p))
		}
	}
	// Half the handoffs done, then the operator forgets the node: the rest
	// go to their new owners at once.
	r := staged
	for i, p := range cur.Diff(target) {
		if i%2 == 0 {
			if r, err = r.Commit(p); err != nil {
				t.Fatal(err)
			}
		}
	}
	gone, err := r.WithoutMember(leaving)
	if err != nil {
		t.Fatal(err)
	}
	if owned(gone)[leaving] != 0 {
		t.Fatal("a forgotten node still owns partitions")
	}
	checkRing(t, gone)
}
