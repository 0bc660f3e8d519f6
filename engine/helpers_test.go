package engine

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynago/dynago/version"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// tb is what the helpers need of a test; *testing.T, *testing.B and
// *rapid.T all have it.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// clock is an injected clock tests move by hand.
type clock struct{ ms atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ms.Store(1_700_000_000_000)
	return c
}

func (c *clock) Now() time.Time          { return time.UnixMilli(c.ms.Load()) }
func (c *clock) NowMs() int64            { return c.ms.Load() }
func (c *clock) Advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

// fatalRecorder is the fatal hook of test engines: it records instead of
// exiting.
type fatalRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (f *fatalRecorder) fatal(msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, msg)
}

func (f *fatalRecorder) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.msgs)
}

// testConfig is an engine on fs at /db in sync mode, with no sweeper
// goroutine (tests drive SweepOnce), the clock clk and a recording fatal
// hook that fails the test unless it expects failures.
func testConfig(t tb, fs vfs.FS, clk *clock) Config {
	cfg := DefaultConfig("/db")
	cfg.FS = fs
	cfg.Durability = DurabilitySync
	cfg.SweepInterval = 0
	cfg.TombstoneGrace = time.Minute
	cfg.CacheBytes = 8 << 20
	cfg.MemTableBytes = 4 << 20
	cfg.Now = clk.Now
	cfg.testing.fatal = func(msg string) { t.Errorf("unexpected fatal storage error: %s", msg) }
	return cfg
}

func mustOpen(t tb, cfg Config) *Engine {
	t.Helper()
	e, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// openMem opens a fresh engine on an in-memory filesystem.
func openMem(t tb, mutate ...func(*Config)) (*Engine, *clock) {
	t.Helper()
	e, clk, _ := openMemConfig(t, mutate...)
	return e, clk
}

// openMemConfig is openMem that also returns the configuration, to reopen
// the same database.
func openMemConfig(t tb, mutate ...func(*Config)) (*Engine, *clock, Config) {
	t.Helper()
	clk := newClock()
	cfg := testConfig(t, vfs.NewMem(), clk)
	for _, m := range mutate {
		m(&cfg)
	}
	return mustOpen(t, cfg), clk, cfg
}

func actor(n byte) version.Actor {
	return version.NewActor([]byte{n, n, n, n, n, n, n, n}, uint32(n)+1)
}

// put is a blind write of value by actor a at time nowMs, with an absolute
// expiry (0 for none).
func put(a version.Actor, value string, nowMs, expiry int64) func(version.Object) (version.Object, bool, error) {
	return func(cur version.Object) (version.Object, bool, error) {
		return cur.Put(a, cur.VV, version.Sibling{Value: []byte(value), Timestamp: nowMs, Expiry: expiry}), true, nil
	}
}

// del is a blind delete (a tombstone) by actor a at time nowMs.
func del(a version.Actor, nowMs int64) func(version.Object) (version.Object, bool, error) {
	return func(cur version.Object) (version.Object, bool, error) {
		return cur.Put(a, cur.VV, version.Sibling{Tombstone: true, Timestamp: nowMs}), true, nil
	}
}

func mustUpdate(t tb, e *Engine, p uint16, key string, fn func(version.Object) (version.Object, bool, error)) version.Object {
	t.Helper()
	o, err := e.Update(p, []byte(key), fn)
	if err != nil {
		t.Fatalf("Update(%d, %q): %v", p, key, err)
	}
	return o
}

func mustGet(t tb, e *Engine, p uint16, key string) version.Object {
	t.Helper()
	o, err := e.Get(p, []byte(key))
	if err != nil {
		t.Fatalf("Get(%d, %q): %v", p, key, err)
	}
	return o
}

// value returns what a plain GET would read, "" for nothing.
func value(o version.Object, nowMs int64) string {
	s, ok := o.Value(nowMs)
	if !ok {
		return ""
	}
	return string(s.Value)
}

func requireSame(t tb, what string, got, want version.Object) {
	t.Helper()
	if !sameObject(got, want) {
		t.Fatalf("%s: got %s, want %s", what, show(got), show(want))
	}
}

func show(o version.Object) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s[", o.VV)
	for i, s := range o.Siblings {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%q", s.Dot, s.Value)
		if s.Tombstone {
			b.WriteString("(del)")
		}
		if s.Expiry != 0 {
			fmt.Fprintf(&b, "(exp %d)", s.Expiry)
		}
	}
	b.WriteString("]")
	return b.String()
}

// bruteCount recomputes partition p's counters and the XOR of its objects'
// anti-entropy hashes from a scan.
func bruteCount(t tb, e *Engine, p uint16) (keys, expires int64, xor uint64) {
	t.Helper()
	err := e.Scan(p, nil, func(key []byte, o version.Object) bool {
		live, exp := classify(o)
		keys += b2i(live)
		expires += b2i(exp)
		xor ^= version.Hash(key, o)
		return true
	})
	if err != nil {
		t.Fatalf("Scan(%d): %v", p, err)
	}
	return keys, expires, xor
}

// bruteBytes recomputes partition p's LiveBytes share from a scan.
func bruteBytes(t tb, e *Engine, p uint16) (n int64) {
	t.Helper()
	err := e.Scan(p, nil, func(key []byte, o version.Object) bool {
		if live, _ := classify(o); live {
			n += LogicalSize(key, o)
		}
		return true
	})
	if err != nil {
		t.Fatalf("Scan(%d): %v", p, err)
	}
	return n
}

// merkle is what an anti-entropy tree sees of OnChange: the XOR of the
// hashes per partition.
type merkle struct {
	mu  sync.Mutex
	xor map[uint16]uint64
}

func newMerkle() *merkle { return &merkle{xor: make(map[uint16]uint64)} }

func (m *merkle) onChange(p uint16, _ []byte, oldHash, newHash uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.xor[p] ^= oldHash ^ newHash
}

func (m *merkle) get(p uint16) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.xor[p]
}

func (m *merkle) reset(p uint16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.xor, p)
}
