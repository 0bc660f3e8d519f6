package integration

// Sorted sets through the real binary and go-redis (which speaks RESP3):
// the common commands on one node, and ZINCRBY as a counter in a cluster,
// where increments of one member sent through every node at once must all
// count.

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestZSetSingleNode(t *testing.T) {
	p := NewProc(t)
	p.Start()
	ctx := context.Background()
	c := p.Client()

	if n, err := c.ZAdd(ctx, "z", redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2.5, Member: "b"}, redis.Z{Score: 3, Member: "c"}).Result(); err != nil || n != 3 {
		t.Fatalf("ZADD: %d, %v", n, err)
	}
	if n, err := c.ZAddArgs(ctx, "z", redis.ZAddArgs{GT: true, Ch: true, Members: []redis.Z{{Score: 0, Member: "a"}, {Score: 4, Member: "c"}}}).Result(); err != nil || n != 1 {
		t.Fatalf("ZADD GT CH: %d, %v", n, err)
	}
	if f, err := c.ZIncrBy(ctx, "z", 0.25, "a").Result(); err != nil || f != 1.25 {
		t.Fatalf("ZINCRBY: %v, %v", f, err)
	}
	if f, err := c.ZIncrBy(ctx, "z", 2, "new").Result(); err != nil || f != 2 {
		t.Fatalf("ZINCRBY of a new member: %v, %v", f, err)
	}
	want := []redis.Z{{Score: 1.25, Member: "a"}, {Score: 2, Member: "new"}, {Score: 2.5, Member: "b"}, {Score: 4, Member: "c"}}
	if got, err := c.ZRangeWithScores(ctx, "z", 0, -1).Result(); err != nil || !slices.Equal(got, want) {
		t.Fatalf("ZRANGE WITHSCORES: %v, %v; want %v", got, err, want)
	}
	if got, err := c.ZRangeByScore(ctx, "z", &redis.ZRangeBy{Min: "(1.25", Max: "+inf", Offset: 1, Count: 1}).Result(); err != nil || !slices.Equal(got, []string{"b"}) {
		t.Fatalf("ZRANGEBYSCORE LIMIT: %v, %v", got, err)
	}
	if got, err := c.ZPopMin(ctx, "z").Result(); err != nil || !slices.Equal(got, want[:1]) {
		t.Fatalf("ZPOPMIN: %v, %v", got, err)
	}
	if got, err := c.ZPopMin(ctx, "z", 2).Result(); err != nil || !slices.Equal(got, want[1:3]) {
		t.Fatalf("ZPOPMIN 2: %v, %v", got, err)
	}
	if n, err := c.ZCard(ctx, "z").Result(); err != nil || n != 1 {
		t.Fatalf("ZCARD after the pops: %d, %v", n, err)
	}
	if f, err := c.ZScore(ctx, "z", "c").Result(); err != nil || f != 4 {
		t.Fatalf("ZSCORE: %v, %v", f, err)
	}
}

// ZINCRBY is a counter: 3 clients, one per node, each add 1 to the same
// member 50 times concurrently, and every node then reads 150.
func TestZSetClusterIncrementsAddUp(t *testing.T) {
	c := NewCluster(t, 3)
	ctx := context.Background()
	const perNode = 50
	var wg sync.WaitGroup
	errs := make(chan error, len(c.Nodes))
	for _, p := range c.Nodes {
		cl := p.Client()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perNode {
				if err := cl.ZIncrBy(ctx, "board", 1, "player").Err(); err != nil {
					errs <- fmt.Errorf("ZINCRBY %d through %s: %w", i, c.Name(p), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		c.Fatalf("%v", err)
	}
	want := float64(perNode * len(c.Nodes))
	for _, p := range c.Nodes {
		c.Eventually(10*time.Second, "ZSCORE board player on "+c.Name(p), func() (bool, string) {
			f, err := c.Admin(p).ZScore(ctx, "board", "player").Result()
			return err == nil && f == want, strconv.FormatFloat(f, 'g', -1, 64) + fmt.Sprint(" ", err)
		})
	}
}
