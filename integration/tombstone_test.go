package integration

// Deletes of issue 4 with real processes: a tombstone is reaped only after
// every home replica has it (docs/decisions.md, "Reaping tombstones"), so a
// replica that was away while the grace period passed cannot bring a
// deleted key back; and a write after a delete is not beaten by the old
// tombstone.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// tombstoneFlags: deletes may be reaped one second after they happened,
// the sweep looks every 200 ms, anti-entropy rounds every second.
var tombstoneFlags = []string{"--tombstone-grace", "1s", "--sweep-interval", "200ms", "--ae-interval", "1s"}

// waitLocal waits until cond holds for every node's own copy (DYNAGO
// LOCAL) of every key. With timeout 0 it checks once: a state that must
// already hold, and keep holding (Eventually checks cond once before it
// looks at the deadline).
func waitLocal(c *Cluster, timeout time.Duration, what string, keys []string, nodes []*Proc, cond func(LocalCopy) bool) {
	c.t.Helper()
	c.Eventually(timeout, what, func() (bool, string) {
		for _, p := range nodes {
			lcs, err := c.LocalMany(p, keys)
			if err != nil {
				return false, err.Error()
			}
			for i, lc := range lcs {
				if !cond(lc) {
					return false, fmt.Sprintf("%s on %s: %+v", keys[i], c.Name(p), lc)
				}
			}
		}
		return true, ""
	})
}

// isTombstone: the copy holds only tombstones. isGone: it holds nothing.
func isTombstone(lc LocalCopy) bool { return lc.Siblings > 0 && len(lc.Values) == 0 }
func isGone(lc LocalCopy) bool      { return lc.Siblings == 0 }

// checkGets checks GET key on every node given: want, or missing for "".
func checkGets(c *Cluster, keys []string, want string, nodes ...*Proc) {
	c.t.Helper()
	for _, p := range nodes {
		for _, k := range keys {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			got, err := c.Admin(p).Get(ctx, k).Result()
			cancel()
			if errors.Is(err, redis.Nil) && want == "" {
				continue
			}
			if err != nil || got != want {
				c.Fatalf("GET %s at %s = %q, %v; want %q (\"\": missing)", k, c.Name(p), got, err, want)
			}
		}
	}
}

// 4. The rule: a tombstone is reaped only once its grace has passed and
// every home replica has seen it (or holds nothing). Keys are deleted while
// node3, a home replica of every key, is stopped; node1 and node2 pass the
// grace period many times over but must not reap: reaps_refused grows,
// tombstones_reaped does not, and their own copies still hold the
// tombstones. node3 comes back with the old values; once it has the
// tombstones (hint or anti-entropy) they are reaped everywhere, and the
// keys stay deleted through further anti-entropy rounds and reads. A key
// written again while node3 was away, and one written again after the
// reap, read the new value on every node.
func TestTombstoneReapWaitsForEveryReplica(t *testing.T) {
	c := NewCluster(t, 3, tombstoneFlags...)
	ctx := context.Background()
	coord, away := c.Nodes[0], c.Nodes[2]
	live := c.Others(away)
	var dels []string
	for i := 0; i < 50; i++ {
		dels = append(dels, fmt.Sprintf("del:%d", i))
	}
	again := "del:again" // deleted while node3 is away, then written again
	for _, k := range append(slices.Clone(dels), again) {
		if err := c.Admin(coord).Set(ctx, k, "old", 0).Err(); err != nil {
			c.Fatalf("SET %s: %v", k, err)
		}
	}
	waitLocal(c, 10*time.Second, "every node to hold the old values", append(slices.Clone(dels), again), c.Nodes,
		func(lc LocalCopy) bool { return slices.Equal(lc.Values, []string{"old"}) })

	reaped := c.InfoInt("persistence", "tombstones_reaped", live...)
	if err := away.Stop(); err != nil {
		c.Fatalf("SIGTERM %s: %v", c.Name(away), err)
	}
	c.WaitAlive(15*time.Second, away, false, live...)
	for _, k := range append(slices.Clone(dels), again) {
		if n, err := c.Admin(coord).Del(ctx, k).Result(); err != nil || n != 1 {
			c.Fatalf("DEL %s with %s away = %d, %v; want 1", k, c.Name(away), n, err)
		}
	}
	deleted := time.Now()
	if err := c.Admin(coord).Set(ctx, again, "new", 0).Err(); err != nil {
		c.Fatalf("SET %s after its delete: %v", again, err)
	}
	refused := c.InfoInt("persistence", "reaps_refused", live...)
	// Each live node is asked about each tombstone once its grace passed,
	// and refuses, again and again while node3 is away.
	c.Eventually(20*time.Second, "node1 and node2 to refuse reaping each tombstone at least 3 times", func() (bool, string) {
		n := c.InfoInt("persistence", "reaps_refused", live...) - refused
		return n >= int64(3*2*len(dels)), fmt.Sprintf("reaps_refused grew by %d", n)
	})
	t.Logf("%v after the deletes (grace 1s) node1 and node2 had refused %d reaps",
		time.Since(deleted).Round(time.Millisecond), c.InfoInt("persistence", "reaps_refused", live...)-refused)
	if n := c.InfoInt("persistence", "tombstones_reaped", live...) - reaped; n != 0 {
		c.Fatalf("node1 and node2 reaped %d tombstones while node3, a home replica of every key, was away", n)
	}
	waitLocal(c, 0, "node1 and node2 to hold the tombstones", dels, live, isTombstone)

	// node3 returns holding the old values.
	healed := time.Now()
	c.Restart(away)
	waitLocal(c, 30*time.Second, "the tombstones to be reaped on every node", dels, c.Nodes, isGone)
	converged := time.Since(healed)
	t.Logf("after node3 came back (and got the tombstones), every node had reaped them in %v (node3 reaped %d)",
		converged.Round(time.Millisecond), c.InfoInt("persistence", "tombstones_reaped", away))
	waitLocal(c, 10*time.Second, "every node to hold "+again+"=new", []string{again}, c.Nodes,
		func(lc LocalCopy) bool { return slices.Equal(lc.Values, []string{"new"}) && lc.Siblings == 1 })

	// Further rounds of anti-entropy, then reads at every node: the keys
	// stay deleted.
	c.WaitAERounds(20*time.Second, 3, c.Nodes...)
	waitLocal(c, 0, "the deleted keys to stay gone after 3 anti-entropy rounds", dels, c.Nodes, isGone)
	checkGets(c, dels, "", c.Nodes...)
	checkGets(c, []string{again}, "new", c.Nodes...)
	waitLocal(c, 0, "the deleted keys to stay gone after reads", dels, c.Nodes, isGone)

	// A write after the reap.
	if err := c.Admin(coord).Set(ctx, dels[0], "reborn", 0).Err(); err != nil {
		c.Fatalf("SET %s after its tombstone was reaped: %v", dels[0], err)
	}
	waitLocal(c, 10*time.Second, "every node to hold "+dels[0]+"=reborn", dels[:1], c.Nodes,
		func(lc LocalCopy) bool { return slices.Equal(lc.Values, []string{"reborn"}) && lc.Siblings == 1 })
	c.CheckAcked(map[string]string{again: "new", dels[0]: "reborn"}, c.Nodes...)
}

// 4b. A write after a delete is not beaten by the old tombstone, even when
// the write's coordinator has already reaped it and another home replica
// has not (its sweep has not reached the key yet: node3's sweep is
// slowed to once an hour here). The reap rule allows node1 and node2 to
// reap, since node3 holds the tombstone. A SET through node1 then must be
// read on every node, and must survive anti-entropy with node3.
func TestWriteAfterReapBeatsOldTombstone(t *testing.T) {
	c := PrepareCluster(t, 3, tombstoneFlags...)
	slow := c.Nodes[2]
	slow.Args = append(slow.Args, "--sweep-interval", "1h")
	c.Start()
	ctx := context.Background()
	coord := c.Nodes[0]
	var keys []string
	for i := 0; i < 20; i++ {
		keys = append(keys, fmt.Sprintf("rewrite:%d", i))
	}
	for _, k := range keys {
		if err := c.Admin(coord).Set(ctx, k, "old", 0).Err(); err != nil {
			c.Fatalf("SET %s: %v", k, err)
		}
	}
	waitLocal(c, 10*time.Second, "every node to hold the old values", keys, c.Nodes,
		func(lc LocalCopy) bool { return slices.Equal(lc.Values, []string{"old"}) })
	for _, k := range keys {
		if err := c.Admin(coord).Del(ctx, k).Err(); err != nil {
			c.Fatalf("DEL %s: %v", k, err)
		}
	}
	waitLocal(c, 10*time.Second, "every node to hold the tombstones", keys, c.Nodes, isTombstone)
	waitLocal(c, 15*time.Second, "node1 and node2 to reap the tombstones", keys, c.Others(slow), isGone)
	waitLocal(c, 0, "node3 to still hold the tombstones", keys, []*Proc{slow}, isTombstone)

	acked := map[string]string{}
	for _, k := range keys {
		if err := c.Admin(coord).Set(ctx, k, "new", 0).Err(); err != nil {
			c.Fatalf("SET %s after the delete: %v", k, err)
		}
		acked[k] = "new"
	}
	for _, p := range c.Nodes {
		t.Logf("just after the SET, %s's own copy of %s: %+v", c.Name(p), keys[0], c.MustLocal(p, keys[0]))
	}
	c.WaitAERounds(20*time.Second, 3, c.Nodes...)
	var lost []string
	for _, p := range c.Nodes {
		for i, lc := range c.MustLocalMany(p, keys) {
			if !slices.Equal(lc.Live, []string{"new"}) || lc.Siblings != 1 {
				lost = append(lost, fmt.Sprintf("%s on %s: %+v", keys[i], c.Name(p), lc))
			}
		}
	}
	if len(lost) > 0 {
		c.Fatalf("%d copies of keys written after their delete do not hold the new value alone (one sibling) after 3 anti-entropy rounds: the old tombstone beat or survived beside the new write; e.g.:\n%s",
			len(lost), strings.Join(lost[:min(6, len(lost))], "\n"))
	}
	c.CheckAcked(acked, c.Nodes...)
}
