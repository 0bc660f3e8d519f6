package engine

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynago/dynago/version"
)

// Benchmarks run on the real disk (b.TempDir()), since fsync is what they
// measure. Besides ns/op they report:
//
//	fsyncs/op       WAL fsyncs per write (Stats.WALSyncs / b.N)
//	commits/fsync   writers sharing one fsync (Stats.SyncedCommits / WALSyncs)
//	p50-µs, p99-µs  per-write latency
//	hit-%           object cache hits per lookup (Get benchmarks)
//
// Run: go test -run '^$' -bench . -benchtime 2000x ./engine/

func benchEngine(b *testing.B, d Durability, objectCacheBytes int64) *Engine {
	b.Helper()
	cfg := DefaultConfig(b.TempDir())
	cfg.Durability = d
	cfg.ObjectCacheBytes = objectCacheBytes
	cfg.SweepInterval = 0
	cfg.testing.fatal = func(msg string) { b.Errorf("fatal storage error: %s", msg) }
	return mustOpen(b, cfg)
}

// runWriters runs b.N calls of op spread over writers goroutines and
// reports latency percentiles and fsync sharing.
func runWriters(b *testing.B, e *Engine, writers int, op func(w, i int) error) {
	b.Helper()
	var next atomic.Int64
	lat := make([][]time.Duration, writers)
	before := e.Stats()
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				start := time.Now()
				if err := op(w, i); err != nil {
					b.Error(err)
					return
				}
				lat[w] = append(lat[w], time.Since(start))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	after := e.Stats()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	}
	syncs := after.WALSyncs - before.WALSyncs
	b.ReportMetric(float64(syncs)/float64(b.N), "fsyncs/op")
	if syncs > 0 {
		b.ReportMetric(float64(after.SyncedCommits-before.SyncedCommits)/float64(syncs), "commits/fsync")
	}
}

func benchValue(i int) []byte { return fmt.Appendf(make([]byte, 0, 100), "%-100d", i) }

// benchKey appends the benchmark's key number i to dst ("key:<i>"), so that
// the harness allocates nothing per operation.
func benchKey(dst []byte, i int) []byte {
	return strconv.AppendInt(append(dst[:0], "key:"...), int64(i), 10)
}

// BenchmarkEngineGet reads 100k objects with 100-byte values in a random
// order: every read a hit (the object cache holds them all), nearly every
// read a miss (a 1 MiB cache holds 3 % of them, so a read also evicts), and
// with the cache off (pebble's memtable and block cache only).
func BenchmarkEngineGet(b *testing.B) {
	for _, c := range []struct {
		name  string
		bytes int64
	}{{"hit", 256 << 20}, {"miss", 1 << 20}, {"off", 0}} {
		b.Run("cache="+c.name, func(b *testing.B) { benchGet(b, c.bytes) })
	}
}

func benchGet(b *testing.B, objectCacheBytes int64) {
	e := benchEngine(b, DurabilityNone, objectCacheBytes)
	const keys = 100_000
	items := make([]MergeItem, 0, 1000)
	for i := range keys {
		o := version.Object{}.Put(actor(1), nil, version.Sibling{Value: benchValue(i), Timestamp: 1})
		items = append(items, MergeItem{P: uint16(i % 256), Key: benchKey(nil, i), Object: o})
		if len(items) == cap(items) {
			if _, err := e.MergeMany(items); err != nil {
				b.Fatal(err)
			}
			items = items[:0]
		}
	}
	// Warm the cache: one read of every key.
	for i := range keys {
		if _, err := e.Get(uint16(i%256), benchKey(nil, i)); err != nil {
			b.Fatal(err)
		}
	}
	before := e.Stats()
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var key []byte
		for pb.Next() {
			i := int(n.Add(7919)) % keys
			key = benchKey(key, i)
			o, err := e.Get(uint16(i%256), key)
			if err != nil || o.IsZero() {
				b.Errorf("Get key:%d = %v, %v", i, o.IsZero(), err)
				return
			}
		}
	})
	b.StopTimer()
	after := e.Stats()
	if lookups := after.ObjectCacheHits + after.ObjectCacheMisses - before.ObjectCacheHits - before.ObjectCacheMisses; lookups > 0 {
		b.ReportMetric(100*float64(after.ObjectCacheHits-before.ObjectCacheHits)/float64(lookups), "hit-%")
	}
}

// BenchmarkEngineUpdate measures blind writes of distinct keys (100-byte
// values) per durability mode, by 1, 16 and 64 parallel writers: the
// table in doc.go (Durability).
func BenchmarkEngineUpdate(b *testing.B) {
	for _, d := range []Durability{DurabilitySync, DurabilityGroup, DurabilityNone} {
		for _, writers := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("%s/writers=%d", d, writers), func(b *testing.B) {
				benchUpdate(b, benchEngine(b, d, DefaultObjectCacheBytes), writers, 0)
			})
		}
	}
}

// BenchmarkEngineUpdateCPU measures the CPU and allocations of one Update
// without fsyncs (durability none, one writer): of a new key (the read
// finds nothing), and of one of 1000 keys written over and over (the read
// hits the object cache).
func BenchmarkEngineUpdateCPU(b *testing.B) {
	for _, c := range []struct {
		name string
		keys int
	}{{"new", 0}, {"overwrite", 1000}} {
		b.Run(c.name, func(b *testing.B) {
			benchUpdate(b, benchEngine(b, DurabilityNone, DefaultObjectCacheBytes), 1, c.keys)
		})
	}
}

// benchUpdate runs b.N blind writes by writers goroutines, of distinct keys
// when keys is 0, else of keys keys in turn.
func benchUpdate(b *testing.B, e *Engine, writers, keys int) {
	vals := make([][]byte, 1000)
	for i := range vals {
		vals[i] = benchValue(i)
	}
	bufs := make([][]byte, writers)
	runWriters(b, e, writers, func(w, i int) error {
		ki := i
		if keys > 0 {
			ki = i % keys
		}
		bufs[w] = benchKey(bufs[w], ki)
		_, err := e.Update(uint16(ki%256), bufs[w], func(cur version.Object) (version.Object, bool, error) {
			return cur.Put(actor(byte(w)), cur.VV, version.Sibling{Value: vals[i%len(vals)], Timestamp: int64(i)}), true, nil
		})
		return err
	})
}

// BenchmarkMergeMany measures replica writes in batches of 100 (one fsync
// per batch, group mode); ns/op is per item.
func BenchmarkMergeMany(b *testing.B) {
	e := benchEngine(b, DurabilityGroup, DefaultObjectCacheBytes)
	const batch = 100
	items := make([]MergeItem, batch)
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		for j := range items {
			k := i + j
			items[j] = MergeItem{
				P:      uint16(k % 256),
				Key:    fmt.Appendf(nil, "key:%d", k),
				Object: version.Object{}.Put(actor(1), nil, version.Sibling{Value: benchValue(k), Timestamp: 1}),
			}
		}
		if _, err := e.MergeMany(items); err != nil {
			b.Fatal(err)
		}
	}
}
