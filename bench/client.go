package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// NewClient returns a plain (cluster-unaware) go-redis client for addr.
// It speaks RESP2 and skips CLIENT SETINFO, so it needs nothing from the
// server beyond the commands it sends.
func NewClient(addr string, poolSize int) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:                  addr,
		Protocol:              2,
		DisableIdentity:       true,
		DialTimeout:           2 * time.Second,
		ReadTimeout:           10 * time.Second,
		WriteTimeout:          10 * time.Second,
		PoolSize:              poolSize,
		ContextTimeoutEnabled: true,
	})
}

// WaitReady waits until addr answers PING, for at most timeout. p is the
// server's process when the harness started it (nil when attached): if it
// exits meanwhile, the wait ends at once with its log.
func WaitReady(ctx context.Context, addr string, p *Proc, timeout time.Duration) error {
	c := NewClient(addr, 1)
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		if p != nil {
			if ok, _ := p.Exited(); ok {
				return fmt.Errorf("bench: %s exited before answering PING (%s); its log:\n%s",
					p.Name, p.exitError(), indent(p.LogTail(30)))
			}
		}
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		last = c.Ping(pctx).Err()
		pcancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			msg := fmt.Sprintf("bench: %s did not answer PING within %v (last error: %v)", addr, timeout, last)
			if p != nil {
				msg += fmt.Sprintf("; %s log:\n%s", p.Name, indent(p.LogTail(30)))
			}
			return errors.New(msg)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ParseInfo reads "key:value" lines (INFO, CLUSTER INFO).
func ParseInfo(text string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && !strings.HasPrefix(k, "#") {
			m[k] = v
		}
	}
	return m
}

// ErrorReplies is the number of error replies the nodes have sent their
// clients since they started: the sum of their INFO stats
// total_error_replies (redis-server 6.2 and later, dynago).
func ErrorReplies(ctx context.Context, addrs []string) (int64, error) {
	var total int64
	for _, a := range addrs {
		c := NewClient(a, 1)
		text, err := c.Info(ctx, "stats").Result()
		c.Close()
		if err != nil {
			return 0, fmt.Errorf("bench: INFO stats on %s: %w", a, err)
		}
		n, err := strconv.ParseInt(ParseInfo(text)["total_error_replies"], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bench: INFO stats on %s: total_error_replies: %w", a, err)
		}
		total += n
	}
	return total, nil
}

// ClusterReady reports whether a CLUSTER INFO reply shows a healthy
// cluster of the given size.
func ClusterReady(info map[string]string, nodes int) bool {
	return info["cluster_state"] == "ok" && info["cluster_known_nodes"] == strconv.Itoa(nodes)
}

// WaitCluster waits, for at most timeout, until CLUSTER INFO on every addr
// says cluster_state:ok and cluster_known_nodes:nodes. On failure the error
// shows what each node last said and the end of each node's log.
func WaitCluster(ctx context.Context, addrs []string, procs []*Proc, nodes int, timeout time.Duration) error {
	clients := make([]*redis.Client, len(addrs))
	for i, a := range addrs {
		clients[i] = NewClient(a, 1)
		defer clients[i].Close()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := make([]string, len(addrs))
	for {
		for _, p := range procs {
			if ok, _ := p.Exited(); ok {
				return fmt.Errorf("bench: %s exited while the cluster formed (%s)\n%s",
					p.Name, p.exitError(), procLogs(procs))
			}
		}
		ready := 0
		for i, c := range clients {
			qctx, qcancel := context.WithTimeout(ctx, time.Second)
			text, err := c.Do(qctx, "CLUSTER", "INFO").Text()
			qcancel()
			if err != nil {
				last[i] = "error: " + err.Error()
				continue
			}
			info := ParseInfo(text)
			last[i] = fmt.Sprintf("cluster_state:%s cluster_known_nodes:%s", info["cluster_state"], info["cluster_known_nodes"])
			if ClusterReady(info, nodes) {
				ready++
			}
		}
		if ready == len(clients) {
			return nil
		}
		select {
		case <-ctx.Done():
			var b strings.Builder
			fmt.Fprintf(&b, "bench: the cluster did not reach cluster_state:ok with cluster_known_nodes:%d within %v; CLUSTER INFO said:\n", nodes, timeout)
			for i, a := range addrs {
				fmt.Fprintf(&b, "  %s: %s\n", a, last[i])
			}
			b.WriteString(procLogs(procs))
			return errors.New(b.String())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func procLogs(procs []*Proc) string {
	var b strings.Builder
	for _, p := range procs {
		fmt.Fprintf(&b, "--- %s (pid %d, %s), %s:\n%s\n", p.Name, p.PID(), p.exitError(), p.LogPath, indent(p.LogTail(20)))
	}
	return b.String()
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }

// KeyName is redis-benchmark's key for index i: its -r option replaces
// "__rand_int__" in "key:__rand_int__" (or "key:{tag}:__rand_int__" with
// --cluster) with a 12-digit zero-padded number.
func KeyName(prefix string, i int64) string {
	return fmt.Sprintf("%s%012d", prefix, i)
}

// KeySet is the keys prefix+000000000000 … for each prefix, indexes
// [From, To), every Step-th of them (From, From+Step, …; Step 0 or 1:
// every index).
type KeySet struct {
	Prefixes []string // "key:" for plain redis-benchmark runs
	From, To int64
	Step     int64
}

func (ks KeySet) step() int64 { return max(ks.Step, 1) }

// perPrefix is the number of indexes in [From, To) the set takes.
func (ks KeySet) perPrefix() int64 {
	if ks.To <= ks.From {
		return 0
	}
	return (ks.To - ks.From + ks.step() - 1) / ks.step()
}

// Len is the number of keys in the set.
func (ks KeySet) Len() int64 { return int64(len(ks.Prefixes)) * ks.perPrefix() }

// key returns the set's i-th key, prefix by prefix.
func (ks KeySet) key(i int64) string {
	n := ks.perPrefix()
	return KeyName(ks.Prefixes[i/n], ks.From+i%n*ks.step())
}

// Keys lists the set's keys in order.
func (ks KeySet) Keys() []string {
	out := make([]string, ks.Len())
	for i := range out {
		out[i] = ks.key(int64(i))
	}
	return out
}

// LoadStats is what a Load wrote.
type LoadStats struct {
	Keys    int64
	Bytes   int64 // keys plus values: the raw data
	Elapsed time.Duration
}

// Rate is keys written per second.
func (s LoadStats) Rate() float64 { return float64(s.Keys) / s.Elapsed.Seconds() }

// Load writes every key of ks with a valueSize-byte value, through workers
// connections spread round-robin over addrs (any dynago node accepts any
// key), each sending pipelines of batch SETs. Values are drawn from 64
// symbols, as redis-benchmark's are, so they compress about as much as the
// benchmark's own. Every reply is checked. progress, if not nil, is called
// after each batch with the number of keys written so far.
func Load(ctx context.Context, addrs []string, ks KeySet, valueSize, workers, batch int, progress func(int64)) (LoadStats, error) {
	total := ks.Len()
	var next, done atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := NewClient(addrs[w%len(addrs)], 1)
			defer c.Close()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for ctx.Err() == nil {
				lo := next.Add(int64(batch)) - int64(batch)
				if lo >= total {
					return
				}
				hi := min(lo+int64(batch), total)
				pipe := c.Pipeline()
				for i := lo; i < hi; i++ {
					v := make([]byte, valueSize)
					for j := range v {
						v[j] = '0' + byte(rng.IntN(64))
					}
					pipe.Set(ctx, ks.key(i), v, 0)
				}
				cmds, err := pipe.Exec(ctx)
				if err != nil {
					for _, cmd := range cmds {
						if cmd.Err() != nil {
							err = fmt.Errorf("%v: %w", cmd.Args(), cmd.Err())
							break
						}
					}
					errs[w] = fmt.Errorf("bench: load via %s: %w", addrs[w%len(addrs)], err)
					return
				}
				d := done.Add(hi - lo)
				if progress != nil {
					progress(d)
				}
			}
		}()
	}
	wg.Wait()
	st := LoadStats{Keys: done.Load(), Elapsed: time.Since(start)}
	st.Bytes = st.Keys * int64(len(ks.key(0))+valueSize)
	if err := errors.Join(errs...); err != nil {
		return st, err
	}
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("bench: load cut short after %d of %d keys: %w", st.Keys, total, err)
	}
	return st, nil
}

// CheckKeys reads back a few keys of ks (first, last and some between) at
// addr and checks that each holds a valueSize-byte value: a GET benchmark
// over missing keys would measure misses.
func CheckKeys(ctx context.Context, addr string, ks KeySet, valueSize int) error {
	c := NewClient(addr, 1)
	defer c.Close()
	n := ks.Len()
	for _, i := range []int64{0, n / 3, n / 2, n - 1} {
		k := ks.key(i)
		v, err := c.Get(ctx, k).Result()
		if err != nil {
			return fmt.Errorf("bench: GET %s at %s after the preload: %w", k, addr, err)
		}
		if len(v) != valueSize {
			return fmt.Errorf("bench: GET %s at %s after the preload: %d bytes, want %d", k, addr, len(v), valueSize)
		}
	}
	return nil
}
