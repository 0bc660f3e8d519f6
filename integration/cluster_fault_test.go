package integration

// Cluster tests of issue 3 with faults: a node killed under a steady
// writer, two home replicas of a key down (sloppy quorum and hinted
// handoff), a quorum that cannot be reached, and a paused node.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Phases of TestClusterKill9UnderSteadyWriter, as the writers see them.
const (
	phaseUp   = iota // all three nodes up
	phaseDown        // the victim was killed and is not restarted yet
	phaseBack        // the victim is restarting or back
)

// 2. kill -9 one node of three while two clients write steadily with W=2:
// no write fails (two replicas remain). The killed node restarts, the hints
// the others kept for it drain, and its own copy (DYNAGO LOCAL) holds every
// key written while it was down.
func TestClusterKill9UnderSteadyWriter(t *testing.T) {
	c := NewCluster(t, 3)
	victim := c.Nodes[2]
	survivors := c.Others(victim)

	var phase atomic.Int32
	acked := NewAcked()
	var mu sync.Mutex
	var downKeys []string // written entirely while the victim was down
	var failures []string
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w, p := range survivors {
		cl := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1, ReadTimeout: 10 * time.Second})
		t.Cleanup(func() { cl.Close() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k, v := fmt.Sprintf("steady:%d:%d", w, i), fmt.Sprintf("v%d", i)
				before := phase.Load()
				err := cl.Set(context.Background(), k, v, 0).Err()
				after := phase.Load()
				if err != nil {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("SET %s (phase %d..%d): %v", k, before, after, err))
					mu.Unlock()
					continue
				}
				acked.Put(k, v)
				if before == phaseDown && after == phaseDown {
					mu.Lock()
					downKeys = append(downKeys, k)
					mu.Unlock()
				}
			}
		}()
	}
	stopWriters := func() {
		select {
		case <-stop:
		default:
			close(stop)
			wg.Wait()
		}
	}
	t.Cleanup(stopWriters)
	countDown := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(downKeys)
	}

	c.Eventually(20*time.Second, "200 acknowledged writes before the kill", func() (bool, string) {
		return acked.Len() >= 200, fmt.Sprintf("%d acked", acked.Len())
	})
	victim.Kill()
	phase.Store(phaseDown)
	killedAt := time.Now()
	c.WaitAlive(15*time.Second, victim, false, survivors...)
	t.Logf("failure detector saw %s dead after %v", c.Name(victim), time.Since(killedAt).Round(time.Millisecond))
	c.Eventually(30*time.Second, "300 writes acknowledged while the victim is down", func() (bool, string) {
		return countDown() >= 300, fmt.Sprintf("%d written while down", countDown())
	})
	if pending := c.InfoInt("hints", "hints_pending", survivors...); pending == 0 {
		c.Fatalf("no hint was kept for the dead node although %d keys were written while it was down", countDown())
	}

	phase.Store(phaseBack)
	c.Restart(victim)
	back := acked.Len()
	c.Eventually(20*time.Second, "100 writes acknowledged after the restart", func() (bool, string) {
		return acked.Len() >= back+100, fmt.Sprintf("%d acked since the restart", acked.Len()-back)
	})
	stopWriters()
	if len(failures) > 0 {
		c.Fatalf("%d writes failed with 2 of 3 replicas up (W=2), e.g.:\n%s", len(failures), strings.Join(failures[:min(10, len(failures))], "\n"))
	}

	drainStart := time.Now()
	c.WaitHintsDrained(30*time.Second, c.Nodes...)
	t.Logf("hints drained %v after the restart was seen", time.Since(drainStart).Round(time.Millisecond))

	// The restarted node's own copy holds every key written while it was
	// down: those reached it only as hints.
	all := acked.Snapshot()
	for _, k := range downKeys {
		lc := c.MustLocal(victim, k)
		if !lc.Replica || len(lc.Values) != 1 || lc.Values[0] != all[k] {
			c.Fatalf("DYNAGO LOCAL %s on the restarted %s = %+v; want its value %q (written while it was down)", k, c.Name(victim), lc, all[k])
		}
	}
	// Every acknowledged key, whenever it was written, is on the victim
	// too (a write it missed around the kill became a hint).
	var missing []string
	for k, v := range all {
		if lc := c.MustLocal(victim, k); len(lc.Values) != 1 || lc.Values[0] != v {
			missing = append(missing, fmt.Sprintf("%s=%q: %+v", k, v, lc))
		}
	}
	if len(missing) > 0 {
		c.Fatalf("%d of %d acknowledged keys are not in the restarted node's own copy after the hints drained, e.g.:\n%s",
			len(missing), len(all), strings.Join(missing[:min(10, len(missing))], "\n"))
	}
	t.Logf("%d writes acknowledged, %d while %s was down, 0 failed", len(all), len(downKeys), c.Name(victim))
	c.CheckAcked(all, c.Nodes...)
}

// 3. Five nodes, N=3: with two of a key's three home replicas down (one
// SIGKILLed, one SIGTERMed, both seen dead by the failure detector), W=2
// writes of that key and of others succeed through fallback nodes and R=2
// reads return them; after both restart the hints drain and every home
// replica's own copy holds the data.
func TestClusterSloppyQuorumTwoHomesDown(t *testing.T) {
	c := NewCluster(t, 5, "--n", "3", "--r", "2", "--w", "2")
	ctx := context.Background()
	// A key the seed (node1, started without --join) is a home replica
	// of, so that the seed is one of the two nodes that go down and come
	// back.
	var key string
	var homes []*Proc
	for i := 0; key == ""; i++ {
		k := fmt.Sprintf("sloppy:key:%d", i)
		if homes = c.HomeReplicas(k); len(homes) != 3 {
			c.Fatalf("%s has %d home replicas, want 3", k, len(homes))
		}
		if slices.Contains(homes, c.Nodes[0]) {
			key = k
		} else if i == 100 {
			c.Fatalf("node1 is a home replica of none of 100 keys")
		}
	}
	other := homes[0]
	if other == c.Nodes[0] {
		other = homes[1]
	}
	down := []*Proc{c.Nodes[0], other}
	t.Logf("%s: home replicas %s, %s, %s; %s is SIGKILLed, %s SIGTERMed",
		key, c.Name(homes[0]), c.Name(homes[1]), c.Name(homes[2]), c.Name(down[0]), c.Name(down[1]))
	down[0].Kill()
	if err := down[1].Stop(); err != nil {
		c.Fatalf("SIGTERM %s: %v", c.Name(down[1]), err)
	}
	live := c.Others(down...)
	for _, p := range down {
		c.WaitAlive(15*time.Second, p, false, live...)
	}
	fallbackBefore := c.InfoInt("replication", "fallback_writes", live...)

	acked := NewAcked()
	// The key itself, written through every live node in turn (the one
	// live home replica coordinates; the others forward to it).
	last := ""
	for i := 0; i < 30; i++ {
		p := live[i%len(live)]
		v := fmt.Sprintf("v%d-via-%s", i, c.Name(p))
		if err := c.Admin(p).Set(ctx, key, v, 0).Err(); err != nil {
			c.Fatalf("SET %s via %s with 2 of its 3 homes down: %v", key, c.Name(p), err)
		}
		last = v
	}
	acked.Put(key, last)
	// Other keys: some share a home with the down nodes, some not.
	for i := 0; i < 300; i++ {
		p := live[i%len(live)]
		k, v := fmt.Sprintf("sloppy:other:%d", i), fmt.Sprintf("o%d", i)
		if err := c.Admin(p).Set(ctx, k, v, 0).Err(); err != nil {
			c.Fatalf("SET %s via %s with 2 of 5 nodes down: %v", k, c.Name(p), err)
		}
		acked.Put(k, v)
	}
	fallbackAfter := c.InfoInt("replication", "fallback_writes", live...)
	if fallbackAfter <= fallbackBefore {
		c.Fatalf("fallback_writes did not grow (%d before, %d after) with two home replicas down", fallbackBefore, fallbackAfter)
	}
	t.Logf("fallback_writes on the live nodes: %d -> %d", fallbackBefore, fallbackAfter)
	// R=2 reads while the homes are down.
	c.CheckAcked(acked.Snapshot(), live...)

	for _, p := range down {
		p.Launch()
	}
	for _, p := range down {
		p.WaitReady(30 * time.Second)
	}
	c.WaitRing(30 * time.Second)
	c.WaitHintsDrained(30*time.Second, c.Nodes...)

	// Every home replica of every key holds it in its own copy.
	for k, v := range acked.Snapshot() {
		n := 0
		for _, p := range c.Nodes {
			lc := c.MustLocal(p, k)
			if !lc.Replica {
				continue
			}
			n++
			if len(lc.Values) != 1 || lc.Values[0] != v {
				c.Fatalf("after the hints drained, home replica %s of %s holds %+v; want %q", c.Name(p), k, lc, v)
			}
		}
		if n != 3 {
			c.Fatalf("%s has %d home replicas, want 3", k, n)
		}
	}
	c.CheckAcked(acked.Snapshot(), c.Nodes...)
}

// quorumTimeout is the --request-timeout of TestClusterQuorumTimeouts, and
// maxCall what any call may take with it (the timeout plus a margin for a
// race-detector build on a busy machine).
const (
	quorumTimeout = time.Second
	maxCall       = 3 * time.Second
)

// timedCall runs f and returns its error and duration.
func timedCall(f func() error) (time.Duration, error) {
	start := time.Now()
	err := f()
	return time.Since(start), err
}

// 4. W=3 with one of three nodes stopped: SET answers the TRYAGAIN quorum
// error within the request timeout, and nothing hangs. Then with all three
// up, one node is SIGSTOPped: W=2 requests do not stall beyond the timeout
// and succeed; W=3 ones fail within it.
func TestClusterQuorumTimeouts(t *testing.T) {
	c := NewCluster(t, 3, "--w", "3", "--request-timeout", quorumTimeout.String())
	ctx := context.Background()
	coord := c.Nodes[0]
	// w3 uses the cluster's W=3; w2 sets W=2 on each of its connections.
	w3 := redis.NewClient(&redis.Options{Addr: coord.Addr(), MaxRetries: -1, ReadTimeout: 10 * time.Second})
	w2 := redis.NewClient(&redis.Options{Addr: coord.Addr(), MaxRetries: -1, ReadTimeout: 10 * time.Second,
		OnConnect: func(ctx context.Context, cn *redis.Conn) error {
			return cn.Do(ctx, "DYNAGO", "CONSISTENCY", "2", "2").Err()
		}})
	t.Cleanup(func() { w3.Close(); w2.Close() })
	acked := NewAcked()

	if err := w3.Set(ctx, "q:all-up", "1", 0).Err(); err != nil {
		c.Fatalf("W=3 SET with all three nodes up: %v", err)
	}
	acked.Put("q:all-up", "1")

	// One node stopped: W=3 cannot be met. Before and after the failure
	// detector notices, the error comes within the request timeout.
	stopped := c.Nodes[2]
	if err := stopped.Stop(); err != nil {
		c.Fatalf("SIGTERM %s: %v", c.Name(stopped), err)
	}
	expectQuorumError := func(k string) {
		t.Helper()
		d, err := timedCall(func() error { return w3.Set(ctx, k, "x", 0).Err() })
		if err == nil {
			c.Fatalf("W=3 SET %s with one of 3 nodes stopped succeeded", k)
		}
		if !strings.HasPrefix(err.Error(), "TRYAGAIN") || !strings.Contains(err.Error(), "quorum") {
			c.Fatalf("W=3 SET %s with one of 3 nodes stopped: %v; want a TRYAGAIN quorum error", k, err)
		}
		if d > maxCall {
			c.Fatalf("W=3 SET %s took %v (request timeout %v)", k, d, quorumTimeout)
		}
		t.Logf("W=3 SET %s: %v after %v", k, err, d.Round(time.Millisecond))
	}
	expectQuorumError("q:stopped-undetected")
	c.WaitAlive(15*time.Second, stopped, false, c.Others(stopped)...)
	for i := 0; i < 5; i++ {
		expectQuorumError(fmt.Sprintf("q:stopped-detected:%d", i))
	}
	// W=2 on the same node still works, and R=2 reads too.
	for i := 0; i < 20; i++ {
		k := fmt.Sprintf("q:w2-one-down:%d", i)
		d, err := timedCall(func() error { return w2.Set(ctx, k, "ok", 0).Err() })
		if err != nil || d > maxCall {
			c.Fatalf("W=2 SET %s with one of 3 nodes stopped: %v after %v", k, err, d)
		}
		acked.Put(k, "ok")
	}
	c.CheckAcked(acked.Snapshot(), c.Others(stopped)...)
	c.Restart(stopped)

	// A SIGSTOPped node accepts connections but never answers: requests
	// must not wait for it beyond the request timeout.
	paused := c.Nodes[1]
	paused.Signal(syscall.SIGSTOP)
	t.Cleanup(func() { paused.Signal(syscall.SIGCONT) })
	pausedAt := time.Now()
	var worstW2, worstGet, worstW3 time.Duration
	w3Failed := 0
	for i := 0; time.Since(pausedAt) < 4*time.Second || i < 30; i++ {
		k := fmt.Sprintf("q:paused:%d", i)
		d, err := timedCall(func() error { return w2.Set(ctx, k, "ok", 0).Err() })
		if err != nil || d > maxCall {
			c.Fatalf("W=2 SET %s with %s paused: %v after %v (request timeout %v)", k, c.Name(paused), err, d, quorumTimeout)
		}
		acked.Put(k, "ok")
		worstW2 = max(worstW2, d)
		d, err = timedCall(func() error { return w2.Get(ctx, k).Err() })
		if err != nil || d > maxCall {
			c.Fatalf("R=2 GET %s with %s paused: %v after %v", k, c.Name(paused), err, d)
		}
		worstGet = max(worstGet, d)
		if i%5 == 0 {
			d, err = timedCall(func() error { return w3.Set(ctx, k+":w3", "x", 0).Err() })
			if d > maxCall {
				c.Fatalf("W=3 SET with %s paused took %v: %v", c.Name(paused), d, err)
			}
			if err == nil {
				c.Fatalf("W=3 SET %s:w3 succeeded with %s paused", k, c.Name(paused))
			}
			var rerr redis.Error
			if !errors.As(err, &rerr) || !strings.HasPrefix(err.Error(), "TRYAGAIN") {
				c.Fatalf("W=3 SET with %s paused: %v; want TRYAGAIN", c.Name(paused), err)
			}
			w3Failed++
			worstW3 = max(worstW3, d)
		}
	}
	t.Logf("with %s paused: slowest W=2 SET %v, R=2 GET %v, W=3 SET (%d TRYAGAIN) %v",
		c.Name(paused), worstW2.Round(time.Millisecond), worstGet.Round(time.Millisecond), w3Failed, worstW3.Round(time.Millisecond))

	paused.Signal(syscall.SIGCONT)
	c.WaitRing(30 * time.Second)
	c.WaitHintsDrained(30*time.Second, c.Nodes...)
	c.CheckAcked(acked.Snapshot(), c.Nodes...)
}
