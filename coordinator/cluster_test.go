package coordinator

// In-process cluster tests of the request path (docs/architecture.md §10): several
// coordinators in one process over a MemNetwork with injected faults. Each
// test pins sentences of the paper:
//
//   - §4.5: "a put returns after W-1 other replicas acknowledge the
//     coordinator's local write; a get waits for R replies";
//   - §4.5: a write is coordinated by one of the top N nodes of the
//     preference list, others forward it;
//   - §4.6: the quorum is taken over the first N healthy nodes; a replica
//     sent to a stand-in carries a hint and is delivered when the intended
//     node recovers;
//   - §5: after a read the coordinator repairs stale replicas.

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/dynago/dynago/version"
)

func TestQuorumWriteReadAtEveryNode(t *testing.T) {
	tc := newTestCluster(t, 3, nil)
	for i := range 30 {
		k := fmt.Sprintf("key-%d", i)
		if err := tc.set(i%3, k, "v"+k); err != nil {
			t.Fatalf("SET %s at node %d: %v", k, i%3, err)
		}
	}
	tc.settle()
	for i := range 30 {
		k := fmt.Sprintf("key-%d", i)
		for n := range 3 {
			if v, ok, err := tc.get(n, k); err != nil || !ok || v != "v"+k {
				t.Fatalf("GET %s at node %d = %q %v %v", k, n, v, ok, err)
			}
			// N=3 on 3 nodes: every node holds every key.
			if v, ok := tc.local(n, k); !ok || v != "v"+k {
				t.Fatalf("node %d's own copy of %s = %q %v", n, k, v, ok)
			}
		}
	}
}

func TestWriteForwardedToAHomeReplica(t *testing.T) {
	tc := newTestCluster(t, 5, nil)
	key := "forward-me"
	homes := tc.homes(key, 3)
	outsider := -1
	for i := range 5 {
		if i != homes[0] && i != homes[1] && i != homes[2] {
			outsider = i
			break
		}
	}
	if err := tc.set(outsider, key, "v"); err != nil {
		t.Fatal(err)
	}
	if got := tc.nodes[outsider].Stats().Forwarded.Load(); got != 1 {
		t.Fatalf("outsider forwarded %d writes, want 1", got)
	}
	tc.settle()
	// The dot was minted by the first home replica, and no node outside
	// the home replicas stored the key.
	o, _ := tc.stores[homes[0]].Get(uint16(Partition(tc.nodes[0].placement(), []byte(key))), []byte(key))
	if len(o.Siblings) != 1 || o.Siblings[0].Dot.Actor != tc.nodes[homes[0]].cfg.Actor {
		t.Fatalf("write not coordinated by the first home replica: %+v", o.Siblings)
	}
	if _, ok := tc.local(outsider, key); ok {
		t.Fatal("the forwarding node stored the key")
	}
}

func TestSloppyQuorumAndHintedHandoff(t *testing.T) {
	tc := newTestCluster(t, 5, nil)
	key := "sloppy"
	homes := tc.homes(key, 3)
	// Two of the three home replicas are down: W=2 still succeeds through
	// a fallback that stands in for one of them.
	tc.stop(homes[1])
	tc.stop(homes[2])
	if err := tc.set(homes[0], key, "v1"); err != nil {
		t.Fatalf("write with 2 of 3 home replicas down: %v", err)
	}
	tc.settle()
	hinted := 0
	for i, st := range tc.stores {
		if n := st.hintCount(); n > 0 {
			hinted++
			if i == homes[1] || i == homes[2] {
				t.Fatalf("a down home replica holds hints")
			}
		}
	}
	if hinted == 0 {
		t.Fatal("no node holds a hint for the down home replicas")
	}
	// R=2 reads still see the write (the fallback's hint answers).
	if v, ok, err := tc.get(homes[0], key); err != nil || !ok || v != "v1" {
		t.Fatalf("read with 2 home replicas down = %q %v %v", v, ok, err)
	}
	// The read's repair runs in the background and may keep a hint of its
	// own for a down replica: let it finish before the handoff below.
	tc.settle()
	// Heal: handoff delivers, the home replicas hold the write, hints go.
	tc.restart()
	for _, c := range tc.nodes {
		if _, err := c.DeliverHints(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range homes {
		if v, ok := tc.local(i, key); !ok || v != "v1" {
			t.Fatalf("home replica %d after handoff: %q %v", i, v, ok)
		}
	}
	for i, st := range tc.stores {
		if n := st.hintCount(); n != 0 {
			t.Fatalf("node %d still holds %d hints after delivery", i, n)
		}
	}
}

func TestSmallClusterKeepsHintOnALiveReplica(t *testing.T) {
	// 3 nodes, N=3: with one down there is no fallback; the coordinator
	// keeps the hint itself, and it does not count toward W.
	tc := newTestCluster(t, 3, nil)
	tc.stop(2)
	key := "small"
	if err := tc.set(0, key, "v"); err != nil {
		t.Fatalf("W=2 with 2 of 3 alive: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := tc.nodes[0].Write(WithConsistency(ctx, Consistency{W: 3}), []byte(key), Op{Kind: OpSet, Value: []byte("w3")})
	if !errors.Is(err, ErrQuorumMaybe) {
		t.Fatalf("W=3 with a node down: %v, want the maybe-applied quorum error", err)
	}
	var qe *QuorumError
	if !errors.As(err, &qe) || qe.Got != 2 || qe.Need != 3 {
		t.Fatalf("quorum error %+v, want 2 of 3", qe)
	}
	tc.settle()
	if tc.stores[0].hintCount() == 0 && tc.stores[1].hintCount() == 0 {
		t.Fatal("no hint kept for the down replica")
	}
	tc.restart()
	for _, c := range tc.nodes {
		c.DeliverHints(context.Background())
	}
	if v, ok := tc.local(2, key); !ok || v != "w3" {
		t.Fatalf("returned node holds %q %v, want w3", v, ok)
	}
}

func TestWriteQuorumTimeoutIsMaybeAppliedAndHinted(t *testing.T) {
	tc := newTestCluster(t, 3, func(c *Config) { c.RequestTimeout = 300 * time.Millisecond })
	// Node 2 is paused: alive to the failure detector, never answering.
	tc.net.Blackhole(tc.ids[0], tc.ids[2])
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := tc.nodes[0].Write(WithConsistency(ctx, Consistency{W: 3}), []byte("k"), Op{Kind: OpSet, Value: []byte("v")})
	if !errors.Is(err, ErrQuorumMaybe) || !MaybeApplied(err) {
		t.Fatalf("err %v, want maybe-applied quorum error", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("write failed after %v, not at its deadline", d)
	}
	// The straggler times out on the coordinator's own deadline and turns
	// into a hint for node 2.
	tc.settle()
	if n := tc.stores[0].HintCounts()[tc.ids[2]]; n != 1 {
		t.Fatalf("hints for the paused node: %d, want 1", n)
	}
	// A W=2 write does not wait for the paused node.
	if err := tc.set(0, "k2", "v"); err != nil {
		t.Fatalf("W=2 with a paused replica: %v", err)
	}
}

func TestReadRepairFixesStaleReplica(t *testing.T) {
	// The repair waits for the late reply as long as it takes here, so
	// that the test does not depend on scheduling.
	tc := newTestCluster(t, 3, func(c *Config) {
		c.ReadRepairWait = time.Minute
		c.RequestTimeout = 300 * time.Millisecond
	})
	key := "repair"
	if err := tc.set(0, key, "old"); err != nil {
		t.Fatal(err)
	}
	tc.settle()
	// Node 2 misses the next write: the replica write to it is lost (and
	// no hint is made, as when a reply is lost after the write timed out
	// on a node that then crashed and lost it).
	tc.net.SetHook(func(from, to string, req *Request) bool {
		return !(req.Kind == MsgReplicate && to == tc.ids[2])
	})
	if err := tc.set(0, key, "new"); err != nil {
		t.Fatal(err)
	}
	tc.settle()
	tc.net.SetHook(nil)
	for i := range tc.stores {
		tc.stores[i].mu.Lock()
		tc.stores[i].hints = map[string]map[string]version.Object{}
		tc.stores[i].mu.Unlock()
	}
	if v, _ := tc.local(2, key); v != "old" {
		t.Fatalf("setup: node 2 holds %q, want the stale old", v)
	}
	// A quorum read anywhere returns new and repairs node 2.
	if v, _, err := tc.get(1, key); err != nil || v != "new" {
		t.Fatalf("GET = %q %v", v, err)
	}
	tc.settle()
	if v, _ := tc.local(2, key); v != "new" {
		t.Fatalf("after read repair node 2 holds %q, want new", v)
	}
	if tc.nodes[1].Stats().ReadRepairs.Load() == 0 {
		t.Fatal("no read repair counted")
	}
}

func TestConcurrentWritersKeepSiblings(t *testing.T) {
	tc := newTestCluster(t, 3, nil)
	key := "cart"
	// Both writers read the empty cart and write with that context through
	// different coordinators: both versions survive (paper §4.4).
	op := func(v string) Op { return Op{Kind: OpSet, Value: []byte(v), UseContext: true} }
	for i, v := range []string{"milk", "eggs"} {
		// Force each write through a different coordinator by writing at
		// a home replica directly.
		if _, err := tc.nodes[i].coordinate(context.Background(), tc.nodes[i].route([]byte(key)), []byte(key), op(v)); err != nil {
			t.Fatal(err)
		}
	}
	tc.settle()
	o, err := tc.nodes[2].Get(context.Background(), []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	if live := o.Live(tc.nowMs() + 1); len(live) != 2 {
		t.Fatalf("siblings after two concurrent writes: %d, want 2", len(live))
	}
	// Writing back with the merged context resolves them.
	if _, err := tc.nodes[1].Write(context.Background(), []byte(key), Op{Kind: OpSet, Value: []byte("milk,eggs"), UseContext: true, Context: o.VV}); err != nil {
		t.Fatal(err)
	}
	o, _ = tc.nodes[0].Get(context.Background(), []byte(key))
	if live := o.Live(tc.nowMs() + 1); len(live) != 1 || string(live[0].Value) != "milk,eggs" {
		t.Fatalf("after the merge write: %+v", live)
	}
}

func TestReadQuorumFailure(t *testing.T) {
	tc := newTestCluster(t, 3, nil)
	if err := tc.set(0, "k", "v"); err != nil {
		t.Fatal(err)
	}
	tc.net.Isolate(tc.ids[0]) // alive in every view, unreachable
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := tc.nodes[0].Get(ctx, []byte("k"))
	if !errors.Is(err, ErrReadQuorum) || errors.Is(err, ErrQuorumMaybe) {
		t.Fatalf("read with 1 of 3 reachable: %v, want a read quorum error", err)
	}
	// R=1 succeeds from the local copy.
	if _, err := tc.nodes[0].Get(WithConsistency(ctx, Consistency{R: 1}), []byte("k")); err != nil {
		t.Fatalf("R=1: %v", err)
	}
}

func TestForwardToUnreachableTargetsIsNotApplied(t *testing.T) {
	tc := newTestCluster(t, 5, nil)
	key := "nowhere"
	homes := tc.homes(key, 3)
	outsider := -1
	for i := range 5 {
		if i != homes[0] && i != homes[1] && i != homes[2] {
			outsider = i
		}
	}
	tc.net.Isolate(tc.ids[outsider])
	err := tc.set(outsider, key, "v")
	if !errors.Is(err, ErrQuorumNotApplied) || MaybeApplied(err) {
		t.Fatalf("forward with no reachable target: %v, want not-applied", err)
	}
}

// TestNoAcknowledgedWriteLost drives random writes through random nodes
// while nodes go down and links drop, then heals, hands hints off, and
// checks that every acknowledged write is readable at every node and held
// by every home replica. Failed writes are indeterminate and not checked.
func TestNoAcknowledgedWriteLost(t *testing.T) {
	tc := newTestCluster(t, 5, func(c *Config) { c.RequestTimeout = 100 * time.Millisecond })
	seed := time.Now().UnixNano()
	t.Logf("workload seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	tc.net.SetDrop(0.05)
	acked := map[string]string{}
	for round := range 6 {
		// Each round: at most 2 nodes down (N-1), then 60 writes.
		tc.restart()
		tc.net.SetDrop(0.05)
		for range rng.Intn(3) {
			tc.stop(rng.Intn(5))
		}
		for i := range 60 {
			k := fmt.Sprintf("k%d-%d", round, i)
			v := fmt.Sprintf("v%d", rng.Int())
			at := rng.Intn(5)
			if !tc.alive(tc.ids[at]) {
				continue
			}
			if err := tc.set(at, k, v); err == nil {
				acked[k] = v
			}
		}
	}
	tc.settle()
	tc.restart()
	tc.net.SetDrop(0)
	for range 2 {
		for _, c := range tc.nodes {
			if _, err := c.DeliverHints(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(acked) < 100 {
		t.Fatalf("only %d writes acknowledged: the faults are too harsh to test anything", len(acked))
	}
	lost := 0
	for k, v := range acked {
		if got, ok, err := tc.get(rng.Intn(5), k); err != nil || !ok || got != v {
			t.Errorf("acked %s=%s reads %q %v %v", k, v, got, ok, err)
			lost++
		}
	}
	tc.settle()
	// After the reads' repairs every home replica holds every acked write.
	for k, v := range acked {
		for _, i := range tc.homes(k, 3) {
			if got, ok := tc.local(i, k); !ok || got != v {
				t.Errorf("home replica %d of %s holds %q %v, want %s", i, k, got, ok, v)
			}
		}
	}
	t.Logf("acked %d writes, lost %d", len(acked), lost)
}

func TestScanDBSizeFlushAllAcrossNodes(t *testing.T) {
	tc := newTestCluster(t, 4, nil)
	want := map[string]bool{}
	for i := range 200 {
		k := fmt.Sprintf("scan-%d", i)
		if err := tc.set(i%4, k, "v"); err != nil {
			t.Fatal(err)
		}
		want[k] = true
	}
	tc.settle()
	got := map[string]int{}
	cursor := uint64(0)
	for calls := 0; ; calls++ {
		next, err := tc.nodes[1].Scan(context.Background(), cursor, 10, func(k []byte) { got[string(k)]++ })
		if err != nil {
			t.Fatal(err)
		}
		if cursor = next; cursor == 0 {
			break
		}
		if calls > 1000 {
			t.Fatal("scan does not end")
		}
	}
	for k := range want {
		if got[k] != 1 {
			t.Fatalf("SCAN returned %s %d times", k, got[k])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("SCAN returned %d keys, want %d", len(got), len(want))
	}
	if n, err := tc.nodes[2].DBSize(context.Background()); err != nil || n != 200 {
		t.Fatalf("DBSIZE = %d, %v; want 200", n, err)
	}
	if err := tc.nodes[3].FlushAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, _ := tc.nodes[0].DBSize(context.Background()); n != 0 {
		t.Fatalf("DBSIZE after FLUSHALL = %d", n)
	}
}

func TestReplicaRejectsMalformedObject(t *testing.T) {
	tc := newTestCluster(t, 1, nil)
	bad := version.Object{Siblings: []version.Sibling{{Dot: version.Dot{Counter: 1}}}}
	resp := tc.nodes[0].HandleRPC(context.Background(), tc.ids[0], &Request{Kind: MsgReplicate, Key: []byte("k"), Object: bad})
	if !errors.Is(resp.Err, version.ErrMalformed) {
		t.Fatalf("malformed object accepted: %v", resp.Err)
	}
}

func TestSingleNodeNeedsNoNetwork(t *testing.T) {
	tc := newTestCluster(t, 1, nil)
	for i := range 50 {
		if err := tc.set(0, fmt.Sprint(i), "v"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := tc.get(0, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []MsgKind{MsgRead, MsgReplicate, MsgForward} {
		if n := tc.net.Delivered(k); n != 0 {
			t.Fatalf("a single node sent %d %s messages", n, k)
		}
	}
}

func TestQuorumReadsAskROfNAndHedgeSlowTargets(t *testing.T) {
	tc := newTestCluster(t, 3, func(c *Config) {
		c.ReadRepairChance = 0
		c.HedgeAfter = 50 * time.Millisecond
	})
	if err := tc.set(0, "k", "v"); err != nil {
		t.Fatal(err)
	}
	tc.settle()
	before := tc.net.Delivered(MsgRead)
	for range 20 {
		if v, ok, err := tc.get(0, "k"); err != nil || !ok || v != "v" {
			t.Fatalf("GET = %q %v %v", v, ok, err)
		}
	}
	tc.settle()
	// R=2 with this node a replica: one remote read per GET.
	if n := tc.net.Delivered(MsgRead) - before; n != 20 {
		t.Fatalf("20 quorum reads sent %d remote reads, want 20", n)
	}
	// A target that never answers (paused) is hedged around: the read
	// asks the third replica after HedgeAfter, well before the timeout.
	// The paused one is the replica node 0 asks first.
	homes := tc.homes("k", 3)
	first := homes[1]
	if homes[0] != 0 {
		first = homes[0]
	}
	tc.net.Blackhole(tc.ids[0], tc.ids[first])
	start := time.Now()
	for range 5 {
		if v, ok, err := tc.get(0, "k"); err != nil || !ok || v != "v" {
			t.Fatalf("GET with a paused replica = %q %v %v", v, ok, err)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("5 reads with a paused replica took %v", d)
	}
}
