package engine

import (
	"fmt"
	"testing"
	"time"
)

func TestSampleReturnsLiveKeysOnlyAndCoversThemAll(t *testing.T) {
	e, clk := openMem(t)
	now := clk.NowMs()
	want := map[string]bool{}
	for i := range 40 {
		k := fmt.Sprintf("k%02d", i)
		switch {
		case i%4 == 0: // deleted: a tombstone, never a candidate
			mustUpdate(t, e, uint16(i%3), k, put(actor(1), "v", now, 0))
			mustUpdate(t, e, uint16(i%3), k, del(actor(1), now))
		default:
			mustUpdate(t, e, uint16(i%3), k, put(actor(1), "v", now, 0))
			want[k] = true
		}
	}
	seen := map[string]bool{}
	for range 200 {
		cands, err := e.Sample(4, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(cands) == 0 {
			t.Fatal("Sample found nothing in a store with live keys")
		}
		for _, c := range cands {
			if !want[string(c.Key)] {
				t.Fatalf("Sample returned %q, which is not live", c.Key)
			}
			o := mustGet(t, e, c.P, string(c.Key))
			if !o.VV.Equal(c.VV) || c.Size != LogicalSize(c.Key, o) {
				t.Fatalf("candidate %q: VV %v size %d, stored %v size %d", c.Key, c.VV, c.Size, o.VV, LogicalSize(c.Key, o))
			}
			seen[string(c.Key)] = true
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("200 samples saw %d of the %d live keys: the cursor must walk every partition", len(seen), len(want))
	}
}

func TestSampleVolatileOnlyReturnsKeysWithAnExpiry(t *testing.T) {
	e, clk := openMem(t)
	now := clk.NowMs()
	if c, err := e.Sample(5, true); err != nil || len(c) != 0 {
		t.Fatalf("empty store: Sample = %v, %v", c, err)
	}
	for i := range 20 {
		exp := int64(0)
		if i%2 == 0 {
			exp = now + int64(i+1)*1000
		}
		mustUpdate(t, e, 1, fmt.Sprintf("k%02d", i), put(actor(1), "v", now, exp))
	}
	for range 20 {
		cands, err := e.Sample(5, true)
		if err != nil || len(cands) == 0 {
			t.Fatalf("Sample = %v, %v", cands, err)
		}
		for _, c := range cands {
			if c.Expiry == 0 {
				t.Fatalf("volatile sample returned %q without an expiry", c.Key)
			}
		}
	}
}

func TestAccessTableRanksRecentAndFrequentKeys(t *testing.T) {
	e, clk := openMem(t)
	now := clk.NowMs()
	for _, k := range []string{"hot", "cold"} {
		mustUpdate(t, e, 1, k, put(actor(1), "v", now, 0))
	}
	access := func() map[string]Access {
		m := map[string]Access{}
		for range 10 {
			cands, err := e.Sample(2, false)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cands {
				m[string(c.Key)] = c.Access
			}
		}
		return m
	}
	if a := access(); a["hot"] != (Access{}) {
		t.Fatalf("tracking off: access %+v, want zero", a)
	}
	e.TrackAccess(1 << 10)
	mustUpdate(t, e, 1, "cold", put(actor(1), "v2", now, 0))
	clk.Advance(30 * time.Second)
	for range 2000 {
		mustGet(t, e, 1, "hot")
	}
	clk.Advance(time.Second)
	a := access()
	if a["hot"].Idle != time.Second || a["cold"].Idle != 31*time.Second {
		t.Fatalf("idle hot %v cold %v, want 1s and 31s", a["hot"].Idle, a["cold"].Idle)
	}
	if a["hot"].Freq <= a["cold"].Freq || a["cold"].Freq != lfuInit {
		t.Fatalf("LFU counters hot %d cold %d: 2000 reads must count more than one write (%d)", a["hot"].Freq, a["cold"].Freq, lfuInit)
	}
	// The counter decays by one per idle minute.
	clk.Advance(3 * time.Minute)
	if b := access(); b["cold"].Freq != lfuInit-3 {
		t.Fatalf("after 3 idle minutes cold's counter is %d, want %d", b["cold"].Freq, lfuInit-3)
	}
}
