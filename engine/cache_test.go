package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynago/dynago/version"
	"pgregory.net/rapid"
)

// The object cache (cache.go): it never disagrees with pebble, whatever the
// interleaving of writes, reads, sweeps, drops and reopens; it copies what
// callers hand in; it stays within its budget and keeps hot keys; and what
// it charges is what it costs.

// checkCache verifies the cache's structure and that every valid entry
// holds what pebble holds. No write may run meanwhile (readers may).
func checkCache(t tb, e *Engine) {
	t.Helper()
	c := e.cache
	if c == nil {
		return
	}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		entries := append([]*cacheEntry(nil), s.ring...)
		var bytes int64
		for pos, en := range s.ring {
			if int(en.pos) != pos || s.m[en.h] != en {
				t.Fatalf("shard %d: entry %q at ring %d has pos %d, map %p", i, en.k, pos, en.pos, s.m[en.h])
			}
			bytes += int64(en.size)
		}
		if len(s.m) != len(s.ring) || bytes != s.bytes {
			t.Fatalf("shard %d: map %d entries, ring %d; charged %d, sum %d", i, len(s.m), len(s.ring), s.bytes, bytes)
		}
		if s.bytes > s.budget && len(s.ring) > 1 {
			t.Fatalf("shard %d: %d bytes over its budget %d", i, s.bytes, s.budget)
		}
		s.mu.RUnlock()
		for _, en := range entries {
			mu := e.stripe(en.h)
			mu.Lock()
			s.mu.RLock()
			valid := en.valid && s.m[en.h] == en
			s.mu.RUnlock()
			if valid {
				stored, _, err := e.read(en.k)
				if err != nil {
					t.Fatalf("read %q: %v", en.k, err)
				}
				if !sameObject(en.obj, stored) {
					mu.Unlock()
					t.Fatalf("cache holds %s for %q, pebble %s", show(en.obj), en.k, show(stored))
				}
			}
			mu.Unlock()
		}
	}
}

func TestObjectCacheServesReadsAndMissingKeys(t *testing.T) {
	e, clk := openMem(t)
	now := clk.NowMs()
	if o := mustGet(t, e, 1, "a"); !o.IsZero() {
		t.Fatalf("missing key read as %s", show(o))
	}
	s := e.Stats()
	if s.ObjectCacheMisses != 1 || s.ObjectCacheEntries != 1 {
		t.Fatalf("after one miss: %d misses, %d entries; want 1, 1 (a negative entry)", s.ObjectCacheMisses, s.ObjectCacheEntries)
	}
	mustGet(t, e, 1, "a")
	if s := e.Stats(); s.ObjectCacheHits != 1 {
		t.Fatalf("second read of a missing key: %d hits, want 1", s.ObjectCacheHits)
	}
	// Update reads the negative entry and caches what it wrote.
	w := mustUpdate(t, e, 1, "a", put(actor(1), "v1", now, 0))
	requireSame(t, "Get after Update", mustGet(t, e, 1, "a"), w)
	if s := e.Stats(); s.ObjectCacheHits != 3 || s.ObjectCacheMisses != 1 {
		t.Fatalf("hits %d misses %d, want 3 and 1", s.ObjectCacheHits, s.ObjectCacheMisses)
	}
	// A delete leaves a negative entry: the object is gone.
	mustUpdate(t, e, 1, "a", func(version.Object) (version.Object, bool, error) { return version.Object{}, true, nil })
	if o := mustGet(t, e, 1, "a"); !o.IsZero() {
		t.Fatalf("deleted key read as %s", show(o))
	}
	checkCache(t, e)
	if s := e.Stats(); s.ObjectCacheBytes <= 0 || s.ObjectCacheCapacity != DefaultObjectCacheBytes {
		t.Fatalf("bytes %d capacity %d", s.ObjectCacheBytes, s.ObjectCacheCapacity)
	}
}

func TestObjectCacheDisabled(t *testing.T) {
	e, clk := openMem(t, func(c *Config) { c.ObjectCacheBytes = 0 })
	w := mustUpdate(t, e, 0, "a", put(actor(1), "v", clk.NowMs(), 0))
	requireSame(t, "Get", mustGet(t, e, 0, "a"), w)
	if s := e.Stats(); s.ObjectCacheHits+s.ObjectCacheMisses+s.ObjectCacheEntries+s.ObjectCacheCapacity != 0 {
		t.Fatalf("disabled cache reports %+v", s)
	}
	if err := (&Config{Dir: "x", ObjectCacheBytes: -1}).Validate(); err == nil {
		t.Fatal("negative ObjectCacheBytes accepted")
	}
}

// The cache copies what callers hand in: a caller reusing its buffers (as
// the RESP layer reuses its read buffer) cannot change a cached object.
func TestObjectCacheCopiesCallerMemory(t *testing.T) {
	e, clk := openMem(t)
	now := clk.NowMs()
	val := []byte("first")
	mustUpdate(t, e, 0, "a", func(cur version.Object) (version.Object, bool, error) {
		return cur.Put(actor(1), cur.VV, version.Sibling{Value: val, Timestamp: now}), true, nil
	})
	in := version.Object{}.Put(actor(2), nil, version.Sibling{Value: []byte("second"), Timestamp: now + 1})
	if _, _, err := e.Merge(0, []byte("b"), in); err != nil {
		t.Fatal(err)
	}
	copy(val, "XXXXX")
	copy(in.Siblings[0].Value, "YYYYYY")
	in.VV[0].Counter = 99
	if got := value(mustGet(t, e, 0, "a"), now); got != "first" {
		t.Fatalf("Update's value changed in the cache: %q", got)
	}
	o := mustGet(t, e, 0, "b")
	if got := value(o, now); got != "second" || o.VV[0].Counter != 1 {
		t.Fatalf("Merge's object changed in the cache: %s", show(o))
	}
	// The slices handed out are clipped: appending copies.
	if cap(o.Siblings) != len(o.Siblings) || cap(o.VV) != len(o.VV) || cap(o.Siblings[0].Value) != len(o.Siblings[0].Value) {
		t.Fatalf("cached slices have spare capacity: %d/%d %d/%d", len(o.Siblings), cap(o.Siblings), len(o.VV), cap(o.VV))
	}
	checkCache(t, e)
}

// Package version never modifies the objects it is given, which is what
// lets the cache hand the same object to every reader (cache.go).
func TestVersionFunctionsDoNotModifyTheirInputs(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		now := int64(1_700_000_000_000)
		a := genObjects(rt, now, "a")
		b := genObjects(rt, now, "b")
		x, y := a[rapid.IntRange(0, len(a)-1).Draw(rt, "x")], b[rapid.IntRange(0, len(b)-1).Draw(rt, "y")]
		deep := func(o version.Object) []byte { return version.AppendObject(nil, o) }
		bx, by := deep(x), deep(y)
		x.Put(actor(7), y.VV, version.Sibling{Value: []byte("n"), Timestamp: now})
		version.Merge(x, y)
		version.Merge(y, x)
		x.Compact(now)
		x.Cap(1)
		x.Value(now)
		x.Live(now)
		x.Winner()
		x.Dead(now)
		x.DeathTime()
		_ = x.Validate()
		version.Hash([]byte("k"), x)
		if !bytes.Equal(deep(x), bx) || !bytes.Equal(deep(y), by) {
			rt.Fatalf("an input object was modified")
		}
	})
}

func TestObjectCacheDropAndFlush(t *testing.T) {
	e, clk := openMem(t)
	now := clk.NowMs()
	for p := range uint16(3) {
		for _, k := range []string{"a", "b"} {
			mustUpdate(t, e, p, k, put(actor(1), k, now, 0))
			mustGet(t, e, p, k)
		}
	}
	if err := e.DropPartition(1); err != nil {
		t.Fatal(err)
	}
	for p := range uint16(3) {
		if got, want := value(mustGet(t, e, p, "a"), now), map[bool]string{true: "", false: "a"}[p == 1]; got != want {
			t.Fatalf("partition %d after DropPartition(1): %q, want %q", p, got, want)
		}
	}
	checkCache(t, e)
	if err := e.FlushAll(); err != nil {
		t.Fatal(err)
	}
	if e.Stats().ObjectCacheEntries != 0 {
		t.Fatalf("FlushAll left %d entries", e.Stats().ObjectCacheEntries)
	}
	for p := range uint16(3) {
		if o := mustGet(t, e, p, "b"); !o.IsZero() {
			t.Fatalf("partition %d after FlushAll: %s", p, show(o))
		}
	}
}

func TestObjectCacheFollowsTheSweep(t *testing.T) {
	e, clk := openMem(t, func(c *Config) { c.TombstoneGrace = 0 })
	now := clk.NowMs()
	mustUpdate(t, e, 0, "exp", put(actor(1), "v", now, now+1000))
	mustUpdate(t, e, 0, "del", del(actor(1), now))
	mustGet(t, e, 0, "exp")
	mustGet(t, e, 0, "del")
	clk.Advance(2 * time.Second)
	if _, err := e.SweepOnce(0); err != nil {
		t.Fatal(err)
	}
	checkCache(t, e)
	if o := mustGet(t, e, 0, "del"); !o.IsZero() {
		t.Fatalf("reaped key read as %s", show(o))
	}
	// Compacted, then reaped on the next pass.
	if _, err := e.SweepOnce(0); err != nil {
		t.Fatal(err)
	}
	checkCache(t, e)
	if o := mustGet(t, e, 0, "exp"); !o.IsZero() {
		t.Fatalf("expired and reaped key read as %s", show(o))
	}
}

// A small cache stays within its budget and keeps the keys that are read
// again and again while a stream of one-off keys goes through it.
func TestObjectCacheEvictionKeepsHotKeys(t *testing.T) {
	e, clk := openMem(t, func(c *Config) { c.ObjectCacheBytes = 64 << 10 })
	now := clk.NowMs()
	const hot = 20
	for i := range hot {
		mustUpdate(t, e, 0, fmt.Sprintf("hot%d", i), put(actor(1), "hot", now, 0))
	}
	for i := range 3000 {
		k := fmt.Sprintf("cold%d", i)
		mustUpdate(t, e, 0, k, put(actor(1), string(benchValue(i)), now, 0))
		mustGet(t, e, 0, k)
		mustGet(t, e, 0, fmt.Sprintf("hot%d", i%hot))
	}
	before := e.Stats()
	if before.ObjectCacheEvictions == 0 || before.ObjectCacheBytes > 64<<10 {
		t.Fatalf("%d evictions, %d bytes charged of 64 KiB", before.ObjectCacheEvictions, before.ObjectCacheBytes)
	}
	for i := range hot {
		mustGet(t, e, 0, fmt.Sprintf("hot%d", i))
	}
	if hits := e.Stats().ObjectCacheHits - before.ObjectCacheHits; hits != hot {
		t.Fatalf("%d of %d hot keys still cached after 3000 one-off keys", hits, hot)
	}
	checkCache(t, e)
}

// What an entry is charged is close to what it keeps alive on the heap.
func TestObjectCacheAccounting(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	for _, c := range []struct {
		name  string
		owned bool
		sibs  int
		value int
	}{
		{"decoded/1x100", true, 1, 100},
		{"written/1x100", false, 1, 100},
		{"written/3x40", false, 3, 40},
		{"missing", true, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			heap := func() uint64 {
				runtime.GC()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				return m.HeapAlloc
			}
			h0 := heap()
			cache := newObjectCache(1 << 30)
			const n = 20000
			objs := make([]version.Object, n)
			keys := make([][]byte, n)
			for i := range objs {
				var o version.Object
				for s := range c.sibs {
					o = version.Merge(o, version.Object{}.Put(actor(byte(s)), nil, version.Sibling{Value: bytes.Repeat([]byte{'v'}, c.value), Timestamp: int64(i)}))
				}
				if c.owned && !o.IsZero() {
					var err error
					if o, err = version.DecodeObject(version.AppendObject(nil, o)); err != nil {
						t.Fatal(err)
					}
				}
				objs[i] = o
				keys[i] = dataKey(0, fmt.Appendf(nil, "key:%012d", i))
			}
			for i := range objs {
				cache.store(uint64(i)*0x9E3779B97F4A7C15, keys[i], keys[i], objs[i], true, c.owned)
			}
			// What the cache holds alone: drop the inputs it does not keep.
			keys, objs = nil, nil
			grown := float64(heap()) - float64(h0)
			charged := float64(cache.stats().bytes)
			t.Logf("%s: charged %.0f B/entry, heap grew %.0f B/entry", c.name, charged/n, grown/n)
			if charged < 0.9*grown || charged > 1.25*grown {
				t.Errorf("charged %.0f bytes, the heap grew by %.0f", charged, grown)
			}
			runtime.KeepAlive(cache)
		})
	}
}

// The cache never disagrees with pebble, nor with an engine without a
// cache given the same calls, whatever the sequence of writes, merges,
// batches, reads, sweeps, drops, flushes and reopens, with readers racing
// every step and caches from tiny (constant eviction) to large.
func TestObjectCacheAgreesWithPebble(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		clk := newClock()
		grace := time.Duration(rapid.IntRange(0, 2).Draw(rt, "grace")) * time.Second
		cacheBytes := rapid.SampledFrom([]int64{2 << 10, 8 << 10, 1 << 20}).Draw(rt, "cacheBytes")
		open := func(cfg Config) *Engine {
			e, err := Open(cfg)
			if err != nil {
				rt.Fatalf("Open: %v", err)
			}
			return e
		}
		cfgOf := func(cacheBytes int64) Config {
			cfg := testConfig(rt, vfs.NewMem(), clk)
			cfg.ObjectCacheBytes = cacheBytes
			cfg.TombstoneGrace = grace
			cfg.MaxSiblings = 3
			return cfg
		}
		cfgC, cfgP := cfgOf(cacheBytes), cfgOf(0)
		cached, plain := open(cfgC), open(cfgP)
		defer func() { _ = plain.Close() }()

		partitions := []uint16{0, 1}
		keys := []string{"a", "b", "c", "d"}

		// Readers race every step; they stop (and are joined) before a
		// reopen and at the end.
		var eng atomic.Pointer[Engine]
		eng.Store(cached)
		var stop atomic.Bool
		var readers sync.WaitGroup
		var readErr atomic.Pointer[error] // rapid.T is not for other goroutines
		startReaders := func() {
			stop.Store(false)
			for r := range 3 {
				readers.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(r), 7))
					for !stop.Load() {
						p, k := partitions[rng.IntN(len(partitions))], keys[rng.IntN(len(keys))]
						if _, err := eng.Load().Get(p, []byte(k)); err != nil {
							readErr.CompareAndSwap(nil, &err)
							return
						}
						runtime.Gosched()
					}
				})
			}
		}
		stopReaders := func() {
			stop.Store(true)
			readers.Wait()
			if err := readErr.Load(); err != nil {
				rt.Fatalf("reader Get: %v", *err)
			}
		}
		startReaders()
		defer func() {
			stopReaders()
			_ = eng.Load().Close()
		}()

		both := func(f func(e *Engine) (any, error)) {
			a, errA := f(eng.Load())
			b, errB := f(plain)
			if (errA == nil) != (errB == nil) {
				rt.Fatalf("cached engine: %v, plain engine: %v", errA, errB)
			}
			switch x := a.(type) {
			case version.Object:
				requireSame(rt, "result", x, b.(version.Object))
			case []MergeResult:
				for i := range x {
					requireSame(rt, fmt.Sprintf("result %d", i), x[i].Merged, b.([]MergeResult)[i].Merged)
				}
			}
		}
		drawKey := func(rt *rapid.T) (uint16, []byte) {
			return rapid.SampledFrom(partitions).Draw(rt, "p"), []byte(rapid.SampledFrom(keys).Draw(rt, "key"))
		}
		rt.Repeat(map[string]func(*rapid.T){
			"update": func(rt *rapid.T) {
				p, k := drawKey(rt)
				s := genSibling(rt, clk.NowMs(), "u")
				write := rapid.IntRange(0, 4).Draw(rt, "write") > 0
				both(func(e *Engine) (any, error) {
					return e.Update(p, k, func(cur version.Object) (version.Object, bool, error) {
						return cur.Put(actor(9), cur.VV, s), write, nil
					})
				})
			},
			"delete": func(rt *rapid.T) {
				p, k := drawKey(rt)
				both(func(e *Engine) (any, error) {
					return e.Update(p, k, func(version.Object) (version.Object, bool, error) { return version.Object{}, true, nil })
				})
			},
			"merge": func(rt *rapid.T) {
				p, k := drawKey(rt)
				objs := genObjects(rt, clk.NowMs(), "m")
				o := objs[rapid.IntRange(0, len(objs)-1).Draw(rt, "which")]
				both(func(e *Engine) (any, error) {
					m, _, err := e.Merge(p, k, o)
					return m, err
				})
			},
			"mergemany": func(rt *rapid.T) {
				var items []MergeItem
				for range rapid.IntRange(1, 5).Draw(rt, "items") {
					p, k := drawKey(rt)
					objs := genObjects(rt, clk.NowMs(), "mm")
					items = append(items, MergeItem{P: p, Key: k, Object: objs[len(objs)-1]})
				}
				both(func(e *Engine) (any, error) { return e.MergeMany(items) })
			},
			"get": func(rt *rapid.T) {
				p, k := drawKey(rt)
				both(func(e *Engine) (any, error) { return e.Get(p, k) })
			},
			"advance": func(rt *rapid.T) {
				clk.Advance(time.Duration(rapid.IntRange(0, 3000).Draw(rt, "ms")) * time.Millisecond)
			},
			"sweep": func(rt *rapid.T) {
				max := rapid.IntRange(1, 4).Draw(rt, "max")
				both(func(e *Engine) (any, error) { return e.SweepOnce(max) })
			},
			"drop": func(rt *rapid.T) {
				p := rapid.SampledFrom(partitions).Draw(rt, "p")
				both(func(e *Engine) (any, error) { return nil, e.DropPartition(p) })
			},
			"flushall": func(rt *rapid.T) {
				if rapid.IntRange(0, 3).Draw(rt, "rarely") == 0 {
					both(func(e *Engine) (any, error) { return nil, e.FlushAll() })
				}
			},
			"reopen": func(rt *rapid.T) {
				// Both, so that their sweeps start over together.
				stopReaders()
				if err := eng.Load().Close(); err != nil {
					rt.Fatal(err)
				}
				if err := plain.Close(); err != nil {
					rt.Fatal(err)
				}
				eng.Store(open(cfgC))
				plain = open(cfgP)
				startReaders()
			},
			"": func(rt *rapid.T) {
				e := eng.Load()
				checkCache(rt, e)
				for _, p := range partitions {
					for _, k := range keys {
						want, _, err := e.read(dataKey(p, []byte(k)))
						if err != nil {
							rt.Fatal(err)
						}
						requireSame(rt, fmt.Sprintf("Get(%d, %s)", p, k), mustGet(rt, e, p, k), want)
						requireSame(rt, fmt.Sprintf("plain Get(%d, %s)", p, k), mustGet(rt, plain, p, k), want)
					}
				}
			},
		})
	})
}

// Many goroutines on few keys, with a cache small enough to evict all the
// time: no read ever returns an object older than a write acknowledged, or
// seen in pebble, before the read began; no update is lost; and the cache
// ends equal to pebble. Run under -race.
func TestObjectCacheConcurrentReadsSeeAcknowledgedWrites(t *testing.T) {
	e, clk := openMem(t, func(c *Config) {
		c.ObjectCacheBytes = 2 << 10  // a few entries: constant eviction
		c.Durability = DurabilityNone // the race is in memory, not on disk
	})
	now := clk.NowMs()
	const keys, writersPerKey, readers, perWriter = 8, 3, 8, 200
	// The value and timestamp of every write is a per-key counter, so a
	// plain GET reads the highest counter among the siblings: a merge
	// built on a stale read leaves a sibling that never wins.
	counter := func(o version.Object) int {
		n, _ := strconv.Atoi(value(o, now))
		return n
	}
	var acked [keys]atomic.Int64 // the highest counter acknowledged per key
	var wg sync.WaitGroup
	done := make(chan struct{})
	for k := range keys {
		for w := range writersPerKey {
			wg.Go(func() {
				for range perWriter {
					var n int
					var err error
					if w == 0 {
						// A replica-style merge of the next version.
						var cur version.Object
						if cur, err = e.Get(uint16(k), []byte{byte('a' + k)}); err == nil {
							n = counter(cur) + 1
							next := cur.Put(actor(byte(10+k)), cur.VV, version.Sibling{Value: []byte(strconv.Itoa(n)), Timestamp: int64(n)})
							var changed bool
							_, changed, err = e.Merge(uint16(k), []byte{byte('a' + k)}, next)
							if err == nil && !changed {
								continue // lost the race to another writer: nothing acknowledged
							}
						}
					} else {
						_, err = e.Update(uint16(k), []byte{byte('a' + k)}, func(cur version.Object) (version.Object, bool, error) {
							n = counter(cur) + 1
							return cur.Put(actor(byte(w)), cur.VV, version.Sibling{Value: []byte(strconv.Itoa(n)), Timestamp: int64(n)}), true, nil
						})
					}
					if err != nil {
						t.Error(err)
						return
					}
					for {
						a := acked[k].Load()
						if int64(n) <= a || acked[k].CompareAndSwap(a, int64(n)) {
							break
						}
					}
				}
			})
		}
	}
	var rg sync.WaitGroup
	for r := range readers {
		rg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 1))
			var last [keys]int
			for {
				select {
				case <-done:
					return
				default:
				}
				k := rng.IntN(keys)
				floor := acked[k].Load()
				what := "acknowledged"
				if r%2 == 1 {
					// Half the readers first look at pebble itself (a scan
					// reads no cache): once a write is visible there, the
					// cache must not answer with an older object.
					err := e.Scan(uint16(k), nil, func(_ []byte, o version.Object) bool {
						floor = max(floor, int64(counter(o)))
						return false
					})
					if err != nil {
						t.Error(err)
						return
					}
					what = "acknowledged or scanned"
				}
				o, err := e.Get(uint16(k), []byte{byte('a' + k)})
				if err != nil {
					t.Error(err)
					return
				}
				n := counter(o)
				if int64(n) < floor || n < last[k] {
					t.Errorf("key %d read %d after %d was %s and %d read", k, n, floor, what, last[k])
					return
				}
				last[k] = n
			}
		})
	}
	wg.Wait()
	close(done)
	rg.Wait()
	for k := range keys {
		if got := counter(mustGet(t, e, uint16(k), string([]byte{byte('a' + k)}))); int64(got) != acked[k].Load() {
			t.Errorf("key %d ends at %d, highest acknowledged %d", k, got, acked[k].Load())
		}
	}
	checkCache(t, e)
	s := e.Stats()
	t.Logf("hits %d misses %d evictions %d", s.ObjectCacheHits, s.ObjectCacheMisses, s.ObjectCacheEvictions)
}

// Two keys whose hashes are equal share one map slot: the cache must never
// answer one key with the other's object, a bulk update must not displace
// the cached key, and an insert replaces it.
func TestObjectCacheHashCollision(t *testing.T) {
	c := newObjectCache(1 << 20)
	const h = 42
	k1, k2 := dataKey(0, []byte("one")), dataKey(0, []byte("two"))
	obj := func(v string) version.Object {
		return version.Object{}.Put(actor(1), nil, version.Sibling{Value: []byte(v), Timestamp: 1})
	}
	structure := func() {
		t.Helper()
		s := c.shard(h)
		if len(s.m) != len(s.ring) {
			t.Fatalf("map %d entries, ring %d", len(s.m), len(s.ring))
		}
		for pos, en := range s.ring {
			if int(en.pos) != pos || s.m[en.h] != en {
				t.Fatalf("entry %q at ring %d: pos %d, map %p", en.k, pos, en.pos, s.m[en.h])
			}
		}
	}
	c.store(h, k1, nil, obj("a"), true, false)
	if _, ok := c.get(h, k2); ok {
		t.Fatal("k2 answered from k1's entry")
	}
	c.store(h, k2, nil, obj("b"), false, false) // a bulk write of k2
	if o, ok := c.get(h, k1); !ok || value(o, 0) != "a" {
		t.Fatalf("a bulk write of a colliding key displaced k1: %v %v", o, ok)
	}
	c.invalidate(h, k2)
	if _, ok := c.get(h, k1); !ok {
		t.Fatal("invalidating a colliding key made k1 stale")
	}
	c.store(h, k2, nil, obj("b"), true, false) // a single-key write of k2
	if _, ok := c.get(h, k1); ok {
		t.Fatal("k1 still cached after k2 took its slot")
	}
	if o, ok := c.get(h, k2); !ok || value(o, 0) != "b" {
		t.Fatalf("k2 = %v %v, want b", o, ok)
	}
	structure()
}
