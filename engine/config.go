package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynago/dynago/version"
)

// Durability says when a write is acknowledged relative to the fsync of the
// write-ahead log (docs/architecture.md §6). The zero value means "not set" and is read as
// DurabilityGroup.
type Durability uint8

// The durability modes. Sync and group give the same guarantee for
// acknowledged writes (an fsync of the WAL after the write's record and
// before its acknowledgement); they differ in whether writers share
// fsyncs. doc.go has the measurements.
const (
	// DurabilitySync is the textbook mode: every acknowledged write has an
	// fsync of its own. Durable commits are serialised (Engine.syncMu), so
	// one fsync covers exactly one acknowledged write, whatever the
	// concurrency: about one write per fsync latency. Besides being the
	// baseline the other modes are measured against, it bounds what a
	// crash can take back from readers to the one write in flight, where
	// group may lose a whole group that readers already saw.
	DurabilitySync Durability = iota + 1
	// DurabilityGroup is group commit, the default: a write is
	// acknowledged after an fsync that covers it, and concurrent writers
	// share fsyncs through pebble's commit pipeline. While one fsync runs,
	// the commits arriving queue behind it and the next fsync covers all of
	// them; a lone writer gets its fsync at once, with no timer. It is the
	// paper's write buffering (§6.1) without its durability hole.
	DurabilityGroup
	// DurabilityNone never waits for an fsync: pebble syncs the WAL only
	// when it rotates it and on Close, and keeps the last partial WAL block
	// (up to 32 KiB) in the process until it fills. A process crash may lose
	// that block, a machine crash every write since the last sync (doc.go
	// has the measurement). Meant for a pure cache.
	DurabilityNone
)

// String returns the flag spelling of the mode.
func (d Durability) String() string {
	switch d {
	case DurabilitySync:
		return "sync"
	case DurabilityGroup:
		return "group"
	case DurabilityNone:
		return "none"
	}
	return fmt.Sprintf("Durability(%d)", uint8(d))
}

// ParseDurability parses "sync", "group" or "none" (any case).
func ParseDurability(s string) (Durability, error) {
	switch strings.ToLower(s) {
	case "sync":
		return DurabilitySync, nil
	case "group":
		return DurabilityGroup, nil
	case "none":
		return DurabilityNone, nil
	}
	return 0, fmt.Errorf("%w: unknown durability %q (want sync, group or none)", ErrInvalidConfig, s)
}

// Defaults used by DefaultConfig and by Open for fields left at zero where
// zero has no meaning of its own.
const (
	// DefaultCacheBytes is the pebble block cache size. 48 MiB rather than
	// pebble's usual 64: the object cache now serves the hot reads, so the
	// block cache mostly serves cold ones, scans and the filter and index
	// blocks, and the 16 MiB go to the object cache's GC headroom within
	// the 300 MB RSS budget (doc.go, Memory).
	DefaultCacheBytes = 48 << 20
	// DefaultMemTableBytes is pebble's memtable size. Pebble keeps up to two
	// memtables (one filling, one flushing; MemTableStopWritesThreshold 2),
	// so the memtables cost at most 32 MiB. A larger memtable buys little:
	// our objects are small and keys are hashed, so flushes are not the
	// bottleneck, and a read that misses the object cache seeks a shorter
	// skiplist (that seek was the largest CPU cost of a node under load).
	DefaultMemTableBytes = 16 << 20
	// DefaultObjectCacheBytes is the object cache size: about 130k objects
	// of 100-byte values, enough for a 100k-key working set. It costs about
	// twice that in RSS (the Go heap grows to twice its live size between
	// collections); with the block cache and the memtables a node with 1M
	// such objects stays under 300 MB RSS (doc.go, Memory, has the
	// arithmetic; measured 203 MB at 32 MiB, so about 235 MB at 48 MiB).
	DefaultObjectCacheBytes = 48 << 20
	// DefaultMaxSiblings is the sibling cap (docs/architecture.md §3).
	DefaultMaxSiblings = 64
	// DefaultSweepInterval is the period of the background sweep.
	DefaultSweepInterval = 10 * time.Second
	// DefaultSweepBatch is how many objects one sweep tick visits at most.
	DefaultSweepBatch = 10000
	// DefaultTombstoneGrace is how long a dead object is kept before it may
	// be reaped.
	DefaultTombstoneGrace = time.Hour
)

// Config configures an Engine. Build one with DefaultConfig and change what
// you need; Open fills a zero FS, Durability, CacheBytes, MemTableBytes,
// MaxSiblings, SweepBatch, Now and Logger with their defaults. A zero
// ObjectCacheBytes disables the object cache.
type Config struct {
	// Dir is the data directory. Required.
	Dir string
	// FS is the filesystem pebble uses; nil means the real disk
	// (vfs.Default). Tests use vfs.NewMem, vfs.NewCrashableMem or errorfs.
	FS vfs.FS
	// Durability is when writes are acknowledged; default DurabilityGroup.
	Durability Durability
	// CacheBytes is the pebble block cache size in bytes; default 48 MiB.
	CacheBytes int64
	// MemTableBytes is the pebble memtable size in bytes; default 16 MiB.
	MemTableBytes uint64
	// ObjectCacheBytes bounds the object cache (cache.go): decoded objects
	// of hot keys, and keys known to be missing, kept on the Go heap in
	// front of pebble, so that a read of a hot key costs a map lookup.
	// Every entry is charged its key, values, siblings and bookkeeping.
	// DefaultConfig sets DefaultObjectCacheBytes (48 MiB); 0 disables the
	// cache (every read goes to pebble). The block cache (CacheBytes) still
	// holds the encoded objects either way; on a node short of memory,
	// shrink that first, since the object cache is what reads hit.
	ObjectCacheBytes int64
	// MaxSiblings caps the siblings of every stored object (Update, Merge,
	// PutHint): beyond it the oldest are folded by last-writer-wins
	// (version.Object.Cap), counted in Stats and logged at most every
	// foldLogInterval. Default 64.
	MaxSiblings int
	// SweepInterval is the period of the background expiry and tombstone
	// sweep; default 10 s. 0 disables the sweeper goroutine.
	SweepInterval time.Duration
	// SweepBatch bounds the objects one sweep tick visits, so a tick never
	// stalls the node however large the database; default 10000. A full
	// pass therefore takes about objects/SweepBatch ticks.
	SweepBatch int
	// TombstoneGrace is how long a dead object (every sibling a tombstone or
	// expired) is kept after its DeathTime before it may be reaped; default
	// 1 h. Zero reaps as soon as the sweep finds it.
	TombstoneGrace time.Duration
	// MayReap decides whether a dead object whose grace has passed may be
	// deleted. nil means yes (a single node). The cluster plugs in a check
	// that every home replica holds the tombstone. It may do I/O and call
	// the Engine: the engine never calls it while holding a lock. It may be
	// called from the sweeper goroutine concurrently with anything else. It
	// must return in bounded time (Close waits for it).
	MayReap func(p uint16, key []byte, o version.Object) bool
	// OnChange is called after every committed change of an object's stored
	// state in the 'd' keyspace (Update, Merge, MergeMany, the sweep's
	// reaps) with version.Hash of the old and the new object (0 for
	// missing). Sweeper compaction keeps the VV and so the hash, and is not
	// reported; FlushAll and DropPartition are not reported either (see
	// their docs). It is called with the key's stripe held, before the write
	// is durable, possibly from several goroutines at once (never twice at
	// once for one key): it must be fast, must not block and must not call
	// the Engine. May be nil.
	OnChange func(p uint16, key []byte, oldHash, newHash uint64)
	// OnExpire is called when the sweep drops the expired values of an
	// object and no live value is left: the key has expired on this node
	// (Redis's "expired" keyspace event). It runs on the sweeper
	// goroutine after the change is committed, with no lock held, at most
	// once per stored copy that expires (again only if a later write or
	// merge brings an expired value back). It must not block. May be nil.
	OnExpire func(p uint16, key []byte)
	// Now is the clock used for expiry and grace decisions; default
	// time.Now.
	Now func() time.Time
	// Logger receives the engine's and pebble's logs; default: discard.
	Logger *slog.Logger

	// testing holds unexported hooks for tests and benchmarks.
	testing testingHooks
}

// testingHooks are test-only knobs, unexported like pebble's opts.private.
type testingHooks struct {
	// fatal replaces the process exit on a fatal storage error. Tests set it
	// to record the failure; the engine still refuses every later write.
	fatal func(msg string)
}

// ErrInvalidConfig is returned by Validate and ParseDurability.
var ErrInvalidConfig = errors.New("engine: invalid config")

// DefaultConfig returns the configuration of a production node storing its
// data in dir.
func DefaultConfig(dir string) Config {
	return Config{
		Dir:              dir,
		Durability:       DurabilityGroup,
		CacheBytes:       DefaultCacheBytes,
		MemTableBytes:    DefaultMemTableBytes,
		ObjectCacheBytes: DefaultObjectCacheBytes,
		MaxSiblings:      DefaultMaxSiblings,
		SweepInterval:    DefaultSweepInterval,
		SweepBatch:       DefaultSweepBatch,
		TombstoneGrace:   DefaultTombstoneGrace,
	}
}

// withDefaults fills the fields whose zero value has no meaning of its own.
func (c Config) withDefaults() Config {
	if c.FS == nil {
		c.FS = vfs.Default
	}
	if c.Durability == 0 {
		c.Durability = DurabilityGroup
	}
	if c.CacheBytes == 0 {
		c.CacheBytes = DefaultCacheBytes
	}
	if c.MemTableBytes == 0 {
		c.MemTableBytes = DefaultMemTableBytes
	}
	if c.MaxSiblings == 0 {
		c.MaxSiblings = DefaultMaxSiblings
	}
	if c.SweepBatch == 0 {
		c.SweepBatch = DefaultSweepBatch
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate checks the configuration. Zero values that Open fills with a
// default are accepted.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if c.Dir == "" {
		bad("Dir is empty")
	}
	if c.Durability > DurabilityNone {
		bad("unknown durability %d", c.Durability)
	}
	if c.CacheBytes < 0 {
		bad("CacheBytes %d is negative", c.CacheBytes)
	}
	// Pebble refuses memtables of 4 GiB and more; below 1 MiB it would
	// flush tiny files all the time.
	if c.MemTableBytes != 0 && (c.MemTableBytes < 1<<20 || c.MemTableBytes >= 4<<30) {
		bad("MemTableBytes %d out of range [1 MiB, 4 GiB)", c.MemTableBytes)
	}
	if c.ObjectCacheBytes < 0 {
		bad("ObjectCacheBytes %d is negative", c.ObjectCacheBytes)
	}
	if c.MaxSiblings < 0 {
		bad("MaxSiblings %d is negative", c.MaxSiblings)
	}
	if c.SweepInterval < 0 {
		bad("SweepInterval %s is negative", c.SweepInterval)
	}
	if c.SweepBatch < 0 {
		bad("SweepBatch %d is negative", c.SweepBatch)
	}
	if c.TombstoneGrace < 0 {
		bad("TombstoneGrace %s is negative", c.TombstoneGrace)
	}
	return errors.Join(errs...)
}
