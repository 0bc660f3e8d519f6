package engine

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynago/dynago/version"
)

// TestScale1M loads 1M objects with 100-byte values on the real disk and
// reports the time Open takes to count them and the process RSS, against
// the target of a node with 1M objects under 300 MB RSS. It takes about a
// minute, so it runs only when DYNAGO_ENGINE_SCALE=1 (and without -race,
// which multiplies memory):
//
//	DYNAGO_ENGINE_SCALE=1 go test -run TestScale1M -v ./engine/
func TestScale1M(t *testing.T) {
	if os.Getenv("DYNAGO_ENGINE_SCALE") != "1" {
		t.Skip("set DYNAGO_ENGINE_SCALE=1 to load 1M objects and measure Open and RSS")
	}
	const objects, batch, partitions = 1_000_000, 1000, 256
	cfg := DefaultConfig(t.TempDir())
	cfg.SweepInterval = 0
	cfg.testing.fatal = func(msg string) { t.Errorf("fatal storage error: %s", msg) }
	e, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	items := make([]MergeItem, 0, batch)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range objects {
		// Random values: they do not compress, unlike benchValue's.
		v := make([]byte, 100)
		for j := range v {
			v[j] = byte(rng.Uint32())
		}
		o := version.Object{}.Put(actor(byte(i%3)), nil, version.Sibling{Value: v, Timestamp: int64(i)})
		items = append(items, MergeItem{P: uint16(i % partitions), Key: fmt.Appendf(nil, "key:%08d", i), Object: o})
		if len(items) == batch {
			if _, err := e.MergeMany(items); err != nil {
				t.Fatal(err)
			}
			items = items[:0]
		}
	}
	t.Logf("loaded %d objects in %s; RSS %d MB; %+v", objects, time.Since(start).Round(time.Millisecond), rssMB(t), e.Stats())
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	runtime.GC()
	start = time.Now()
	e, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	openTime := time.Since(start)
	keys, _, _ := e.LiveKeys(0)
	if keys != objects {
		t.Fatalf("LiveKeys after reopen = %d, want %d", keys, objects)
	}
	// Touch every object once more (a full scan, as anti-entropy does) and
	// read a third of the keys, which fills the block cache and the object
	// cache (~90k objects) to their sizes and keeps the latter evicting.
	start = time.Now()
	for p := range uint16(partitions) {
		if err := e.Scan(p, nil, func([]byte, version.Object) bool { return true }); err != nil {
			t.Fatal(err)
		}
	}
	scanTime := time.Since(start)
	for i := 0; i < objects; i += 3 {
		if _, err := e.Get(uint16(i%partitions), fmt.Appendf(nil, "key:%08d", i)); err != nil {
			t.Fatal(err)
		}
	}
	s := e.Stats()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	t.Logf("Open of %d objects (counting scan included): %s; full scan %s; RSS %d MB; disk %d MB; block cache %d MB; memtables %d MB; "+
		"object cache %d MB in %d entries (%d evictions); Go heap in use %d MB, from the OS %d MB",
		objects, openTime.Round(time.Millisecond), scanTime.Round(time.Millisecond), rssMB(t),
		s.DiskUsageBytes>>20, s.BlockCacheBytes>>20, s.MemTableBytes>>20,
		s.ObjectCacheBytes>>20, s.ObjectCacheEntries, s.ObjectCacheEvictions, m.HeapInuse>>20, m.HeapSys>>20)
}

// rssMB reads the resident set size of this process.
func rssMB(t *testing.T) int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Logf("no /proc: %v", err)
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return kb >> 10
		}
	}
	return -1
}
