package engine

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/dynago/dynago/version"
)

// Durability under crashes and I/O errors (TESTING.md scenarios 9 and 10):
// in sync and group mode an acknowledgement implies an fsync, so a crash
// loses nothing acknowledged; in none mode the loss is measured. A WAL
// write or sync error is fatal, and nothing is acknowledged after it.

// ackLog records the keys whose write was acknowledged.
type ackLog struct {
	mu   sync.Mutex
	keys []string
	n    atomic.Int64
}

func (a *ackLog) add(k string) int64 {
	a.mu.Lock()
	a.keys = append(a.keys, k)
	a.mu.Unlock()
	return a.n.Add(1)
}

func (a *ackLog) snapshot() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.keys)
}

// lostKeys reopens cfg and returns the acknowledged keys that are missing.
func lostKeys(t *testing.T, cfg Config, acked []string) int {
	t.Helper()
	e := mustOpen(t, cfg)
	lost := 0
	for _, k := range acked {
		p := uint16(len(k) % 16)
		if value(mustGet(t, e, p, k), 0) != k {
			lost++
		}
	}
	var keys int64
	for p := range uint16(16) {
		k, x, _ := bruteCount(t, e, p)
		if gk, gx := e.PartitionKeys(p); gk != k || gx != x {
			t.Errorf("partition %d after recovery: counters %d/%d, scan %d/%d", p, gk, gx, k, x)
		}
		keys += k
	}
	t.Logf("recovered %d objects", keys)
	return lost
}

func TestCrashLosesNoAcknowledgedWrite(t *testing.T) {
	for _, d := range []Durability{DurabilitySync, DurabilityGroup, DurabilityNone} {
		for _, unsynced := range []int{0, 50} {
			t.Run(fmt.Sprintf("%s/unsynced=%d%%", d, unsynced), func(t *testing.T) {
				mem := vfs.NewCrashableMem()
				cfg := testConfig(t, mem, newClock())
				cfg.Durability = d
				e := mustOpen(t, cfg)

				const writers, perWriter = 8, 60
				var acks ackLog
				crash := make(chan struct{})
				var wg sync.WaitGroup
				for w := range writers {
					wg.Go(func() {
						for i := range perWriter {
							k := fmt.Sprintf("w%d-%d", w, i)
							if _, err := e.Update(uint16(len(k)%16), []byte(k), put(actor(byte(w)), k, 1, 0)); err != nil {
								t.Error(err)
								return
							}
							if acks.add(k) == writers*perWriter/2 {
								close(crash)
							}
						}
					})
				}
				<-crash
				// Every write acknowledged before the snapshot was
				// acknowledged before the crash.
				acked := acks.snapshot()
				crashed := mem.CrashClone(vfs.CrashCloneCfg{
					UnsyncedDataPercent: unsynced,
					RNG:                 rand.New(rand.NewPCG(1, uint64(unsynced))),
				})
				wg.Wait()
				if err := e.Close(); err != nil {
					t.Fatal(err)
				}

				cfg.FS = crashed
				lost := lostKeys(t, cfg, acked)
				t.Logf("durability %s, %d%% of unsynced data surviving: %d of %d acknowledged writes lost",
					d, unsynced, lost, len(acked))
				if d != DurabilityNone && lost > 0 {
					t.Fatalf("%d acknowledged writes lost in %s mode", lost, d)
				}
			})
		}
	}
}

// walFaults injects errors into the WAL's writes and syncs once switched
// on.
func walFaults() *errorfs.Toggle {
	return &errorfs.Toggle{Injector: errorfs.InjectorFunc(func(op errorfs.Op) error {
		if !strings.HasSuffix(op.Path, ".log") {
			return nil
		}
		switch op.Kind {
		case errorfs.OpFileWrite, errorfs.OpFileWriteAt, errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo:
			return errorfs.ErrInjected
		}
		return nil
	})}
}

func TestWALErrorIsFatalAndNothingIsAcknowledgedAfterIt(t *testing.T) {
	for _, d := range []Durability{DurabilitySync, DurabilityGroup} {
		t.Run(d.String(), func(t *testing.T) {
			mem := vfs.NewCrashableMem()
			faults := walFaults()
			var fatals fatalRecorder
			cfg := testConfig(t, errorfs.Wrap(mem, faults), newClock())
			cfg.Durability = d
			cfg.testing.fatal = fatals.fatal
			e := mustOpen(t, cfg)

			const writers = 8
			var acks ackLog
			var afterFatal atomic.Int64 // writes acknowledged although begun after the fatal error
			faultAt := make(chan struct{})
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for i := 0; ; i++ {
						k := fmt.Sprintf("w%d-%d", w, i)
						begunAfterFatal := fatals.count() > 0
						_, err := e.Update(uint16(len(k)%16), []byte(k), put(actor(byte(w)), k, 1, 0))
						if err != nil {
							if !errors.Is(err, ErrFailed) {
								t.Errorf("write failed with %v, want ErrFailed", err)
							}
							return
						}
						if begunAfterFatal {
							afterFatal.Add(1)
						}
						if acks.add(k) == 200 {
							faults.On()
							close(faultAt)
						}
					}
				})
			}
			<-faultAt
			wg.Wait()
			if fatals.count() == 0 {
				t.Fatal("the WAL error did not reach the fatal hook")
			}
			if n := afterFatal.Load(); n > 0 {
				t.Fatalf("%d writes begun after the fatal error were acknowledged", n)
			}
			if !e.Stats().Failed {
				t.Fatal("Stats.Failed is false after a fatal error")
			}
			for name, err := range map[string]error{
				"Update":  func() error { _, err := e.Update(0, []byte("x"), put(actor(1), "x", 1, 0)); return err }(),
				"Merge":   func() error { _, _, err := e.Merge(0, []byte("x"), version.Object{}); return err }(),
				"PutMeta": e.PutMeta("m", []byte("v")),
				"Get":     func() error { _, err := e.Get(0, []byte("x")); return err }(),
			} {
				if !errors.Is(err, ErrFailed) {
					t.Errorf("%s after the failure: %v, want ErrFailed", name, err)
				}
			}
			// Close must return (with pebble's error, if any) rather than hang.
			t.Logf("Close after the failure: %v", e.Close())

			acked := acks.snapshot()
			cfg.FS = mem.CrashClone(vfs.CrashCloneCfg{})
			cfg.testing.fatal = func(msg string) { t.Errorf("fatal after recovery: %s", msg) }
			if lost := lostKeys(t, cfg, acked); lost > 0 {
				t.Fatalf("%d of %d acknowledged writes lost after the WAL failure", lost, len(acked))
			}
			t.Logf("%d acknowledged writes before the failure, all recovered; fatal: %s", len(acked), fatals.msgs[0])
		})
	}
}

// In sync mode every acknowledged write has an fsync of its own, however
// many writers there are; group mode may share them.
func TestSyncModeGivesEveryWriteItsOwnFsync(t *testing.T) {
	for _, d := range []Durability{DurabilitySync, DurabilityGroup} {
		t.Run(d.String(), func(t *testing.T) {
			e, _ := openMem(t, func(c *Config) { c.Durability = d })
			before := e.Stats()
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					for i := range 50 {
						k := fmt.Sprintf("w%d-%d", w, i)
						if _, err := e.Update(uint16(i%4), []byte(k), put(actor(byte(w)), k, 1, 0)); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			after := e.Stats()
			commits, syncs := after.SyncedCommits-before.SyncedCommits, after.WALSyncs-before.WALSyncs
			t.Logf("%s: %d synced commits, %d WAL fsyncs", d, commits, syncs)
			if commits != 400 {
				t.Fatalf("%d synced commits, want 400", commits)
			}
			if d == DurabilitySync && syncs < commits {
				t.Fatalf("sync mode: %d fsyncs for %d acknowledged writes: some were shared", syncs, commits)
			}
		})
	}
}
