package engine

import (
	"fmt"
	"testing"

	"github.com/dynago/dynago/version"
)

func TestDropPartition(t *testing.T) {
	e, clk, cfg := openMemConfig(t)
	now := clk.NowMs()
	for i := range 30 {
		var expiry int64
		if i%2 == 1 {
			expiry = now + 1000
		}
		mustUpdate(t, e, uint16(i%3), fmt.Sprintf("k%d", i), put(actor(1), "v", now, expiry))
	}
	hint := version.Object{}.Put(actor(1), nil, version.Sibling{Value: []byte("h"), Timestamp: now})
	if err := e.PutHint(targetID(7), 1, []byte("k"), hint); err != nil {
		t.Fatal(err)
	}
	if err := e.DropPartition(1); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := e.Scan(1, nil, func([]byte, version.Object) bool { n++; return true }); err != nil || n != 0 {
		t.Fatalf("partition 1 still holds %d objects (%v)", n, err)
	}
	if k, x := e.PartitionKeys(1); k != 0 || x != 0 {
		t.Fatalf("PartitionKeys(1) = %d, %d after the drop", k, x)
	}
	for _, p := range []uint16{0, 2} {
		if k, x := e.PartitionKeys(p); k != 10 || x != 5 {
			t.Fatalf("PartitionKeys(%d) = %d, %d; other partitions must be untouched", p, k, x)
		}
	}
	if keys, exp, _ := e.LiveKeys(now); keys != 20 || exp != 10 {
		t.Fatalf("LiveKeys = %d, %d; want 20, 10", keys, exp)
	}
	if _, ok, _ := e.GetHint(targetID(7), 1, []byte("k")); !ok {
		t.Fatal("DropPartition must keep hints for other nodes")
	}
	// The drop is durable: reopen and count again.
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = mustOpen(t, cfg)
	if keys, _, _ := e.LiveKeys(now); keys != 20 {
		t.Fatalf("LiveKeys after reopen = %d, want 20", keys)
	}
	// A dropped partition can be filled again.
	mustUpdate(t, e, 1, "new", put(actor(1), "v", now, 0))
	if k, _ := e.PartitionKeys(1); k != 1 {
		t.Fatalf("PartitionKeys(1) = %d after a new write", k)
	}
}

func TestFlushAll(t *testing.T) {
	e, clk := openMem(t)
	now := clk.NowMs()
	for i := range 30 {
		mustUpdate(t, e, uint16(i), fmt.Sprintf("k%d", i), put(actor(1), "v", now, now+1000))
	}
	if err := e.PutMeta("identity", []byte("me")); err != nil {
		t.Fatal(err)
	}
	if err := e.FlushAll(); err != nil {
		t.Fatal(err)
	}
	if keys, exp, _ := e.LiveKeys(now); keys != 0 || exp != 0 {
		t.Fatalf("LiveKeys after FlushAll = %d, %d", keys, exp)
	}
	for p := range uint16(30) {
		if o := mustGet(t, e, p, fmt.Sprintf("k%d", p)); !o.IsZero() {
			t.Fatalf("k%d survived FlushAll: %s", p, show(o))
		}
	}
	if _, ok, _ := e.GetMeta("identity"); !ok {
		t.Fatal("FlushAll must keep node metadata")
	}
	mustUpdate(t, e, 3, "after", put(actor(1), "v", now, 0))
	if keys, _, _ := e.LiveKeys(now); keys != 1 {
		t.Fatalf("LiveKeys = %d after a write following FlushAll", keys)
	}
}
