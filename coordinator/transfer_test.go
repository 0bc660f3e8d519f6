package coordinator

// Ownership transfer in process (paper §4.9, docs/architecture.md §5): nodes join, leave
// and are removed from a cluster that holds data while writes go on. The
// ring lives in one ringBox all nodes share (gossip is not under test
// here); every node's transfer loop is stepped by hand until the cluster is
// quiet. The properties: no acknowledged write lost, every key ends with N
// copies on its home replicas, nodes that are no replicas hold nothing, and
// only the partitions that must move do.

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dynago/dynago/ring"
	"github.com/dynago/dynago/version"
)

// ringBox is a RingControl shared by every node of a test cluster.
type ringBox struct {
	mu sync.Mutex
	r  atomic.Pointer[ring.Ring]
	pl atomic.Pointer[RingPlacement]
}

func (b *ringBox) Ring() *ring.Ring { return b.r.Load() }

func (b *ringBox) Propose(fn func(*ring.Ring) (*ring.Ring, error)) (*ring.Ring, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.r.Load()
	next, err := fn(cur)
	if err != nil || next == nil || next == cur {
		return cur, err
	}
	b.set(next)
	return next, nil
}

func (b *ringBox) set(r *ring.Ring) {
	b.r.Store(r)
	b.pl.Store(NewRingPlacement(r))
}

type metaMap struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *metaMap) GetMeta(name string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[name]
	return b, ok, nil
}

func (s *metaMap) PutMeta(name string, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[name] = v
	return nil
}

// ringCluster is an in-process cluster whose placement is a real ring.
type ringCluster struct {
	*testCluster
	box       *ringBox
	transfers map[string]*Transfers
	members   map[string]ring.Member
}

const ringQ = 64

func member(id string) ring.Member {
	return ring.Member{ID: id, Name: id[:8], ClientAddr: "127.0.0.1:1", ClusterAddr: "127.0.0.1:2"}
}

// newRingCluster starts size nodes in a ring; spare more nodes are
// started but not in the ring (they join later).
func newRingCluster(t *testing.T, size, spare int) *ringCluster {
	t.Helper()
	rc := &ringCluster{box: &ringBox{}, transfers: map[string]*Transfers{}, members: map[string]ring.Member{}}
	var ms []ring.Member
	for i := range size {
		m := member(nodeID(i))
		ms = append(ms, m)
	}
	r, err := ring.New(ringQ, 3, ms)
	if err != nil {
		t.Fatal(err)
	}
	rc.box.set(r)
	rc.testCluster = newTestClusterPlaced(t, size+spare, func() Placement { return rc.box.pl.Load() })
	for i, id := range rc.ids {
		rc.members[id] = member(id)
		tr, err := NewTransfers(rc.nodes[i], rc.box, &metaMap{m: map[string][]byte{}}, TransferConfig{Rate: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		rc.transfers[id] = tr
	}
	return rc
}

// settleTransfers steps every node's transfer loop until a full pass
// changes nothing: no partition pending, nothing left to sync or hand off.
func (rc *ringCluster) settleTransfers() {
	rc.t.Helper()
	for pass := 0; pass < 50; pass++ {
		before := rc.box.Ring().Epoch()
		busy := false
		for _, id := range rc.ids {
			tr := rc.transfers[id]
			if err := tr.Step(context.Background()); err != nil {
				rc.t.Logf("step %s: %v", id[:8], err)
			}
			if tr.Stats().ToSync.Load() > 0 || tr.Stats().ToHandOff.Load() > 0 {
				busy = true
			}
		}
		rc.settle()
		if !busy && rc.box.Ring().Epoch() == before && !rc.box.Ring().HasPending() {
			return
		}
	}
	rc.t.Fatalf("transfers did not settle; ring:\n%s", rc.box.Ring())
}

// checkPlacement checks that every acked key has its value on each of its
// N home replicas and on no other node.
func (rc *ringCluster) checkPlacement(acked map[string]string) { rc.checkPlacementExcept(acked, -1) }

// checkPlacementExcept is checkPlacement ignoring node skip (a dead node,
// which must not be a home replica any more; -1: none).
func (rc *ringCluster) checkPlacementExcept(acked map[string]string, skip int) {
	rc.t.Helper()
	r := rc.box.Ring()
	for k, v := range acked {
		homes := r.PreferenceList(r.PartitionOf([]byte(k)))
		if len(homes) != 3 {
			rc.t.Fatalf("key %s has %d home replicas, want 3", k, len(homes))
		}
		for i, id := range rc.ids {
			home := slices.Contains(homes, id)
			if i == skip {
				if home {
					rc.t.Fatalf("the removed node is still a home replica of %s", k)
				}
				continue
			}
			got, ok := rc.local(i, k)
			if home && (!ok || got != v) {
				rc.t.Errorf("home replica %s of %s holds %q %v, want %q", id[:8], k, got, ok, v)
			} else if !home && ok {
				rc.t.Errorf("node %s holds %s but is not one of its home replicas", id[:8], k)
			}
		}
	}
}

// writeSome writes n new keys through random live nodes and records the
// acknowledged ones.
func (rc *ringCluster) writeSome(prefix string, n int, via []int, acked map[string]string) {
	rc.t.Helper()
	for i := range n {
		k := fmt.Sprintf("%s-%d", prefix, i)
		v := "v" + k
		// No fault is injected: every write must succeed.
		if err := rc.set(via[i%len(via)], k, v); err != nil {
			rc.t.Fatalf("write %s: %v", k, err)
		}
		acked[k] = v
	}
}

func TestJoinMovesOnlyWhatMustMoveAndLosesNothing(t *testing.T) {
	rc := newRingCluster(t, 3, 1)
	acked := map[string]string{}
	rc.writeSome("before", 600, []int{0, 1, 2}, acked)
	rc.settle()
	// Node 3 joins: staged, so the old owners keep serving while it streams.
	newID := rc.ids[3]
	_, err := rc.box.Propose(func(r *ring.Ring) (*ring.Ring, error) {
		m := member(newID)
		m.State = ring.Joining
		next, err := r.WithMember(m)
		if err != nil {
			return nil, err
		}
		return r.Stage(next)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rc.box.Ring().HasPending() {
		t.Fatal("the join staged nothing")
	}
	// Writes during the handoff reach the incoming node too.
	rc.writeSome("during", 300, []int{0, 1, 2, 3}, acked)
	rc.settleTransfers()
	rc.writeSome("after", 300, []int{0, 1, 2, 3}, acked)
	rc.settle()
	if m, _ := rc.box.Ring().Member(newID); m.State != ring.Valid {
		t.Fatalf("joined node is %s, want valid", m.State)
	}
	rc.checkPlacement(acked)
	for k, v := range acked {
		if got, ok, err := rc.get(3, k); err != nil || !ok || got != v {
			t.Fatalf("after join GET %s at the new node = %q %v %v", k, got, ok, err)
		}
	}
	// What moved: the keys the new node streamed in, against the ideal of a
	// quarter of all copies.
	in := rc.transfers[newID].Stats().KeysIn.Load()
	total := int64(len(acked)) * 3
	t.Logf("join 3->4: new node streamed %d objects; %d copies in all: %.2f of the total (ideal 0.25)", in, total, float64(in)/float64(total))
	if in == 0 || float64(in) > 0.5*float64(total) {
		t.Fatalf("streamed %d of %d copies", in, total)
	}
	var handed int64
	for id, tr := range rc.transfers {
		s := tr.Stats()
		handed += s.KeysOut.Load()
		if s.KeysToHandOff.Load() != 0 || s.BytesLeft() != 0 {
			t.Fatalf("%s: transfers settled with %d keys and ~%d bytes left", id[:8], s.KeysToHandOff.Load(), s.BytesLeft())
		}
	}
	if handed == 0 {
		t.Fatal("no old owner handed a key off")
	}
}

func TestTransferBytesLeftEstimate(t *testing.T) {
	var s TransferStats
	s.ToSync.Store(4)
	s.KeysToHandOff.Store(100)
	if got := s.BytesLeft(); got != 0 {
		t.Fatalf("before anything moved: %d bytes left, want 0 (no average yet)", got)
	}
	s.PartitionsSynced.Store(2)
	s.BytesIn.Store(2000) // 1000 a partition
	s.KeysOut.Store(10)
	s.BytesOut.Store(1500) // 150 a key
	if got, want := s.BytesLeft(), int64(4*1000+100*150); got != want {
		t.Fatalf("BytesLeft = %d, want %d", got, want)
	}
}

func TestLeaveHandsEverythingOff(t *testing.T) {
	rc := newRingCluster(t, 4, 0)
	acked := map[string]string{}
	rc.writeSome("k", 600, []int{0, 1, 2, 3}, acked)
	rc.settle()
	leaver := rc.ids[2]
	_, err := rc.box.Propose(func(r *ring.Ring) (*ring.Ring, error) {
		target, err := r.WithState(leaver, ring.Leaving)
		if err != nil {
			return nil, err
		}
		return r.Stage(target)
	})
	if err != nil {
		t.Fatal(err)
	}
	rc.writeSome("during", 200, []int{0, 1, 3}, acked)
	rc.settleTransfers()
	m, ok := rc.box.Ring().Member(leaver)
	if !ok || m.State != ring.Removed {
		t.Fatalf("the leaving node is %v in the ring, want removed", m.State)
	}
	if n := rc.stores[2].PartitionKeysTotal(); n != 0 {
		t.Fatalf("the node that left still holds %d keys", n)
	}
	rc.checkPlacement(acked)
}

func TestRemovedNodeIsRebuiltFromSurvivors(t *testing.T) {
	rc := newRingCluster(t, 4, 0)
	acked := map[string]string{}
	rc.writeSome("k", 600, []int{0, 1, 2, 3}, acked)
	rc.settle()
	dead := 1
	rc.stop(dead)
	if _, err := rc.box.Propose(func(r *ring.Ring) (*ring.Ring, error) { return r.WithoutMember(rc.ids[dead]) }); err != nil {
		t.Fatal(err)
	}
	rc.settleTransfers()
	// Forget the dead node's copies: it is gone for good.
	rc.stores[dead].FlushAll()
	rc.checkPlacementExcept(acked, dead)
}

func TestWipedNodeIsRefilled(t *testing.T) {
	rc := newRingCluster(t, 3, 0)
	acked := map[string]string{}
	rc.writeSome("k", 400, []int{0, 1, 2}, acked)
	rc.settleTransfers()
	// Node 2 loses its disk: data and the record of what it held. It comes
	// back with a new incarnation (a new actor).
	rc.stores[2].FlushAll()
	tr, err := NewTransfers(rc.nodes[2], rc.box, &metaMap{m: map[string][]byte{}}, TransferConfig{Rate: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	rc.transfers[rc.ids[2]] = tr
	raw, _ := hex.DecodeString(rc.ids[2])
	rc.nodes[2].cfg.Actor = version.NewActor(raw, 999)
	rc.settleTransfers()
	rc.checkPlacement(acked)
}

// newTestClusterPlaced is newTestCluster with a given placement.
func newTestClusterPlaced(t *testing.T, size int, pl func() Placement) *testCluster {
	return newTestClusterWith(t, size, nil, pl)
}
