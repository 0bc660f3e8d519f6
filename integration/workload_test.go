package integration

// Workloads of the membership and anti-entropy tests: a fast pipelined load
// of many keys, and a steady writer of unique keys that records what the
// cluster acknowledged and every write that failed.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// loadKeys writes n keys "<prefix>:<i>" = "v<i>" through the members,
// pipelined (one goroutine per member, 500 SETs per pipeline), and returns
// them, every one acknowledged; any failed SET fails the test.
func loadKeys(c *Cluster, prefix string, n int) map[string]string {
	c.t.Helper()
	start := time.Now()
	nodes := slices.Clone(c.Nodes)
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for w, p := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1, ReadTimeout: 30 * time.Second})
			defer cl.Close()
			ctx := context.Background()
			for lo := w * 500; lo < n; lo += 500 * len(nodes) {
				pipe := cl.Pipeline()
				cmds := make([]*redis.StatusCmd, 0, 500)
				for i := lo; i < min(lo+500, n); i++ {
					cmds = append(cmds, pipe.Set(ctx, fmt.Sprintf("%s:%d", prefix, i), fmt.Sprintf("v%d", i), 0))
				}
				_, _ = pipe.Exec(ctx)
				for _, cmd := range cmds {
					if err := cmd.Err(); err != nil {
						errs[w] = fmt.Errorf("%v via %s: %v", cmd.Args(), c.Name(p), err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			c.Fatalf("loading %d keys: %v", n, err)
		}
	}
	out := make(map[string]string, n)
	for i := 0; i < n; i++ {
		out[fmt.Sprintf("%s:%d", prefix, i)] = fmt.Sprintf("v%d", i)
	}
	c.t.Logf("loaded %d keys in %v", n, time.Since(start).Round(time.Millisecond))
	return out
}

// steadyWriter writes unique keys "<prefix>:<node>:<worker>:<i>" through
// the nodes it was given, each worker one SET at a time, and records every
// acknowledged write and every failed one.
type steadyWriter struct {
	Acked    *Acked
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	attempts atomic.Int64

	mu       sync.Mutex
	failures []string
}

// startWriter starts workers goroutines per node, each with its own
// connection, writing rate keys per second in all (0: as fast as they
// can); Stop ends them (also at test end).
func startWriter(c *Cluster, prefix string, nodes []*Proc, workers, rate int) *steadyWriter {
	w := &steadyWriter{Acked: NewAcked(), stop: make(chan struct{})}
	var every time.Duration // between two writes of one worker
	if rate > 0 {
		every = time.Second * time.Duration(len(nodes)*workers) / time.Duration(rate)
	}
	for _, p := range nodes {
		name := c.Name(p)
		cl := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1, PoolSize: workers,
			ReadTimeout: 15 * time.Second, WriteTimeout: 15 * time.Second})
		for g := 0; g < workers; g++ {
			w.wg.Add(1)
			go func() {
				defer w.wg.Done()
				var tick <-chan time.Time
				if every > 0 {
					t := time.NewTicker(every)
					defer t.Stop()
					tick = t.C
				}
				for i := 0; ; i++ {
					select {
					case <-w.stop:
						return
					default:
					}
					if tick != nil {
						select {
						case <-w.stop:
							return
						case <-tick:
						}
					}
					k, v := fmt.Sprintf("%s:%s:%d:%d", prefix, name, g, i), fmt.Sprintf("w%d", i)
					w.attempts.Add(1)
					if err := cl.Set(context.Background(), k, v, 0).Err(); err != nil {
						w.mu.Lock()
						w.failures = append(w.failures, fmt.Sprintf("%s SET %s via %s: %v", time.Now().Format("15:04:05.000"), k, name, err))
						w.mu.Unlock()
						continue
					}
					w.Acked.Put(k, v)
				}
			}()
		}
		c.t.Cleanup(func() { w.Stop(); cl.Close() })
	}
	return w
}

// Stop ends the writers and waits for their last writes.
func (w *steadyWriter) Stop() {
	w.stopOnce.Do(func() { close(w.stop) })
	w.wg.Wait()
}

// Failures are the writes that failed so far.
func (w *steadyWriter) Failures() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.failures)
}

// WaitAcked waits until n more writes than now were acknowledged.
func (w *steadyWriter) WaitAcked(c *Cluster, n int, timeout time.Duration) {
	c.t.Helper()
	base := w.Acked.Len()
	c.Eventually(timeout, fmt.Sprintf("%d more acknowledged writes", n), func() (bool, string) {
		got := w.Acked.Len() - base
		return got >= n, fmt.Sprintf("%d acknowledged, %d failed", got, len(w.Failures()))
	})
}

// CheckNoFailures fails the test if any write failed.
func (w *steadyWriter) CheckNoFailures(c *Cluster, what string) {
	c.t.Helper()
	if f := w.Failures(); len(f) > 0 {
		c.Fatalf("%d of %d writes failed %s, e.g.:\n%s", len(f), w.attempts.Load(), what, strings.Join(f[:min(10, len(f))], "\n"))
	}
}

// merged is the union of maps of acknowledged writes (later maps win).
func merged(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
