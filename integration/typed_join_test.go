package integration

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Counters, hashes, sets and sorted sets move with their partitions: after
// a 4th node joins, the hashes it is a home replica of (and the other keys
// of the same index) read whole from it with R=1 (a read asks this node
// first when it is a home replica), and every key reads whole through
// every node.
func TestTypedKeysMoveWithAJoin(t *testing.T) {
	c := NewCluster(t, 3, membershipFlags...)
	ctx := context.Background()
	const n = 40
	for i := range n {
		cl := c.Admin(c.Nodes[i%3])
		pipe := cl.Pipeline()
		pipe.HSet(ctx, fmt.Sprintf("h:%d", i), "a", "1", "b", strconv.Itoa(i))
		pipe.SAdd(ctx, fmt.Sprintf("s:%d", i), "x", "y", strconv.Itoa(i))
		pipe.ZAdd(ctx, fmt.Sprintf("z:%d", i), redis.Z{Score: 1, Member: "one"}, redis.Z{Score: float64(i), Member: "i"})
		for range 3 {
			pipe.IncrBy(ctx, fmt.Sprintf("c:%d", i), 2)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			c.Fatalf("writing the typed keys of %d: %v", i, err)
		}
		for _, p := range c.Nodes[1:] { // and through the other nodes
			if err := c.Admin(p).IncrBy(ctx, fmt.Sprintf("c:%d", i), 1).Err(); err != nil {
				c.Fatalf("INCRBY through %s: %v", c.Name(p), err)
			}
		}
	}

	newcomer := c.AddAlone(membershipFlags...)
	newcomer.Start()
	if err := c.Admin(c.Nodes[0]).ClusterMeet(ctx, "127.0.0.1", strconv.Itoa(newcomer.Port)).Err(); err != nil {
		c.Fatalf("CLUSTER MEET: %v", err)
	}
	watchTransfers(c, "join 3->4 with typed keys", 45*time.Second)

	own := redis.NewClient(&redis.Options{Addr: newcomer.Addr(), MaxRetries: -1,
		OnConnect: func(ctx context.Context, cn *redis.Conn) error {
			return cn.Do(ctx, "DYNAGO", "CONSISTENCY", "1", "1").Err()
		}})
	t.Cleanup(func() { own.Close() })
	homes := 0
	for i := range n {
		check := func(cl *redis.Client, where string) {
			t.Helper()
			h, err := cl.HGetAll(ctx, fmt.Sprintf("h:%d", i)).Result()
			if err != nil || len(h) != 2 || h["a"] != "1" || h["b"] != strconv.Itoa(i) {
				c.Fatalf("HGETALL h:%d %s = %v, %v", i, where, h, err)
			}
			s, err := cl.SMembers(ctx, fmt.Sprintf("s:%d", i)).Result()
			slices.Sort(s)
			want := []string{strconv.Itoa(i), "x", "y"}
			slices.Sort(want)
			if err != nil || !slices.Equal(s, want) {
				c.Fatalf("SMEMBERS s:%d %s = %v, %v", i, where, s, err)
			}
			z, err := cl.ZScore(ctx, fmt.Sprintf("z:%d", i), "i").Result()
			if err != nil || z != float64(i) {
				c.Fatalf("ZSCORE z:%d i %s = %v, %v", i, where, z, err)
			}
			if got, err := cl.Get(ctx, fmt.Sprintf("c:%d", i)).Int(); err != nil || got != 3*2+2 {
				c.Fatalf("GET c:%d %s = %d, %v; want 8", i, where, got, err)
			}
		}
		if slices.Contains(c.HomeReplicas(fmt.Sprintf("h:%d", i)), newcomer) {
			homes++
			check(own, "from the new node's own copy")
		}
		for _, p := range c.Nodes {
			check(c.Admin(p), "through "+c.Name(p))
		}
	}
	if homes == 0 {
		c.Fatalf("the new node is a home replica of none of the %d hashes", n)
	}
	t.Logf("the new node holds %d of the %d hashes as a home replica", homes, n)
}
