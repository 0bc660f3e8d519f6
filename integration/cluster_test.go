package integration

// Cluster tests of issue 3 with real processes on loopback: the ring, kill
// -9 under a steady writer, sloppy quorum with two home replicas down,
// quorum errors and paused nodes, siblings across coordinators, read
// repair, cluster clients and twemproxy. Every test ends by reading back
// every write the cluster acknowledged: none may be lost.

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// clusterNodesView is CLUSTER NODES as p sees it, reduced to what every
// node must agree on: per node its id, address, role and slots (the
// myself flag and the ping/pong times are p's own).
func clusterNodesView(t *testing.T, c *Cluster, p *Proc) []string {
	t.Helper()
	text, err := c.Admin(p).ClusterNodes(context.Background()).Result()
	if err != nil {
		c.Fatalf("CLUSTER NODES on %s: %v", c.Name(p), err)
	}
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			c.Fatalf("CLUSTER NODES on %s: short line %q", c.Name(p), line)
		}
		flags := strings.TrimPrefix(f[2], "myself,")
		lines = append(lines, strings.Join(append([]string{f[0], f[1], flags, f[3], f[6], f[7]}, f[8:]...), " "))
	}
	sort.Strings(lines)
	return lines
}

// dynagoRingView is DYNAGO RING as p sees it without p's own fields
// (myid, the myself flags).
func dynagoRingView(t *testing.T, c *Cluster, p *Proc) string {
	t.Helper()
	v, err := c.Admin(p).Do(context.Background(), "DYNAGO", "RING").Result()
	if err != nil {
		c.Fatalf("DYNAGO RING on %s: %v", c.Name(p), err)
	}
	m, err := asMap(v)
	if err != nil {
		c.Fatalf("DYNAGO RING on %s: %v", c.Name(p), err)
	}
	delete(m, "myid")
	nodes, _ := m["nodes"].([]any)
	var views []string
	for _, n := range nodes {
		nm, err := asMap(n)
		if err != nil {
			c.Fatalf("DYNAGO RING node on %s: %v", c.Name(p), err)
		}
		delete(nm, "myself")
		views = append(views, fmt.Sprint(nm))
	}
	sort.Strings(views)
	m["nodes"] = views
	if len(views) == 0 {
		c.Fatalf("DYNAGO RING on %s lists no nodes: %v", c.Name(p), v)
	}
	return fmt.Sprint(m)
}

// 1. Three nodes joined with --join agree on the ring in every view, and a
// write at any node reads at any other, through go-redis and redis-cli.
func TestClusterJoinSameRingReadAnywhere(t *testing.T) {
	c := NewCluster(t, 3)
	ctx := context.Background()

	first := c.Nodes[0]
	wantNodes := clusterNodesView(t, c, first)
	wantRing := dynagoRingView(t, c, first)
	wantSlots, err := c.Admin(first).ClusterSlots(ctx).Result()
	if err != nil {
		c.Fatalf("CLUSTER SLOTS: %v", err)
	}
	wantEpoch := c.MustInfo(first, "cluster")["ring_epoch"]
	if len(wantNodes) != 3 {
		c.Fatalf("CLUSTER NODES on node1 lists %d nodes:\n%s", len(wantNodes), strings.Join(wantNodes, "\n"))
	}
	for _, p := range c.Nodes[1:] {
		if got := clusterNodesView(t, c, p); !slices.Equal(got, wantNodes) {
			c.Fatalf("CLUSTER NODES differ:\nnode1:\n%s\n%s:\n%s", strings.Join(wantNodes, "\n"), c.Name(p), strings.Join(got, "\n"))
		}
		if got := dynagoRingView(t, c, p); got != wantRing {
			c.Fatalf("DYNAGO RING differs:\nnode1: %s\n%s: %s", wantRing, c.Name(p), got)
		}
		slots, err := c.Admin(p).ClusterSlots(ctx).Result()
		if err != nil || !reflect.DeepEqual(slots, wantSlots) {
			c.Fatalf("CLUSTER SLOTS on %s = %v, %v; node1 says %v", c.Name(p), slots, err, wantSlots)
		}
		if epoch := c.MustInfo(p, "cluster")["ring_epoch"]; epoch != wantEpoch {
			c.Fatalf("ring_epoch on %s is %s, on node1 %s", c.Name(p), epoch, wantEpoch)
		}
	}
	info := c.MustInfo(first, "cluster")
	if info["ring_members"] != "3" || info["cluster_enabled"] != "1" {
		c.Fatalf("INFO cluster: %v", info)
	}
	ci, err := c.Admin(first).ClusterInfo(ctx).Result()
	if err != nil || !strings.Contains(ci, "cluster_state:ok") || !strings.Contains(ci, "cluster_known_nodes:3") {
		c.Fatalf("CLUSTER INFO = %q, %v", ci, err)
	}

	// go-redis: keys written at each node, read at every node.
	acked := NewAcked()
	for i, p := range c.Nodes {
		cl := p.Client()
		for j := 0; j < 100; j++ {
			k, v := fmt.Sprintf("join:%d:%d", i, j), fmt.Sprintf("v%d-%d", i, j)
			if err := cl.Set(ctx, k, v, 0).Err(); err != nil {
				c.Fatalf("SET %s at %s: %v", k, c.Name(p), err)
			}
			acked.Put(k, v)
		}
	}
	// redis-cli: a write at node i reads at every other node.
	for i, p := range c.Nodes {
		k, v := fmt.Sprintf("cli:%d", i), fmt.Sprintf("from-%s", c.Name(p))
		if out := redisCli(t, p, "SET", k, v); out != "OK" {
			c.Fatalf("redis-cli SET %s at %s: %q", k, c.Name(p), out)
		}
		acked.Put(k, v)
		for _, q := range c.Others(p) {
			if out := redisCli(t, q, "GET", k); out != v {
				c.Fatalf("redis-cli GET %s at %s = %q; written at %s as %q", k, c.Name(q), out, c.Name(p), v)
			}
		}
	}
	c.CheckAcked(acked.Snapshot(), c.Nodes...)
}
