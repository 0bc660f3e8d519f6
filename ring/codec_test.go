package ring

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// drawRing draws a small ring and a history of changes to it, so that
// epochs repeat with different content (concurrent changes, §4.8) and rings
// carry tombstones, zones, leaving members and pending owners.
func drawRing(t *rapid.T) *Ring {
	q := rapid.SampledFrom([]int{16, 32, 64}).Draw(t, "q")
	n := rapid.IntRange(1, 4).Draw(t, "n")
	s := rapid.IntRange(1, 6).Draw(t, "s")
	zones := rapid.IntRange(0, 3).Draw(t, "zones")
	ms := testMembers(s+4, zones)
	r, err := New(q, n, ms[:s])
	if err != nil {
		t.Fatal(err)
	}
	for i := range rapid.IntRange(0, 4).Draw(t, "changes") {
		var next *Ring
		live := r.liveClaimants()
		switch rapid.IntRange(0, 4).Draw(t, fmt.Sprint("change", i)) {
		case 0:
			next, err = r.WithMember(ms[rapid.IntRange(0, len(ms)-1).Draw(t, "member")])
		case 1:
			if len(live) < 2 {
				continue
			}
			next, err = r.WithoutMember(rapid.SampledFrom(live).Draw(t, "removed"))
		case 2:
			if len(live) < 2 {
				continue
			}
			next, err = r.WithState(rapid.SampledFrom(live).Draw(t, "leaving"), Leaving)
		case 3:
			next, err = r.WithZone(rapid.SampledFrom(live).Draw(t, "rezoned"), fmt.Sprint("zone-", rapid.IntRange(0, 3).Draw(t, "zone")))
		case 4:
			target, err2 := r.WithMember(ms[len(ms)-1])
			if err2 != nil {
				continue
			}
			next, err = r.Stage(target)
			if err == nil && rapid.Bool().Draw(t, "commit") {
				if moving := r.Diff(target); len(moving) > 0 {
					next, err = next.Commit(moving[0])
				}
			}
		}
		if errors.Is(err, ErrRemoved) {
			continue // re-adding a tombstone is refused, as it should be
		}
		if err != nil {
			t.Fatal(err)
		}
		r = next
	}
	return r
}

// liveClaimants lists the IDs of members in state Valid or Joining.
func (r *Ring) liveClaimants() []string {
	var ids []string
	for _, m := range r.members {
		if m.State.claims() {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

func TestEncodeRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := drawRing(t)
		b := r.Encode()
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("Decode(Encode(%v)): %v", r, err)
		}
		if !got.Equal(r) || got.Epoch() != r.Epoch() || !slices.Equal(got.Members(), r.Members()) {
			t.Fatalf("round trip changed the ring")
		}
		for p := range r.Q() {
			if got.Owner(p) != r.Owner(p) || got.Pending(p) != r.Pending(p) ||
				!slices.Equal(got.Walk(p), r.Walk(p)) {
				t.Fatalf("partition %d differs after the round trip", p)
			}
		}
		if !slices.Equal(got.Encode(), b) {
			t.Fatal("encoding is not canonical")
		}
	})
}

// The Merge laws: every node that sees the same set of rings, in any order
// and any number of times, keeps the same one (docs/architecture.md §5).
func TestMergeLaws(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b, c := drawRing(t), drawRing(t), drawRing(t)
		if !Merge(a, b).Equal(Merge(b, a)) {
			t.Fatalf("not commutative: epochs %d, %d", a.Epoch(), b.Epoch())
		}
		if !Merge(Merge(a, b), c).Equal(Merge(a, Merge(b, c))) {
			t.Fatal("not associative")
		}
		if !Merge(a, a).Equal(a) {
			t.Fatal("not idempotent")
		}
		m := Merge(a, b)
		if m.Epoch() != max(a.Epoch(), b.Epoch()) || !m.Equal(a) && !m.Equal(b) {
			t.Fatalf("merge of epochs %d and %d gave epoch %d", a.Epoch(), b.Epoch(), m.Epoch())
		}
		// Decoded copies merge the same way as the originals.
		a2, _ := Decode(a.Encode())
		if !Merge(a2, b).Equal(Merge(a, b)) {
			t.Fatal("merge depends on more than the encoding")
		}
	})
}

func TestMergeEpochs(t *testing.T) {
	ms := testMembers(4, 0)
	r, _ := New(64, 3, ms[:3])
	x, _ := r.WithMember(ms[3])
	y, _ := r.WithoutMember(ms[0].ID)
	if Merge(r, x) != x || Merge(x, r) != x {
		t.Fatal("the higher epoch does not win")
	}
	if x.Epoch() != y.Epoch() || x.Equal(y) {
		t.Fatal("test needs two different rings of one epoch")
	}
	if w := Merge(x, y); w != Merge(y, x) {
		t.Fatal("concurrent changes resolve differently by order")
	}
	if Merge(nil, x) != x || Merge(x, nil) != x || Merge(nil, nil) != nil {
		t.Fatal("nil does not lose")
	}
}

// rawRing writes the encoding from raw parts, so that tests can forge
// inputs the encoder would never produce.
type rawRing struct {
	version       byte
	q, n, epoch   uint64
	ids           []string // 40 hex digits each
	states        []uint64
	owners        []uint64
	pending       [][2]uint64
	name, zone    string
	trailing      []byte
	nonMinimalQ   bool
	memberCount   uint64 // overrides len(ids) when non-zero
	pendingCount  uint64 // overrides len(pending) when non-zero
	truncateOwner bool
}

func (w rawRing) bytes() []byte {
	b := []byte{w.version}
	if w.nonMinimalQ {
		b = append(b, byte(w.q)|0x80, 0) // w.q < 128
	} else {
		b = binary.AppendUvarint(b, w.q)
	}
	b = binary.AppendUvarint(b, w.n)
	b = binary.AppendUvarint(b, w.epoch)
	mc := uint64(len(w.ids))
	if w.memberCount != 0 {
		mc = w.memberCount
	}
	b = binary.AppendUvarint(b, mc)
	for i, id := range w.ids {
		raw, _ := hex.DecodeString(id)
		b = append(b, raw...)
		for _, f := range []string{w.name, "", "", w.zone} {
			b = binary.AppendUvarint(b, uint64(len(f)))
			b = append(b, f...)
		}
		b = binary.AppendUvarint(b, w.states[i])
	}
	owners := w.owners
	if w.truncateOwner {
		owners = owners[:len(owners)-1]
	}
	for _, x := range owners {
		b = binary.AppendUvarint(b, x)
	}
	pc := uint64(len(w.pending))
	if w.pendingCount != 0 {
		pc = w.pendingCount
	}
	b = binary.AppendUvarint(b, pc)
	for _, e := range w.pending {
		b = binary.AppendUvarint(b, e[0])
		b = binary.AppendUvarint(b, e[1])
	}
	return append(b, w.trailing...)
}

func validRaw() rawRing {
	ids := []string{MemberID("b"), MemberID("a")}
	slices.Sort(ids)
	owners := make([]uint64, 16)
	for p := range owners {
		owners[p] = uint64(p % 2)
	}
	return rawRing{version: 1, q: 16, n: 2, epoch: 7, ids: ids, states: []uint64{0, 0}, owners: owners, name: "x"}
}

func TestDecodeForged(t *testing.T) {
	if _, err := Decode(validRaw().bytes()); err != nil {
		t.Fatalf("the valid base case fails: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*rawRing)
		want error
	}{
		{"version", func(w *rawRing) { w.version = 2 }, ErrVersion},
		{"q not a power of two", func(w *rawRing) { w.q = 20 }, ErrPartitions},
		{"q too large", func(w *rawRing) { w.q = 1 << 20 }, ErrDecode},
		{"non-minimal varint", func(w *rawRing) { w.nonMinimalQ = true }, ErrDecode},
		{"n zero", func(w *rawRing) { w.n = 0 }, ErrReplicas},
		{"n too large", func(w *rawRing) { w.n = MaxReplicas + 1 }, ErrDecode},
		{"too many members", func(w *rawRing) { w.memberCount = MaxMembers + 1 }, ErrDecode},
		{"more members than bytes", func(w *rawRing) { w.memberCount = 900 }, ErrDecode},
		{"no members", func(w *rawRing) { w.ids, w.states, w.owners = nil, nil, nil; w.memberCount = 0 }, ErrDecode},
		{"members out of order", func(w *rawRing) { w.ids[0], w.ids[1] = w.ids[1], w.ids[0] }, ErrDecode},
		{"duplicate member", func(w *rawRing) { w.ids[1] = w.ids[0] }, ErrDecode},
		{"bad state", func(w *rawRing) { w.states[0] = 4 }, ErrDecode},
		{"empty name", func(w *rawRing) { w.name = "" }, ErrMember},
		{"owner out of range", func(w *rawRing) { w.owners[3] = 2 }, ErrDecode},
		{"owner removed", func(w *rawRing) { w.states[1] = uint64(Removed) }, ErrOwners},
		{"owners truncated", func(w *rawRing) { w.truncateOwner = true }, ErrDecode},
		{"pending to owner", func(w *rawRing) { w.pending = [][2]uint64{{0, 0}} }, ErrOwners},
		{"pending out of order", func(w *rawRing) { w.pending = [][2]uint64{{3, 0}, {1, 1}} }, ErrDecode},
		{"pending repeated", func(w *rawRing) { w.pending = [][2]uint64{{1, 0}, {1, 0}} }, ErrDecode},
		{"pending partition out of range", func(w *rawRing) { w.pending = [][2]uint64{{16, 0}} }, ErrDecode},
		{"pending count too large", func(w *rawRing) { w.pendingCount = 17 }, ErrDecode},
		{"pending truncated", func(w *rawRing) { w.pendingCount = 2; w.pending = [][2]uint64{{1, 0}} }, ErrDecode},
		{"trailing bytes", func(w *rawRing) { w.trailing = []byte{0} }, ErrDecode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := validRaw()
			tc.edit(&w)
			if _, err := Decode(w.bytes()); !errors.Is(err, tc.want) {
				t.Fatalf("Decode = %v, want %v", err, tc.want)
			}
		})
	}
	// Every proper prefix of a valid encoding is an error, not a panic.
	r, _ := New(64, 3, testMembers(5, 2))
	b := r.Encode()
	for i := range b {
		if _, err := Decode(b[:i]); err == nil {
			t.Fatalf("prefix of %d of %d bytes decoded", i, len(b))
		}
	}
}

// A header that claims the largest ring over a few bytes must be refused
// before anything is allocated for it.
func TestDecodeAllocation(t *testing.T) {
	w := validRaw()
	w.q, w.memberCount = MaxPartitions, MaxMembers
	b := w.bytes()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		if _, err := Decode(b); err == nil {
			t.Fatal("forged header decoded")
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / 100; per > 4096 {
		t.Fatalf("a refused %d-byte input allocated %d bytes", len(b), per)
	}
}

// FuzzDecodeRing: no input panics or decodes to something the encoder
// would not produce; what decodes is a valid ring whose encoding is the
// input itself.
func FuzzDecodeRing(f *testing.F) {
	ms := testMembers(6, 3)
	r, _ := New(16, 3, ms[:4])
	f.Add(r.Encode())
	r2, _ := r.WithMember(ms[4])
	f.Add(r2.Encode())
	r3, _ := r2.WithoutMember(ms[0].ID)
	f.Add(r3.Encode())
	staged, _ := r.Stage(r2)
	f.Add(staged.Encode())
	f.Add(validRaw().bytes())
	f.Add([]byte{})
	f.Add([]byte{1, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b)
		if err != nil {
			for _, known := range []error{ErrDecode, ErrVersion, ErrPartitions, ErrReplicas, ErrMember,
				ErrDuplicateMember, ErrTooManyMembers, ErrNoClaimants, ErrOwners} {
				if errors.Is(err, known) {
					return
				}
			}
			t.Fatalf("Decode: error %v wraps no sentinel", err)
		}
		if got := r.Encode(); !slices.Equal(got, b) {
			t.Fatalf("decoded ring re-encodes differently:\n in  %x\n out %x", b, got)
		}
		for p := range r.Q() {
			pl := r.PreferenceList(p)
			if len(pl) == 0 || pl[0] != r.Owner(p) {
				t.Fatalf("partition %d: list %v, owner %s", p, pl, r.Owner(p))
			}
		}
	})
}
