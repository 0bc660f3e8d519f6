package coordinator

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynago/dynago/engine"
)

// Cache mode (docs/eviction.md): Redis's maxmemory and maxmemory-policy.
// Each node keeps the logical size of the live data it stores
// (engine.LogicalSize, summed by the engine's counters) under its own
// limit. It chooses victims among its own keys by sampling, as Redis
// does, and evicts a victim the way a client deletes a key: a tombstone
// written through the coordinator with the victim's stored version vector
// as its context, so every replica drops it, anti-entropy and read repair
// spread the tombstone rather than copy the key back, and a write the
// evicting node had not seen survives. A replica's tombstone frees its
// copy too, so one node's eviction makes room on all the key's replicas.

// Policy is a maxmemory-policy.
type Policy uint32

// The policies, Redis's names in policyNames.
const (
	NoEviction Policy = iota
	AllKeysLRU
	AllKeysLFU
	AllKeysRandom
	VolatileLRU
	VolatileLFU
	VolatileRandom
	VolatileTTL
)

var policyNames = [...]string{
	NoEviction: "noeviction", AllKeysLRU: "allkeys-lru", AllKeysLFU: "allkeys-lfu",
	AllKeysRandom: "allkeys-random", VolatileLRU: "volatile-lru", VolatileLFU: "volatile-lfu",
	VolatileRandom: "volatile-random", VolatileTTL: "volatile-ttl",
}

func (p Policy) String() string {
	if int(p) < len(policyNames) {
		return policyNames[p]
	}
	return fmt.Sprintf("policy(%d)", uint32(p))
}

// ParsePolicy parses a Redis maxmemory-policy name (any case).
func ParsePolicy(s string) (Policy, error) {
	for i, n := range policyNames {
		if strings.EqualFold(s, n) {
			return Policy(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown maxmemory policy %q", ErrInvalidConfig, s)
}

// volatile reports whether the policy evicts only keys with an expiry.
func (p Policy) volatile() bool { return p >= VolatileLRU }

// TracksAccess reports whether the policy ranks keys by their accesses.
func (p Policy) TracksAccess() bool {
	return p == AllKeysLRU || p == AllKeysLFU || p == VolatileLRU || p == VolatileLFU
}

// LFU reports whether the policy ranks keys by their access frequency.
func (p Policy) LFU() bool { return p == AllKeysLFU || p == VolatileLFU }

// DefaultMaxMemorySamples is Redis's maxmemory-samples default.
const DefaultMaxMemorySamples = 5

const (
	// evictPoolSize is how many of the best candidates seen so far are kept
	// between rounds (Redis's EVPOOL_SIZE is 16; a round here evicts a
	// batch, so it keeps twice that).
	evictPoolSize = 128
	// evictBatch is how many keys one round evicts at most, in parallel:
	// an eviction is a replicated delete, and evicting one key at a time
	// could not keep up with writers.
	evictBatch = 64
	// evictSamplePasses bounds the partitions one round samples.
	evictSamplePasses = 8
	// evictHardSlack: a writer over the limit by more than 1/evictHardSlack
	// of it waits for an eviction round.
	evictHardSlack = 50
	// evictPoll is how often the evictor looks at the node's usage when
	// nothing woke it.
	evictPoll = 10 * time.Millisecond
	// maxSamples bounds the keys read per sample, whatever
	// maxmemory-samples says, so that a round stays short.
	maxSamples = 64
	// accessSlotBytes sizes the access table: one slot per this many bytes
	// of maxmemory: about ten per key of a typical cache, so that few keys
	// share a slot.
	accessSlotBytes = 16
)

// evictionStore is a Store that can be held under a memory limit
// (engine.Engine).
type evictionStore interface {
	LiveBytes() int64
	Sample(n int, volatile bool) ([]engine.Candidate, error)
	TrackAccess(slots int)
	AccessOf(p uint16, key []byte) (engine.Access, bool)
}

// eviction is the coordinator's cache-mode state: the settings, changed
// at run time by CONFIG SET, and the candidate pool.
type eviction struct {
	store    evictionStore // nil: the store cannot be limited
	maxBytes atomic.Int64
	policy   atomic.Uint32
	samples  atomic.Int32
	evicted  atomic.Int64
	// stuck is set when a round over the limit found nothing to evict
	// (volatile policies with no volatile keys): writes then get OOM, as
	// in Redis, until a round finds candidates again.
	stuck atomic.Bool

	// mu serialises rounds and guards pool.
	mu   sync.Mutex
	pool []engine.Candidate
	kick chan struct{}
}

// MaxMemory returns the memory limit in bytes (0: none).
func (c *Coordinator) MaxMemory() int64 { return c.evict.maxBytes.Load() }

// MaxMemoryPolicy returns the eviction policy.
func (c *Coordinator) MaxMemoryPolicy() Policy { return Policy(c.evict.policy.Load()) }

// MaxMemorySamples returns how many keys a policy samples per victim.
func (c *Coordinator) MaxMemorySamples() int { return int(c.evict.samples.Load()) }

// UsedMemory returns the logical size of the live data this node stores,
// what MaxMemory limits.
func (c *Coordinator) UsedMemory() int64 {
	if c.evict.store == nil {
		return 0
	}
	return c.evict.store.LiveBytes()
}

// KeyAccess returns what this node's access table knows of key (its idle
// time and LFU counter), and false while no LRU or LFU policy tracks
// accesses. Reading it is no access.
func (c *Coordinator) KeyAccess(key []byte) (idle time.Duration, freq uint8, ok bool) {
	if c.evict.store == nil {
		return 0, 0, false
	}
	a, ok := c.evict.store.AccessOf(uint16(Partition(c.placement(), key)), key)
	return a.Idle, a.Freq, ok
}

// EvictedKeys counts the keys this node evicted.
func (c *Coordinator) EvictedKeys() int64 { return c.evict.evicted.Load() }

// SetMaxMemory sets the limit in bytes (0 removes it); it takes effect at
// once.
func (c *Coordinator) SetMaxMemory(n int64) {
	c.evict.maxBytes.Store(max(n, 0))
	c.trackAccess()
	c.kickEvictor()
}

// SetMaxMemoryPolicy sets the eviction policy; it takes effect at once.
func (c *Coordinator) SetMaxMemoryPolicy(p Policy) {
	old := Policy(c.evict.policy.Swap(uint32(p)))
	c.evict.mu.Lock()
	c.evict.pool = c.evict.pool[:0] // ranked by the old policy
	c.evict.mu.Unlock()
	c.evict.stuck.Store(false)
	if old.TracksAccess() != p.TracksAccess() {
		c.trackAccess()
	}
	c.kickEvictor()
}

// SetMaxMemorySamples sets the keys sampled per victim (at least 1; at
// most maxSamples are read).
func (c *Coordinator) SetMaxMemorySamples(n int) {
	c.evict.samples.Store(int32(min(max(n, 1), math.MaxInt32)))
}

// trackAccess turns the store's access table on when a limit and an LRU
// or LFU policy need it, and off otherwise.
func (c *Coordinator) trackAccess() {
	if c.evict.store == nil {
		return
	}
	limit := c.MaxMemory()
	if limit > 0 && c.MaxMemoryPolicy().TracksAccess() {
		c.evict.store.TrackAccess(int(min(limit/accessSlotBytes, math.MaxInt32)))
	} else {
		c.evict.store.TrackAccess(0)
	}
}

// overLimit reports whether the node stores more than its limit.
func (c *Coordinator) overLimit() bool {
	limit := c.evict.maxBytes.Load()
	return limit > 0 && c.evict.store != nil && c.evict.store.LiveBytes() > limit
}

// MemoryFull reports whether writes that grow the data must be refused
// with Redis's OOM error: the node is over its limit and its policy is
// noeviction, or it found nothing it may evict.
func (c *Coordinator) MemoryFull() bool {
	if !c.overLimit() {
		return false
	}
	return c.MaxMemoryPolicy() == NoEviction || c.evict.stuck.Load()
}

// makeRoom runs before a client write this node receives: over the limit,
// the writer evicts a round itself, as Redis evicts before it runs a
// command, unless another writer is already doing it; far enough over
// (evictHardSlack) it waits for that writer instead, so that clients
// writing faster than evictions free memory are slowed to their pace.
// The evictor goroutine keeps up with the writes other coordinators send.
func (c *Coordinator) makeRoom(ctx context.Context, op Op) {
	if op.Kind == OpDelete || !c.overLimit() || c.MaxMemoryPolicy() == NoEviction {
		return
	}
	limit := c.MaxMemory()
	if c.evict.store.LiveBytes() > limit+limit/evictHardSlack {
		c.evict.mu.Lock()
	} else if !c.evict.mu.TryLock() {
		return
	}
	if c.overLimit() {
		c.evictRoundLocked(ctx)
	}
	c.evict.mu.Unlock()
}

func (c *Coordinator) kickEvictor() {
	select {
	case c.evict.kick <- struct{}{}:
	default:
	}
}

// evictLoop keeps the node under its limit until the coordinator closes.
// Without a limit it sleeps until SetMaxMemory wakes it.
func (c *Coordinator) evictLoop() {
	t := time.NewTicker(evictPoll)
	defer t.Stop()
	for {
		var poll <-chan time.Time
		if c.MaxMemory() > 0 {
			poll = t.C
		}
		select {
		case <-c.bg.Done():
			return
		case <-poll:
		case <-c.evict.kick:
		}
		for c.overLimit() && c.MaxMemoryPolicy() != NoEviction && c.bg.Err() == nil {
			c.evict.mu.Lock()
			n := c.evictRoundLocked(c.bg)
			c.evict.mu.Unlock()
			if n == 0 {
				break
			}
		}
	}
}

// evictRoundLocked samples candidates into the pool and evicts the best
// of them, up to evictBatch, in parallel; it returns how many it evicted.
// The caller holds evict.mu.
func (c *Coordinator) evictRoundLocked(ctx context.Context) int {
	e := &c.evict
	policy := c.MaxMemoryPolicy()
	samples := min(c.MaxMemorySamples(), maxSamples)
	// samples keys per victim, read in passes over whole partitions: the
	// best evictBatch of samples*evictBatch keys are as good as the best
	// of each group of samples, and a pass costs far less than many.
	want, got := samples*evictBatch, 0
	for range evictSamplePasses {
		cands, err := e.store.Sample(want-got, policy.volatile())
		if err != nil {
			c.log.Warn("eviction: sampling", "err", err)
			return 0
		}
		if len(cands) == 0 {
			break
		}
		got += len(cands)
		e.pool = mergePool(e.pool, cands, policy)
		if got >= want {
			break
		}
	}
	if len(e.pool) == 0 {
		e.stuck.Store(true)
		return 0
	}
	e.stuck.Store(false)
	// One victim per samples keys sampled: never the whole of a small
	// sample, or a partition's hot keys would go with its cold ones.
	n := min(evictBatch, len(e.pool), max(got/samples, 1))
	victims := slices.Clone(e.pool[:n])
	e.pool = slices.Delete(e.pool, 0, n)

	var evicted atomic.Int64
	parallel(len(victims), func(i int) {
		if c.evictKey(ctx, victims[i]) {
			evicted.Add(1)
		}
	})
	e.evicted.Add(evicted.Load())
	return int(evicted.Load())
}

// evictKey deletes a victim everywhere with the context of what this node
// stores now, so that a write it has not seen survives. A victim used
// since it was sampled (its pool entry is stale) is spared.
func (c *Coordinator) evictKey(ctx context.Context, v engine.Candidate) bool {
	if a, ok := c.evict.store.AccessOf(v.P, v.Key); ok && a.Last.After(v.Access.Last) {
		return false
	}
	cur, err := c.store.Get(v.P, v.Key)
	if err != nil {
		return false
	}
	if _, live := cur.Value(0); !live {
		return false // deleted or evicted meanwhile
	}
	res, err := c.write(ctx, v.Key, Op{Kind: OpDelete, UseContext: true, Context: cur.VV})
	if err != nil {
		c.log.Debug("eviction: delete", "err", err)
		return false
	}
	if res.Applied && c.onEvict != nil {
		c.onEvict(v.Key)
	}
	return res.Applied
}

// mergePool adds cands to the pool, keeping each key once and the best
// evictPoolSize candidates, best first.
func mergePool(pool, cands []engine.Candidate, policy Policy) []engine.Candidate {
	for _, cand := range cands {
		dup := slices.IndexFunc(pool, func(p engine.Candidate) bool {
			return p.P == cand.P && string(p.Key) == string(cand.Key)
		})
		if dup >= 0 {
			pool[dup] = cand
		} else {
			pool = append(pool, cand)
		}
	}
	slices.SortFunc(pool, func(a, b engine.Candidate) int {
		sa, sb := evictScore(a, policy), evictScore(b, policy)
		switch {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		return 0
	})
	if len(pool) > evictPoolSize {
		pool = pool[:evictPoolSize]
	}
	return pool
}

// evictScore ranks a candidate: the higher, the sooner it goes.
func evictScore(c engine.Candidate, p Policy) float64 {
	switch p {
	case AllKeysLRU, VolatileLRU:
		return float64(c.Access.Idle)
	case AllKeysLFU, VolatileLFU:
		// Least frequently used first; among equals the longest idle.
		return float64(255-int(c.Access.Freq))*1e15 + float64(c.Access.Idle/time.Millisecond)
	case VolatileTTL:
		return -float64(c.Expiry)
	}
	return rand.Float64()
}
