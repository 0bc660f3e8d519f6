package bench

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestScheduleInterleaves(t *testing.T) {
	ws := []Workload{{"set", 1}, {"get", 16}}
	jobs := Schedule([]string{"A", "B", "C"}, ws, 2, true)
	var got []string
	for _, j := range jobs {
		rep := fmt.Sprint(j.Rep)
		if j.Warmup() {
			rep = "w"
		}
		got = append(got, fmt.Sprintf("%s/%s%s", j.Workload, j.System, rep))
	}
	want := "SET P1/Aw SET P1/Bw SET P1/Cw " +
		"SET P1/A0 SET P1/B0 SET P1/C0 SET P1/A1 SET P1/B1 SET P1/C1 " +
		"GET P16/Aw GET P16/Bw GET P16/Cw " +
		"GET P16/A0 GET P16/B0 GET P16/C0 GET P16/A1 GET P16/B1 GET P16/C1"
	if g := strings.Join(got, " "); g != want {
		t.Errorf("schedule:\n got %s\nwant %s", g, want)
	}
	if n := len(Schedule([]string{"A"}, ws, 3, false)); n != 6 {
		t.Errorf("without warm-up: %d jobs, want 6", n)
	}
}

func TestMedian(t *testing.T) {
	rs := []Result{
		{Test: "GET", Requests: 300, OpsPerSec: 100, P50: 0.2, P99: 0.9, P999: 5.0},
		{Test: "GET", Requests: 100, OpsPerSec: 300, P50: 0.1, P99: 0.5, P999: 1.0},
		{Test: "GET", Requests: 200, OpsPerSec: 200, P50: 0.3, P99: 0.7, P999: 2.0},
	}
	m := Median(rs)
	// Each metric on its own: ops/s from run 3, p50 from run 1, p99.9 from run 3.
	if m.Test != "GET" || m.Requests != 200 || m.OpsPerSec != 200 || m.P50 != 0.2 || m.P99 != 0.7 || m.P999 != 2.0 {
		t.Errorf("median of 3: %+v", m)
	}
	m = Median(rs[:2])
	if m.OpsPerSec != 200 || m.P999 != 3.0 {
		t.Errorf("median of 2 (mean of the middle two): %+v", m)
	}
	if m := Median(rs[1:2]); m.OpsPerSec != 300 {
		t.Errorf("median of 1: %+v", m)
	}
	if m := Median(nil); m.OpsPerSec != 0 {
		t.Errorf("median of none: %+v", m)
	}
	if rs[0].OpsPerSec != 100 {
		t.Error("Median reordered its input")
	}
}

func TestParseWorkloads(t *testing.T) {
	ws, err := ParseWorkloads("set-p1, GET-P16,ping_mbulk-p1")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ws) != "[SET P1 GET P16 PING_MBULK P1]" {
		t.Errorf("got %v", ws)
	}
	for _, bad := range []string{"", "set", "set-p0", "lpush-p1", "get-16"} {
		if _, err := ParseWorkloads(bad); err == nil {
			t.Errorf("ParseWorkloads(%q): no error", bad)
		}
	}
	if ws, err := ParseWorkloads(FormatWorkloads(DefaultWorkloads())); err != nil || !slices.Equal(ws, DefaultWorkloads()) {
		t.Errorf("the defaults do not survive FormatWorkloads and ParseWorkloads: %v, %v", ws, err)
	}
	if q := FormatWorkloads(QuickWorkloads()); q != "set-p1,get-p1,set-p16,get-p16,ping_mbulk-p1,ping_mbulk-p16,incr-p16,hset-p16,sadd-p16,zadd-p16" {
		t.Errorf("quick workloads: %s", q)
	}
	if len(DefaultWorkloads()) != 14 {
		t.Error("issue 5 has six workloads")
	}
}

func TestSizeRequests(t *testing.T) {
	for _, tt := range []struct {
		ops, secs     float64
		clients, pipe int
		maxN, want    int64
	}{
		{150000, 3, 50, 1, 0, 450000},
		{150000, 3, 50, 16, 0, 450400},     // rounded up to whole pipelines of all 50 clients
		{10, 3, 50, 1, 0, 1000},            // at least 20 rounds
		{2e6, 3, 50, 16, 1000000, 1000000}, // capped
		{2e6, 3, 50, 16, 999999, 999200},   // cap rounded down to whole rounds
	} {
		if got := SizeRequests(tt.ops, tt.secs, tt.clients, tt.pipe, tt.maxN); got != tt.want {
			t.Errorf("SizeRequests(%v, %v, %d, %d, %d) = %d, want %d", tt.ops, tt.secs, tt.clients, tt.pipe, tt.maxN, got, tt.want)
		}
	}
}
