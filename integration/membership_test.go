package integration

// Membership changes of issue 4 with real processes: a node joins a loaded
// cluster under a steady writer, a node leaves (DYNAGO LEAVE), a killed node
// is removed (CLUSTER FORGET), and a cluster grows 3 → 5 and shrinks back
// to 3 under a writer. Every test ends by reading back every acknowledged
// write and, where the ring changed, by checking that every key has its N
// replicas on its home replicas (DYNAGO LOCAL on every node).

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
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
// they are idle (WaitTransfersIdle), logging the most work seen left: the
// operator's view of a membership change. It returns how long it took.
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
			if ok, d := c.transfersIdle(p); !ok && idle {
				idle, detail = false, d
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

// 2. A 4th node joins a loaded 3-node cluster (--join) while a steady
// writer runs through the three: no write fails, none acknowledged is
// lost, every node agrees on the ring of 4, and the data streamed to the
// new node is about a quarter of the copies stored (reported beside the
// ideal 1/4).
func TestJoinFourthNodeUnderWriter(t *testing.T) {
	c := NewCluster(t, 3, membershipFlags...)
	old := slices.Clone(c.Nodes)
	preload := loadKeys(c, "join", 4000)
	w := startWriter(c, "joinw", old, 2)
	w.WaitAcked(c, 300, 20*time.Second)

	keysBefore := len(preload) + w.Acked.Len()
	newcomer := c.Add()
	newcomer.Start()
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
	if in.keysIn == 0 {
		c.Fatalf("the new node streamed no key in")
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
