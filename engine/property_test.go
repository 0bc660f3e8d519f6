package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynago/dynago/version"
	"pgregory.net/rapid"
)

// Property tests against naive models: MergeMany against Merge called item
// by item; the O(1) counters and the OnChange stream against a brute-force
// scan.

// genObjects draws states one key could reach on some replica: three
// coordinators write on their local copies (with their own context, no
// context, or a context taken from another state) and now and then sync
// with each other. No two writes share a dot, as in a real cluster.
func genObjects(t *rapid.T, nowMs int64, label string) []version.Object {
	local := make([]version.Object, 3)
	var out []version.Object
	steps := rapid.IntRange(1, 8).Draw(t, label+"-steps")
	for range steps {
		a := rapid.IntRange(0, 2).Draw(t, label+"-actor")
		if rapid.IntRange(0, 3).Draw(t, label+"-step") == 0 {
			b := rapid.IntRange(0, 2).Draw(t, label+"-peer")
			local[a] = version.Merge(local[a], local[b])
		} else {
			var ctx version.VV
			switch rapid.IntRange(0, 2).Draw(t, label+"-ctx") {
			case 0:
				ctx = local[a].VV
			case 1:
				if len(out) > 0 {
					ctx = out[rapid.IntRange(0, len(out)-1).Draw(t, label+"-ctxof")].VV
				}
			}
			local[a] = local[a].Put(actor(byte(a)), ctx, genSibling(t, nowMs, label))
		}
		out = append(out, local[a])
	}
	return out
}

// genSibling draws a value, a value that expires within ±3 s of nowMs, or
// a tombstone.
func genSibling(t *rapid.T, nowMs int64, label string) version.Sibling {
	s := version.Sibling{Timestamp: nowMs + rapid.Int64Range(-5, 5).Draw(t, label+"-ts")}
	switch rapid.IntRange(0, 2).Draw(t, label+"-kind") {
	case 0:
		s.Value = []byte(label)
	case 1:
		s.Value = []byte(label)
		s.Expiry = nowMs + 1000*rapid.Int64Range(-3, 3).Draw(t, label+"-ttl")
	case 2:
		s.Tombstone = true
	}
	return s
}

func TestMergeManyEqualsSequentialMerges(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		clk := newClock()
		maxSiblings := rapid.SampledFrom([]int{2, 3, 64}).Draw(rt, "maxSiblings")
		open := func(m *merkle) *Engine {
			cfg := testConfig(rt, vfs.NewMem(), clk)
			cfg.MaxSiblings = maxSiblings
			cfg.OnChange = m.onChange
			return mustOpen(rt, cfg)
		}
		ma, mb := newMerkle(), newMerkle()
		many, one := open(ma), open(mb)

		type key struct {
			p    uint16
			name string
		}
		keys := []key{{0, "a"}, {0, "b"}, {1, "a"}, {2, "c"}}
		states := make([][]version.Object, len(keys))
		for i, k := range keys {
			states[i] = genObjects(rt, clk.NowMs(), fmt.Sprintf("%d%s", k.p, k.name))
			if rapid.Bool().Draw(rt, "preload") {
				o := states[i][rapid.IntRange(0, len(states[i])-1).Draw(rt, "preloaded")]
				for _, e := range []*Engine{many, one} {
					if _, _, err := e.Merge(k.p, []byte(k.name), o); err != nil {
						rt.Fatal(err)
					}
				}
			}
		}
		n := rapid.IntRange(0, 12).Draw(rt, "items")
		items := make([]MergeItem, n)
		for i := range items {
			ki := rapid.IntRange(0, len(keys)-1).Draw(rt, "key")
			o := states[ki][rapid.IntRange(0, len(states[ki])-1).Draw(rt, "state")]
			items[i] = MergeItem{P: keys[ki].p, Key: []byte(keys[ki].name), Object: o}
		}
		syncsBefore := many.Stats().SyncedCommits
		results, err := many.MergeMany(items)
		if err != nil {
			rt.Fatal(err)
		}
		anyChange := false
		for i, it := range items {
			m, changed, err := one.Merge(it.P, it.Key, it.Object)
			if err != nil {
				rt.Fatal(err)
			}
			if changed != results[i].Changed {
				rt.Fatalf("item %d: MergeMany changed=%v, Merge changed=%v", i, results[i].Changed, changed)
			}
			requireSame(rt, fmt.Sprintf("item %d result", i), results[i].Merged, m)
			anyChange = anyChange || changed
		}
		if got := many.Stats().SyncedCommits - syncsBefore; got != int64(b2i(anyChange)) {
			rt.Fatalf("MergeMany waited for %d fsyncs, want %d (one batch)", got, b2i(anyChange))
		}
		for _, k := range keys {
			requireSame(rt, fmt.Sprintf("stored %d/%s", k.p, k.name), mustGet(rt, many, k.p, k.name), mustGet(rt, one, k.p, k.name))
		}
		for _, p := range []uint16{0, 1, 2} {
			if ma.get(p) != mb.get(p) {
				rt.Fatalf("partition %d: OnChange XOR %x after MergeMany, %x after Merges", p, ma.get(p), mb.get(p))
			}
			k1, x1 := many.PartitionKeys(p)
			k2, x2 := one.PartitionKeys(p)
			if k1 != k2 || x1 != x2 {
				rt.Fatalf("partition %d: counters %d/%d after MergeMany, %d/%d after Merges", p, k1, x1, k2, x2)
			}
		}
	})
}

// The counters behind LiveKeys and the OnChange stream equal a rebuild from
// a scan after any sequence of writes, merges, expiry, sweeps, drops,
// flushes and reopens.
func TestCountersAndOnChangeMatchScan(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		clk := newClock()
		m := newMerkle()
		cfg := testConfig(rt, vfs.NewMem(), clk)
		cfg.OnChange = m.onChange
		cfg.TombstoneGrace = time.Duration(rapid.IntRange(0, 3).Draw(rt, "grace")) * time.Second
		e := mustOpen(rt, cfg)
		partitions := []uint16{0, 1, 2}
		keys := []string{"a", "b", "c", "d"}
		drawKey := func() (uint16, string) {
			return rapid.SampledFrom(partitions).Draw(rt, "p"), rapid.SampledFrom(keys).Draw(rt, "key")
		}
		rt.Repeat(map[string]func(*rapid.T){
			"update": func(rt *rapid.T) {
				p, k := drawKey()
				s := genSibling(rt, clk.NowMs(), "u")
				blind := rapid.Bool().Draw(rt, "blind")
				mustUpdate(rt, e, p, k, func(cur version.Object) (version.Object, bool, error) {
					ctx := cur.VV
					if !blind {
						ctx = nil
					}
					return cur.Put(actor(9), ctx, s), true, nil
				})
			},
			"merge": func(rt *rapid.T) {
				p, k := drawKey()
				objs := genObjects(rt, clk.NowMs(), "m")
				if _, _, err := e.Merge(p, []byte(k), objs[len(objs)-1]); err != nil {
					rt.Fatal(err)
				}
			},
			"advance": func(rt *rapid.T) {
				clk.Advance(time.Duration(rapid.IntRange(0, 4000).Draw(rt, "ms")) * time.Millisecond)
			},
			"sweep": func(rt *rapid.T) {
				if _, err := e.SweepOnce(rapid.IntRange(1, 10).Draw(rt, "max")); err != nil {
					rt.Fatal(err)
				}
			},
			"drop": func(rt *rapid.T) {
				p := rapid.SampledFrom(partitions).Draw(rt, "p")
				if err := e.DropPartition(p); err != nil {
					rt.Fatal(err)
				}
				m.reset(p)
			},
			"flushall": func(rt *rapid.T) {
				if rapid.IntRange(0, 4).Draw(rt, "rarely") != 0 {
					return
				}
				if err := e.FlushAll(); err != nil {
					rt.Fatal(err)
				}
				for _, p := range partitions {
					m.reset(p)
				}
			},
			"reopen": func(rt *rapid.T) {
				if err := e.Close(); err != nil {
					rt.Fatal(err)
				}
				e = mustOpen(rt, cfg)
			},
			"": func(rt *rapid.T) {
				var total, totalExp, totalBytes int64
				for _, p := range partitions {
					keys, exp, xor := bruteCount(rt, e, p)
					if gk, ge := e.PartitionKeys(p); gk != keys || ge != exp {
						rt.Fatalf("partition %d: counters %d/%d, scan %d/%d", p, gk, ge, keys, exp)
					}
					bytes := bruteBytes(rt, e, p)
					if got := e.counts.parts[p].bytes.Load(); got != bytes {
						rt.Fatalf("partition %d: live bytes %d, scan %d", p, got, bytes)
					}
					totalBytes += bytes
					if m.get(p) != xor {
						rt.Fatalf("partition %d: OnChange XOR %x, rebuilt from a scan %x", p, m.get(p), xor)
					}
					total += keys
					totalExp += exp
				}
				if k, x, err := e.LiveKeys(clk.NowMs()); err != nil || k != total || x != totalExp {
					rt.Fatalf("LiveKeys = %d/%d (%v), scan %d/%d", k, x, err, total, totalExp)
				}
				if got := e.LiveBytes(); got != totalBytes {
					rt.Fatalf("LiveBytes = %d, scan %d", got, totalBytes)
				}
			},
		})
	})
}
