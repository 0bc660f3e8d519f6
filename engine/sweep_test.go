package engine

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynago/dynago/version"
)

// The sweep (docs/architecture.md §6): "Expired objects read as missing and are purged in
// the background ... Tombstones are reaped only after every home replica
// has them and a grace period has passed".

func TestSweepCompactsExpiredValues(t *testing.T) {
	m := newMerkle()
	e, clk := openMem(t, func(c *Config) { c.OnChange = m.onChange })
	now := clk.NowMs()
	mustUpdate(t, e, 1, "ttl", put(actor(1), "short-lived", now, now+1000))
	mustUpdate(t, e, 1, "keep", put(actor(1), "forever", now, 0))
	if keys, exp, _ := e.LiveKeys(now); keys != 2 || exp != 1 {
		t.Fatalf("LiveKeys = %d, %d; want 2, 1", keys, exp)
	}
	before := mustGet(t, e, 1, "ttl")
	xor := m.get(1)

	clk.Advance(2 * time.Second)
	// Expired but not yet swept: it reads as missing and still counts.
	if value(before, clk.NowMs()) != "" {
		t.Fatal("an expired value must read as missing")
	}
	if keys, _, _ := e.LiveKeys(clk.NowMs()); keys != 2 {
		t.Fatalf("an expired key not yet swept must still count (Redis DBSIZE), LiveKeys = %d", keys)
	}
	if n, err := e.SweepOnce(100); err != nil || n != 2 {
		t.Fatalf("SweepOnce = %d, %v; want 2 visited", n, err)
	}
	after := mustGet(t, e, 1, "ttl")
	if len(after.Siblings) != 1 || !after.Siblings[0].Tombstone || after.Siblings[0].Value != nil {
		t.Fatalf("compacted object %s, want one value-less tombstone", show(after))
	}
	if !after.VV.Equal(before.VV) || version.Hash([]byte("ttl"), after) != version.Hash([]byte("ttl"), before) {
		t.Fatal("compaction must keep the VV and the hash")
	}
	if m.get(1) != xor {
		t.Fatal("compaction must not be reported to OnChange")
	}
	if keys, exp, _ := e.LiveKeys(clk.NowMs()); keys != 1 || exp != 0 {
		t.Fatalf("after compaction LiveKeys = %d, %d; want 1, 0", keys, exp)
	}
	if s := e.Stats(); s.Compacted != 1 || s.Reaped != 0 {
		t.Fatalf("Compacted %d Reaped %d, want 1, 0 (grace not over)", s.Compacted, s.Reaped)
	}
}

func TestSweepReapsAfterGraceWhenAllowed(t *testing.T) {
	m := newMerkle()
	var allow atomic.Bool
	var asked atomic.Int64
	e, clk := openMem(t, func(c *Config) {
		c.OnChange = m.onChange
		c.TombstoneGrace = time.Hour
		c.MayReap = func(p uint16, key []byte, o version.Object) bool {
			asked.Add(1)
			if !o.Dead(0) {
				t.Errorf("MayReap offered a live object %s", show(o))
			}
			return allow.Load()
		}
	})
	now := clk.NowMs()
	mustUpdate(t, e, 2, "deleted", put(actor(1), "v", now, 0))
	mustUpdate(t, e, 2, "deleted", del(actor(1), now))
	mustUpdate(t, e, 2, "expiring", put(actor(1), "v", now, now+1))

	sweep := func() {
		t.Helper()
		if _, err := e.SweepOnce(100); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(59 * time.Minute)
	sweep()
	if asked.Load() != 0 || mustGet(t, e, 2, "deleted").IsZero() {
		t.Fatal("a tombstone within its grace must be neither offered nor reaped")
	}
	clk.Advance(2 * time.Minute)
	sweep()
	if asked.Load() != 2 {
		t.Fatalf("MayReap asked %d times, want 2", asked.Load())
	}
	if mustGet(t, e, 2, "deleted").IsZero() || mustGet(t, e, 2, "expiring").IsZero() {
		t.Fatal("MayReap said no, yet a tombstone was reaped")
	}
	if s := e.Stats(); s.ReapRefused != 2 {
		t.Fatalf("ReapRefused = %d, want 2", s.ReapRefused)
	}
	allow.Store(true)
	sweep()
	if !mustGet(t, e, 2, "deleted").IsZero() || !mustGet(t, e, 2, "expiring").IsZero() {
		t.Fatal("dead objects past their grace were not reaped")
	}
	if m.get(2) != 0 {
		t.Fatalf("OnChange XOR after reaping everything = %x, want 0", m.get(2))
	}
	if keys, _ := e.PartitionKeys(2); keys != 0 {
		t.Fatalf("PartitionKeys = %d after reaping", keys)
	}
	if s := e.Stats(); s.Reaped != 2 {
		t.Fatalf("Reaped = %d, want 2", s.Reaped)
	}
}

// MayReap runs with no lock held and the object may change meanwhile: the
// reap must then not happen.
func TestSweepDoesNotReapAnObjectWrittenDuringMayReap(t *testing.T) {
	var e *Engine
	var clk *clock
	e, clk = openMem(t, func(c *Config) {
		c.TombstoneGrace = 0
		c.MayReap = func(p uint16, key []byte, o version.Object) bool {
			// A replica write lands while the cluster is asked.
			in := o.Put(actor(2), o.VV, version.Sibling{Value: []byte("reborn"), Timestamp: clk.NowMs()})
			if _, _, err := e.Merge(p, key, in); err != nil {
				t.Error(err)
			}
			return true
		}
	})
	mustUpdate(t, e, 0, "k", del(actor(1), clk.NowMs()))
	clk.Advance(time.Second)
	if _, err := e.SweepOnce(10); err != nil {
		t.Fatal(err)
	}
	if got := value(mustGet(t, e, 0, "k"), clk.NowMs()); got != "reborn" {
		t.Fatalf("the write made during MayReap was lost: %q", got)
	}
}

func TestSweepResumesWhereItLeftOff(t *testing.T) {
	e, clk := openMem(t, func(c *Config) { c.TombstoneGrace = 0 })
	now := clk.NowMs()
	for i := range 10 {
		mustUpdate(t, e, uint16(i%3), fmt.Sprintf("k%d", i), put(actor(1), "v", now, now+1))
	}
	clk.Advance(time.Second)
	var steps []int
	for {
		n, err := e.SweepOnce(3)
		if err != nil {
			t.Fatal(err)
		}
		steps = append(steps, n)
		if n < 3 {
			break
		}
	}
	if fmt.Sprint(steps) != "[3 3 3 1]" {
		t.Fatalf("steps visited %v, want [3 3 3 1]", steps)
	}
	if s := e.Stats(); s.Reaped != 10 || s.SweepPasses != 1 || s.SweepVisited != 10 {
		t.Fatalf("Reaped %d, SweepPasses %d, SweepVisited %d; want 10, 1, 10", s.Reaped, s.SweepPasses, s.SweepVisited)
	}
	if keys, _, _ := e.LiveKeys(0); keys != 0 {
		t.Fatalf("LiveKeys = %d", keys)
	}
}

// The sweeper goroutine runs SweepOnce on its ticker, and Close joins it
// (goleak checks that nothing is left running).
func TestSweeperGoroutine(t *testing.T) {
	reaped := make(chan struct{}, 1)
	e, clk := openMem(t, func(c *Config) {
		c.SweepInterval = time.Millisecond
		c.TombstoneGrace = 0
		c.MayReap = func(uint16, []byte, version.Object) bool {
			select {
			case reaped <- struct{}{}:
			default:
			}
			return true
		}
	})
	mustUpdate(t, e, 0, "k", del(actor(1), clk.NowMs()))
	clk.Advance(time.Second)
	select {
	case <-reaped:
	case <-time.After(30 * time.Second):
		t.Fatal("the sweeper never offered the tombstone")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSweepReportsExpiry: OnExpire fires once for a key whose last live
// value expired, after the sweep dropped it, and not for a key that keeps
// a live sibling, a live key, or a tombstone.
func TestSweepReportsExpiry(t *testing.T) {
	var mu sync.Mutex
	var got []string
	e, clk := openMem(t, func(c *Config) {
		c.OnExpire = func(p uint16, key []byte) {
			mu.Lock()
			got = append(got, fmt.Sprintf("%d/%s", p, key))
			mu.Unlock()
		}
	})
	now := clk.NowMs()
	mustUpdate(t, e, 1, "ttl", put(actor(1), "v", now, now+1000))
	mustUpdate(t, e, 1, "keep", put(actor(1), "v", now, 0))
	mustUpdate(t, e, 1, "deleted", del(actor(1), now))
	mustUpdate(t, e, 2, "sibling", put(actor(1), "v", now, now+1000))
	mustUpdate(t, e, 2, "sibling", func(cur version.Object) (version.Object, bool, error) {
		// Concurrent with the expiring value (an empty context): it stays.
		return cur.Put(actor(2), nil, version.Sibling{Value: []byte("w"), Timestamp: now}), true, nil
	})
	clk.Advance(2 * time.Second)
	for range 2 { // the second pass finds nothing more to report
		if _, err := e.SweepOnce(100); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != "1/ttl" {
		t.Fatalf("OnExpire calls %v, want [1/ttl]", got)
	}
}
