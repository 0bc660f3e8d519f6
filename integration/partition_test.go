package integration

// Real network partitions (netns.go): the nodes run in network namespaces
// and the network between them is cut with blackhole routes, while every
// process keeps running.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A partition {node1} | {node2, node3} of a 3-node cluster (N=3, R=2,
// W=2): both sides keep accepting writes (the lone node with W=1 on its
// connection, DYNAGO CONSISTENCY, since no quorum of two exists on its
// side; the pair with the default W=2). Each side writes keys of its own
// and the same key with its own value. Neither side sees the other's
// writes while cut off. After the network heals, every node holds every
// acknowledged write, and the key both sides wrote has both values as
// siblings.
func TestPartitionKeepsBothSidesWrites(t *testing.T) {
	n := NewNet(t, 3)
	c := n.NewCluster(3)
	lone, pair := c.Nodes[0], c.Nodes[1:]

	// The lone node's writer asks for W=1 (and R=1) on every connection.
	loneCl := redis.NewClient(&redis.Options{Addr: lone.Addr(), MaxRetries: -1, ReadTimeout: 10 * time.Second,
		OnConnect: func(ctx context.Context, cn *redis.Conn) error {
			return cn.Do(ctx, "DYNAGO", "CONSISTENCY", "1", "1").Err()
		}})
	t.Cleanup(func() { loneCl.Close() })
	writers := []*redis.Client{loneCl}
	for _, p := range pair {
		cl := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1, ReadTimeout: 10 * time.Second})
		t.Cleanup(func() { cl.Close() })
		writers = append(writers, cl)
	}

	acked := NewAcked()
	retries := 0
	// write SETs k to v through writer w until it is acknowledged (a
	// write may time out or answer TRYAGAIN while the failure detector
	// has not yet seen the other side go), and records it.
	write := func(w int, k, v string) {
		t.Helper()
		backoff := 20 * time.Millisecond
		deadline := time.Now().Add(20 * time.Second)
		for {
			err := writers[w].Set(context.Background(), k, v, 0).Err()
			if err == nil {
				acked.Put(k, v)
				return
			}
			if time.Now().After(deadline) {
				c.Fatalf("SET %s through %s never acknowledged during the partition: %v", k, c.Name(c.Nodes[w]), err)
			}
			retries++
			time.Sleep(backoff) // backing off a refused write; nothing to wait on
			backoff = min(2*backoff, time.Second)
		}
	}
	// writeBatch writes keys <side>:<phase>:<i> through the side's
	// writers in turn and returns them.
	writeBatch := func(side, phase string, ws ...int) []string {
		var keys []string
		for i := 0; i < 40; i++ {
			k := fmt.Sprintf("%s:%s:%d", side, phase, i)
			write(ws[i%len(ws)], k, "v-"+k)
			keys = append(keys, k)
		}
		return keys
	}

	before := writeBatch("both", "before", 0, 1, 2)

	partitionedAt := time.Now()
	n.Partition([]int{0}, []int{1, 2})
	// Writes at once, before the failure detector knows.
	loneKeys := writeBatch("lone", "early", 0)
	pairKeys := writeBatch("pair", "early", 1, 2)
	c.WaitAlive(30*time.Second, lone, false, pair...)
	for _, p := range pair {
		c.WaitAlive(30*time.Second, p, false, lone)
	}
	t.Logf("both sides saw the other dead %v after the cut", time.Since(partitionedAt).Round(time.Millisecond))
	loneKeys = append(loneKeys, writeBatch("lone", "late", 0)...)
	pairKeys = append(pairKeys, writeBatch("pair", "late", 1, 2)...)
	write(0, "shared", "from-lone")
	write(1, "shared", "from-pair")

	// Cut off means cut off: neither side holds what the other wrote.
	for _, p := range c.Nodes {
		theirs := pairKeys
		if p != lone {
			theirs = loneKeys
		}
		copies, err := c.LocalMany(p, append(theirs, "shared"))
		if err != nil {
			c.Fatalf("%v", err)
		}
		for i, lc := range copies[:len(theirs)] {
			if len(lc.Values) > 0 {
				c.Fatalf("%s holds %s=%v, written on the other side of the partition", c.Name(p), theirs[i], lc.Values)
			}
		}
		if shared := copies[len(theirs)]; len(shared.Values) != 1 {
			c.Fatalf("%s holds shared=%v during the partition; want only its own side's value", c.Name(p), shared.Values)
		}
	}

	healedAt := time.Now()
	n.HealAll()
	c.WaitRing(30 * time.Second)
	t.Logf("every node saw the full ring alive %v after the heal", time.Since(healedAt).Round(time.Millisecond))

	// Every node's own copy converges (hinted handoff): all three are
	// home replicas of every key.
	want := acked.Snapshot()
	keys := append(slices.Concat(before, loneKeys, pairKeys), "shared")
	c.Eventually(30*time.Second, "every node's own copy of every acknowledged write", func() (bool, string) {
		for _, p := range c.Nodes {
			copies, err := c.LocalMany(p, keys)
			if err != nil {
				return false, err.Error()
			}
			for i, lc := range copies {
				k := keys[i]
				if k == "shared" {
					if got := strings.Join(distinct(lc.Values), ","); got != "from-lone,from-pair" {
						return false, fmt.Sprintf("%s holds shared=%v", c.Name(p), lc.Values)
					}
					continue
				}
				if !slices.Equal(lc.Values, []string{want[k]}) {
					return false, fmt.Sprintf("%s holds %s=%v, want %q", c.Name(p), k, lc.Values, want[k])
				}
			}
		}
		return true, ""
	})
	t.Logf("converged %v after the heal; %d writes acknowledged, %d retried", time.Since(healedAt).Round(time.Millisecond), len(want), retries)

	// Through every node: GET reads each distinct key back, and the
	// shared key has both concurrent versions as siblings.
	delete(want, "shared")
	c.CheckAcked(want, c.Nodes...)
	for _, p := range c.Nodes {
		v, err := c.Admin(p).Do(context.Background(), "SIBLINGS", "shared").Result()
		if err != nil {
			c.Fatalf("SIBLINGS shared on %s: %v", c.Name(p), err)
		}
		vals, _, err := siblingValues(v)
		if err != nil {
			c.Fatalf("SIBLINGS shared on %s: %v", c.Name(p), err)
		}
		if got := strings.Join(distinct(vals), ","); got != "from-lone,from-pair" {
			c.Fatalf("SIBLINGS shared on %s: values %v; want both sides' writes, from-lone and from-pair", c.Name(p), vals)
		}
		get, err := c.Admin(p).Get(context.Background(), "shared").Result()
		if err != nil || (get != "from-lone" && get != "from-pair") {
			c.Fatalf("GET shared on %s = %q, %v; want one of the siblings", c.Name(p), get, err)
		}
	}
}

// distinct is vals sorted without repeats (a side that retried a write
// may hold its value in two siblings).
func distinct(vals []string) []string {
	out := slices.Clone(vals)
	slices.Sort(out)
	return slices.Compact(out)
}
