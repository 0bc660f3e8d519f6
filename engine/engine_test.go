package engine

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynago/dynago/version"
)

// Tests of the basic store contract: what Update, Get, Scan, Merge and
// reopen promise the coordinator (Dynamo §4.4, §5; docs/architecture.md §3, §6).

func TestRoundTrip(t *testing.T) {
	e, clk := openMem(t)
	a := actor(1)
	keys := []string{"", "a", "b\x00c", "\xff\xfe", "user:{1}.cart"}
	for i, k := range keys {
		mustUpdate(t, e, uint16(i), k, put(a, "v-"+k, clk.NowMs(), 0))
	}
	for i, k := range keys {
		if got := value(mustGet(t, e, uint16(i), k), clk.NowMs()); got != "v-"+k {
			t.Errorf("Get(%d, %q) = %q, want %q", i, k, got, "v-"+k)
		}
		// The same key in another partition is another object.
		if o := mustGet(t, e, uint16(i)+100, k); !o.IsZero() {
			t.Errorf("Get(%d, %q) in an unwritten partition = %s, want zero", i+100, k, show(o))
		}
	}
	if o := mustGet(t, e, 0, "missing"); !o.IsZero() {
		t.Errorf("missing key = %s, want zero", show(o))
	}
}

func TestScanOrderAndResume(t *testing.T) {
	e, clk := openMem(t)
	for i := range 20 {
		mustUpdate(t, e, 7, fmt.Sprintf("k%02d", i), put(actor(1), "v", clk.NowMs(), 0))
	}
	mustUpdate(t, e, 6, "other", put(actor(1), "v", clk.NowMs(), 0))
	mustUpdate(t, e, 8, "other", put(actor(1), "v", clk.NowMs(), 0))
	var got []string
	var after []byte
	for {
		n := 0
		err := e.Scan(7, after, func(key []byte, o version.Object) bool {
			got = append(got, string(key))
			after = append(after[:0], key...)
			n++
			return n < 6
		})
		if err != nil {
			t.Fatal(err)
		}
		if n < 6 {
			break
		}
	}
	if len(got) != 20 {
		t.Fatalf("scan returned %d keys, want 20: %q", len(got), got)
	}
	for i, k := range got {
		if want := fmt.Sprintf("k%02d", i); k != want {
			t.Fatalf("key %d = %q, want %q", i, k, want)
		}
	}
}

func TestUpdateSemantics(t *testing.T) {
	m := newMerkle()
	e, clk := openMem(t, func(c *Config) { c.OnChange = m.onChange })
	a, b := actor(1), actor(2)
	now := clk.NowMs()

	t.Run("no write returns cur and stores nothing", func(t *testing.T) {
		o, err := e.Update(1, []byte("k"), func(cur version.Object) (version.Object, bool, error) {
			return cur.Put(a, nil, version.Sibling{Value: []byte("x")}), false, nil
		})
		if err != nil || !o.IsZero() {
			t.Fatalf("Update without write = %s, %v; want zero, nil", show(o), err)
		}
		if o := mustGet(t, e, 1, "k"); !o.IsZero() {
			t.Fatalf("stored %s after a no-write Update", show(o))
		}
	})
	t.Run("fn error aborts", func(t *testing.T) {
		mustUpdate(t, e, 1, "k", put(a, "one", now, 0))
		boom := errors.New("boom")
		_, err := e.Update(1, []byte("k"), func(version.Object) (version.Object, bool, error) {
			return version.Object{}, true, boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update error = %v, want boom", err)
		}
		if got := value(mustGet(t, e, 1, "k"), now); got != "one" {
			t.Fatalf("after aborted Update the value is %q, want one", got)
		}
	})
	t.Run("fn sees the stored object and its result is returned", func(t *testing.T) {
		var seen version.Object
		out := mustUpdate(t, e, 1, "k", func(cur version.Object) (version.Object, bool, error) {
			seen = cur
			return cur.Put(b, cur.VV, version.Sibling{Value: []byte("two"), Timestamp: now + 1}), true, nil
		})
		if value(seen, now) != "one" {
			t.Fatalf("fn saw %s, want the stored one", show(seen))
		}
		requireSame(t, "stored", mustGet(t, e, 1, "k"), out)
	})
	t.Run("concurrent contexts keep siblings", func(t *testing.T) {
		stale := mustGet(t, e, 1, "k").VV
		mustUpdate(t, e, 1, "k", func(cur version.Object) (version.Object, bool, error) {
			return cur.Put(a, stale, version.Sibling{Value: []byte("x"), Timestamp: now + 2}), true, nil
		})
		mustUpdate(t, e, 1, "k", func(cur version.Object) (version.Object, bool, error) {
			return cur.Put(b, stale, version.Sibling{Value: []byte("y"), Timestamp: now + 3}), true, nil
		})
		if n := len(mustGet(t, e, 1, "k").Live(now)); n != 2 {
			t.Fatalf("%d live siblings after two writes with one stale context, want 2", n)
		}
	})
	t.Run("zero object deletes", func(t *testing.T) {
		mustUpdate(t, e, 1, "gone", put(a, "v", now, 0))
		mustUpdate(t, e, 1, "gone", func(version.Object) (version.Object, bool, error) { return version.Object{}, true, nil })
		if o := mustGet(t, e, 1, "gone"); !o.IsZero() {
			t.Fatalf("after storing the zero object: %s", show(o))
		}
	})
	t.Run("invalid object refused", func(t *testing.T) {
		bad := version.Object{Siblings: []version.Sibling{{Dot: version.Dot{Actor: a, Counter: 5}, Value: []byte("v")}}}
		_, err := e.Update(1, []byte("bad"), func(version.Object) (version.Object, bool, error) { return bad, true, nil })
		if !errors.Is(err, ErrInvalidObject) || !errors.Is(err, version.ErrMalformed) {
			t.Fatalf("Update with an invalid object: %v, want ErrInvalidObject", err)
		}
	})
	if keys, _, xor := bruteCount(t, e, 1); m.get(1) != xor || keys != e.counts.parts[1].keys.Load() {
		t.Fatalf("OnChange XOR %x, scan %x; counter %d, scan %d", m.get(1), xor, e.counts.parts[1].keys.Load(), keys)
	}
}

func TestSiblingCap(t *testing.T) {
	e, clk := openMem(t, func(c *Config) { c.MaxSiblings = 3 })
	now := clk.NowMs()
	for i := range 5 {
		// An empty context: every write is concurrent with the others.
		mustUpdate(t, e, 0, "k", func(cur version.Object) (version.Object, bool, error) {
			return cur.Put(actor(byte(i)), nil, version.Sibling{Value: fmt.Appendf(nil, "v%d", i), Timestamp: now + int64(i)}), true, nil
		})
	}
	o := mustGet(t, e, 0, "k")
	if len(o.Siblings) != 3 {
		t.Fatalf("%d siblings stored, want the cap of 3: %s", len(o.Siblings), show(o))
	}
	if got := value(o, now+10); got != "v4" {
		t.Fatalf("the newest write must survive the fold, got %q", got)
	}
	if s := e.Stats(); s.SiblingsFolded != 2 || s.CappedStores != 2 {
		t.Fatalf("SiblingsFolded = %d, CappedStores = %d, want 2, 2", s.SiblingsFolded, s.CappedStores)
	}
	// A replica write is capped too.
	in := o.Put(actor(9), nil, version.Sibling{Value: []byte("r"), Timestamp: now + 20})
	merged, changed, err := e.Merge(0, []byte("k"), in)
	if err != nil || !changed || len(merged.Siblings) != 3 {
		t.Fatalf("Merge = %s, %v, %v; want 3 siblings, changed", show(merged), changed, err)
	}
}

func TestMergeIdempotentAndCommutative(t *testing.T) {
	e, clk := openMem(t)
	now := clk.NowMs()
	x := version.Object{}.Put(actor(1), nil, version.Sibling{Value: []byte("x"), Timestamp: now})
	y := version.Object{}.Put(actor(2), nil, version.Sibling{Value: []byte("y"), Timestamp: now + 1})

	m1, changed, err := e.Merge(3, []byte("k"), x)
	if err != nil || !changed {
		t.Fatalf("first Merge: changed %v, %v", changed, err)
	}
	requireSame(t, "first merge", m1, x)
	m2, changed, err := e.Merge(3, []byte("k"), x)
	if err != nil || changed {
		t.Fatalf("Merge of the same object again: changed %v, %v; want unchanged", changed, err)
	}
	requireSame(t, "idempotent merge", m2, x)
	xy, _, err := e.Merge(3, []byte("k"), y)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Merge(4, []byte("k"), y); err != nil {
		t.Fatal(err)
	}
	yx, _, err := e.Merge(4, []byte("k"), x)
	if err != nil {
		t.Fatal(err)
	}
	requireSame(t, "x then y vs y then x", xy, yx)
	if s := e.Stats(); s.Merges != 4 || s.MergesNoop != 1 {
		t.Fatalf("Merges %d, MergesNoop %d; want 4, 1", s.Merges, s.MergesNoop)
	}
	if _, _, err := e.Merge(3, []byte("k"), version.Object{VV: version.VV{{Actor: actor(1)}}}); !errors.Is(err, ErrInvalidObject) {
		t.Fatalf("Merge of an invalid object: %v, want ErrInvalidObject", err)
	}
}

func TestConcurrentUpdateNoLostUpdate(t *testing.T) {
	e, _ := openMem(t)
	const writers, increments = 8, 200
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for range increments {
				_, err := e.Update(5, []byte("counter"), func(cur version.Object) (version.Object, bool, error) {
					n := 0
					if s, ok := cur.Value(0); ok {
						fmt.Sscan(string(s.Value), &n)
					}
					return cur.Put(actor(byte(w)), cur.VV, version.Sibling{Value: fmt.Appendf(nil, "%d", n+1), Timestamp: int64(n + 1)}), true, nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	o := mustGet(t, e, 5, "counter")
	if got := value(o, 0); got != fmt.Sprint(writers*increments) {
		t.Fatalf("counter = %s after %d increments: %s", got, writers*increments, show(o))
	}
	if len(o.Siblings) != 1 {
		t.Fatalf("serialised blind writes left %d siblings", len(o.Siblings))
	}
}

func TestBadArguments(t *testing.T) {
	e, _ := openMem(t)
	if _, err := e.Get(MaxPartitions, []byte("k")); !errors.Is(err, ErrBadPartition) {
		t.Errorf("Get in partition %d: %v, want ErrBadPartition", MaxPartitions, err)
	}
	if _, err := e.Update(MaxPartitions, nil, put(actor(1), "v", 0, 0)); !errors.Is(err, ErrBadPartition) {
		t.Errorf("Update: %v", err)
	}
	if err := e.DropPartition(65535); !errors.Is(err, ErrBadPartition) {
		t.Errorf("DropPartition: %v", err)
	}
	if err := e.PutHint("not-hex", 0, nil, version.Object{}); !errors.Is(err, ErrBadTarget) {
		t.Errorf("PutHint with a bad target: %v, want ErrBadTarget", err)
	}
	if _, err := e.MergeMany([]MergeItem{{P: 1}, {P: MaxPartitions}}); !errors.Is(err, ErrBadPartition) {
		t.Errorf("MergeMany: %v", err)
	}
	cfg := DefaultConfig("")
	cfg.MaxSiblings = -1
	if _, err := Open(cfg); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Open with a bad config: %v, want ErrInvalidConfig", err)
	}
}

func TestCorruptObjectSurfacesAsError(t *testing.T) {
	e, clk, cfg := openMemConfig(t)
	mustUpdate(t, e, 2, "good", put(actor(1), "v", clk.NowMs(), 0))
	if err := e.db.Set(dataKey(2, []byte("bad")), []byte{1, 200, 3}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Get(2, []byte("bad")); !errors.Is(err, ErrCorrupt) || !errors.Is(err, version.ErrMalformed) {
		t.Errorf("Get of a corrupt object: %v, want ErrCorrupt", err)
	}
	if _, err := e.Update(2, []byte("bad"), put(actor(1), "v", 0, 0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Update of a corrupt object: %v, want ErrCorrupt", err)
	}
	if _, _, err := e.Merge(2, []byte("bad"), version.Object{}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Merge into a corrupt object: %v, want ErrCorrupt", err)
	}
	if err := e.Scan(2, nil, func([]byte, version.Object) bool { return true }); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Scan over a corrupt object: %v, want ErrCorrupt", err)
	}
	if _, err := e.SweepOnce(100); err != nil {
		t.Errorf("the sweep must step over a corrupt object: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = mustOpen(t, cfg)
	if s := e.Stats(); s.CorruptObjects != 1 || s.LiveKeys != 1 {
		t.Fatalf("after reopen: CorruptObjects %d, LiveKeys %d; want 1, 1", s.CorruptObjects, s.LiveKeys)
	}
}

func TestCloseIsIdempotentAndFinal(t *testing.T) {
	e, _ := openMem(t, func(c *Config) { c.SweepInterval = time.Millisecond })
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := e.Get(0, []byte("k")); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close: %v, want ErrClosed", err)
	}
	if _, err := e.Update(0, []byte("k"), put(actor(1), "v", 0, 0)); !errors.Is(err, ErrClosed) {
		t.Errorf("Update after Close: %v, want ErrClosed", err)
	}
	if _, err := e.SweepOnce(0); !errors.Is(err, ErrClosed) {
		t.Errorf("SweepOnce after Close: %v, want ErrClosed", err)
	}
	_ = e.Stats() // must not touch the closed pebble
}

func TestReopenFindsEverything(t *testing.T) {
	e, clk, cfg := openMemConfig(t)
	now := clk.NowMs()
	target := targetID(1)
	for i := range 300 {
		p := uint16(i % 7)
		k := fmt.Sprintf("key%d", i)
		switch i % 3 {
		case 0:
			mustUpdate(t, e, p, k, put(actor(1), k, now, 0))
		case 1:
			mustUpdate(t, e, p, k, put(actor(1), k, now, now+int64(i)*1000))
		case 2:
			mustUpdate(t, e, p, k, del(actor(1), now))
		}
		if i%10 == 0 {
			o := version.Object{}.Put(actor(2), nil, version.Sibling{Value: []byte(k), Timestamp: now})
			if err := e.PutHint(target, p, []byte(k), o); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := e.PutMeta("identity", []byte(`{"name":"n1"}`)); err != nil {
		t.Fatal(err)
	}
	before := e.Stats()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = mustOpen(t, cfg)
	after := e.Stats()
	if after.LiveKeys != 200 || after.Expires != 100 || after.LiveKeys != before.LiveKeys || after.Expires != before.Expires {
		t.Fatalf("after reopen LiveKeys %d Expires %d, before %d %d, want 200 100", after.LiveKeys, after.Expires, before.LiveKeys, before.Expires)
	}
	for p := range uint16(7) {
		keys, exp, _ := bruteCount(t, e, p)
		if gk, ge := e.PartitionKeys(p); gk != keys || ge != exp {
			t.Fatalf("partition %d: counters %d/%d, scan %d/%d", p, gk, ge, keys, exp)
		}
	}
	for i := range 300 {
		k := fmt.Sprintf("key%d", i)
		o := mustGet(t, e, uint16(i%7), k)
		if want := map[int]string{0: k, 1: k, 2: ""}[i%3]; value(o, now) != want {
			t.Fatalf("%s = %q after reopen, want %q", k, value(o, now), want)
		}
	}
	if got := e.HintCounts()[target]; got != 30 {
		t.Fatalf("HintCounts after reopen = %d, want 30", got)
	}
	if v, ok, err := e.GetMeta("identity"); err != nil || !ok || string(v) != `{"name":"n1"}` {
		t.Fatalf("GetMeta after reopen = %q, %v, %v", v, ok, err)
	}
}

func TestMeta(t *testing.T) {
	e, _ := openMem(t, func(c *Config) { c.Durability = DurabilityNone })
	if v, ok, err := e.GetMeta("ring"); err != nil || ok || v != nil {
		t.Fatalf("GetMeta of a missing name = %q, %v, %v", v, ok, err)
	}
	syncs := e.Stats().SyncedCommits
	if err := e.PutMeta("ring", []byte("r1")); err != nil {
		t.Fatal(err)
	}
	if err := e.PutMeta("ring", []byte("r2")); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := e.GetMeta("ring"); err != nil || !ok || string(v) != "r2" {
		t.Fatalf("GetMeta = %q, %v, %v", v, ok, err)
	}
	if got := e.Stats().SyncedCommits - syncs; got != 2 {
		t.Fatalf("PutMeta in none mode waited for %d fsyncs, want 2 (metadata is always fsynced)", got)
	}
	// Metadata is not an object.
	if keys, _, _ := e.LiveKeys(0); keys != 0 {
		t.Fatalf("LiveKeys = %d with only metadata stored", keys)
	}
}

// targetID returns a 40-hex node id.
func targetID(n byte) string {
	var id nodeID
	for i := range id {
		id[i] = n
	}
	return id.String()
}

// UpdateAsync: the write is visible when it returns, durable when wait
// returns, and concurrent async writers of one key lose no update.
func TestUpdateAsync(t *testing.T) {
	e, _ := openMem(t)
	const writers, increments = 4, 100
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for range increments {
				_, wait, err := e.UpdateAsync(3, []byte("c"), func(cur version.Object) (version.Object, bool, error) {
					n := 0
					if s, ok := cur.Value(0); ok {
						fmt.Sscan(string(s.Value), &n)
					}
					return cur.Put(actor(byte(w)), cur.VV, version.Sibling{Value: fmt.Appendf(nil, "%d", n+1), Timestamp: int64(n + 1)}), true, nil
				})
				if err == nil {
					err = wait()
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := value(mustGet(t, e, 3, "c"), 0); got != fmt.Sprint(writers*increments) {
		t.Fatalf("counter = %s, want %d", got, writers*increments)
	}
	// A write that changes nothing has a wait that returns at once.
	_, wait, err := e.UpdateAsync(3, []byte("c"), func(cur version.Object) (version.Object, bool, error) { return cur, false, nil })
	if err != nil || wait() != nil {
		t.Fatalf("no-op UpdateAsync: %v", err)
	}
}

// A large object is encoded straight into a batch sized for it (put):
// it must read back intact from pebble (the object cache is off).
func TestLargeValueRoundTrip(t *testing.T) {
	e, clk := openMem(t, func(c *Config) { c.ObjectCacheBytes = 0 })
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	w := mustUpdate(t, e, 0, "big", put(actor(1), big, clk.NowMs(), clk.NowMs()+1e6))
	got := mustGet(t, e, 0, "big")
	requireSame(t, "Get", got, w)
	if v, _ := got.Value(clk.NowMs()); string(v.Value) != big {
		t.Fatalf("value of %d bytes read back as %d bytes", len(big), len(v.Value))
	}
}
