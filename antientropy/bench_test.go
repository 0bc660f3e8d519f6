package antientropy

import (
	"sync/atomic"
	"testing"
)

// benchKeys are the keys the update benchmarks cycle through.
func benchKeys() [][]byte {
	ks := make([][]byte, 4096)
	for i, k := range keys(len(ks)) {
		ks[i] = []byte(k)
	}
	return ks
}

// BenchmarkUpdate is the cost a write adds to the engine: one segment hash
// and depth+1 XORs under the tree's mutex.
func BenchmarkUpdate(b *testing.B) {
	tr, _ := NewTree(0, 0)
	ks := benchKeys()
	i := 0
	for b.Loop() {
		tr.Update(ks[i&4095], uint64(i), uint64(i+1))
		i++
	}
}

// atomicTree is the alternative to the mutex that BenchmarkUpdateParallel
// measures: each node an atomic.Uint64, XORed with a compare-and-swap loop
// (sync/atomic has And and Or but no Xor). It gives up consistent
// snapshots (a reader may see a leaf updated and its parent not yet), so it
// would have to be clearly faster to be worth it; it is not (see doc.go).
type atomicTree struct {
	t     *Tree
	nodes []atomic.Uint64
}

func (a *atomicTree) Update(key []byte, oldHash, newHash uint64) {
	delta := oldHash ^ newHash
	if delta == 0 {
		return
	}
	i := a.t.Segment(key)
	for d := a.t.Depth(); d >= 0; d-- {
		p := &a.nodes[a.t.offsets[d]+i]
		for v := p.Load(); !p.CompareAndSwap(v, v^delta); v = p.Load() {
		}
		i >>= a.t.shift
	}
}

// BenchmarkUpdateParallel is the engine's worst case: every goroutine
// writes keys of the same partition, so all contend for one tree. Run with
// -cpu 1,2,4,8 to compare the mutex with atomics as contention grows.
func BenchmarkUpdateParallel(b *testing.B) {
	tr, _ := NewTree(0, 0)
	at := &atomicTree{t: tr, nodes: make([]atomic.Uint64, len(tr.mu.nodes))}
	ks := benchKeys()
	for _, bc := range []struct {
		name   string
		update func(key []byte, oldHash, newHash uint64)
	}{{"mutex", tr.Update}, {"atomic", at.Update}} {
		b.Run(bc.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					bc.update(ks[i&4095], uint64(i), uint64(i+1))
					i++
				}
			})
		})
	}
}

// BenchmarkBuild100k rebuilds a tree from 100k (key, hash) pairs held in
// memory: the CPU part of a rebuild, without the partition scan's I/O.
func BenchmarkBuild100k(b *testing.B) {
	ks := keys(100_000)
	type kh struct {
		key []byte
		h   uint64
	}
	l := make([]kh, len(ks))
	for i, k := range ks {
		l[i] = kh{[]byte(k), objHash(k, 1)}
	}
	tr, _ := NewTree(0, 0)
	for b.Loop() {
		tr.Build(func(fn func([]byte, uint64)) {
			for _, e := range l {
				fn(e.key, e.h)
			}
		})
	}
}

// BenchmarkExchange runs a whole exchange over 100k keys (both sides in
// memory, messages through their wire encoding, each side's key round a
// filtered pass over its sorted key list) and reports the bytes it moved.
func BenchmarkExchange(b *testing.B) {
	const n = 100_000
	ks := keys(n)
	base := uniform(ks, 1)
	local := base.replica(b, 0, 0)
	for _, frac := range []float64{0.001, 0.01, 0.1} {
		rm := divergeN(base, ks, int(frac*n))
		remote := rm.replica(b, 0, 0)
		b.Run(pct(frac), func(b *testing.B) {
			var c Cost
			for b.Loop() {
				c = runExchange(b, local, remote).cost
			}
			b.ReportMetric(float64(c.BytesSent+c.BytesReceived), "bytes/exchange")
			b.ReportMetric(float64(c.HashesReceived), "hashes/exchange")
			b.ReportMetric(float64(c.KeysReceived), "keys/exchange")
		})
	}
}
