package resp

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dynago/dynago/coordinator"
	"github.com/dynago/dynago/version"
)

// loopConn replays the same pipelined batch forever and discards replies,
// so a benchmark measures parse + runBatch + reply without sockets.
type loopConn struct {
	batch []byte
	off   int
	out   int
}

func (l *loopConn) Read(p []byte) (int, error) {
	n := copy(p, l.batch[l.off:])
	l.off = (l.off + n) % len(l.batch)
	return n, nil
}

// discardConn is the net.Conn a benchmark's conn writes its replies to.
type discardConn struct {
	net.Conn // nil: only the methods below are called
	out      int
}

func (d *discardConn) Write(p []byte) (int, error) { d.out += len(p); return len(p), nil }
func (d *discardConn) Close() error                { return nil }
func (d *discardConn) RemoteAddr() net.Addr        { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (d *discardConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 6379}
}

// pipelineDepth is redis-benchmark's -P 16.
const pipelineDepth = 16

// encodeBatch encodes one pipeline: cmd(i) for i in [0, depth).
func encodeBatch(depth int, cmd func(i int) []string) []byte {
	var b strings.Builder
	for i := range depth {
		args := cmd(i)
		b.WriteString("*" + itoa(len(args)) + "\r\n")
		for _, a := range args {
			b.WriteString("$" + itoa(len(a)) + "\r\n" + a + "\r\n")
		}
	}
	return []byte(b.String())
}

// benchKey is the i-th key of a batch: distinct keys, as redis-benchmark
// -r draws them.
func benchKey(i int) string { return "key:" + strings.Repeat("0", 8) + itoa(i%10) + itoa(i/10) }

// benchBatches runs a pipelined batch through the parser, runBatch (the
// connection's path: waves, request contexts, reply stitching, flush) and
// the writer, against s. It reports ns/op per command and, with
// perBatch > 0, the batch time in units of perBatch ("sleeps/batch").
func benchBatches(b *testing.B, s *Server, batch []byte, perBatch time.Duration) {
	b.Helper()
	dc := &discardConn{}
	c := s.newConn(dc)
	src := &loopConn{batch: batch}
	c.p.lim = s.limitsFor(c.client)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	batches := 0
	for done := 0; done < b.N; {
		cmds, err := c.p.readBatch(src)
		if err != nil {
			b.Fatal(err)
		}
		if !s.runBatch(c, cmds) {
			b.Fatal("connection closed")
		}
		done += len(cmds)
		batches++
	}
	b.StopTimer()
	s.Shutdown(context.Background()) // stops the wave workers
	if perBatch > 0 {
		b.ReportMetric(float64(time.Since(start))/float64(batches)/float64(perBatch), "sleeps/batch")
	}
	if dc.out == 0 {
		b.Fatal("no replies")
	}
}

// benchPipeline runs batches of pipelineDepth commands cmd(i) against the
// in-memory backend, after the setup commands.
func benchPipeline(b *testing.B, cmd func(i int) []string, setup ...string) {
	h := newHarness(&testing.T{})
	for _, s := range setup {
		h.do(s)
	}
	benchBatches(b, h.s, encodeBatch(pipelineDepth, cmd), 0)
}

// setupKeys are SET commands for the keys of one batch.
func setupKeys() []string {
	var out []string
	for i := range pipelineDepth {
		out = append(out, "SET "+benchKey(i)+" xxx")
	}
	return out
}

func BenchmarkDispatchGET(b *testing.B) {
	benchPipeline(b, func(i int) []string { return []string{"GET", benchKey(i)} }, setupKeys()...)
}

func BenchmarkDispatchSET(b *testing.B) {
	benchPipeline(b, func(i int) []string { return []string{"SET", benchKey(i), "xxx"} })
}

// BenchmarkDispatchSETSameKey pipelines SETs of one key: no two may run
// together, so this is the sequential path of a write pipeline.
func BenchmarkDispatchSETSameKey(b *testing.B) {
	benchPipeline(b, func(int) []string { return []string{"SET", benchKey(0), "xxx"} })
}

func BenchmarkDispatchPING(b *testing.B) {
	benchPipeline(b, func(int) []string { return []string{"PING"} })
}

// sleepBackend models a backend whose calls wait on I/O: every Write
// sleeps for write (an fsync), every Get for read (internode round trips);
// remote says whether it reports ParallelReads, as a cluster node does.
type sleepBackend struct {
	*memBackend
	write, read time.Duration
	remote      bool
}

func (sb *sleepBackend) Write(ctx context.Context, key []byte, op coordinator.Op) (coordinator.Result, error) {
	time.Sleep(sb.write)
	return sb.memBackend.Write(ctx, key, op)
}

func (sb *sleepBackend) Get(ctx context.Context, key []byte) (version.Object, error) {
	time.Sleep(sb.read)
	return sb.memBackend.Get(ctx, key)
}

func (sb *sleepBackend) ParallelReads() bool { return sb.remote }

// fsyncDelay is a write's fsync (or a read's internode round trips) in
// the sleep benchmarks.
const fsyncDelay = 200 * time.Microsecond

// measuredSleep is how long time.Sleep(d) really takes here: on a
// coarse-timer machine a 200 µs sleep can last a millisecond, and the
// sleeps/batch metric must count real sleeps.
func measuredSleep(d time.Duration) time.Duration {
	const n = 20
	start := time.Now()
	for range n {
		time.Sleep(d)
	}
	return time.Since(start) / n
}

func newSleepServer(b *testing.B, sb *sleepBackend) *Server {
	clock := newTestClock()
	sb.memBackend = newMemBackend(clock, DefaultMaxValueBytes)
	s, err := New(testConfig(clock), sb)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkBatchSETFsync pipelines 16 SETs of distinct keys against a
// backend whose writes sleep fsyncDelay: run one after another they cost
// 16 sleeps per batch, run as one wave about one.
func BenchmarkBatchSETFsync(b *testing.B) {
	s := newSleepServer(b, &sleepBackend{write: fsyncDelay})
	batch := encodeBatch(pipelineDepth, func(i int) []string { return []string{"SET", benchKey(i), "xxx"} })
	benchBatches(b, s, batch, measuredSleep(fsyncDelay))
}

// BenchmarkBatchGETRemote pipelines 16 GETs of distinct keys against a
// backend whose reads sleep fsyncDelay and that says reads are remote (a
// cluster).
func BenchmarkBatchGETRemote(b *testing.B) {
	s := newSleepServer(b, &sleepBackend{read: fsyncDelay, remote: true})
	batch := encodeBatch(pipelineDepth, func(i int) []string { return []string{"GET", benchKey(i)} })
	benchBatches(b, s, batch, measuredSleep(fsyncDelay))
}

// deepBackend models the stack a real write needs (the coordinator, the
// engine and pebble below it): each Write first recurses through about
// 32 KiB of stack, which a fresh goroutine would grow by copying.
type deepBackend struct{ *memBackend }

func (d deepBackend) Write(ctx context.Context, key []byte, op coordinator.Op) (coordinator.Result, error) {
	deepStack(32)
	return d.memBackend.Write(ctx, key, op)
}

//go:noinline
func deepStack(n int) byte {
	var pad [1 << 10]byte
	pad[n] = byte(n)
	if n == 0 {
		return pad[0]
	}
	return deepStack(n-1) + pad[n]
}

// BenchmarkDispatchSETDeep is BenchmarkDispatchSET against deepBackend:
// the cost of a wave's helpers growing their stacks, if they had to.
func BenchmarkDispatchSETDeep(b *testing.B) {
	clock := newTestClock()
	s, err := New(testConfig(clock), deepBackend{newMemBackend(clock, DefaultMaxValueBytes)})
	if err != nil {
		b.Fatal(err)
	}
	benchBatches(b, s, encodeBatch(pipelineDepth, func(i int) []string { return []string{"SET", benchKey(i), "xxx"} }), 0)
}

// BenchmarkLookup is the command-name lookup alone: no allocation.
func BenchmarkLookup(b *testing.B) {
	h := newHarness(&testing.T{})
	name := []byte("GeT")
	b.ReportAllocs()
	for b.Loop() {
		if lookup(&h.c.lower, h.s.cmds, name) == nil {
			b.Fatal("not found")
		}
	}
}
