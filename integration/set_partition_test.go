package integration

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A set written on both sides of a real partition {node1} | {node2, node3}
// holds the union after the heal, except that a member removed on one side
// after it had been read there stays removed, unless the other side added
// it again concurrently (add wins). A hash field written on both sides
// reads as one of the two values, and the next write of it settles it.
func TestSetUnionAcrossPartition(t *testing.T) {
	n := NewNet(t, 3)
	c := n.NewCluster(3)
	ctx := context.Background()
	lone := redis.NewClient(&redis.Options{Addr: c.Nodes[0].Addr(), MaxRetries: -1, ReadTimeout: 10 * time.Second,
		OnConnect: func(ctx context.Context, cn *redis.Conn) error {
			return cn.Do(ctx, "DYNAGO", "CONSISTENCY", "1", "1").Err()
		}})
	t.Cleanup(func() { lone.Close() })
	pair := c.Admin(c.Nodes[1])
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			c.Fatalf("%s: %v", what, err)
		}
	}
	must("SADD before", pair.SAdd(ctx, "s", "a", "b", "c").Err())
	must("HSET before", pair.HSet(ctx, "h", "f", "v0").Err())
	// Every node holds the set before the cut (W=2 left one copy to come).
	c.Eventually(20*time.Second, "node1's own copy of s", func() (bool, string) {
		got, err := lone.SMembers(ctx, "s").Result()
		slices.Sort(got)
		return err == nil && slices.Equal(got, []string{"a", "b", "c"}), fmt.Sprintf("%v %v", got, err)
	})

	n.Partition([]int{0}, []int{1, 2})
	c.WaitAlive(30*time.Second, c.Nodes[0], false, c.Nodes[1:]...)
	c.WaitAlive(30*time.Second, c.Nodes[1], false, c.Nodes[0])

	// The lone side reads the set, removes a and b, adds x.
	seen, err := lone.SMembers(ctx, "s").Result()
	must("SMEMBERS on the lone side", err)
	slices.Sort(seen)
	if !slices.Equal(seen, []string{"a", "b", "c"}) {
		c.Fatalf("lone side reads %v; want [a b c]", seen)
	}
	if n, err := lone.SRem(ctx, "s", "a", "b").Result(); err != nil || n != 2 {
		c.Fatalf("SREM a b on the lone side = %d, %v", n, err)
	}
	must("SADD x", lone.SAdd(ctx, "s", "x").Err())
	must("HSET lone", lone.HSet(ctx, "h", "f", "v-lone", "g", "lone").Err())
	// The pair adds y and adds b again: a new add the remover never saw.
	must("SADD y b", pair.SAdd(ctx, "s", "y", "b").Err())
	must("HSET pair", pair.HSet(ctx, "h", "f", "v-pair", "k", "pair").Err())

	n.HealAll()
	c.WaitRing(30 * time.Second)
	want := []string{"b", "c", "x", "y"}
	c.Eventually(30*time.Second, "every node's set is {b c x y}", func() (bool, string) {
		for _, p := range c.Nodes {
			got, err := c.Admin(p).SMembers(ctx, "s").Result()
			slices.Sort(got)
			if err != nil || !slices.Equal(got, want) {
				return false, fmt.Sprintf("%s: %v %v", c.Name(p), got, err)
			}
			all, err := c.Admin(p).HGetAll(ctx, "h").Result()
			if err != nil || len(all) != 3 || all["g"] != "lone" || all["k"] != "pair" || (all["f"] != "v-lone" && all["f"] != "v-pair") {
				return false, fmt.Sprintf("%s: HGETALL h = %v %v", c.Name(p), all, err)
			}
		}
		return true, ""
	})
	must("HSET after", pair.HSet(ctx, "h", "f", "settled").Err())
	for _, p := range c.Nodes {
		if got, err := c.Admin(p).HGet(ctx, "h", "f").Result(); err != nil || got != "settled" {
			c.Fatalf("HGET h f on %s = %q, %v after the settling write", c.Name(p), got, err)
		}
	}
}
