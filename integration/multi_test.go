package integration

// MULTI/EXEC/WATCH: replies compared with a stock redis-server through one
// redis-cli session per protocol, the WATCH-based optimistic increment of
// Redis's documentation run by several clients through different nodes,
// and the writes of one EXEC on every replica afterwards.

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// multiSession is one connection's commands. Every key shares the {t}
// hash tag: dynago refuses a transaction across slots (CROSSSLOT), the
// stock standalone server does not.
var multiSession = []string{
	"EXEC", "DISCARD", "UNWATCH",
	"MULTI", "MULTI", "WATCH {t}a",
	"SET {t}a 1", "INCR {t}a", "HSET {t}a f v", "GET {t}a", "PING", "EXEC", "EXEC",
	"MULTI", "EXEC",
	"MULTI", "SET {t}a", "NOSUCHCMD x", "SET {t}a 3", "EXEC", "GET {t}a",
	"MULTI", "SET {t}a 4", "DISCARD", "GET {t}a",
	"SET {t}w 1", "WATCH {t}w", "SET {t}w 2", "MULTI", "SET {t}w 3", "EXEC", "GET {t}w",
	"WATCH {t}w", "MULTI", "SET {t}w 3", "MSET {t}x 1 {t}y 2", "EXEC", "MGET {t}w {t}x {t}y",
	"WATCH {t}w {t}nokey", "UNWATCH", "SET {t}w 5", "MULTI", "GET {t}w", "EXEC",
	"WATCH {t}w", "MULTI", "DISCARD", "SET {t}w 6", "MULTI", "GET {t}w", "EXEC",
	"WATCH", "MULTI", "WATCH", "EXEC",
}

func TestMultiRepliesMatchRedisServer(t *testing.T) {
	p := NewProc(t)
	p.Start()
	compareMultiSession(t, startRedisServer(t), p.Port)
}

func TestMultiRepliesMatchRedisServerInACluster(t *testing.T) {
	c := NewCluster(t, 3)
	compareMultiSession(t, startRedisServer(t), c.Nodes[1].Port)
}

// compareMultiSession feeds multiSession to one redis-cli per server and
// protocol, on keys not used before, and compares the outputs line by line.
func compareMultiSession(t *testing.T, redisPort, port int) {
	t.Helper()
	cli := RequireTool(t, "redis-cli")
	for _, proto := range []string{"-2", "-3"} {
		// Keys of their own per protocol instead of a FLUSHALL, which takes
		// seconds in a cluster.
		script := strings.ReplaceAll(strings.Join(multiSession, "\n")+"\n", "{t}", "{t"+proto+"}")
		run := func(port int) []string {
			cmd := exec.Command(cli, proto, "--no-raw", "-h", "127.0.0.1", "-p", fmt.Sprint(port))
			cmd.Stdin = strings.NewReader(script)
			out, _ := cmd.CombinedOutput()
			return strings.Split(strings.TrimRight(string(out), "\n"), "\n")
		}
		want, got := run(redisPort), run(port)
		if len(want) < len(multiSession) {
			t.Fatalf("redis-server answered %d lines for %d commands:\n%s", len(want), len(multiSession), strings.Join(want, "\n"))
		}
		for i := range max(len(want), len(got)) {
			w, g := "", ""
			if i < len(want) {
				w = want[i]
			}
			if i < len(got) {
				g = got[i]
			}
			if w != g {
				t.Errorf("redis-cli %s, output line %d:\ndynago:       %s\nredis-server: %s", proto, i+1, g, w)
			}
		}
	}
}

// Redis's optimistic-locking example (WATCH, GET, MULTI, SET, EXEC): each
// client sends its transactions through another node of the cluster, and
// the final value counts every EXEC that succeeded exactly once. The
// slot's transaction lock (one node keeps it) orders the EXECs, and the
// watch check's quorum read sees the previous EXEC's acknowledged write.
func TestMultiOptimisticIncrementAcrossNodes(t *testing.T) {
	c := NewCluster(t, 3)
	const key, clients, each = "{opt}counter", 5, 10
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		succeeded int
		aborted   int
		errs      []error
	)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Plain clients, one per node, and a cluster client, which
			// sends the slot's transactions to its master.
			var rc redis.UniversalClient = c.Nodes[i%len(c.Nodes)].Client()
			if i == clients-1 {
				var addrs []string
				for _, p := range c.Nodes {
					addrs = append(addrs, p.Addr())
				}
				cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
				defer cc.Close()
				rc = cc
			}
			ok, ab := 0, 0
			for ok < each && ctx.Err() == nil {
				err := rc.Watch(ctx, func(tx *redis.Tx) error {
					n, err := tx.Get(ctx, key).Int()
					if err != nil && !errors.Is(err, redis.Nil) {
						return err
					}
					_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.Set(ctx, key, n+1, 0)
						return nil
					})
					return err
				}, key)
				switch {
				case err == nil:
					ok++
				case errors.Is(err, redis.TxFailedErr):
					ab++
				default:
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
			mu.Lock()
			succeeded, aborted = succeeded+ok, aborted+ab
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("transaction errors: %v", errs)
	}
	got, err := c.Nodes[2].Client().Get(ctx, key).Int()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d EXECs succeeded, %d aborted by WATCH", succeeded, aborted)
	if succeeded != clients*each || got != succeeded {
		t.Fatalf("counter = %d after %d successful EXECs (want %d): updates lost", got, succeeded, clients*each)
	}
}

// The writes of one EXEC reach every home replica together (one batch per
// replica), and a cross-slot transaction is refused.
func TestMultiExecReachesReplicas(t *testing.T) {
	c := NewCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rc := c.Nodes[0].Client()
	keys := []string{"{rep}a", "{rep}b", "{rep}c"}
	cmds, err := rc.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, keys[0], "1", 0)
		p.Set(ctx, keys[1], "2", 0)
		p.Incr(ctx, keys[2])
		return nil
	})
	if err != nil || len(cmds) != 3 {
		t.Fatalf("EXEC: %v (%d replies)", err, len(cmds))
	}
	want := []string{"1", "2", "1"}
	for _, p := range c.HomeReplicas(keys[0]) {
		c.Eventually(10*time.Second, "EXEC's writes on "+c.Name(p), func() (bool, string) {
			var got []string
			for _, k := range keys {
				lc, err := c.Local(p, k)
				if err != nil {
					return false, err.Error()
				}
				got = append(got, strings.Join(lc.Live, ","))
			}
			// A replica receives the EXEC's writes in one batch: all or
			// none of them.
			if none := fmt.Sprint(make([]string, len(keys))); fmt.Sprint(got) != none && fmt.Sprint(got) != fmt.Sprint(want) {
				c.Fatalf("%s holds part of the EXEC: %q", c.Name(p), got)
			}
			return fmt.Sprint(got) == fmt.Sprint(want), fmt.Sprint(got)
		})
	}
	_, err = rc.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "a", "1", 0)
		p.Set(ctx, "b", "1", 0)
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Fatalf("cross-slot EXEC: %v, want CROSSSLOT", err)
	}
}
