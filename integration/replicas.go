package integration

// Probes for membership changes and replica synchronisation: a node's id,
// transfers and anti-entropy rounds awaited through INFO, every node's own
// copy of many keys at once (pipelined DYNAGO LOCAL), and the check that
// every key has its N replicas where the ring says (CLUSTER SLOTS) and
// nowhere else.

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// NodeID is p's node id (INFO cluster node_id), as CLUSTER FORGET takes it.
func (c *Cluster) NodeID(p *Proc) string {
	c.t.Helper()
	id := c.MustInfo(p, "cluster")["node_id"]
	if id == "" {
		c.Fatalf("INFO cluster on %s has no node_id", c.Name(p))
	}
	return id
}

// transfersIdle reports whether the node named name, whose INFO cluster
// and INFO transfers are cl and tr, has no partition pending in its ring
// and no partition left to stream in or hand off, with what it saw.
func transfersIdle(name string, cl, tr map[string]string) (bool, string) {
	if cl["partitions_pending"] != "0" || tr["partitions_to_sync"] != "0" || tr["partitions_to_hand_off"] != "0" {
		return false, fmt.Sprintf("%s: partitions_pending:%s partitions_to_sync:%s partitions_to_hand_off:%s partition_streaming:%s",
			name, cl["partitions_pending"], tr["partitions_to_sync"], tr["partitions_to_hand_off"], tr["partition_streaming"])
	}
	return true, ""
}

// WaitAERounds waits until each node given has run at least n more
// anti-entropy rounds (INFO antientropy rounds) than when it was called.
func (c *Cluster) WaitAERounds(timeout time.Duration, n int64, nodes ...*Proc) {
	c.t.Helper()
	base := map[*Proc]int64{}
	for _, p := range nodes {
		base[p] = c.InfoInt("antientropy", "rounds", p)
	}
	c.Eventually(timeout, fmt.Sprintf("%d more anti-entropy rounds on %d nodes", n, len(nodes)), func() (bool, string) {
		for _, p := range nodes {
			info, err := c.Info(p, "antientropy")
			if err != nil {
				return false, fmt.Sprintf("%s: INFO antientropy: %v", c.Name(p), err)
			}
			r, _ := strconv.ParseInt(info["rounds"], 10, 64)
			if r < base[p]+n {
				return false, fmt.Sprintf("%s: rounds %d, was %d", c.Name(p), r, base[p])
			}
		}
		return true, ""
	})
}

// LocalMany runs DYNAGO LOCAL for every key on p, pipelined: p's own
// copies, in the order of keys.
func (c *Cluster) LocalMany(p *Proc, keys []string) ([]LocalCopy, error) {
	out := make([]LocalCopy, len(keys))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := pipelineEach(ctx, c.Admin(p), keys,
		func(pipe redis.Pipeliner, k string) *redis.Cmd { return pipe.Do(ctx, "DYNAGO", "LOCAL", k) },
		func(i int, cmd *redis.Cmd) error {
			v, err := cmd.Result()
			if err == nil {
				out[i], err = parseLocal(v)
			}
			if err != nil {
				return fmt.Errorf("DYNAGO LOCAL %q on %s: %v", keys[i], c.Name(p), err)
			}
			return nil
		})
	return out, err
}

// MustLocalMany is LocalMany that fails the test on error.
func (c *Cluster) MustLocalMany(p *Proc, keys []string) []LocalCopy {
	c.t.Helper()
	lcs, err := c.LocalMany(p, keys)
	if err != nil {
		c.Fatalf("%v", err)
	}
	return lcs
}

// slotHomes maps each hash slot to the client addresses CLUSTER SLOTS on p
// lists for it (the first live home replica as master, then the others),
// sorted.
func (c *Cluster) slotHomes(p *Proc) ([][]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	slots, err := c.Admin(p).ClusterSlots(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("CLUSTER SLOTS on %s: %v", c.Name(p), err)
	}
	homes := make([][]string, 16384)
	for _, s := range slots {
		var addrs []string
		for _, n := range s.Nodes {
			addrs = append(addrs, n.Addr)
		}
		sort.Strings(addrs)
		for slot := s.Start; slot <= s.End; slot++ {
			homes[slot] = addrs
		}
	}
	for slot, addrs := range homes {
		if addrs == nil {
			return nil, fmt.Errorf("CLUSTER SLOTS on %s covers no range with slot %d", c.Name(p), slot)
		}
	}
	return homes, nil
}

// KeySlots asks p for the hash slot of every key (CLUSTER KEYSLOT, pipelined).
func (c *Cluster) KeySlots(p *Proc, keys []string) []int {
	c.t.Helper()
	out := make([]int, len(keys))
	ctx := context.Background()
	err := pipelineEach(ctx, c.Admin(p), keys,
		func(pipe redis.Pipeliner, k string) *redis.IntCmd { return pipe.ClusterKeySlot(ctx, k) },
		func(i int, cmd *redis.IntCmd) error {
			s, err := cmd.Result()
			if err != nil {
				return fmt.Errorf("CLUSTER KEYSLOT %q on %s: %v", keys[i], c.Name(p), err)
			}
			out[i] = int(s)
			return nil
		})
	if err != nil {
		c.Fatalf("%v", err)
	}
	return out
}

// replicaCheck is one pass of WaitReplicas: what is wrong with the copies
// of keys (sorted) right now, at most 10 examples, and how many copies
// members that are not home replicas still hold.
func (c *Cluster) replicaCheck(keys []string, acked map[string]string, slotOf []int, n int) (problems []string, count, stray int) {
	var want [][]string
	for _, p := range c.Nodes {
		homes, err := c.slotHomes(p)
		if err != nil {
			return []string{err.Error()}, 1, 0
		}
		if want == nil {
			want = homes
		} else if !slices.EqualFunc(want, homes, slices.Equal) {
			return []string{fmt.Sprintf("CLUSTER SLOTS on %s differs from %s's", c.Name(p), c.Name(c.Nodes[0]))}, 1, 0
		}
	}
	copies := map[*Proc][]LocalCopy{}
	for _, p := range c.Nodes {
		lcs, err := c.LocalMany(p, keys)
		if err != nil {
			return []string{err.Error()}, 1, 0
		}
		copies[p] = lcs
	}
	bad := func(format string, args ...any) {
		count++
		if len(problems) < 10 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	for i, k := range keys {
		var homes []string
		for _, p := range c.Nodes {
			lc := copies[p][i]
			if !lc.Replica {
				if lc.Siblings > 0 {
					stray++
					bad("%s on %s, not a home replica of it: %+v", k, c.Name(p), lc)
				}
				continue
			}
			homes = append(homes, p.Addr())
			if len(lc.Values) != 1 || lc.Siblings != 1 || lc.Values[0] != acked[k] {
				bad("home replica %s of %s holds %+v; want only %q", c.Name(p), k, lc, acked[k])
			}
		}
		sort.Strings(homes)
		if len(homes) != n {
			bad("%s has %d home replicas %v; want %d", k, len(homes), homes, n)
		} else if !slices.Equal(homes, want[slotOf[i]]) {
			bad("%s (slot %d): DYNAGO LOCAL says home replicas %v, CLUSTER SLOTS %v", k, slotOf[i], homes, want[slotOf[i]])
		}
	}
	return problems, count, stray
}

// WaitReplicas waits until every key of acked has exactly n home replicas
// among the members (DYNAGO LOCAL replica:1), which are the nodes CLUSTER
// SLOTS lists for the key's slot on every member, each holding the
// acknowledged value as its only sibling in its own copy, and no other
// member holds a copy (whatever a node no longer replicates it hands off
// and deletes). Every member must run. It returns how long it waited.
func (c *Cluster) WaitReplicas(acked map[string]string, n int, timeout time.Duration) time.Duration {
	c.t.Helper()
	start := time.Now()
	keys := make([]string, 0, len(acked))
	for k := range acked {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	slotOf := c.KeySlots(c.Nodes[0], keys)
	passes := 0
	c.Eventually(timeout, fmt.Sprintf("each of %d keys on exactly its %d home replicas", len(keys), n), func() (bool, string) {
		passes++
		problems, count, stray := c.replicaCheck(keys, acked, slotOf, n)
		return count == 0, fmt.Sprintf("%d problems (%d stray copies), e.g.:\n%s", count, stray, strings.Join(problems, "\n"))
	})
	d := time.Since(start)
	c.t.Logf("%d keys each on exactly its %d home replicas (DYNAGO LOCAL on %d nodes, CLUSTER SLOTS agrees) after %v (%d passes)",
		len(keys), n, len(c.Nodes), d.Round(time.Millisecond), passes)
	return d
}
