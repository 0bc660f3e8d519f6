package antientropy

// In-process tests of aeReplica synchronisation (paper §4.7): two or three
// replicas, each a real engine on an in-memory filesystem with a Syncer on
// its change hook, connected by a direct in-memory Peer. No client reads
// happen: only exchanges move data.

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/dynago/dynago/engine"
	"github.com/dynago/dynago/ring"
	"github.com/dynago/dynago/version"
)

const testQ = 16

// aeReplica is one node's engine and syncer.
type aeReplica struct {
	id  string
	eng *engine.Engine
	s   *Syncer
	act version.Actor
}

// directPeer calls the other replicas' syncers and engines in process.
type directPeer struct {
	mu    sync.Mutex
	nodes map[string]*aeReplica
}

func (d *directPeer) node(id string) *aeReplica {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.nodes[id]
}

func (d *directPeer) Hashes(ctx context.Context, node string, p int, req LevelRequest) ([]uint64, error) {
	// Round-trip the request through its encoding, as the RPC would.
	req, err := DecodeLevelRequest(AppendLevelRequest(nil, req))
	if err != nil {
		return nil, err
	}
	return d.node(node).s.Answer(p, req)
}

func (d *directPeer) KeyHashes(ctx context.Context, node string, p int, segs []int) ([]KeyHash, error) {
	return d.node(node).s.KeyHashes(p, segs)
}

func (d *directPeer) Fetch(ctx context.Context, node string, p int, keys [][]byte) ([]version.Object, error) {
	out := make([]version.Object, len(keys))
	for i, k := range keys {
		o, err := d.node(node).eng.Get(uint16(p), k)
		if err != nil {
			return nil, err
		}
		out[i] = o
	}
	return out, nil
}

func (d *directPeer) Push(ctx context.Context, node string, p int, keys [][]byte, objs []version.Object) error {
	items := make([]engine.MergeItem, len(keys))
	for i := range keys {
		items[i] = engine.MergeItem{P: uint16(p), Key: keys[i], Object: objs[i]}
	}
	_, err := d.node(node).eng.MergeMany(items)
	return err
}

// cluster builds n replicas of one ring of n members (N = n: every node
// replicates every partition).
type aeCluster struct {
	t     testing.TB
	reps  []*aeReplica
	peer  *directPeer
	r     *ring.Ring
	nowMs int64
}

func newAECluster(t testing.TB, n int) *aeCluster {
	t.Helper()
	c := &aeCluster{t: t, peer: &directPeer{nodes: map[string]*aeReplica{}}, nowMs: 1_700_000_000_000}
	var members []ring.Member
	for i := range n {
		name := fmt.Sprintf("n%d", i)
		members = append(members, ring.Member{ID: ring.MemberID(name), Name: name, ClientAddr: "127.0.0.1:1", ClusterAddr: "127.0.0.1:2"})
	}
	var err error
	if c.r, err = ring.New(testQ, n, members); err != nil {
		t.Fatal(err)
	}
	for i, m := range members {
		rep := &aeReplica{id: m.ID, act: version.NewActor([]byte(m.ID), uint32(i+1))}
		var hook func(p uint16, key []byte, o, nw uint64)
		ecfg := engine.DefaultConfig("/data")
		ecfg.FS = vfs.NewMem()
		ecfg.SweepInterval = 0
		ecfg.Durability = engine.DurabilityNone // an in-memory filesystem: nothing to sync
		ecfg.Now = c.now
		ecfg.OnChange = func(p uint16, key []byte, o, nw uint64) { hook(p, key, o, nw) }
		hook = func(uint16, []byte, uint64, uint64) {}
		if rep.eng, err = engine.Open(ecfg); err != nil {
			t.Fatal(err)
		}
		rep.s, err = NewSyncer(SyncConfig{Self: m.ID, Q: testQ, Rate: 1 << 20, Now: c.now},
			SyncDeps{Store: rep.eng, Peer: c.peer, Ring: func() *ring.Ring { return c.r }, Alive: func(string) bool { return true }})
		if err != nil {
			t.Fatal(err)
		}
		hook = rep.s.OnChange
		if err := rep.s.BuildTrees(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.peer.nodes[m.ID] = rep
		c.reps = append(c.reps, rep)
		t.Cleanup(func() { rep.eng.Close() })
	}
	return c
}

func (c *aeCluster) now() time.Time { return time.UnixMilli(c.nowMs) }

// write stores a new version of key on aeReplica i only (as a write that
// reached one aeReplica before the others failed).
func (c *aeCluster) write(i int, key, val string, expiry int64) {
	c.t.Helper()
	rep := c.reps[i]
	p := uint16(c.r.PartitionOf([]byte(key)))
	_, err := rep.eng.Update(p, []byte(key), func(cur version.Object) (version.Object, bool, error) {
		return cur.Put(rep.act, cur.VV, version.Sibling{Value: []byte(val), Timestamp: c.nowMs, Expiry: expiry}), true, nil
	})
	if err != nil {
		c.t.Fatal(err)
	}
}

// del writes a tombstone for key on aeReplica i.
func (c *aeCluster) del(i int, key string) {
	c.t.Helper()
	rep := c.reps[i]
	p := uint16(c.r.PartitionOf([]byte(key)))
	_, err := rep.eng.Update(p, []byte(key), func(cur version.Object) (version.Object, bool, error) {
		return cur.Put(rep.act, cur.VV, version.Sibling{Tombstone: true, Timestamp: c.nowMs}), true, nil
	})
	if err != nil {
		c.t.Fatal(err)
	}
}

func (c *aeCluster) get(i int, key string) version.Object {
	o, err := c.reps[i].eng.Get(uint16(c.r.PartitionOf([]byte(key))), []byte(key))
	if err != nil {
		c.t.Fatal(err)
	}
	return o
}

// round runs one anti-entropy round on every aeReplica and returns the
// objects repaired in all.
func (c *aeCluster) round() int64 {
	c.t.Helper()
	var before int64
	for _, rep := range c.reps {
		before += rep.s.Stats().KeysRepaired.Load()
	}
	for _, rep := range c.reps {
		if err := rep.s.Round(context.Background()); err != nil {
			c.t.Fatal(err)
		}
	}
	var after int64
	for _, rep := range c.reps {
		after += rep.s.Stats().KeysRepaired.Load()
	}
	return after - before
}

func (c *aeCluster) roots() []uint64 {
	var out []uint64
	for p := range testQ {
		for _, rep := range c.reps {
			out = append(out, rep.s.trees[p].Root())
		}
	}
	return out
}

func TestDisjointWritesConvergeWithoutReads(t *testing.T) {
	c := newAECluster(t, 3)
	for i := range 300 {
		c.write(i%3, fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i), 0)
	}
	// Concurrent versions of one key on two replicas become siblings on
	// all three (merge in both directions).
	c.write(0, "both", "left", 0)
	c.write(1, "both", "right", 0)
	repaired := c.round()
	if repaired == 0 {
		t.Fatal("the first round repaired nothing")
	}
	for i := range 300 {
		k := fmt.Sprintf("k%d", i)
		for r := range c.reps {
			if v, ok := c.get(r, k).Value(c.nowMs); !ok || string(v.Value) != fmt.Sprintf("v%d", i) {
				t.Fatalf("replica %d lacks %s after one round", r, k)
			}
		}
	}
	for r := range c.reps {
		if n := len(c.get(r, "both").Live(c.nowMs)); n != 2 {
			t.Fatalf("replica %d holds %d siblings of a concurrently written key, want 2", r, n)
		}
	}
	// Replicas agree, trees agree, and the next rounds repair nothing.
	for p := range testQ {
		root := c.reps[0].s.trees[p].Root()
		for _, rep := range c.reps[1:] {
			if rep.s.trees[p].Root() != root {
				t.Fatalf("partition %d: roots differ after convergence", p)
			}
		}
	}
	for range 2 {
		if n := c.round(); n != 0 {
			t.Fatalf("an idle round repaired %d keys", n)
		}
	}
}

// A node that comes back is usually still building its trees when gossip
// reports it alive: the exchange it was promised waits for it instead of
// failing until the next periodic round.
func TestReturningNodeIsComparedOnceItsTreesAreBuilt(t *testing.T) {
	c := newAECluster(t, 2)
	for i := range 50 {
		c.write(0, fmt.Sprintf("k%d", i), "v", 0)
	}
	back := c.reps[1]
	back.s.ready.Store(false) // still building
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.reps[0].s.exchangeWith(context.Background(), back.id)
	}()
	time.Sleep(100 * time.Millisecond)
	back.s.ready.Store(true)
	<-done
	for i := range 50 {
		if c.get(1, fmt.Sprintf("k%d", i)).IsZero() {
			t.Fatalf("k%d not repaired on the returning node", i)
		}
	}
	if c.reps[0].s.Stats().ExchangeErrors.Load() == 0 {
		t.Fatal("the not-ready peer was never met: the test does not test the retry")
	}
}

func TestDeletesSpreadButDeadKeysAreNotCopied(t *testing.T) {
	c := newAECluster(t, 2)
	c.write(0, "gone", "v", 0)
	c.round()
	if _, ok := c.get(1, "gone").Value(c.nowMs); !ok {
		t.Fatal("setup: key not replicated")
	}
	// A delete on one aeReplica reaches the other, which held the value.
	c.del(0, "gone")
	c.round()
	if _, ok := c.get(1, "gone").Value(c.nowMs); ok {
		t.Fatal("a deleted key is still live on the other replica after anti-entropy")
	}
	// A tombstone (or an expired value) is not copied to a replica that
	// lacks the key: it has nothing to resurrect, and the key may have
	// been reaped there.
	c.del(0, "never-here")
	c.write(0, "expired", "old", c.nowMs-1)
	c.round()
	if !c.get(1, "never-here").IsZero() || !c.get(1, "expired").IsZero() {
		t.Fatal("a dead object was copied to a replica that lacked the key")
	}
	if c.reps[0].s.Stats().KeysSkippedDead.Load()+c.reps[1].s.Stats().KeysSkippedDead.Load() == 0 {
		t.Fatal("skipped dead keys not counted")
	}
}

func TestExpiredKeyStaysExpired(t *testing.T) {
	c := newAECluster(t, 2)
	c.write(0, "ttl", "v", c.nowMs+1000)
	c.round()
	c.nowMs += 2000 // the value expired everywhere
	// Replica 0 purges it (compaction keeps the dot, drops the value);
	// replica 1 has not swept yet. Anti-entropy must not make it live.
	if _, err := c.reps[0].eng.SweepOnce(1000); err != nil {
		t.Fatal(err)
	}
	c.round()
	for r := range c.reps {
		if _, ok := c.get(r, "ttl").Value(c.nowMs); ok {
			t.Fatalf("replica %d: an expired key came back", r)
		}
	}
	// Past the tombstone grace (MayReap is nil: yes), replica 0's sweep
	// reaps the key; replica 1 still holds the expired object. The trees
	// now differ, and the exchange must not copy the dead object back to
	// the replica that reaped it.
	c.nowMs += engine.DefaultTombstoneGrace.Milliseconds() + 1000
	if _, err := c.reps[0].eng.SweepOnce(1000); err != nil {
		t.Fatal(err)
	}
	if !c.get(0, "ttl").IsZero() {
		t.Fatal("setup: replica 0's sweep did not reap the expired key")
	}
	if c.get(1, "ttl").IsZero() {
		t.Fatal("setup: replica 1 no longer holds the expired key")
	}
	skipped := func() int64 {
		return c.reps[0].s.Stats().KeysSkippedDead.Load() + c.reps[1].s.Stats().KeysSkippedDead.Load()
	}
	before := skipped()
	repaired := c.round()
	if !c.get(0, "ttl").IsZero() {
		t.Fatal("the reaped expired key was copied back to the replica that reaped it")
	}
	if skipped() == before {
		t.Fatal("the dead key was not skipped: the exchange did not meet it")
	}
	if repaired != 0 {
		t.Fatalf("the round repaired %d keys, want 0", repaired)
	}
}

func TestDriftedTreeHeals(t *testing.T) {
	c := newAECluster(t, 2)
	for i := range 100 {
		k := fmt.Sprintf("k%d", i)
		c.write(0, k, "v", 0)
		c.write(1, k, "v", 0) // different actors: the objects differ
	}
	c.round()
	c.round()
	// Corrupt replica 1's tree in one segment, as a write that raced with
	// the tree's build would.
	p := c.r.PartitionOf([]byte("k7"))
	c.reps[1].s.trees[p].Update([]byte("k7"), 0, 12345)
	// The first exchange that meets the segment suspects the leaf, the
	// second heals it; nothing is repaired, since the data agrees.
	for range 2 {
		if n := c.round(); n != 0 {
			t.Fatalf("a drifted tree caused %d repairs", n)
		}
	}
	if c.reps[1].s.Stats().LeavesHealed.Load() == 0 {
		t.Fatal("the drifted leaf was not healed")
	}
	if c.reps[0].s.trees[p].Root() != c.reps[1].s.trees[p].Root() {
		t.Fatal("trees still differ after healing")
	}
}

// exchangeBed is two replicas holding the same objects of keys keys, of
// which diverge changes a fraction on replica 0: the setting of the
// docs/architecture.md §7 claim that bytes exchanged track the difference, not the data.
type exchangeBed struct {
	c          *aeCluster
	keys, diff int
	// fullCopy is the bytes of the round that copied every key from
	// replica 0 to the empty replica 1: what the data itself costs.
	fullCopy int64
}

func newExchangeBed(tb testing.TB, keys int, frac float64) *exchangeBed {
	tb.Helper()
	e := &exchangeBed{c: newAECluster(tb, 2), keys: keys, diff: int(float64(keys) * frac)}
	if e.diff < 1 {
		tb.Fatalf("%d keys at %g: nothing would differ", keys, frac)
	}
	for i := range keys {
		e.c.write(0, fmt.Sprintf("key:%08d", i), "0123456789", 0)
	}
	e.fullCopy, _ = e.exchange() // copies everything to replica 1: same objects on both
	return e
}

// diverge writes a new version of diff keys, evenly spread, on replica 0
// only. Replica 1 holds the version it descends from, so one round fetches
// and pushes each of them once.
func (e *exchangeBed) diverge() {
	for i := range e.diff {
		e.c.write(0, fmt.Sprintf("key:%08d", i*(e.keys/e.diff)), "changed", 0)
	}
}

// exchanged is the bytes both replicas' syncers have sent and received.
func (e *exchangeBed) exchanged() int64 {
	var n int64
	for _, rep := range e.c.reps {
		n += rep.s.Stats().BytesSent.Load() + rep.s.Stats().BytesReceived.Load()
	}
	return n
}

// exchange runs one round on both replicas and returns the bytes it
// exchanged and the keys it repaired.
func (e *exchangeBed) exchange() (bytes, repaired int64) {
	before := e.exchanged()
	repaired = e.c.round()
	return e.exchanged() - before, repaired
}

// exchangeCost returns the bytes one round exchanges and the keys it
// repairs when frac of keys differ.
func exchangeCost(t testing.TB, keys int, frac float64) (bytes, repaired int64) {
	e := newExchangeBed(t, keys, frac)
	e.diverge()
	return e.exchange()
}

// TestExchangeBytesGrowWithTheDifference checks the docs/architecture.md §7 claim:
// bytes exchanged track the difference, not the data. (Go benchmark
// BenchmarkExchangeBytes reports the figures for 100k keys.)
func TestExchangeBytesGrowWithTheDifference(t *testing.T) {
	const keys = 20_000
	var costs []int64
	for _, frac := range []float64{0.001, 0.01, 0.1} {
		bytes, repaired := exchangeCost(t, keys, frac)
		diff := int64(float64(keys) * frac)
		// Each changed key differs on both sides: fetched here, merged,
		// and pushed back.
		if repaired != 2*diff {
			t.Fatalf("%.1f%%: repaired %d, want %d", frac*100, repaired, 2*diff)
		}
		costs = append(costs, bytes)
		t.Logf("%5.1f%% of %d keys differ: %d bytes exchanged (%.0f per differing key)", frac*100, keys, bytes, float64(bytes)/float64(diff))
	}
	if !(costs[0] < costs[1] && costs[1] < costs[2]) || costs[2] < 20*costs[0] {
		t.Fatalf("bytes do not grow with the difference: %v", costs)
	}
}

// BenchmarkExchangeBytes is TestExchangeBytesGrowWithTheDifference at
// 100k keys: two replicas (real engines on an in-memory filesystem, Q=16,
// so about 6,250 keys per partition) of which 0.1, 1 and 10 % of the keys
// differ. Each iteration re-diverges the same keys (not timed) and times
// one anti-entropy round on both replicas. Custom metrics, per round:
// bytes/round (hashes, key lists and objects, both directions),
// keys-repaired/round (each differing key is fetched and pushed back:
// twice the differing keys), bytes/diff-key, and full-copy-% (the bytes as
// a share of the round that copied every key to an empty replica).
func BenchmarkExchangeBytes(b *testing.B) {
	const keys = 100_000
	for _, frac := range []float64{0.001, 0.01, 0.1} {
		b.Run(pct(frac), func(b *testing.B) {
			e := newExchangeBed(b, keys, frac)
			var bytes, repaired int64
			for b.Loop() {
				b.StopTimer()
				e.diverge()
				b.StartTimer()
				by, rep := e.exchange()
				bytes += by
				repaired += rep
			}
			n := float64(b.N)
			b.ReportMetric(float64(bytes)/n, "bytes/round")
			b.ReportMetric(float64(repaired)/n, "keys-repaired/round")
			b.ReportMetric(float64(bytes)/n/float64(e.diff), "bytes/diff-key")
			b.ReportMetric(100*float64(bytes)/n/float64(e.fullCopy), "full-copy-%")
			b.Logf("%s of %d keys differ (%d keys): %.0f bytes exchanged per round (%.0f per differing key, %.2f%% of the %d bytes of a full copy), %.0f keys repaired",
				pct(frac), keys, e.diff, float64(bytes)/n, float64(bytes)/n/float64(e.diff), 100*float64(bytes)/n/float64(e.fullCopy), e.fullCopy, float64(repaired)/n)
		})
	}
}
