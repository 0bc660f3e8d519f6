package engine

import (
	"fmt"
	"testing"

	"github.com/dynago/dynago/version"
)

// Hinted handoff storage (Dynamo §4.6): "the replica ... will keep [the
// hint] in a separate local database ... Upon detecting that A has
// recovered, B will attempt to deliver the replica to A. Once the transfer
// succeeds, B may delete the object from its local store".

func TestHintsMergeAndDeleteOnlyWhatWasDelivered(t *testing.T) {
	e, clk, cfg := openMemConfig(t)
	now := clk.NowMs()
	home, other := targetID(0xaa), targetID(0xbb)

	w1 := version.Object{}.Put(actor(1), nil, version.Sibling{Value: []byte("w1"), Timestamp: now})
	w2 := version.Object{}.Put(actor(2), nil, version.Sibling{Value: []byte("w2"), Timestamp: now + 1})
	if err := e.PutHint(home, 3, []byte("k"), w1); err != nil {
		t.Fatal(err)
	}
	if err := e.PutHint(home, 3, []byte("k"), w2); err != nil {
		t.Fatal(err)
	}
	h, ok, err := e.GetHint(home, 3, []byte("k"))
	if err != nil || !ok {
		t.Fatalf("GetHint = %v, %v", ok, err)
	}
	requireSame(t, "hint holds both concurrent writes", h, version.Merge(w1, w2))
	if err := e.PutHint(other, 3, []byte("k"), w1); err != nil {
		t.Fatal(err)
	}
	if got := e.HintCounts(); got[home] != 1 || got[other] != 1 || len(got) != 2 {
		t.Fatalf("HintCounts = %v, want one hint for each of two targets", got)
	}
	// Hints are not the node's own objects.
	if o := mustGet(t, e, 3, "k"); !o.IsZero() {
		t.Fatalf("a hint is visible as an object: %s", show(o))
	}

	// Delivery starts with h; meanwhile another write for home arrives.
	w3 := h.Put(actor(1), h.VV, version.Sibling{Value: []byte("w3"), Timestamp: now + 2})
	if err := e.PutHint(home, 3, []byte("k"), w3); err != nil {
		t.Fatal(err)
	}
	deleted, err := e.DeleteHint(home, 3, []byte("k"), h)
	if err != nil || deleted {
		t.Fatalf("DeleteHint of a hint updated during delivery = %v, %v; want kept", deleted, err)
	}
	h2, ok, _ := e.GetHint(home, 3, []byte("k"))
	if !ok {
		t.Fatal("the updated hint was deleted")
	}
	requireSame(t, "updated hint", h2, w3)

	// Reopen: hints and their counts survive.
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = mustOpen(t, cfg)
	if got := e.HintCounts(); got[home] != 1 || got[other] != 1 {
		t.Fatalf("HintCounts after reopen = %v", got)
	}
	deleted, err = e.DeleteHint(home, 3, []byte("k"), h2)
	if err != nil || !deleted {
		t.Fatalf("DeleteHint of the delivered hint = %v, %v; want deleted", deleted, err)
	}
	if deleted, err := e.DeleteHint(home, 3, []byte("k"), h2); err != nil || deleted {
		t.Fatalf("DeleteHint of a missing hint = %v, %v", deleted, err)
	}
	if got := e.HintCounts(); len(got) != 1 || got[other] != 1 {
		t.Fatalf("HintCounts after delivery = %v, want only %s", got, other)
	}
	if s := e.Stats(); s.HintsPending != 1 || s.HintTargets != 1 || s.HintsDeleted != 1 {
		t.Fatalf("Stats hints: pending %d targets %d deleted %d", s.HintsPending, s.HintTargets, s.HintsDeleted)
	}
}

func TestScanHintsPerTarget(t *testing.T) {
	e, clk := openMem(t)
	now := clk.NowMs()
	a, b := targetID(1), targetID(2)
	for i := range 10 {
		o := version.Object{}.Put(actor(1), nil, version.Sibling{Value: fmt.Appendf(nil, "%d", i), Timestamp: now})
		if err := e.PutHint(a, uint16(9-i), fmt.Appendf(nil, "k%d", i), o); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := e.PutHint(b, 0, fmt.Appendf(nil, "k%d", i), o); err != nil {
				t.Fatal(err)
			}
		}
	}
	var seen []string
	// Deliver-and-delete from inside the scan, as handoff does.
	err := e.ScanHints(a, func(p uint16, key []byte, o version.Object) bool {
		seen = append(seen, fmt.Sprintf("%d/%s", p, key))
		if _, err := e.DeleteHint(a, p, key, o); err != nil {
			t.Error(err)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 10 || seen[0] != "0/k9" || seen[9] != "9/k0" {
		t.Fatalf("ScanHints(a) = %v, want 10 hints in partition order", seen)
	}
	if got := e.HintCounts(); len(got) != 1 || got[b] != 5 {
		t.Fatalf("HintCounts = %v, want 5 for b only", got)
	}
	n := 0
	if err := e.ScanHints(b, func(uint16, []byte, version.Object) bool { n++; return n < 2 }); err != nil || n != 2 {
		t.Fatalf("ScanHints stopping early saw %d, %v", n, err)
	}
}
