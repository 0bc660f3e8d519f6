package coordinator

import (
	"context"
	"testing"

	"github.com/dynago/dynago/crdt"
)

// The writes of a transaction that a home replica coordinates are stored
// locally at once and reach the other replicas only at Commit, all in one
// message each.
func TestTxBatchCommit(t *testing.T) {
	tc := newTestCluster(t, 3, nil)
	keys := []string{"{b}x", "{b}y", "{b}z"}
	h := tc.homes(keys[0], 3)
	coord := tc.nodes[h[0]]
	ctx, batch := WithTxBatch(context.Background())
	for i, k := range keys {
		if _, err := coord.Write(ctx, []byte(k), Op{Kind: OpSet, Value: []byte{'0' + byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := coord.Write(ctx, []byte(keys[0]), Op{Kind: OpIncrBy, Delta: 5}); err != nil {
		t.Fatal(err)
	}
	tc.settle()
	p := uint16(Partition(coord.placement(), []byte(keys[0])))
	for _, i := range h[1:] {
		for _, k := range keys {
			if o, _ := tc.stores[i].Get(p, []byte(k)); len(o.VV) != 0 {
				t.Fatalf("%s holds %s before Commit", tc.ids[i], k)
			}
		}
	}
	if err := batch.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	tc.settle()
	want := []string{"5", "1", "2"}
	for _, i := range h {
		for j, k := range keys {
			o, _ := tc.stores[i].Get(p, []byte(k))
			v, _, ok, err := crdt.StringValue(o, tc.nowMs())
			if err != nil || !ok || string(v) != want[j] {
				t.Fatalf("%s: %s = %q (%v, %v), want %q", tc.ids[i], k, v, ok, err, want[j])
			}
		}
	}
	// An empty batch commits nothing.
	_, empty := WithTxBatch(context.Background())
	if err := empty.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
}
