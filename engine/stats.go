package engine

import "sync/atomic"

// statCounters are the engine's own event counters, behind Stats.
type statCounters struct {
	writes         atomic.Int64
	merges         atomic.Int64
	mergesNoop     atomic.Int64
	syncedCommits  atomic.Int64
	walSyncs       atomic.Int64 // incremented by syncCountingFS (vfs.go)
	siblingsFolded atomic.Int64
	cappedStores   atomic.Int64
	sweepVisited   atomic.Int64
	sweepPasses    atomic.Int64
	compacted      atomic.Int64
	reaped         atomic.Int64
	reapRefused    atomic.Int64
	hintsStored    atomic.Int64
	hintsDeleted   atomic.Int64
	corrupt        atomic.Int64
}

// Stats is a snapshot of the engine's counters and pebble's resource use,
// for INFO (docs/architecture.md §8). Counters count since Open.
type Stats struct {
	// Durability is the configured durability mode.
	Durability Durability
	// Failed is true after a fatal storage error (see Engine.fatal).
	Failed bool

	// LiveKeys and Expires are the totals behind LiveKeys.
	LiveKeys, Expires int64

	// Writes counts objects stored by Update.
	Writes int64
	// Merges counts Merge and MergeMany items that changed the stored
	// object; MergesNoop those that found nothing new.
	Merges, MergesNoop int64
	// SyncedCommits counts commits that waited for a WAL fsync; WALSyncs
	// counts the WAL fsyncs themselves (including pebble's own, at WAL
	// rotation). SyncedCommits/WALSyncs is how many writers share an
	// fsync on average (doc.go).
	SyncedCommits, WALSyncs int64

	// SiblingsFolded counts siblings dropped by the MaxSiblings cap;
	// CappedStores the stores that folded any.
	SiblingsFolded, CappedStores int64

	// SweepVisited counts objects the sweep examined; SweepPasses full
	// passes over the keyspace; Compacted objects whose expired values it
	// dropped; Reaped dead objects it deleted; ReapRefused reaps that
	// Config.MayReap declined.
	SweepVisited, SweepPasses, Compacted, Reaped, ReapRefused int64

	// HintsPending is the number of hints held, for HintTargets targets;
	// HintsStored counts hint writes (new or merged), HintsDeleted hints
	// deleted after delivery.
	HintsPending              int64
	HintTargets               int
	HintsStored, HintsDeleted int64

	// CorruptObjects counts stored objects found undecodable.
	CorruptObjects int64

	// ObjectCacheHits and ObjectCacheMisses count object cache lookups
	// (Get, and the reads of Update, Merge, MergeMany and the sweep's
	// writes); ObjectCacheEvictions entries evicted to stay within the
	// budget. ObjectCacheBytes is what the entries are charged, out of
	// ObjectCacheCapacity (Config.ObjectCacheBytes); ObjectCacheEntries
	// counts them, missing keys included. All zero when the cache is off.
	ObjectCacheHits, ObjectCacheMisses, ObjectCacheEvictions  int64
	ObjectCacheBytes, ObjectCacheCapacity, ObjectCacheEntries int64

	// DiskUsageBytes is pebble's estimate of its files' size on disk.
	DiskUsageBytes uint64
	// BlockCacheBytes is the block cache in use, out of BlockCacheCapacity;
	// BlockCacheHits and BlockCacheMisses count lookups.
	BlockCacheBytes, BlockCacheCapacity, BlockCacheHits, BlockCacheMisses int64
	// MemTableBytes is the memory held by memtables, MemTables their
	// number.
	MemTableBytes uint64
	MemTables     int64
	// ReadAmplification is pebble's read amplification (sublevels in L0
	// plus non-empty levels).
	ReadAmplification int
}

// Stats returns the engine's counters. After Close or a failure the pebble
// figures are zero.
func (e *Engine) Stats() Stats {
	c := &e.stats
	s := Stats{
		Durability:         e.cfg.Durability,
		Failed:             e.failed.Load(),
		LiveKeys:           e.counts.keys.Load(),
		Expires:            e.counts.expires.Load(),
		Writes:             c.writes.Load(),
		Merges:             c.merges.Load(),
		MergesNoop:         c.mergesNoop.Load(),
		SyncedCommits:      c.syncedCommits.Load(),
		WALSyncs:           c.walSyncs.Load(),
		SiblingsFolded:     c.siblingsFolded.Load(),
		CappedStores:       c.cappedStores.Load(),
		SweepVisited:       c.sweepVisited.Load(),
		SweepPasses:        c.sweepPasses.Load(),
		Compacted:          c.compacted.Load(),
		Reaped:             c.reaped.Load(),
		ReapRefused:        c.reapRefused.Load(),
		HintsStored:        c.hintsStored.Load(),
		HintsDeleted:       c.hintsDeleted.Load(),
		CorruptObjects:     c.corrupt.Load(),
		BlockCacheCapacity: e.cfg.CacheBytes,
	}
	cs := e.cache.stats()
	s.ObjectCacheHits, s.ObjectCacheMisses, s.ObjectCacheEvictions = cs.hits, cs.misses, cs.evictions
	s.ObjectCacheBytes, s.ObjectCacheCapacity, s.ObjectCacheEntries = cs.bytes, cs.capacity, cs.entries
	s.HintsPending, s.HintTargets = e.hintTotals()
	if e.enter() != nil {
		return s
	}
	defer e.exit()
	m := e.db.Metrics()
	s.DiskUsageBytes = m.DiskSpaceUsage()
	s.BlockCacheBytes = m.BlockCache.Size
	s.BlockCacheHits = m.BlockCache.Hits
	s.BlockCacheMisses = m.BlockCache.Misses
	s.MemTableBytes = m.MemTable.Size
	s.MemTables = m.MemTable.Count
	s.ReadAmplification = m.ReadAmp()
	return s
}

// ExpiredKeys counts the objects whose expired values the sweep dropped
// (Stats.Compacted), without Stats's pebble metrics.
func (e *Engine) ExpiredKeys() int64 { return e.stats.compacted.Load() }
