package integration

// Counters are PN-counters (package crdt): an increment is an event of its
// coordinator's actor, applied without a read, and concurrent increments
// join instead of leaving siblings. These tests count every acknowledged
// increment and require the counter to hold exactly that many, through a
// kill -9 and through a real network partition.

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// incrTally counts a key's increments: acknowledged ones, and failed ones
// (which may or may not have been applied).
type incrTally struct {
	mu           sync.Mutex
	acked, maybe map[string]int64
}

func newIncrTally() *incrTally {
	return &incrTally{acked: map[string]int64{}, maybe: map[string]int64{}}
}

func (t *incrTally) record(key string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil {
		t.acked[key]++
	} else {
		t.maybe[key]++
	}
}

// checkCounters requires every key, read through every node, to hold at
// least its acknowledged increments and at most those plus the failed ones.
func checkCounters(c *Cluster, tally *incrTally) {
	c.t.Helper()
	c.Eventually(30*time.Second, "every counter read through every node", func() (bool, string) {
		for _, p := range c.Nodes {
			for k, acked := range tally.acked {
				got, err := c.Admin(p).Get(context.Background(), k).Int64()
				if err != nil {
					return false, fmt.Sprintf("GET %s on %s: %v", k, c.Name(p), err)
				}
				if got < acked || got > acked+tally.maybe[k] {
					return false, fmt.Sprintf("GET %s on %s = %d; acknowledged %d, failed %d", k, c.Name(p), got, acked, tally.maybe[k])
				}
			}
		}
		return true, ""
	})
}

// Three writers increment the same counters, each through its own node, and
// node 2 is killed with SIGKILL and restarted half-way. No acknowledged
// increment is lost: every node reads each counter as the number of
// acknowledged increments (plus at most the failed ones, which may have
// been applied).
func TestCountersThroughEveryNodeSurviveKill(t *testing.T) {
	c := NewCluster(t, 3)
	keys := []string{"cnt:a", "cnt:b", "cnt:c"}
	tally := newIncrTally()
	const perWriter = 300
	var wg sync.WaitGroup
	var killOnce sync.Once
	killed := make(chan struct{})
	for w, p := range c.Nodes {
		cl := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1, ReadTimeout: 5 * time.Second})
		t.Cleanup(func() { cl.Close() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				if w == 0 && i == perWriter/2 {
					killOnce.Do(func() { c.Nodes[1].Signal(syscall.SIGKILL); close(killed) })
				}
				k := keys[i%len(keys)]
				tally.record(k, cl.Incr(context.Background(), k).Err())
			}
		}()
	}
	wg.Wait()
	<-killed
	c.Nodes[1].Wait(10 * time.Second)
	c.Restart(c.Nodes[1])
	c.WaitHintsDrained(30*time.Second, c.Nodes...)
	checkCounters(c, tally)
	total := int64(0)
	for _, n := range tally.acked {
		total += n
	}
	if total < perWriter {
		c.Fatalf("only %d increments acknowledged; the two live writers alone should have had %d", total, 2*perWriter)
	}
	t.Logf("acknowledged %v, failed %v", tally.acked, tally.maybe)
}

// A partition {node1} | {node2, node3}: each side increments the same
// counter (the lone node with W=1 on its connection) and a counter of its
// own. After the heal every node reads the sum of both sides' increments,
// exactly: increments commute, none is lost to last-writer-wins.
func TestCountersAddUpAcrossPartition(t *testing.T) {
	n := NewNet(t, 3)
	c := n.NewCluster(3)
	lone := redis.NewClient(&redis.Options{Addr: c.Nodes[0].Addr(), MaxRetries: -1, ReadTimeout: 10 * time.Second,
		OnConnect: func(ctx context.Context, cn *redis.Conn) error {
			return cn.Do(ctx, "DYNAGO", "CONSISTENCY", "1", "1").Err()
		}})
	t.Cleanup(func() { lone.Close() })
	pair := []*redis.Client{c.Admin(c.Nodes[1]), c.Admin(c.Nodes[2])}
	tally := newIncrTally()
	incr := func(cl *redis.Client, k string, by int) {
		for range by {
			tally.record(k, cl.Incr(context.Background(), k).Err())
		}
	}
	incr(pair[0], "shared", 10)
	n.Partition([]int{0}, []int{1, 2})
	c.WaitAlive(30*time.Second, c.Nodes[0], false, c.Nodes[1:]...)
	c.WaitAlive(30*time.Second, c.Nodes[1], false, c.Nodes[0])
	incr(lone, "shared", 25)
	incr(lone, "lone-only", 5)
	incr(pair[0], "shared", 20)
	incr(pair[1], "shared", 15)
	incr(pair[1], "pair-only", 7)
	// Cut off, each side sees only its own increments.
	if got, err := lone.Get(context.Background(), "shared").Int64(); err != nil || got != 35 {
		c.Fatalf("lone side reads shared = %d, %v during the partition; want 35 (10 before + 25)", got, err)
	}
	n.HealAll()
	c.WaitRing(30 * time.Second)
	if len(tally.maybe) > 0 {
		c.Fatalf("increments failed during the partition: %v", tally.maybe)
	}
	checkCounters(c, tally)
	for _, p := range c.Nodes {
		got, err := c.Admin(p).Get(context.Background(), "shared").Result()
		if err != nil || got != strconv.Itoa(10+25+20+15) {
			c.Fatalf("GET shared on %s = %q, %v; want 70", c.Name(p), got, err)
		}
		if typ := c.Admin(p).Type(context.Background(), "shared").Val(); typ != "string" {
			c.Fatalf("TYPE shared on %s = %q; want string", c.Name(p), typ)
		}
	}
}
