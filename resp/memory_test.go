package resp

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dynago/dynago/coordinator"
)

// limitedBackend is a memBackend with a memory limit whose usage the test
// sets.
type limitedBackend struct {
	*memBackend
	used, max, evicted int64
	policy             coordinator.Policy
	samples            int
}

func (b *limitedBackend) MemoryFull() bool {
	return b.max > 0 && b.used > b.max && b.policy == coordinator.NoEviction
}
func (b *limitedBackend) UsedMemory() int64                       { return b.used }
func (b *limitedBackend) MaxMemory() int64                        { return b.max }
func (b *limitedBackend) SetMaxMemory(n int64)                    { b.max = n }
func (b *limitedBackend) MaxMemoryPolicy() coordinator.Policy     { return b.policy }
func (b *limitedBackend) SetMaxMemoryPolicy(p coordinator.Policy) { b.policy = p }
func (b *limitedBackend) MaxMemorySamples() int                   { return b.samples }
func (b *limitedBackend) SetMaxMemorySamples(n int)               { b.samples = n }
func (b *limitedBackend) EvictedKeys() int64                      { return b.evicted }
func (b *limitedBackend) KeyAccess(key []byte) (time.Duration, uint8, bool) {
	if !b.policy.TracksAccess() || b.max == 0 {
		return 0, 0, false
	}
	return 42 * time.Second, 7, true
}
func (b *limitedBackend) ExpiredKeys() int64 { return 7 }

func newLimitedHarness(t *testing.T) (*harness, *limitedBackend) {
	t.Helper()
	clock := newTestClock()
	cfg := testConfig(clock)
	b := &limitedBackend{memBackend: newMemBackend(clock, DefaultMaxValueBytes), samples: 5}
	s, err := New(cfg, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return &harness{t: t, s: s, b: b.memBackend, clock: clock, c: s.NewClient(), w: NewWriter(2)}, b
}

func TestConfigMaxMemory(t *testing.T) {
	h, b := newLimitedHarness(t)
	h.run([]step{
		{"CONFIG GET maxmemory", `["maxmemory", "0"]`},
		{"CONFIG SET maxmemory 100mb", "OK"},
		{"CONFIG GET maxmemory", `["maxmemory", "104857600"]`},
		{"CONFIG SET maxmemory 1GB", "OK"},
		{"CONFIG GET maxmemory", `["maxmemory", "1073741824"]`},
		{"CONFIG SET maxmemory 10x", "(error) ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"},
		{"CONFIG SET maxmemory -1", "(error) ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"},
		{"CONFIG SET maxmemory 1.5gb", "(error) ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"},
		{"CONFIG SET maxmemory-policy ALLKEYS-LRU", "OK"},
		{"CONFIG GET maxmemory-policy", `["maxmemory-policy", "allkeys-lru"]`},
		{"CONFIG SET maxmemory-policy foo", "(error) ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"},
		{"CONFIG SET maxmemory-samples 0", "(error) ERR CONFIG SET failed (possibly related to argument 'maxmemory-samples') - argument must be between 1 and 2147483647 inclusive"},
		{"CONFIG SET maxmemory-samples abc", "(error) ERR CONFIG SET failed (possibly related to argument 'maxmemory-samples') - argument couldn't be parsed into an integer"},
		{"CONFIG SET maxmemory-samples 10", "OK"},
		{"CONFIG GET maxmemory-samples", `["maxmemory-samples", "10"]`},
	})
	if b.max != 1<<30 || b.policy != coordinator.AllKeysLRU || b.samples != 10 {
		t.Fatalf("backend got max %d policy %v samples %d", b.max, b.policy, b.samples)
	}
	b.used, b.evicted = 12345, 42
	info := h.do("INFO")
	for _, want := range []string{"used_memory:12345", "maxmemory:1073741824", "maxmemory_human:1.00G", "maxmemory_policy:allkeys-lru", "evicted_keys:42", "expired_keys:7"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO lacks %q", want)
		}
	}
}

func TestOOMRefusesDenyOOMCommandsOnly(t *testing.T) {
	h, b := newLimitedHarness(t)
	h.run([]step{{"SET k v", "OK"}})
	b.max, b.used = 100, 200
	h.run([]step{
		{"SET k2 v", "(error) OOM command not allowed when used memory > 'maxmemory'."},
		{"HSET h f v", "(error) OOM command not allowed when used memory > 'maxmemory'."},
		{"APPEND k x", "(error) OOM command not allowed when used memory > 'maxmemory'."},
		{"GET k", `"v"`},
		{"EXPIRE k 100", "(integer) 1"},
		{"DEL k", "(integer) 1"},
	})
	b.policy = coordinator.AllKeysLRU // the backend evicts: nothing refused
	h.run([]step{{"SET k3 v", "OK"}})
}

func TestObjectFreqAndIdleTimeReadTheAccessTable(t *testing.T) {
	h, b := newLimitedHarness(t)
	h.run([]step{{"SET k v", "OK"}})
	b.max, b.policy = 1<<20, coordinator.AllKeysLRU
	h.run([]step{
		{"OBJECT IDLETIME k", "(integer) 42"},
		{"OBJECT FREQ k", "(error) " + msgNoLFU},
		{"OBJECT IDLETIME missing", "(nil)"},
	})
	b.policy = coordinator.VolatileLFU
	h.run([]step{
		{"OBJECT FREQ k", "(integer) 7"},
		{"OBJECT IDLETIME k", "(error) " + msgLFU},
	})
}
