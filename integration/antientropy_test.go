package integration

// Replica synchronisation of issue 4 with real processes: a node whose
// data directory was wiped is refilled without a client read, and expired
// keys stay expired when anti-entropy compares a replica that purged them
// with one that did not.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// aeFlags are the flags of the anti-entropy tests: rounds every second.
var aeFlags = []string{"--ae-interval", "1s", "--transfer-rate", "200000"}

// 1. A 3-node cluster holds 20k keys. One node is killed, its data
// directory wiped, and it restarts with the same --name and --join: it
// gets a new incarnation and, within a few anti-entropy rounds, its own
// copy (DYNAGO LOCAL, which asks no other node) holds every key with its
// value, without any client read.
func TestWipedNodeRefilled(t *testing.T) {
	c := NewCluster(t, 3, aeFlags...)
	acked := loadKeys(c, "wipe", 20000)
	keys := slices.Sorted(maps.Keys(acked))
	victim := c.Nodes[2]
	incarnation := c.MustInfo(victim, "cluster")["incarnation"]

	victim.Kill()
	c.WaitAlive(15*time.Second, victim, false, c.Others(victim)...)
	if err := os.RemoveAll(victim.DataDir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(victim.DataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	victim.Start()
	if got := c.MustInfo(victim, "cluster")["incarnation"]; got == incarnation {
		c.Fatalf("the wiped %s restarted with its old incarnation %s", c.Name(victim), incarnation)
	}
	rounds := c.InfoInt("antientropy", "rounds", victim)

	// Poll the victim's own copies of the keys it still misses.
	missing := keys
	c.Eventually(60*time.Second, fmt.Sprintf("the wiped %s to hold all %d keys", c.Name(victim), len(keys)), func() (bool, string) {
		lcs, err := c.LocalMany(victim, missing)
		if err != nil {
			return false, err.Error()
		}
		var still []string
		for i, lc := range lcs {
			if !slices.Equal(lc.Values, []string{acked[missing[i]]}) {
				still = append(still, missing[i])
			}
		}
		missing = still
		if len(missing) > 0 {
			lc, _ := c.Local(victim, missing[0])
			return false, fmt.Sprintf("%d keys missing, e.g. %s: %+v", len(missing), missing[0], lc)
		}
		return true, ""
	})
	refill := time.Since(start)
	t.Logf("wiped %s refilled with %d keys %v after its restart, in %d anti-entropy rounds; it streamed in %d keys (transfers) and anti-entropy repaired %d",
		c.Name(victim), len(keys), refill.Round(time.Millisecond), c.InfoInt("antientropy", "rounds", victim)-rounds,
		c.InfoInt("transfers", "keys_streamed_in", victim), c.InfoInt("antientropy", "keys_repaired", victim))
	c.WaitRing(30 * time.Second)
	c.CheckAcked(acked, victim)
}

// ttlState is GET and PTTL of key at p: the value ("" for missing) and
// PTTL's answer in ms (-2 for a missing key).
func ttlState(c *Cluster, p *Proc, key string) (string, int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := c.Admin(p).Get(ctx, key).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", 0, err
	}
	ttl, err := c.Admin(p).Do(ctx, "PTTL", key).Int64()
	return v, ttl, err
}

// 5. Expired keys stay expired when anti-entropy runs between replicas
// that purged them and one that did not. Keys "before" are written with
// PX 2000 while all three nodes run, so node3 holds them too; keys
// "during" are written with PX 500 while node3 is stopped (their hints
// wait for it). Node1 and node2 see them expire, compact them to
// tombstones in their sweeps, and may reap them only once node3 is back
// (reaping waits for every home replica). node3 restarts with a sweep that
// never runs, so it keeps the expired values it had, while the others
// purge theirs; anti-entropy rounds then compare the two. No key may come
// back: GET and PTTL say missing on every node, no node's own copy holds
// a live value, and anti-entropy counts the dead keys it did not copy.
func TestExpiredStaysExpiredAfterAntiEntropy(t *testing.T) {
	c := NewCluster(t, 3, "--ae-interval", "1s", "--tombstone-grace", "1s", "--sweep-interval", "200ms")
	ctx := context.Background()
	coord, stale := c.Nodes[0], c.Nodes[2]
	var before, during []string
	for i := 0; i < 100; i++ {
		k := fmt.Sprintf("exp:before:%d", i)
		if err := c.Admin(coord).Set(ctx, k, "v", 2*time.Second).Err(); err != nil {
			c.Fatalf("SET %s PX 2000: %v", k, err)
		}
		before = append(before, k)
	}
	for _, k := range before {
		waitLocalValues(c, k, []string{"v"}, stale)
	}
	live := c.Others(stale)
	reaped := c.InfoInt("persistence", "tombstones_reaped", live...)
	if err := stale.Stop(); err != nil {
		c.Fatalf("SIGTERM %s: %v", c.Name(stale), err)
	}
	c.WaitAlive(15*time.Second, stale, false, live...)
	for i := 0; i < 100; i++ {
		k := fmt.Sprintf("exp:during:%d", i)
		if err := c.Admin(coord).Set(ctx, k, "v", 500*time.Millisecond).Err(); err != nil {
			c.Fatalf("SET %s PX 500 with %s stopped: %v", k, c.Name(stale), err)
		}
		during = append(during, k)
	}
	all := append(slices.Clone(before), during...)
	compacted := c.InfoInt("persistence", "expired_compacted", live...)
	c.Eventually(15*time.Second, "node1 and node2 to compact the expired values of all 200 keys", func() (bool, string) {
		n := c.InfoInt("persistence", "expired_compacted", live...) - compacted
		return n >= int64(2*len(all)), fmt.Sprintf("expired_compacted grew by %d", n)
	})
	refused := c.InfoInt("persistence", "reaps_refused", live...)
	c.Eventually(10*time.Second, "node1 and node2 to refuse reaping while node3 is away", func() (bool, string) {
		n := c.InfoInt("persistence", "reaps_refused", live...) - refused
		return n >= int64(len(all)), fmt.Sprintf("reaps_refused grew by %d", n)
	})

	if n := c.InfoInt("persistence", "tombstones_reaped", live...) - reaped; n != 0 {
		c.Fatalf("node1 and node2 reaped %d dead objects while node3, a home replica of every key, was away", n)
	}

	// node3 comes back holding the "before" values, expired, and never
	// sweeps them.
	stale.Args = append(stale.Args, "--sweep-interval", "1h")
	c.Restart(stale)
	c.Eventually(20*time.Second, "node1 and node2 to reap the 200 dead keys", func() (bool, string) {
		var held []string
		for _, p := range live {
			lcs, err := c.LocalMany(p, all)
			if err != nil {
				return false, err.Error()
			}
			for i, lc := range lcs {
				if lc.Siblings > 0 {
					held = append(held, fmt.Sprintf("%s on %s: %+v", all[i], c.Name(p), lc))
				}
			}
		}
		return len(held) == 0, fmt.Sprintf("%d copies left, e.g. %s", len(held), strings.Join(held[:min(3, len(held))], "; "))
	})
	t.Logf("node1 and node2 reaped %d dead objects once node3 was back, none before", c.InfoInt("persistence", "tombstones_reaped", live...)-reaped)
	staleHeld := 0
	for _, lc := range c.MustLocalMany(stale, before) {
		if lc.Siblings > 0 {
			staleHeld++
		}
	}
	t.Logf("node3, whose sweep does not run, still holds %d of the %d expired \"before\" keys", staleHeld, len(before))
	if staleHeld == 0 {
		c.Fatalf("node3 (--sweep-interval 1h) holds none of the %d expired \"before\" keys: the test's premise, a replica holding dead copies the others purged, does not hold", len(before))
	}
	skipped := c.InfoInt("antientropy", "dead_keys_not_copied", c.Nodes...)
	c.WaitAERounds(20*time.Second, 3, c.Nodes...)
	notCopied := c.InfoInt("antientropy", "dead_keys_not_copied", c.Nodes...) - skipped
	t.Logf("anti-entropy did not copy %d dead keys in 3 rounds", notCopied)
	if notCopied == 0 {
		c.Fatalf("dead_keys_not_copied did not grow in 3 anti-entropy rounds while node3 held %d dead keys the others purged", staleHeld)
	}

	// No live value in any node's own copy, and nothing at all on the
	// nodes that purged the keys: anti-entropy copied nothing back.
	for _, p := range c.Nodes {
		for i, lc := range c.MustLocalMany(p, all) {
			if len(lc.Live) > 0 || (p != stale && lc.Siblings > 0) {
				c.Fatalf("expired key %s is back in %s's own copy after anti-entropy: %+v", all[i], c.Name(p), lc)
			}
		}
	}
	// Reads say missing everywhere. (A read may repair a replica that
	// purged a key with node3's dead copy; it stays dead.)
	for _, p := range c.Nodes {
		for _, k := range all {
			v, ttl, err := ttlState(c, p, k)
			if err != nil || v != "" || ttl != -2 {
				c.Fatalf("expired %s at %s: GET %q, PTTL %d, %v; want missing (PTTL -2)", k, c.Name(p), v, ttl, err)
			}
		}
	}
	for _, p := range c.Nodes {
		for i, lc := range c.MustLocalMany(p, all) {
			if len(lc.Live) > 0 {
				c.Fatalf("expired key %s is alive in %s's own copy after reads: %+v", all[i], c.Name(p), lc)
			}
		}
	}
}
