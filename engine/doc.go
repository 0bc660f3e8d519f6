// Package engine is a node's local storage: the versioned objects of the
// partitions it replicates, the hints it keeps for unreachable replicas, and
// the node's metadata, in one cockroachdb/pebble database. It is the paper's
// pluggable local persistence engine (Dynamo §5), with its write buffering
// (§6.1) as the group durability mode, and it stores the causal versions of
// §4.4 (dotted version vector sets, package version) as docs/architecture.md §3 and §6
// describe. It imports nothing of dynago's but version.
//
// # Usage
//
//	cfg := engine.DefaultConfig("./dynago-data")
//	cfg.OnChange = tree.Update  // anti-entropy (docs/architecture.md §7)
//	cfg.MayReap = cluster.AllReplicasHaveTombstone
//	e, err := engine.Open(cfg)
//	...
//	stored, err := e.Update(p, key, func(cur version.Object) (version.Object, bool, error) {
//		return cur.Put(actor, ctx, version.Sibling{Value: v, Timestamp: nowMs}), true, nil
//	})
//	merged, changed, err := e.Merge(p, key, fromCoordinator) // on the other replicas
//	...
//	err = e.Close()
//
// # Key layout
//
// Keyspaces are separated by the first byte of the pebble key (keys.go):
//
//	'd' | partition (2 bytes, big endian) | key        -> object (version.AppendObject)
//	'h' | target node id (20 bytes) | partition | key  -> hinted object
//	'm' | name                                         -> metadata bytes
//
// The partition prefix makes a partition one contiguous range: Scan streams
// it in key order (anti-entropy, transfers), DropPartition deletes it with
// one range deletion. A target's hints are one range too.
//
// # Durability
//
// A write is acknowledged (the call returns) per Config.Durability. In
// sync and group modes the guarantee for acknowledged writes is the same:
// the WAL was fsynced after the write's record was written and before the
// call returned. The modes differ in how writers share fsyncs:
//
//   - group (the default) is group commit through pebble's commit
//     pipeline. A writer applies its batch and waits for an fsync covering
//     it; while one fsync runs, the commits that arrive queue behind it and
//     the next fsync covers all of them. No timer is involved: a lone
//     writer gets its fsync at once, and the busier the disk, the more
//     writers share each fsync.
//   - sync is the textbook mode: every acknowledged write has an fsync of
//     its own. Durable commits are serialised (Engine.syncMu, held from
//     before the key's stripe to after the fsync), so one fsync covers
//     exactly one acknowledged write. Throughput is one write per fsync
//     whatever the concurrency. It is the baseline the other modes are
//     measured against, and it bounds what a crash can take back after
//     readers saw it (a write is visible from its commit, before its
//     fsync) to the one write in flight, where group may take back a
//     whole group.
//   - none: without waiting for an fsync, for a pure cache. Pebble syncs the
//     WAL only when it rotates it (memtable flush) and on Close; the last
//     partial 32 KiB WAL block even stays in the process until it fills. A
//     machine crash loses every write since the last such sync, a process
//     crash at most that last block.
//
// Node metadata (PutMeta) is fsynced in every mode. The sweep's writes are
// never waited for: a crash may undo them and the next pass redoes them.
//
// Measured on this project's machine (2 vCPU, ext4 on a virtual disk, an
// fsync takes ~0.2 ms), blind Updates of distinct keys with 100-byte
// values on the real disk (BenchmarkEngineUpdate, -benchtime 3000x,
// median of 5 runs):
//
//	mode   writers    ops/s  p50 µs  p99 µs  writes/fsync
//	sync         1    4 570     212     318       1.0
//	sync        16    4 720   3 302   4 767       1.0
//	sync        64    4 700  13 226  20 461       1.0
//	group        1    4 530     216     341       1.0
//	group       16   34 900     448     941       7.9
//	group       64  100 400     549   2 027      29.7
//	none         1  355 000       1      12         -
//	none        16  338 000       3   1 338         -
//	none        64  337 000       3   5 591         -
//
// A lone writer pays one fsync in both modes. With 16 and 64 writers group
// commit shares each fsync among 8 and 30 of them, which multiplies
// throughput by 7 and 21 for a p50 of about two fsyncs (the one running,
// then the one covering the queue); sync mode stays at one write per
// fsync, and its latency grows with the queue.
//
// The previous group mode held each fsync back for at least 250 µs
// (pebble's WALMinSyncInterval) so that more writers would share it. It
// did share more (15.8 writes per fsync with 16 writers, against 7.9) but
// was much slower: Go's timers fire ~1.1 ms late on an idle process, so a
// lone writer waited 1.4 ms instead of 0.22 ms, and 16 writers had a p50
// of 1.4 ms against 0.45 ms and a third of the throughput. Fewer fsyncs
// would matter where IOPS are scarce, but there each fsync is slow and the
// queue behind it grows by itself: the pipeline batches in proportion to
// the fsync latency, which is what a delay approximates, with no timer.
// Crash tests (crash_test.go, vfs.NewCrashableMem) lose no acknowledged
// write in sync and group modes; in none mode they lose all of them
// (every write since Open was unsynced).
//
// A commit or sync failure goes to Engine.fatal, which stops the process:
// the write is already visible in the memtable, others may have built on
// it, and pebble's commit pipeline is broken. Nothing is acknowledged after
// it (errorfs tests).
//
// # Locking
//
// Read-modify-writes of one key (Update, Merge, MergeMany, PutHint,
// DeleteHint, the sweep's writes) are serialised by 4096 striped mutexes,
// chosen by a hash of the pebble key. A writer reads, decides and commits
// with DB.ApplyNoSyncWait while holding its stripe, releases it, and only
// then waits for the fsync (Batch.SyncWait): no stripe is ever held across
// an fsync, so the next writer of the same key commits while the previous
// one waits, and both share the fsync. A reader may therefore see a write
// whose fsync is still in flight; that write is acknowledged only after it
// (see commit.go). In sync mode syncMu is taken before the stripe and held
// across the fsync, on purpose: it is what makes fsyncs unshared. MergeMany
// takes the stripes of all its keys in index order; FlushAll and
// DropPartition take all of them. Update's fn and OnChange run with a
// stripe held and must not call the Engine; MayReap runs with none held
// and may. Get takes its key's stripe only on an object cache miss, to
// fill the cache; Scan takes none.
//
// # Object cache
//
// Decoded objects of the 'd' keyspace are cached in front of pebble
// (cache.go, Config.ObjectCacheBytes), so that a Get of a hot key is a map
// lookup (~0.4 µs, no allocation) rather than a memtable seek or block
// read and a decode (~3 µs, 4 allocations; BenchmarkEngineGet). A miss
// costs ~0.7 µs more than no cache at all: it builds the entry and evicts
// one. Update, Merge and MergeMany read the current object from it too.
// Missing keys are cached as well: every first write of a key reads it.
// The cache is sharded (up to 64 shards, each with its lock, map and CLOCK
// ring), bounded in bytes, and charges every entry what it keeps on the
// heap (about 380 bytes for a 100-byte value).
//
// It agrees with pebble exactly: an entry changes only with its key's
// stripe held; a writer marks the entry stale before applying its batch
// and stores the new object after; a miss fills the entry with the stripe
// held; DropPartition and FlushAll remove their entries before their range
// deletion. So a cache hit never returns an object older than pebble's,
// and a fill never puts back an object a write replaced
// (TestObjectCacheAgreesWithPebble,
// TestObjectCacheConcurrentReadsSeeAcknowledgedWrites).
// Objects it returns are shared and read-only (Engine.Get); package version
// never modifies the objects it is given
// (TestVersionFunctionsDoNotModifyTheirInputs).
//
// # Counters
//
// LiveKeys (DBSIZE, INFO keyspace) must not scan. Every committed change of
// an object moves its partition's counters (PartitionKeys) by the
// difference between the old and the new object's class: counted when its
// winner is a value rather than a tombstone, and as expiring when that value
// has an expiry. The class ignores the clock, so a key whose value expired
// still counts until the sweep compacts it, as Redis's DBSIZE counts
// expired keys until they are evicted. Open computes the counters with one
// scan: 1M objects with 100-byte values open in ~0.75 s here (TestScale1M).
//
// # Goroutines
//
// The Engine owns one goroutine, the sweeper, started by Open when
// SweepInterval > 0 and stopped and joined by Close. Pebble runs its own
// (flushes, compactions, WAL flusher), stopped by its Close. Close also
// waits for the calls in flight; later calls return ErrClosed.
//
// # The sweep and the reap rule
//
// Each SweepInterval the sweeper visits the next SweepBatch objects
// (SweepOnce), resuming where it stopped and starting over at the end, so a
// pass over N objects takes N/SweepBatch ticks. Expired values are
// compacted (version.Object.Compact: the value goes, the dot stays, the VV
// and anti-entropy hash are unchanged). A dead object (every sibling a
// tombstone or expired) is reaped only when DeathTime + TombstoneGrace has
// passed and Config.MayReap (every home replica holds the tombstone,
// docs/architecture.md §6) agrees; MayReap is asked without a lock, and the object is
// deleted only if it is still the one MayReap judged. A reap is reported to
// OnChange as old hash -> 0. Hints are not swept: they are delivered, then
// deleted.
//
// # Memory
//
// The RSS target is a node with 1M objects of 100-byte values under 300 MB
// (issue 5). The engine's budget, with the defaults:
//
//	block cache (CacheBytes)                      48 MiB  C heap (cgo)
//	memtables (2 x MemTableBytes, at most)        32 MiB  C heap (cgo)
//	object cache (ObjectCacheBytes)               48 MiB  Go heap
//	GC headroom: with GOGC=100 the Go heap grows
//	  to about twice its live size                48 MiB
//	pebble's other memory, malloc's slack,
//	  runtime, binary (measured, see below)      ~70 MiB
//	total, with both caches and memtables full  ~246 MiB
//
// which leaves ~50 MB for the rest of the node (connections, anti-entropy
// trees, membership). The caches and memtables are hard bounds; pebble
// allocates them with C malloc when built with cgo (the Makefile's go build
// on a machine with a C compiler). Without cgo they live on the Go heap,
// where GOGC's headroom applies to them too: give such a build a GOMEMLIMIT
// or smaller caches. With cgo, glibc's malloc arenas fragment that C memory
// (one arena per thread that contends, up to 8 per core); the dynago
// binary limits them to 2 at start (cmd/dynago/malloc_cgo.go), which took
// the coordinating node of a loaded 1M-key cluster from 322-339 MB to
// 265 MB peak under write load. Bloom filters (10 bits per key, every level) keep the
// read of a missing key, which every first write of a key makes, off the
// data blocks.
//
// Measured (TestScale1M: 1M objects with random values loaded, reopened,
// scanned, and a third of them read so that the object cache is full and
// evicting): 203 MB RSS, with 40 MB in the block cache, 16 MB of
// memtables, 31 MB charged to the object cache (91k entries) and 71 MB of
// Go heap in use; the same run without the object cache: 143 MB RSS and
// 5 MB of Go heap. 131 MB on disk.
package engine
