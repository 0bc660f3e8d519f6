package resp

// Real cluster clients against test servers on loopback (docs/architecture.md §5): a
// "cluster" of three resp.Servers over one shared in-memory store, each
// with a fake ClusterBackend describing the same ring from its own side.
// go-redis decodes CLUSTER SLOTS/SHARDS/NODES and its ClusterClient routes
// every key to the master CLUSTER SLOTS names (or, read-only, to a replica)
// without a redirect; redis-cli --cluster check, redis-cli -c and
// redis-benchmark --cluster accept the cluster.

import (
	"context"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dynago/dynago/ring"
)

// testCluster is len(addrs) servers sharing one store, every request
// logged by the server that handled it.
type testCluster struct {
	addrs []string
	ids   []string
	views []ClusterView
	log   *routeLog
}

// startTestCluster starts n servers whose views cut the slots into q
// ranges replicated 3 ways (rotatingView).
func startTestCluster(t *testing.T, n, q int) *testCluster {
	t.Helper()
	clock := newTestClock()
	store := newMemBackend(clock, DefaultMaxValueBytes)
	tc := &testCluster{log: &routeLog{}}
	var lns []net.Listener
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		tc.addrs = append(tc.addrs, ln.Addr().String())
		tc.ids = append(tc.ids, strings.Repeat(strconv.FormatInt(int64(10+i), 16), 40))
	}
	for i, ln := range lns {
		cfg := testConfig(clock)
		cfg.Addr = tc.addrs[i]
		cfg.NodeID = tc.ids[i]
		s, err := New(cfg, &spyBackend{memBackend: store, server: i, seen: tc.log})
		if err != nil {
			t.Fatal(err)
		}
		v := rotatingView(tc.addrs, tc.ids, q, min(3, n), i)
		tc.views = append(tc.views, v)
		s.EnableCluster(&fakeCluster{view: v})
		done := make(chan error, 1)
		go func() { done <- s.Serve(ln) }()
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.Shutdown(ctx); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	return tc
}

// replicas returns the server indexes of the key's range, master first.
func (tc *testCluster) replicas(key string) []int {
	slot := ring.Slot([]byte(key))
	for _, r := range tc.views[0].Ranges {
		if r.Start <= slot && slot <= r.End {
			var out []int
			for _, id := range r.Replicas {
				out = append(out, slices.Index(tc.ids, id))
			}
			return out
		}
	}
	return nil
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestGoRedisClusterCommands decodes every cluster reply with go-redis's
// own parsers, in RESP2 and RESP3.
func TestGoRedisClusterCommands(t *testing.T) {
	tc := startTestCluster(t, 3, 16)
	ctx := testCtx(t)
	for _, proto := range []int{2, 3} {
		rdb := redis.NewClient(&redis.Options{Addr: tc.addrs[1], Protocol: proto, DialTimeout: 5 * time.Second,
			ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
		defer rdb.Close()

		slots, err := rdb.ClusterSlots(ctx).Result()
		if err != nil {
			t.Fatalf("RESP%d CLUSTER SLOTS: %v", proto, err)
		}
		if len(slots) != 16 {
			t.Fatalf("RESP%d CLUSTER SLOTS: %d ranges", proto, len(slots))
		}
		for i, s := range slots {
			r := tc.views[1].Ranges[i]
			if s.Start != int(r.Start) || s.End != int(r.End) || len(s.Nodes) != 3 {
				t.Fatalf("RESP%d range %d: %+v", proto, i, s)
			}
			for j, n := range s.Nodes {
				k := slices.Index(tc.ids, r.Replicas[j])
				if n.ID != tc.ids[k] || n.Addr != tc.addrs[k] || len(n.NetworkingMetadata) != 0 {
					t.Errorf("RESP%d range %d node %d: %+v", proto, i, j, n)
				}
			}
		}

		shards, err := rdb.ClusterShards(ctx).Result()
		if err != nil || len(shards) != 3 { // 16 ranges, 3 distinct replica lists
			t.Fatalf("RESP%d CLUSTER SHARDS: %d %v", proto, len(shards), err)
		}
		for _, sh := range shards {
			if len(sh.Slots) == 0 || len(sh.Nodes) != 3 || sh.Nodes[0].Role != "master" || sh.Nodes[1].Role != "replica" ||
				sh.Nodes[0].Health != "online" || sh.Nodes[0].IP != "127.0.0.1" || sh.Nodes[0].Port == 0 {
				t.Errorf("RESP%d shard %+v", proto, sh)
			}
		}

		nodes, err := rdb.ClusterNodes(ctx).Result()
		if err != nil || strings.Count(nodes, "\n") != 3 || !strings.Contains(nodes, tc.ids[1]+" "+tc.addrs[1]+"@") {
			t.Errorf("RESP%d CLUSTER NODES: %q %v", proto, nodes, err)
		}
		if info, err := rdb.ClusterInfo(ctx).Result(); err != nil || !strings.HasPrefix(info, "cluster_state:ok\r\n") {
			t.Errorf("RESP%d CLUSTER INFO: %q %v", proto, info, err)
		}
		if id, err := rdb.ClusterMyID(ctx).Result(); err != nil || id != tc.ids[1] {
			t.Errorf("RESP%d CLUSTER MYID: %q %v", proto, id, err)
		}
		if id, err := rdb.ClusterMyShardID(ctx).Result(); err != nil || len(id) != 40 {
			t.Errorf("RESP%d CLUSTER MYSHARDID: %q %v", proto, id, err)
		}
		if slot, err := rdb.ClusterKeySlot(ctx, "{user1}.cart").Result(); err != nil || slot != 8106 {
			t.Errorf("RESP%d CLUSTER KEYSLOT: %d %v", proto, slot, err)
		}
		if err := rdb.ReadOnly(ctx).Err(); err != nil {
			t.Errorf("RESP%d READONLY: %v", proto, err)
		}
		if err := rdb.ReadWrite(ctx).Err(); err != nil {
			t.Errorf("RESP%d READWRITE: %v", proto, err)
		}
		if err := rdb.ClusterAddSlots(ctx, 1).Err(); err == nil || !strings.Contains(err.Error(), "not supported by dynago") {
			t.Errorf("RESP%d CLUSTER ADDSLOTS: %v", proto, err)
		}
		info, err := rdb.Command(ctx).Result()
		if err != nil {
			t.Fatalf("RESP%d COMMAND: %v", proto, err)
		}
		for _, name := range []string{"cluster", "dynago", "readonly", "readwrite", "asking"} {
			if ci := info[name]; ci == nil || ci.FirstKeyPos != 0 || ci.ReadOnly {
				t.Errorf("RESP%d COMMAND %s: %+v", proto, name, ci)
			}
		}
	}
}

// TestGoRedisClusterClient: a ClusterClient seeded with one node learns
// the other two from CLUSTER SLOTS and sends every key straight to the
// master of its slot (or, with ReadOnly, reads to a replica, or with
// RouteRandomly to any of the range's nodes), with no redirect.
func TestGoRedisClusterClient(t *testing.T) {
	tc := startTestCluster(t, 3, 64)
	ctx := testCtx(t)
	keys := make([]string, 300)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i)
	}
	for _, mode := range []struct {
		name                    string
		proto                   int
		readOnly, routeRandomly bool
	}{
		{"resp3", 3, false, false},
		{"resp2", 2, false, false},
		{"readonly", 3, true, false},
		{"random", 3, true, true},
	} {
		t.Run(mode.name, func(t *testing.T) {
			cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{tc.addrs[0]}, Protocol: mode.proto,
				ReadOnly: mode.readOnly, RouteRandomly: mode.routeRandomly, MaxRedirects: -1,
				DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
			defer cc.Close()
			for _, k := range keys {
				k := mode.name + ":" + k
				if err := cc.Set(ctx, k, "v-"+k, 0).Err(); err != nil {
					t.Fatalf("SET %s: %v", k, err)
				}
				if v, err := cc.Get(ctx, k).Result(); err != nil || v != "v-"+k {
					t.Fatalf("GET %s: %q %v", k, v, err)
				}
			}
			// Pipelines are split by node the same way.
			pipe := cc.Pipeline()
			for _, k := range keys[:50] {
				pipe.Get(ctx, mode.name+":"+k)
			}
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatalf("pipeline: %v", err)
			}
			for _, k := range keys {
				k := mode.name + ":" + k
				want := tc.replicas(k)
				writes := tc.serversFor("write", k)
				if len(writes) != 1 || writes[0] != want[0] {
					t.Fatalf("SET %s went to %v, master is %d", k, writes, want[0])
				}
				for _, g := range tc.serversFor("get", k) {
					switch {
					case mode.routeRandomly:
						if !slices.Contains(want, g) {
							t.Fatalf("GET %s went to %d, not a replica of %v", k, g, want)
						}
					case mode.readOnly:
						if !slices.Contains(want[1:], g) {
							t.Fatalf("read-only GET %s went to %d, replicas are %v", k, g, want[1:])
						}
					case g != want[0]:
						t.Fatalf("GET %s went to %d, master is %d", k, g, want[0])
					}
				}
			}
		})
	}
}

// serversFor returns the servers that handled op on key.
func (tc *testCluster) serversFor(op, key string) []int { return tc.log.servers(op, key) }

// requireTool skips without the Redis command-line tools, except in CI.
func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI (apt-get install redis-tools)", name)
		}
		t.Skipf("%s not installed", name)
	}
}

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// TestRedisCLICluster: redis-cli --cluster check parses CLUSTER NODES of
// every node and finds them agreeing and covering all slots; redis-cli -c
// reads and writes through any node.
func TestRedisCLICluster(t *testing.T) {
	requireTool(t, "redis-cli")
	tc := startTestCluster(t, 3, 64)
	host, port, _ := net.SplitHostPort(tc.addrs[2])
	out := runTool(t, "redis-cli", "--cluster", "check", tc.addrs[2])
	for _, want := range []string{"[OK] All nodes agree about slots configuration.", "[OK] All 16384 slots covered.", tc.addrs[0], tc.addrs[1]} {
		if !strings.Contains(out, want) {
			t.Errorf("redis-cli --cluster check lacks %q:\n%s", want, out)
		}
	}
	t.Logf("redis-cli --cluster check:\n%s", out)
	if strings.Contains(out, "[ERR]") || strings.Contains(out, "[WARNING]") {
		t.Errorf("redis-cli --cluster check:\n%s", out)
	}
	if got := runTool(t, "redis-cli", "-c", "-h", host, "-p", port, "SET", "{user1}.cart", "3"); strings.TrimSpace(got) != "OK" {
		t.Errorf("redis-cli -c SET: %s", got)
	}
	if got := runTool(t, "redis-cli", "-c", "-h", host, "-p", port, "GET", "{user1}.cart"); strings.TrimSpace(got) != "3" {
		t.Errorf("redis-cli -c GET: %s", got)
	}
}

// TestRedisBenchmarkCluster: redis-benchmark --cluster reads the masters
// and their slots from CLUSTER NODES and runs against each with keys of
// its slots; every request succeeds.
func TestRedisBenchmarkCluster(t *testing.T) {
	requireTool(t, "redis-benchmark")
	tc := startTestCluster(t, 3, 64)
	host, port, _ := net.SplitHostPort(tc.addrs[0])
	out := runTool(t, "redis-benchmark", "--cluster", "-h", host, "-p", port, "-t", "set,get", "-n", "3000", "-c", "6", "-P", "4", "-q")
	if !strings.Contains(out, "Cluster has 3 master nodes") || !strings.Contains(out, "SET: ") || !strings.Contains(out, "GET: ") ||
		strings.Contains(out, "ERR") || strings.Contains(out, "MOVED") || strings.Contains(out, "WARNING") {
		t.Errorf("redis-benchmark --cluster:\n%s", out)
	}
	// Every master got some of the keys.
	tc.log.mu.Lock()
	per := make([]int, len(tc.addrs))
	for k, servers := range tc.log.seen {
		if strings.HasPrefix(k, "write ") {
			for _, s := range servers {
				per[s]++
			}
		}
	}
	tc.log.mu.Unlock()
	for i, n := range per {
		if n == 0 {
			t.Errorf("server %d got no writes: %v", i, per)
		}
	}
}
