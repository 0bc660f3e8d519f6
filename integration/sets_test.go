package integration

// The set commands through go-redis on the real binary: one node, and a
// cluster of three written through every node.

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

func TestSetsSingleNode(t *testing.T) {
	p := NewProc(t)
	p.Start()
	ctx := context.Background()
	c := p.Client()

	if n, err := c.SAdd(ctx, "s", "a", "b", "c", "d").Result(); err != nil || n != 4 {
		t.Fatalf("SADD: %d %v", n, err)
	}
	if n, err := c.SAdd(ctx, "t", "c", "d", "e").Result(); err != nil || n != 3 {
		t.Fatalf("SADD t: %d %v", n, err)
	}
	if n, err := c.SRem(ctx, "s", "a", "zz").Result(); err != nil || n != 1 {
		t.Fatalf("SREM: %d %v", n, err)
	}
	got, err := c.SMembers(ctx, "s").Result()
	if slices.Sort(got); err != nil || !slices.Equal(got, []string{"b", "c", "d"}) {
		t.Fatalf("SMEMBERS: %q %v", got, err)
	}
	if n, err := c.SInterStore(ctx, "both", "s", "t").Result(); err != nil || n != 2 {
		t.Fatalf("SINTERSTORE: %d %v", n, err)
	}
	got, err = c.SMembers(ctx, "both").Result()
	if slices.Sort(got); err != nil || !slices.Equal(got, []string{"c", "d"}) {
		t.Fatalf("SMEMBERS both: %q %v", got, err)
	}
	if n, err := c.SInterStore(ctx, "both", "s", "nope").Result(); err != nil || n != 0 {
		t.Fatalf("empty SINTERSTORE: %d %v", n, err)
	}
	if n, err := c.Exists(ctx, "both").Result(); err != nil || n != 0 {
		t.Fatalf("EXISTS after an empty SINTERSTORE: %d %v", n, err)
	}
	popped, err := c.SPopN(ctx, "t", 2).Result()
	if err != nil || len(popped) != 2 {
		t.Fatalf("SPOP t 2: %q %v", popped, err)
	}
	last, err := c.SPop(ctx, "t").Result()
	if err != nil {
		t.Fatalf("SPOP t: %v", err)
	}
	all := append(popped, last)
	if slices.Sort(all); !slices.Equal(all, []string{"c", "d", "e"}) {
		t.Fatalf("SPOP popped %q", all)
	}
	if n, err := c.Exists(ctx, "t").Result(); err != nil || n != 0 {
		t.Fatalf("EXISTS after popping every member: %d %v", n, err)
	}
	if err := c.Set(ctx, "str", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.SAdd(ctx, "str", "a").Err(); err == nil || err.Error() != "WRONGTYPE Operation against a key holding the wrong kind of value" {
		t.Fatalf("SADD on a string: %v", err)
	}
}

func TestSetsClusterAddsThroughEveryNode(t *testing.T) {
	c := NewCluster(t, 3)
	ctx := context.Background()
	var want []string
	for round := range 10 {
		for i, p := range c.Nodes {
			m := fmt.Sprintf("m-%d-%d", i, round)
			if err := p.Client().SAdd(ctx, "shared", m).Err(); err != nil {
				c.Fatalf("SADD through %s: %v", c.Name(p), err)
			}
			want = append(want, m)
		}
	}
	// A removal through one node removes the adds it saw everywhere.
	if n, err := c.Nodes[1].Client().SRem(ctx, "shared", "m-0-0", "m-2-9").Result(); err != nil || n != 2 {
		c.Fatalf("SREM: %d %v", n, err)
	}
	want = slices.DeleteFunc(want, func(m string) bool { return m == "m-0-0" || m == "m-2-9" })
	slices.Sort(want)
	// Stores and moves across keys that may live on different nodes.
	for i, p := range c.Nodes {
		if err := p.Client().SAdd(ctx, fmt.Sprintf("part%d", i), "x", fmt.Sprint(i)).Err(); err != nil {
			c.Fatalf("SADD part%d: %v", i, err)
		}
	}
	if n, err := c.Nodes[2].Client().SUnionStore(ctx, "union", "part0", "part1", "part2").Result(); err != nil || n != 4 {
		c.Fatalf("SUNIONSTORE: %d %v", n, err)
	}
	if ok, err := c.Nodes[0].Client().SMove(ctx, "part1", "part2", "1").Result(); err != nil || !ok {
		c.Fatalf("SMOVE: %v %v", ok, err)
	}
	for _, p := range c.Nodes {
		cl := p.Client()
		got, err := cl.SMembers(ctx, "shared").Result()
		if slices.Sort(got); err != nil || !slices.Equal(got, want) {
			c.Fatalf("SMEMBERS through %s: %v\n got %q\nwant %q", c.Name(p), err, got, want)
		}
		if n, err := cl.SCard(ctx, "union").Result(); err != nil || n != 4 {
			c.Fatalf("SCARD union through %s: %d %v", c.Name(p), n, err)
		}
		if n, err := cl.SInterCard(ctx, 0, "part1", "part2").Result(); err != nil || n != 1 {
			c.Fatalf("SINTERCARD through %s: %d %v", c.Name(p), n, err)
		}
		moved, err := cl.SMembers(ctx, "part2").Result()
		if slices.Sort(moved); err != nil || !slices.Equal(moved, []string{"1", "2", "x"}) {
			c.Fatalf("SMEMBERS part2 through %s: %q %v", c.Name(p), moved, err)
		}
	}
}
