package integration

// Cache mode (issue 14) with real processes: a 3-node cluster under
// --maxmemory with allkeys-lru, written by redis-benchmark to four times
// its limit, stays within 105 % of the limit on every node, evicts, keeps
// a hot set that is read all along, and ends with replicas that agree: an
// eviction is a replicated delete, so no key is left on one replica only
// and an evicted key does not come back.

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestEvictionInTheCluster(t *testing.T) {
	bench := RequireTool(t, "redis-benchmark")
	const limit = 1 << 20
	c := NewCluster(t, 3, "--maxmemory", "1mb", "--maxmemory-policy", "allkeys-lru", "--ae-interval", "1s")
	ctx := context.Background()

	hot := make([]string, 100)
	for i := range hot {
		hot[i] = fmt.Sprintf("hot:%03d", i)
		if err := c.Admin(c.Nodes[0]).Set(ctx, hot[i], "hot value", 0).Err(); err != nil {
			c.Fatalf("SET %s: %v", hot[i], err)
		}
	}

	// Readers of the hot set on every node, and a sampler of every node's
	// used_memory, while redis-benchmark writes.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var peak [3]atomic.Int64
	var readErrs atomic.Int64
	for i, p := range c.Nodes {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				err := c.Admin(p).Get(ctx, hot[n%len(hot)]).Err()
				if err != nil && err != redis.Nil {
					readErrs.Add(1)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
				if info, err := c.Info(p, "memory"); err == nil {
					used, _ := strconv.ParseInt(info["used_memory"], 10, 64)
					if used > peak[i].Load() {
						peak[i].Store(used)
					}
				}
			}
		}()
	}

	// About 4x the limit: each key costs ~200 bytes of used_memory.
	out, err := exec.Command(bench, "-h", "127.0.0.1", "-p", strconv.Itoa(c.Nodes[0].Port),
		"-t", "set", "-n", "22000", "-r", "50000", "-d", "100", "-c", "20", "-q").CombinedOutput()
	close(stop)
	wg.Wait()
	if err != nil {
		c.Fatalf("redis-benchmark: %v\n%s", err, out)
	}

	var evicted int64
	for i, p := range c.Nodes {
		if got := peak[i].Load(); got > limit+limit/20 {
			c.Fatalf("%s: used_memory peaked at %d, over 105%% of maxmemory %d", c.Name(p), got, limit)
		}
		evicted += c.InfoInt("stats", "evicted_keys", p)
	}
	if evicted == 0 {
		c.Fatalf("no node evicted a key after writing 4x maxmemory")
	}
	if n := readErrs.Load(); n > 0 {
		c.Fatalf("%d reads of the hot set failed", n)
	}
	for _, k := range hot {
		if v, err := c.Admin(c.Nodes[1]).Get(ctx, k).Result(); err != nil || v != "hot value" {
			c.Fatalf("hot key %s was evicted: %q, %v", k, v, err)
		}
	}

	// After anti-entropy, every key the benchmark may have written is on
	// all three replicas or on none, and a key that was evicted (a
	// tombstone with no live value on every node) stays evicted.
	keys := make([]string, 2000)
	for i := range keys {
		keys[i] = fmt.Sprintf("key:%012d", i)
	}
	evictedBefore := make([]bool, len(keys))
	for i := range evictedBefore {
		evictedBefore[i] = true
	}
	for _, p := range c.Nodes {
		for i, lc := range c.MustLocalMany(p, keys) {
			evictedBefore[i] = evictedBefore[i] && lc.Siblings > 0 && len(lc.Live) == 0
		}
	}
	gone := 0
	for _, e := range evictedBefore {
		if e {
			gone++
		}
	}
	if gone == 0 {
		c.Fatalf("none of %d sampled keys was evicted on every replica: nothing to check", len(keys))
	}
	c.WaitAERounds(time.Minute, 2, c.Nodes...)
	copies := make([]int, len(keys))
	for _, p := range c.Nodes {
		for i, lc := range c.MustLocalMany(p, keys) {
			if len(lc.Live) > 0 {
				copies[i]++
			}
		}
	}
	present := 0
	for i, n := range copies {
		if n != 0 && n != len(c.Nodes) {
			c.Fatalf("%s is live on %d of %d replicas after anti-entropy", keys[i], n, len(c.Nodes))
		}
		if n > 0 {
			present++
			if evictedBefore[i] {
				c.Fatalf("%s was evicted from every replica and is live again on %d after anti-entropy", keys[i], n)
			}
		}
	}
	t.Logf("evicted %d keys; peaks %d %d %d of %d; of %d sampled keys %d kept, %d evicted everywhere and still gone", evicted,
		peak[0].Load(), peak[1].Load(), peak[2].Load(), limit, len(keys), present, gone)
}
