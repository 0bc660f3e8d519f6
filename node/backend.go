package node

import (
	"context"
	"fmt"
	"strconv"

	"github.com/dynago/dynago/coordinator"
	"github.com/dynago/dynago/engine"
	"github.com/dynago/dynago/resp"
)

// backend adapts the coordinator to resp.Backend. The coordinator serves
// every data command; INFO's sections are assembled here so that neither the
// coordinator nor the engine imports resp.
type backend struct {
	*coordinator.Coordinator
	n *Node
}

var (
	_ resp.Backend     = (*backend)(nil)
	_ resp.Publisher   = (*backend)(nil) // the coordinator broadcasts PUBLISH
	_ resp.MemoryLimit = (*backend)(nil)
)

// ExpiredKeys counts the keys whose expired values this node's sweep
// reclaimed (INFO expired_keys).
func (b *backend) ExpiredKeys() int64 { return b.n.eng.ExpiredKeys() }

// Info returns the keyspace, persistence, replication and hints sections.
func (b *backend) Info(ctx context.Context) []resp.InfoSection {
	ks := resp.InfoSection{Name: "Keyspace"}
	if keys, expires, err := b.Keyspace(ctx); err == nil && keys > 0 {
		ks.Fields = append(ks.Fields, field("db0", fmt.Sprintf("keys=%d,expires=%d,avg_ttl=0", keys, expires)))
	}
	n := b.n
	return []resp.InfoSection{
		ks,
		{Name: "Persistence", Fields: engineFields(n.eng.Stats())},
		{Name: "Cluster", Fields: n.clusterFields()},
		{Name: "Replication", Fields: replicationFields(b.Coordinator)},
		{Name: "Hints", Fields: hintFields(n.eng)},
		{Name: "Transfers", Fields: n.transferFields()},
		{Name: "Antientropy", Fields: n.aeFields()},
	}
}

func field(k string, v any) resp.InfoField {
	switch x := v.(type) {
	case string:
		return resp.InfoField{Key: k, Value: x}
	case int64:
		return resp.InfoField{Key: k, Value: strconv.FormatInt(x, 10)}
	case bool:
		if x {
			return resp.InfoField{Key: k, Value: "1"}
		}
		return resp.InfoField{Key: k, Value: "0"}
	}
	return resp.InfoField{Key: k, Value: fmt.Sprint(v)}
}

// engineFields is INFO persistence: durability, fsync sharing, the sweep,
// and pebble's resource use.
func engineFields(s engine.Stats) []resp.InfoField {
	return []resp.InfoField{
		field("loading", int64(0)),
		field("durability", s.Durability.String()),
		field("storage_failed", s.Failed),
		field("writes", s.Writes),
		field("merges", s.Merges),
		field("merges_noop", s.MergesNoop),
		field("synced_commits", s.SyncedCommits),
		field("wal_fsyncs", s.WALSyncs),
		field("siblings_folded", s.SiblingsFolded),
		field("sweep_passes", s.SweepPasses),
		field("expired_compacted", s.Compacted),
		field("tombstones_reaped", s.Reaped),
		field("reaps_refused", s.ReapRefused),
		field("corrupt_objects", s.CorruptObjects),
		field("disk_usage_bytes", s.DiskUsageBytes),
		field("block_cache_bytes", s.BlockCacheBytes),
		field("block_cache_capacity", s.BlockCacheCapacity),
		field("memtable_bytes", s.MemTableBytes),
		field("object_cache_hits", s.ObjectCacheHits),
		field("object_cache_misses", s.ObjectCacheMisses),
		field("object_cache_evictions", s.ObjectCacheEvictions),
		field("object_cache_bytes", s.ObjectCacheBytes),
		field("object_cache_capacity", s.ObjectCacheCapacity),
		field("object_cache_entries", s.ObjectCacheEntries),
		field("read_amplification", s.ReadAmplification),
	}
}

// replicationFields is INFO replication: the coordinator's counters.
func replicationFields(c *coordinator.Coordinator) []resp.InfoField {
	s, cfg := c.Stats(), c.Config()
	return []resp.InfoField{
		field("role", "master"),
		field("connected_slaves", int64(0)),
		field("n", int64(cfg.N)),
		field("r", int64(cfg.R)),
		field("w", int64(cfg.W)),
		field("writes_coordinated", s.Coordinated.Load()),
		field("writes_forwarded", s.Forwarded.Load()),
		field("fallback_writes", s.FallbackWrites.Load()),
		field("read_repairs", s.ReadRepairs.Load()),
		field("read_repairs_skipped", s.RepairsSkipped.Load()),
		field("write_quorum_failures", s.WriteQuorumFailures.Load()),
		field("read_quorum_failures", s.ReadQuorumFailures.Load()),
		field("pubsub_messages_sent", s.PubSent.Load()),
		field("pubsub_messages_dropped", s.PubDropped.Load()),
	}
}

// hintFields is INFO hints: pending hints in all and per target.
func hintFields(e *engine.Engine) []resp.InfoField {
	counts := e.HintCounts()
	var total int64
	for _, n := range counts {
		total += n
	}
	out := []resp.InfoField{field("hints_pending", total), field("hint_targets", int64(len(counts)))}
	for _, t := range sortedKeys(counts) {
		out = append(out, field("hints_for_"+t, counts[t]))
	}
	return out
}

var _ resp.ParallelReads = (*backend)(nil)

// ParallelReads reports whether reads wait on other nodes: the ring has
// more than one member owning partitions. A single node's read is a local
// lookup that pipelined concurrency would only slow down.
func (b *backend) ParallelReads() bool {
	pl := b.n.pl.Load()
	return pl != nil && len(pl.Nodes()) > 1
}

// The coordinator keeps the slots' transaction locks (MULTI/EXEC).
var _ resp.TxLocker = (*backend)(nil)
