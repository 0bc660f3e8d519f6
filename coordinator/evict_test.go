package coordinator

import (
	"context"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynago/dynago/engine"
	"github.com/dynago/dynago/version"
)

// newEvictNode is a one-node coordinator over a real engine (in memory)
// with a memory limit.
func newEvictNode(t *testing.T, limit int64, policy Policy) (*Coordinator, *engine.Engine) {
	t.Helper()
	ecfg := engine.DefaultConfig("/db")
	ecfg.FS = vfs.NewMem()
	ecfg.Durability = engine.DurabilityNone
	ecfg.SweepInterval = 0
	eng, err := engine.Open(ecfg)
	if err != nil {
		t.Fatal(err)
	}
	id := nodeID(0)
	cfg := DefaultConfig()
	cfg.Self = id
	raw, _ := hex.DecodeString(id)
	cfg.Actor = version.NewActor(raw, 1)
	cfg.N, cfg.R, cfg.W = 1, 1, 1
	cfg.MaxMemory, cfg.MaxMemoryPolicy = limit, policy
	net := NewMemNetwork(1)
	var c *Coordinator
	tr := net.Register(id, HandlerFunc(func(ctx context.Context, from string, req *Request) *Response { return c.HandleRPC(ctx, from, req) }))
	pl := fixedPlacement{q: 64, nodes: []string{id}}
	c, err = New(cfg, Deps{Store: eng, Transport: tr, Placement: func() Placement { return pl }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close(context.Background())
		net.Wait()
		eng.Close()
	})
	return c, eng
}

func setKey(t *testing.T, c *Coordinator, key string, expireAt int64) {
	t.Helper()
	val := make([]byte, 100)
	if _, err := c.Write(context.Background(), []byte(key), Op{Kind: OpSet, Value: val, ExpireAt: expireAt}); err != nil {
		t.Fatalf("SET %s: %v", key, err)
	}
}

func keyExists(t *testing.T, c *Coordinator, key string) bool {
	t.Helper()
	o, err := c.Get(context.Background(), []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	_, ok := o.Value(time.Now().UnixMilli())
	return ok
}

// waitUnder waits for the evictor to bring the node under its limit.
func waitUnder(t *testing.T, c *Coordinator) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.UsedMemory() > c.MaxMemory() {
		if time.Now().After(deadline) {
			t.Fatalf("used %d stays over the limit %d", c.UsedMemory(), c.MaxMemory())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEvictionLRUKeepsTheHotKeysUnderTheLimit(t *testing.T) {
	const limit = 120 << 10 // about 600 keys of 100 bytes
	c, _ := newEvictNode(t, limit, AllKeysLRU)
	hot := func(i int) string { return fmt.Sprintf("hot:%d", i) }
	for i := range 50 {
		setKey(t, c, hot(i), 0)
	}
	for i := range 3000 {
		setKey(t, c, fmt.Sprintf("cold:%d", i), 0)
		keyExists(t, c, hot(i%50)) // every hot key is read every 50 writes
		if used := c.UsedMemory(); used > limit+limit/20 {
			t.Fatalf("after %d writes used %d > 105%% of %d", i, used, limit)
		}
	}
	waitUnder(t, c)
	if c.EvictedKeys() < 2000 {
		t.Fatalf("evicted %d keys, want most of the 3000 cold ones", c.EvictedKeys())
	}
	for i := range 50 {
		if !keyExists(t, c, hot(i)) {
			t.Errorf("hot key %s was evicted", hot(i))
		}
	}
	if c.MemoryFull() {
		t.Fatal("an evicting policy must not report the memory full")
	}
}

func TestEvictionLFUKeepsTheFrequentKeys(t *testing.T) {
	const limit = 120 << 10
	c, _ := newEvictNode(t, limit, AllKeysLFU)
	for i := range 50 {
		setKey(t, c, fmt.Sprintf("hot:%d", i), 0)
		for range 100 {
			keyExists(t, c, fmt.Sprintf("hot:%d", i))
		}
	}
	for i := range 3000 {
		setKey(t, c, fmt.Sprintf("cold:%d", i), 0)
	}
	waitUnder(t, c)
	kept := 0
	for i := range 50 {
		if keyExists(t, c, fmt.Sprintf("hot:%d", i)) {
			kept++
		}
	}
	if kept < 45 {
		t.Fatalf("LFU kept %d of 50 frequently read keys", kept)
	}
}

func TestNoEvictionReportsFullAndDeletesMakeRoom(t *testing.T) {
	const limit = 20 << 10
	c, _ := newEvictNode(t, limit, NoEviction)
	for i := range 200 {
		setKey(t, c, fmt.Sprintf("k:%d", i), 0)
	}
	if !c.MemoryFull() || c.EvictedKeys() != 0 {
		t.Fatalf("noeviction over the limit: full %v evicted %d", c.MemoryFull(), c.EvictedKeys())
	}
	for i := range 200 {
		if !keyExists(t, c, fmt.Sprintf("k:%d", i)) {
			t.Fatalf("noeviction lost k:%d", i)
		}
	}
	for i := range 150 {
		if _, err := c.Write(context.Background(), []byte(fmt.Sprintf("k:%d", i)), Op{Kind: OpDelete}); err != nil {
			t.Fatal(err)
		}
	}
	if c.MemoryFull() {
		t.Fatalf("after deletes used %d, limit %d: still full", c.UsedMemory(), limit)
	}
	// The policy changes at run time.
	c.SetMaxMemory(5 << 10)
	c.SetMaxMemoryPolicy(AllKeysRandom)
	waitUnder(t, c)
}

func TestVolatilePoliciesEvictOnlyKeysWithAnExpiry(t *testing.T) {
	const limit = 60 << 10
	c, _ := newEvictNode(t, limit, VolatileTTL)
	base := time.Now().Add(time.Hour).UnixMilli()
	for i := range 200 {
		setKey(t, c, fmt.Sprintf("persistent:%d", i), 0)
	}
	for i := range 400 {
		setKey(t, c, fmt.Sprintf("volatile:%d", i), base+int64(i)*1000)
	}
	waitUnder(t, c)
	var keptSum, kept int
	for i := range 200 {
		if !keyExists(t, c, fmt.Sprintf("persistent:%d", i)) {
			t.Fatalf("volatile-ttl evicted persistent:%d", i)
		}
	}
	for i := range 400 {
		if keyExists(t, c, fmt.Sprintf("volatile:%d", i)) {
			keptSum += i
			kept++
		}
	}
	if kept == 0 || kept == 400 {
		t.Fatalf("kept %d of 400 volatile keys", kept)
	}
	// The survivors are the later-expiring keys: their mean index is well
	// above the middle.
	if mean := keptSum / kept; mean < 250 {
		t.Fatalf("volatile-ttl kept keys with mean expiry index %d of 400: not the latest", mean)
	}

	// Nothing volatile left to evict: writes must be refused (OOM).
	c.SetMaxMemoryPolicy(VolatileLRU)
	for i := range 400 {
		c.Write(context.Background(), []byte(fmt.Sprintf("volatile:%d", i)), Op{Kind: OpDelete})
	}
	for i := range 400 {
		setKey(t, c, fmt.Sprintf("more:%d", i), 0)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !c.MemoryFull() {
		if time.Now().After(deadline) {
			t.Fatalf("volatile-lru with no volatile keys over the limit (%d > %d) must report full", c.UsedMemory(), limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
