package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/dynago/dynago/version"
)

// Sentinel errors. Callers match them with errors.Is; the engine wraps them
// with the partition, key or cause.
var (
	// ErrClosed is returned by every call made after Close.
	ErrClosed = errors.New("engine: closed")
	// ErrFailed is returned by every call made after a storage failure (a
	// commit or WAL sync error, see Engine.fatal). In production the process
	// has already been stopped; in tests the engine stays failed.
	ErrFailed = errors.New("engine: storage failed")
	// ErrCorrupt is returned when a stored object cannot be decoded. It also
	// matches version.ErrMalformed.
	ErrCorrupt = errors.New("engine: corrupt stored object")
	// ErrInvalidObject is returned when a caller hands over an object that
	// breaks the version invariants; nothing is stored. It also matches
	// version.ErrMalformed.
	ErrInvalidObject = errors.New("engine: invalid object")
	// ErrBadPartition is returned for a partition number of MaxPartitions or
	// more.
	ErrBadPartition = errors.New("engine: partition out of range")
)

// MaxPartitions bounds partition numbers: Q is at most 16384 (docs/architecture.md §2),
// so the per-partition counters are a fixed array.
const MaxPartitions = 16384

// numStripes is the number of key-lock stripes. 4096 stripes make two
// writers of different keys collide with probability 1/4096, and cost 32 KiB.
const numStripes = 4096

// foldLogInterval rate-limits the log line about sibling folds.
const foldLogInterval = 10 * time.Second

// bloomBitsPerKey sizes the bloom filters of every level: 10 bits per key
// give a 1 % false-positive rate, so a Get of a missing key (every write of
// a new key reads first) rarely touches a data block.
const bloomBitsPerKey = 10

// Engine is one node's local store: the versioned objects of the partitions
// it replicates, the hints it holds for other nodes, and node metadata, in
// one pebble database (docs/architecture.md §6). All methods are safe for concurrent use.
type Engine struct {
	cfg Config
	log *slog.Logger
	db  *pebble.DB

	// stripes serialise the read-modify-writes of one key (Update, Merge,
	// MergeMany, PutHint, DeleteHint and the sweep's writes): key k is
	// guarded by stripes[stripeIndex(xxhash of k)]. MergeMany takes several stripes in
	// index order; FlushAll and DropPartition take all of them, also in
	// index order, so no two lockers can deadlock. No stripe is ever held
	// across an fsync.
	stripes [numStripes]sync.Mutex

	// syncMu serialises the durable commits of DurabilitySync, from before
	// the stripe is taken to after the fsync, so that each has an fsync of
	// its own (doc.go, Durability). Unused in the other modes.
	syncMu sync.Mutex

	// cache holds decoded 'd' objects in front of pebble (cache.go); nil
	// when Config.ObjectCacheBytes is 0. Its entries change only with the
	// key's stripe held.
	cache *objectCache

	// counts are the per-partition live-key counters behind LiveKeys.
	counts counters

	// access records reads and writes for LRU and LFU eviction (access.go);
	// nil while no policy needs it.
	access atomic.Pointer[accessTable]

	sampleMu sync.Mutex
	// sampleCursor is, per partition, the last key Sample visited there;
	// guarded by sampleMu.
	sampleCursor map[uint16][]byte

	hintMu sync.Mutex
	// hints is the number of stored hints per target node; guarded by
	// hintMu. Entries that drop to zero are deleted.
	hints map[nodeID]int64

	sweepMu sync.Mutex
	// sweepCursor is the last 'd' key the sweep visited (nil: start of the
	// keyspace); guarded by sweepMu, which also serialises SweepOnce.
	sweepCursor []byte

	stats   statCounters
	foldLog rateLimited

	// failed is set by fatal; every call checks it on entry.
	failed atomic.Bool

	// ops counts calls in flight, plus closedBit once Close has begun.
	// Calls enter and exit without a lock and may nest (Scan's callback or
	// MayReap may call the engine); Close waits for the count to reach zero
	// before closing pebble, which must not be used after Close.
	ops       atomic.Int64
	drained   chan struct{} // closed when ops == closedBit
	drainOnce sync.Once

	sweepStop chan struct{} // closed by Close to stop the sweeper
	sweepDone chan struct{} // closed by the sweeper when it has stopped

	closeOnce sync.Once
	closeErr  error
}

const closedBit = 1 << 62

// Open opens (creating if needed) the database in cfg.Dir, counts the live
// keys of every partition and the pending hints of every target with one
// scan, and starts the sweeper when cfg.SweepInterval > 0.
func Open(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	e := &Engine{
		cfg:     cfg,
		log:     cfg.Logger,
		hints:   make(map[nodeID]int64),
		foldLog: rateLimited{interval: foldLogInterval},
		drained: make(chan struct{}),
		cache:   newObjectCache(cfg.ObjectCacheBytes),
	}
	cache := pebble.NewCache(cfg.CacheBytes)
	// The database holds its own reference; ours goes when Open returns.
	defer cache.Unref()
	db, err := pebble.Open(cfg.Dir, e.pebbleOptions(cache))
	if err != nil {
		return nil, fmt.Errorf("engine: open %s: %w", cfg.Dir, err)
	}
	e.db = db
	start := cfg.Now()
	if err := e.recount(); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	e.log.Info("engine: opened", "dir", cfg.Dir, "durability", cfg.Durability.String(),
		"live_keys", e.counts.keys.Load(), "count_time", cfg.Now().Sub(start))
	if cfg.SweepInterval > 0 {
		e.sweepStop = make(chan struct{})
		e.sweepDone = make(chan struct{})
		go e.sweepLoop(cfg.SweepInterval)
	}
	return e, nil
}

// pebbleOptions sets pebble up deliberately; doc.go explains the memory
// budget behind the sizes.
func (e *Engine) pebbleOptions(cache *pebble.Cache) *pebble.Options {
	opts := &pebble.Options{
		FS:           syncCountingFS{FS: e.cfg.FS, syncs: &e.stats.walSyncs},
		Cache:        cache,
		MemTableSize: e.cfg.MemTableBytes,
		// One memtable filling and one flushing: the memtables cost at most
		// 2*MemTableBytes, and a write stalls rather than grow past that.
		MemTableStopWritesThreshold: 2,
		FormatMajorVersion:          pebble.FormatNewest,
		Logger:                      pebbleLogger{e},
	}
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(bloomBitsPerKey)
	}
	// No WALMinSyncInterval: group commit needs no timer (doc.go,
	// Durability).
	return opts
}

// Close stops the sweeper, waits for the calls in flight, and closes pebble
// (flushing nothing more than pebble's own Close does: every acknowledged
// write is already in the WAL). It is idempotent: later calls return the
// first call's result. Calls made after Close return ErrClosed.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		if e.sweepStop != nil {
			close(e.sweepStop)
			<-e.sweepDone
		}
		if e.ops.Or(closedBit) == 0 {
			e.drainOnce.Do(func() { close(e.drained) })
		}
		<-e.drained
		e.closeErr = e.db.Close()
		if e.closeErr != nil {
			e.closeErr = fmt.Errorf("engine: close: %w", e.closeErr)
		}
	})
	return e.closeErr
}

// enter admits a call, or refuses it after Close or a storage failure.
// Every successful enter is paired with exit.
func (e *Engine) enter() error {
	if e.ops.Add(1)&closedBit != 0 {
		e.exit()
		return ErrClosed
	}
	if e.failed.Load() {
		e.exit()
		return ErrFailed
	}
	return nil
}

func (e *Engine) exit() {
	if e.ops.Add(-1) == closedBit {
		e.drainOnce.Do(func() { close(e.drained) })
	}
}

// enterPartition is enter for a call about partition p, which it checks
// first.
func (e *Engine) enterPartition(p uint16) error {
	if err := checkPartition(p); err != nil {
		return err
	}
	return e.enter()
}

func checkPartition(p uint16) error {
	if p >= MaxPartitions {
		return fmt.Errorf("%w: %d", ErrBadPartition, p)
	}
	return nil
}

func (e *Engine) nowMs() int64 { return e.cfg.Now().UnixMilli() }

// capObject folds o down to MaxSiblings siblings, counting and logging
// (rate-limited) any fold. key is for the log line only.
func (e *Engine) capObject(key []byte, o version.Object) version.Object {
	capped, folded := o.Cap(e.cfg.MaxSiblings)
	if folded == 0 {
		return o
	}
	e.stats.siblingsFolded.Add(int64(folded))
	e.stats.cappedStores.Add(1)
	if ok, suppressed := e.foldLog.allow(e.cfg.Now()); ok {
		e.log.Warn("engine: sibling cap reached, oldest siblings folded by last-writer-wins",
			"key", logKey(key), "folded", folded, "max_siblings", e.cfg.MaxSiblings,
			"similar_events_suppressed", suppressed)
	}
	return capped
}

// validate refuses an object that would be unreadable once stored.
func validate(o version.Object) error {
	if err := o.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidObject, err)
	}
	return nil
}

// logKey renders a (binary) user key for a log line, truncated.
func logKey(key []byte) string {
	const max = 64
	if len(key) > max {
		return fmt.Sprintf("%q…", key[:max])
	}
	return fmt.Sprintf("%q", key)
}
