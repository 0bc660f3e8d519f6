package integration

// Regression tests for product bugs the integration tests found: each
// reproduces one bug as a user would meet it and states what is expected.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A node restarted with a stored ring must rejoin the cluster it was in,
// even when it has no --join (the seed that created the ring) or its seeds
// are down: its stored ring names every member and its cluster address.
//
// The bug (fixed in 529b426): the restarted seed contacted only its --join
// seeds (none), and the others never contacted a node they saw die once
// the gossip about the death had died down, so the cluster stayed split in
// two failure-detector views, each side keeping hints for the other.
func TestClusterRestartedSeedRejoins(t *testing.T) {
	c := NewCluster(t, 3)
	seed := c.Nodes[0] // started without --join
	seed.Kill()
	c.WaitAlive(15*time.Second, seed, false, c.Others(seed)...)
	// The outage lasts a few seconds, as a crash and a restart by hand
	// would: by then the gossip about the death has died down, and only
	// the restarted node can make contact.
	time.Sleep(3 * time.Second)
	seed.Start()
	c.WaitRing(15 * time.Second)
}

// A node that cannot start (here: its client port is taken) must exit with
// a clear error, not a nil-pointer panic in its cleanup (fixed in 529b426:
// node.Start's deferred cleanup ran on the nil *Node its return had set).
func TestStartFailureIsACleanError(t *testing.T) {
	first := NewProc(t)
	first.Start()
	second := NewProc(t)
	second.Port = first.Port
	second.Launch()
	err := second.Wait(30 * time.Second)
	if err == nil {
		t.Fatalf("a second node on the port of the first exited 0:\n%s", second.Log())
	}
	log := second.Log()
	if strings.Contains(log, "panic:") || !strings.Contains(log, "address already in use") {
		t.Fatalf("a node whose port is taken exited with %v; want a clear error, got:\n%s", err, log)
	}
}

// A read repair runs in the background after the reply (paper §5), and
// must not keep the key in the connection's read buffer: the connection
// reads its next command into that buffer, and the repair then stores the
// merged object under whatever bytes are there (the race detector reports
// conn.Read writing what engine.dataKey reads in Coordinator.readRepair).
// Here node3 holds stale copies of keys of one length; reading them one
// after another on one connection to node3 makes node3 repair its own
// copies. Every copy must end up holding only its own key's values.
func TestReadRepairKeepsItsKey(t *testing.T) {
	c := NewCluster(t, 3, "--test-no-handoff", "--ae-rate", "1", "--ae-interval", "10m")
	ctx := context.Background()
	coord, stale := c.Nodes[0], c.Nodes[2]
	const keys = 200
	key := func(i int) string { return fmt.Sprintf("{rr}:%03d", i) }
	acked := staleReplica(c, coord, stale, keys, key,
		func(i int) string { return fmt.Sprintf("old-%03d", i) }, func(i int) string { return fmt.Sprintf("new-%03d", i) })

	one := redis.NewClient(&redis.Options{Addr: stale.Addr(), MaxRetries: -1, PoolSize: 1})
	defer one.Close()
	for i := 0; i < keys; i++ {
		if got, err := one.Get(ctx, key(i)).Result(); err != nil || got != fmt.Sprintf("new-%03d", i) {
			c.Fatalf("GET %s at node3 = %q, %v", key(i), got, err)
		}
	}
	// Let the repairs finish: node3's copy of the last key read is new.
	waitLocalValues(c, key(keys-1), []string{fmt.Sprintf("new-%03d", keys-1)}, stale)
	var wrong []string
	for i := 0; i < keys; i++ {
		for _, p := range c.Nodes {
			lc := c.MustLocal(p, key(i))
			for _, v := range lc.Values {
				if v != fmt.Sprintf("old-%03d", i) && v != fmt.Sprintf("new-%03d", i) {
					wrong = append(wrong, fmt.Sprintf("%s on %s holds %q", key(i), c.Name(p), lc.Values))
					break
				}
			}
		}
	}
	if len(wrong) > 0 {
		c.Fatalf("read repair stored values under other keys (%d copies):\n%s", len(wrong), strings.Join(wrong[:min(10, len(wrong))], "\n"))
	}
	c.CheckAcked(acked.Snapshot(), c.Nodes...)
}

// While a node hands off partitions it no longer replicates, INFO
// transfers must say so (issue 4: "INFO shows transfers in flight and
// bytes left"): an operator waiting for a join or a leave to finish reads
// partitions_to_hand_off, and so do the tests (watchTransfers).
//
// The bug: partitions_to_hand_off (and partitions_to_sync) are stored only
// at the end of a transfer step ("work left at the last step"), and one
// step hands off every partition that moved away, key by key. During the
// whole hand-off after a join, which takes seconds (here a 3-node cluster
// with 6000 keys, race-built, gains a 4th node: ~4500 keys handed off in
// 5-12 s), INFO on the old nodes says partitions_to_hand_off:0 while
// keys_handed_off climbs, and the copies they no longer replicate are still
// on disk.
func TestTransfersInfoShowsHandOff(t *testing.T) {
	c := NewCluster(t, 3, membershipFlags...)
	old := slices.Clone(c.Nodes)
	loadKeys(c, "info", 6000)
	c.Add().Start()
	// Sample the old nodes until their hand-off counters stop moving.
	type sample struct{ handed, toHandOff int64 }
	last := map[*Proc]sample{}
	growing, shown, quiet := 0, 0, 0
	deadline := time.Now().Add(45 * time.Second)
	for quiet < 10 && time.Now().Before(deadline) {
		moved := false
		for _, p := range old {
			s := sample{c.InfoInt("transfers", "keys_handed_off", p), c.InfoInt("transfers", "partitions_to_hand_off", p)}
			if prev, ok := last[p]; ok && s.handed > prev.handed {
				moved = true
				growing++
				if prev.toHandOff > 0 || s.toHandOff > 0 {
					shown++
				}
			}
			last[p] = s
		}
		if moved {
			quiet = 0
		} else {
			quiet++
		}
		time.Sleep(200 * time.Millisecond) // sampling a counter over time
	}
	t.Logf("%d samples saw keys_handed_off grow on an old node; %d of them showed partitions_to_hand_off > 0", growing, shown)
	if quiet < 10 {
		c.Fatalf("the old nodes' keys_handed_off still moved after 45 s (%d samples saw it grow, %d showed partitions_to_hand_off > 0)", growing, shown)
	}
	if shown < 3 {
		c.Fatalf("INFO transfers showed partitions_to_hand_off > 0 in only %d of the %d samples in which a node was handing keys off; want at least 3", shown, growing)
	}
}

// A node handing off its data must stop promptly on SIGTERM (docs/architecture.md §8:
// stop accepting, finish in-flight requests, flush): a transfer abandoned
// by a stop resumes after the next start (coordinator/transfer.go), so
// nothing is gained by finishing it first.
//
// The bug: Node.Shutdown closes the transfers before the coordinator, and
// Transfers.Close waits for the running step, whose context (the
// coordinator's) is cancelled only afterwards; a step hands off every
// partition that moved away, key by key, so SIGTERM waits for the whole
// hand-off. Here node4 (--transfer-rate 20: its hand-off of ~1500 keys
// would take over a minute; a step that starts after the first of the
// three commits hands off about a third of it) gets DYNAGO LEAVE, then
// SIGTERM once it hands off. Under a steady writer
// (TestGrowThreeToFiveAndBackUnderWriter without its rate limit) the same
// took 28 s and more than 60 s at the default rate.
func TestSigtermDuringHandOffIsPrompt(t *testing.T) {
	c := PrepareCluster(t, 4, membershipFlags...)
	slow := c.Nodes[3]
	slow.Args = append(slow.Args, "--transfer-rate", "20")
	c.Start()
	acked := loadKeys(c, "stop", 2000)
	if err := c.Admin(slow).Do(context.Background(), "DYNAGO", "LEAVE").Err(); err != nil {
		c.Fatalf("DYNAGO LEAVE on %s: %v", c.Name(slow), err)
	}
	c.Eventually(30*time.Second, "node4 to hand keys off", func() (bool, string) {
		n := c.InfoInt("transfers", "keys_handed_off", slow)
		return n > 0, fmt.Sprintf("keys_handed_off:%d", n)
	})
	start := time.Now()
	slow.Signal(syscall.SIGTERM)
	if err := slow.Wait(stopTimeout); err != nil {
		c.Fatalf("node4, handing off, had not exited %v after SIGTERM: %v", time.Since(start).Round(time.Millisecond), err)
	}
	t.Logf("node4 exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	// Its hand-off was cut short: every acknowledged write still reads
	// back through the nodes still running.
	c.CheckAcked(acked, c.Others(slow)...)
}

// A leaving node must hand off everything before it removes itself from
// the ring: its log then says it "can be stopped", and the README says to
// stop it and delete its data directory once it left.
//
// The bug: a transfer step decides what to hand off from the ring as it
// was when its hand-off phase began, and its leave phase
// (Transfers.finishLeave) then reads the current ring and leaves as soon
// as the node owns nothing, without checking that it still holds data.
// When a new owner commits while the leaving node is handing off the
// partitions of an earlier commit, the node leaves the ring at the end of
// that step holding the partitions of the later commit, and hands them off
// only in its next step, if it still runs. Here node3 streams its share
// slowly (--transfer-rate 300: ~2 s) so that it commits after node1 and
// node2, and node4, the leaving node, hands off slowly (--transfer-rate
// 100: ~10 s for the partitions of the first commits), so that node3's
// commit lands in that step. TestLeaveHandsOffAndLeaves, without the
// rates, meets it in about half of its runs.
func TestLeaveHandsOffBeforeLeavingTheRing(t *testing.T) {
	c := PrepareCluster(t, 4, membershipFlags...)
	c.Nodes[2].Args = append(c.Nodes[2].Args, "--transfer-rate", "300")
	leaver := c.Nodes[3]
	leaver.Args = append(leaver.Args, "--transfer-rate", "100")
	c.Start()
	acked := loadKeys(c, "early", 2000)
	keys := slices.Sorted(maps.Keys(acked))
	id := c.NodeID(leaver)
	if err := c.Admin(leaver).Do(context.Background(), "DYNAGO", "LEAVE").Err(); err != nil {
		c.Fatalf("DYNAGO LEAVE on %s: %v", c.Name(leaver), err)
	}
	c.Drop(leaver)
	waitLeft(c, id, 60*time.Second)
	held := 0
	for _, lc := range c.MustLocalMany(leaver, keys) {
		if lc.Siblings > 0 {
			held++
		}
	}
	t.Logf("node4 left the ring having handed off %d keys; it still holds %d of the %d keys", c.InfoInt("transfers", "keys_handed_off", leaver), held, len(keys))
	if held > 0 {
		c.Fatalf("node4 left the ring (and logged that it can be stopped) while it still held %d keys it had to hand off", held)
	}
	c.CheckAcked(acked, c.Nodes...)
}
