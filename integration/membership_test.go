package integration

// Membership changes of issue 4 with real processes: a node joins a loaded
// cluster under a steady writer, a node leaves (DYNAGO LEAVE), a killed node
// is removed (CLUSTER FORGET), and a cluster grows 3 → 5 and shrinks back
// to 3 under a writer. Every test ends by reading back every acknowledged
// write and, where the ring changed, by checking that every key has its N
// replicas on its home replicas (DYNAGO LOCAL on every node).

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// membershipFlags are the flags of the membership tests: anti-entropy
// rounds every second (a write acknowledged by old replicas while a
// partition streamed past reaches the new replica through them), and a
// transfer rate no test key count comes near.
var membershipFlags = []string{"--ae-interval", "1s", "--transfer-rate", "200000"}

// transferCounters are INFO transfers counters of one node.
type transferCounters struct{ keysIn, bytesIn, keysOut, bytesOut int64 }

func (c *Cluster) transferCounters(p *Proc) transferCounters {
	c.t.Helper()
	return transferCounters{
		keysIn:   c.InfoInt("transfers", "keys_streamed_in", p),
		bytesIn:  c.InfoInt("transfers", "bytes_streamed_in", p),
		keysOut:  c.InfoInt("transfers", "keys_handed_off", p),
		bytesOut: c.InfoInt("transfers", "bytes_handed_off", p),
	}
}

// watchTransfers polls INFO transfers and cluster on every member until
// every member's ring has them all and they are idle (transfersIdle),
// logging the most work seen left: the operator's view of a membership
// change. It returns how long it took.
func watchTransfers(c *Cluster, what string, timeout time.Duration) time.Duration {
	c.t.Helper()
	start := time.Now()
	maxSync, maxHand, maxPending := int64(0), int64(0), int64(0)
	c.Eventually(timeout, what+": transfers idle on every node", func() (bool, string) {
		idle, detail := true, ""
		for _, p := range c.Nodes {
			cl, err1 := c.Info(p, "cluster")
			tr, err2 := c.Info(p, "transfers")
			if err1 != nil || err2 != nil {
				return false, fmt.Sprintf("%s: INFO: %v %v", c.Name(p), err1, err2)
			}
			n := func(m map[string]string, k string) int64 { v, _ := strconv.ParseInt(m[k], 10, 64); return v }
			maxSync = max(maxSync, n(tr, "partitions_to_sync"))
			maxHand = max(maxHand, n(tr, "partitions_to_hand_off"))
			maxPending = max(maxPending, n(cl, "partitions_pending"))
			if ok, d := transfersIdle(c.Name(p), cl, tr); !ok && idle {
				idle, detail = false, d
			}
			if m := cl["ring_members"]; m != strconv.Itoa(len(c.Nodes)) && idle {
				idle, detail = false, fmt.Sprintf("%s: ring_members:%s", c.Name(p), m)
			}
		}
		return idle, detail
	})
	c.WaitRing(timeout - time.Since(start))
	d := time.Since(start)
	c.t.Logf("%s: transfers done in %v (at most %d partitions pending in a ring, %d to sync and %d to hand off on a node)",
		what, d.Round(time.Millisecond), maxPending, maxSync, maxHand)
	return d
}

// sameClusterNodes checks that every member lists the same CLUSTER NODES.
func sameClusterNodes(t *testing.T, c *Cluster) {
	t.Helper()
	want := clusterNodesView(t, c, c.Nodes[0])
	if len(want) != len(c.Nodes) {
		c.Fatalf("CLUSTER NODES on %s lists %d nodes, want %d:\n%s", c.Name(c.Nodes[0]), len(want), len(c.Nodes), strings.Join(want, "\n"))
	}
	for _, p := range c.Nodes[1:] {
		if got := clusterNodesView(t, c, p); !slices.Equal(got, want) {
			c.Fatalf("CLUSTER NODES differ:\n%s:\n%s\n%s:\n%s", c.Name(c.Nodes[0]), strings.Join(want, "\n"), c.Name(p), strings.Join(got, "\n"))
		}
	}
}

// 2. A 4th node joins a loaded 3-node cluster while a steady writer runs
// through the three: it starts alone and node1 meets it (CLUSTER MEET ip
// port; the other tests join with --join). No write fails, none
// acknowledged is lost, every node agrees on the ring of 4, and the data
// streamed to the new node is about a quarter of the copies stored
// (reported beside the ideal 1/4).
func TestJoinFourthNodeUnderWriter(t *testing.T) {
	c := NewCluster(t, 3, membershipFlags...)
	old := slices.Clone(c.Nodes)
	preload := loadKeys(c, "join", 4000)
	w := startWriter(c, "joinw", old, 2, 200)
	w.WaitAcked(c, 300, 20*time.Second)

	keysBefore := len(preload) + w.Acked.Len()
	newcomer := c.AddAlone()
	newcomer.Start()
	if err := c.Admin(old[0]).ClusterMeet(context.Background(), "127.0.0.1", strconv.Itoa(newcomer.Port)).Err(); err != nil {
		c.Fatalf("CLUSTER MEET 127.0.0.1 %d at node1: %v", newcomer.Port, err)
	}
	watchTransfers(c, "join 3->4", 45*time.Second)
	keysDone := len(preload) + w.Acked.Len()
	w.WaitAcked(c, 300, 20*time.Second)
	w.Stop()
	w.CheckNoFailures(c, "while a 4th node joined")
	sameClusterNodes(t, c)

	in := c.transferCounters(newcomer)
	var oldIn, oldOut transferCounters
	for _, p := range old {
		oldIn.keysIn += c.transferCounters(p).keysIn
	}
	owned := c.InfoInt("cluster", "partitions_owned", newcomer)
	partitions := c.InfoInt("cluster", "partitions", newcomer)
	acked := merged(preload, w.Acked.Snapshot())
	copies := int64(3 * keysBefore)
	t.Logf("join 3->4: moved %d of %d copies = %.3f (ideal 0.25)", in.keysIn, copies, float64(in.keysIn)/float64(copies))
	t.Logf("join 3->4: %d bytes streamed in (%.0f B/key); keys written during the join may be streamed too: of the %d copies stored when the transfers were done, %.3f moved",
		in.bytesIn, float64(in.bytesIn)/float64(max(in.keysIn, 1)), 3*keysDone, float64(in.keysIn)/float64(3*keysDone))
	t.Logf("join 3->4: %s owns %d of %d partitions (%.3f); the old nodes streamed in %d keys", c.Name(newcomer), owned, partitions, float64(owned)/float64(partitions), oldIn.keysIn)
	// The new node is a home replica of about 3/4 of the keys (N=3 of 4
	// nodes) and streams each in at most once: at least half of the keys
	// stored before the join, at most every key stored when the transfers
	// were done.
	if in.keysIn < int64(keysBefore/2) || in.keysIn > int64(keysDone) {
		c.Fatalf("the new node streamed in %d keys; want between %d (half the keys stored before the join) and %d (every key stored when the transfers were done)", in.keysIn, keysBefore/2, keysDone)
	}
	if oldIn.keysIn != 0 {
		c.Fatalf("the old nodes streamed %d keys in: a join must move data only to the new node", oldIn.keysIn)
	}
	t.Logf("%d writes acknowledged during the join test (%d attempted), 0 failed", w.Acked.Len(), w.attempts.Load())
	handoff := c.WaitReplicas(acked, 3, 45*time.Second)
	for _, p := range old {
		tc := c.transferCounters(p)
		oldOut.keysOut += tc.keysOut
		oldOut.bytesOut += tc.bytesOut
	}
	t.Logf("join 3->4: the old nodes handed off %d keys (%d bytes) and deleted them; the last copy was gone %v after INFO said the transfers were done",
		oldOut.keysOut, oldOut.bytesOut, handoff.Round(time.Millisecond))
	c.CheckAcked(acked, newcomer, old[0])
}

// waitLeft waits until no member lists the node with id any more, other
// than as removed: not in INFO cluster, not in CLUSTER NODES.
func waitLeft(c *Cluster, id string, timeout time.Duration) {
	c.t.Helper()
	c.Eventually(timeout, fmt.Sprintf("node %s out of the ring on every member", id[:8]), func() (bool, string) {
		for _, p := range c.Nodes {
			info, err := c.Info(p, "cluster")
			if err != nil {
				return false, fmt.Sprintf("%s: INFO cluster: %v", c.Name(p), err)
			}
			for _, m := range Members(info) {
				if m.ID == id && m.State != "removed" {
					return false, fmt.Sprintf("%s sees %+v", c.Name(p), m)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			nodes, err := c.Admin(p).ClusterNodes(ctx).Result()
			cancel()
			if err != nil || strings.Contains(nodes, id) {
				return false, fmt.Sprintf("CLUSTER NODES on %s: %v\n%s", c.Name(p), err, nodes)
			}
		}
		return true, ""
	})
}

// 3a. DYNAGO LEAVE on one node of four holding data: it hands every
// partition to its new owners and removes itself from the ring (no member
// lists it, but as removed); then it is stopped at once, as the README
// says. It must hold none of the keys once it is out of the ring
// (leaveAndStop; TestLeaveHandsOffBeforeLeavingTheRing forces the race
// that once broke this). Every key has 3 replicas, each on one of its home
// replicas.
func TestLeaveHandsOffAndLeaves(t *testing.T) {
	c := NewCluster(t, 4, membershipFlags...)
	acked := loadKeys(c, "leave", 3000)
	leaver := c.Nodes[1]
	keys := slices.Sorted(maps.Keys(acked))
	leaveAndStop(c, leaver, leaver, keys)
	watchTransfers(c, "leave 4->3", 30*time.Second)
	c.WaitReplicas(acked, 3, 45*time.Second)
	c.CheckAcked(acked, c.Nodes[0])
}

// 3b. kill -9 one node of four, then CLUSTER FORGET its id at another
// node: its partitions are re-claimed at once and their new home replicas
// stream them from the survivors, so every key has 3 replicas again, each
// on one of its home replicas.
func TestForgetKilledNodeRebuildsReplicas(t *testing.T) {
	c := NewCluster(t, 4, membershipFlags...)
	acked := loadKeys(c, "forget", 3000)
	victim := c.Nodes[2]
	id := c.NodeID(victim)
	victim.Kill()
	c.WaitAlive(15*time.Second, victim, false, c.Others(victim)...)
	c.Drop(victim)
	streamed := c.InfoInt("transfers", "keys_streamed_in", c.Nodes...)

	start := time.Now()
	if err := c.Admin(c.Nodes[0]).ClusterForget(context.Background(), id).Err(); err != nil {
		c.Fatalf("CLUSTER FORGET %s at %s: %v", id, c.Name(c.Nodes[0]), err)
	}
	waitLeft(c, id, 15*time.Second)
	watchTransfers(c, "forget 4->3", 45*time.Second)
	c.WaitReplicas(acked, 3, 45*time.Second)
	t.Logf("every key had 3 replicas again %v after CLUSTER FORGET; the survivors streamed in %d keys",
		time.Since(start).Round(time.Millisecond), c.InfoInt("transfers", "keys_streamed_in", c.Nodes...)-streamed)
	c.CheckAcked(acked, c.Nodes[0])
}

// leaveAndStop is the operator's leave: DYNAGO LEAVE on p (or DYNAGO
// LEAVE <p's name> on another node at), watch INFO cluster until no member
// lists p, then stop it. It logs how long each step took, and fails the
// test if p still held any of keys (DYNAGO LOCAL) when it was out of the
// ring: a leaving node leaves the ring only once it holds no data.
func leaveAndStop(c *Cluster, p, at *Proc, keys []string) {
	c.t.Helper()
	id := c.NodeID(p)
	start := time.Now()
	cmd := []any{"DYNAGO", "LEAVE"}
	if at != p {
		cmd = append(cmd, c.Name(p))
	}
	if err := c.Admin(at).Do(context.Background(), cmd...).Err(); err != nil {
		c.Fatalf("%v on %s: %v", cmd, c.Name(at), err)
	}
	c.Drop(p)
	waitLeft(c, id, 60*time.Second)
	left := time.Since(start)
	held := 0
	for _, lc := range c.MustLocalMany(p, keys) {
		if lc.Siblings > 0 {
			held++
		}
	}
	handed := c.InfoInt("transfers", "keys_handed_off", p)
	stopping := time.Now()
	p.Signal(syscall.SIGTERM)
	if err := p.Wait(stopTimeout); err != nil {
		// The operator loses patience: kill -9. What follows checks that
		// nothing is lost even so.
		c.t.Errorf("%s, out of the ring, did not exit within %v of SIGTERM (%v); killed", c.Name(p), stopTimeout, err)
		p.Kill()
	}
	c.t.Logf("%s left the ring %v after DYNAGO LEAVE, having handed off %d keys (%d of the %d keys checked still on it); it stopped %v after SIGTERM",
		c.Name(p), left.Round(time.Millisecond), handed, held, len(keys), time.Since(stopping).Round(time.Millisecond))
	if held > 0 {
		c.t.Errorf("%s left the ring (and logged that it can be stopped) while it still held %d of the %d keys checked", c.Name(p), held, len(keys))
	}
}

// stopTimeout is how long a node may take to exit after SIGTERM: finish
// in-flight requests, flush (docs/architecture.md §8).
const stopTimeout = 10 * time.Second

// Done when (issue 4): a loaded cluster grows from 3 to 5 nodes and
// shrinks back to 3 with one command per node (dynago --join for each new
// node, DYNAGO LEAVE on each leaving one), under a steady writer through
// the three nodes that stay, watched through INFO cluster and transfers.
// No write fails, none acknowledged is lost, and every key ends with 3
// replicas, on its home replicas only.
func TestGrowThreeToFiveAndBackUnderWriter(t *testing.T) {
	c := NewCluster(t, 3, membershipFlags...)
	base := slices.Clone(c.Nodes)
	preload := loadKeys(c, "grow", 3000)
	keys := slices.Sorted(maps.Keys(preload))
	w := startWriter(c, "groww", base, 2, 150)
	w.WaitAcked(c, 200, 20*time.Second)

	var added []*Proc
	for size := 4; size <= 5; size++ {
		p := c.Add()
		p.Start()
		added = append(added, p)
		watchTransfers(c, fmt.Sprintf("join %d->%d", size-1, size), 45*time.Second)
		w.WaitAcked(c, 100, 20*time.Second)
	}
	sameClusterNodes(t, c)
	for _, p := range added {
		t.Logf("%s streamed in %d keys (%d bytes)", c.Name(p), c.InfoInt("transfers", "keys_streamed_in", p), c.InfoInt("transfers", "bytes_streamed_in", p))
	}

	for i := len(added) - 1; i >= 0; i-- {
		// node5 is told on itself, node4 is named at node1. Each must
		// hold none of the keys once out of the ring (leaveAndStop).
		at := added[i]
		if i == 0 {
			at = base[0]
		}
		leaveAndStop(c, added[i], at, keys)
		watchTransfers(c, fmt.Sprintf("leave %d->%d", len(c.Nodes)+1, len(c.Nodes)), 45*time.Second)
		w.WaitAcked(c, 100, 20*time.Second)
	}
	w.Stop()
	w.CheckNoFailures(c, "while the cluster grew to 5 nodes and shrank back to 3")
	sameClusterNodes(t, c)
	acked := merged(preload, w.Acked.Snapshot())
	t.Logf("%d writes acknowledged during the changes (%d attempted), 0 failed", w.Acked.Len(), w.attempts.Load())
	c.WaitReplicas(acked, 3, 60*time.Second)
	c.CheckAcked(acked, c.Nodes[0])
}
