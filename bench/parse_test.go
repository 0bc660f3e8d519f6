package bench

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The files in testdata are raw output of the installed redis-benchmark
// (7.0.15); testdata/README.md lists the commands.

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseOutput(t *testing.T) {
	tests := []struct {
		file string
		want []Result // Dist is not compared
	}{
		{"get_p1.txt", []Result{{Test: "GET", Requests: 100000, Seconds: 0.63, Clients: 50,
			OpsPerSec: 157728.70, Avg: 0.201, Min: 0.032, P50: 0.199, P95: 0.295, P99: 0.367, Max: 3.455,
			// 99.902 % line (count 99903 >= rank 99900); the value walk's
			// nearest lines are 0.903 (99892, too few) and 1.007 (99917).
			P999: 0.951}}},
		{"set_p16.txt", []Result{{Test: "SET", Requests: 400000, Seconds: 0.62, Clients: 50,
			OpsPerSec: 642054.56, Avg: 1.178, Min: 0.056, P50: 1.207, P95: 1.735, P99: 2.103, Max: 2.671,
			P999: 2.663}}},
		{"ping_mbulk_p1.txt", []Result{{Test: "PING_MBULK", Requests: 100000, Seconds: 0.58, Clients: 50,
			OpsPerSec: 173611.12, Avg: 0.182, Min: 0.064, P50: 0.183, P95: 0.271, P99: 0.351, Max: 1.551,
			P999: 0.503}}},
		{"set_get_p1.txt", []Result{
			{Test: "SET", Requests: 20000, Seconds: 0.14, Clients: 50,
				OpsPerSec: 139860.14, Avg: 0.250, Min: 0.080, P50: 0.247, P95: 0.359, P99: 0.575, Max: 2.415,
				P999: 2.351},
			{Test: "GET", Requests: 20000, Seconds: 0.14, Clients: 50,
				OpsPerSec: 140845.06, Avg: 0.236, Min: 0.072, P50: 0.231, P95: 0.335, P99: 0.479, Max: 3.127,
				P999: 3.063},
		}},
		{"cluster_set_p1.txt", []Result{{Test: "SET", Requests: 100000, Seconds: 0.75, Clients: 50, Masters: 3,
			OpsPerSec: 132450.33, Avg: 0.218, Min: 0.016, P50: 0.191, P95: 0.415, P99: 0.767, Max: 6.687,
			P999: 3.951}}},
		{"cluster_get_p16.txt", []Result{{Test: "GET", Requests: 200000, Seconds: 0.25, Clients: 50, Masters: 3,
			OpsPerSec: 787401.56, Avg: 0.921, Min: 0.048, P50: 0.831, P95: 1.871, P99: 2.879, Max: 7.391,
			P999: 6.511}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseOutput(readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d results, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if len(got[i].Dist) < 10 {
					t.Errorf("%s: only %d distribution lines", got[i].Test, len(got[i].Dist))
				}
				g := got[i]
				g.Dist = nil
				if !reflect.DeepEqual(g, tt.want[i]) {
					t.Errorf("result %d:\n got %+v\nwant %+v", i, g, tt.want[i])
				}
			}
		})
	}
}

// TestQuantileAgreesWithSummary checks the way p99.9 is read against the
// numbers redis-benchmark computes itself: the median read from the printed
// distribution must equal the summary's p50 exactly, and p99 (whose
// percentile lines are sparse: 98.438 %, 99.219 %) must be an upper bound
// of the summary's p99 that is no further than the next printed line.
func TestQuantileAgreesWithSummary(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		rs, err := ParseOutput(readTestdata(t, filepath.Base(f)))
		if errors.Is(err, ErrNoResult) {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, r := range rs {
			n++
			p50, _ := quantile(r.Dist, 50)
			if p50 != r.P50 {
				t.Errorf("%s %s: p50 from distribution %.3f, summary %.3f", f, r.Test, p50, r.P50)
			}
			p99, _ := quantile(r.Dist, 99)
			if p99 < r.P99 {
				t.Errorf("%s %s: p99 from distribution %.3f below the summary's %.3f", f, r.Test, p99, r.P99)
			}
			if r.P999 < p99 || r.P999 > r.Max {
				t.Errorf("%s %s: p99.9 %.3f outside [p99 %.3f, max %.3f]", f, r.Test, r.P999, p99, r.Max)
			}
		}
	}
	if n < 6 {
		t.Fatalf("checked only %d results", n)
	}
}

func TestQuantileRank(t *testing.T) {
	// 1000 requests: the rank of p99.9 is 999 (HDR rounds half up).
	dist := []DistPoint{{1, 500}, {2, 998}, {3, 999}, {4, 1000}}
	if got, _ := quantile(dist, 99.9); got != 3 {
		t.Errorf("p99.9 = %v, want 3", got)
	}
	if got, _ := quantile(dist, 50); got != 1 {
		t.Errorf("p50 = %v, want 1", got)
	}
	// A later, coarser walk must not win over a tighter earlier line.
	dist = append(dist, DistPoint{5, 1000})
	if got, _ := quantile(dist, 100); got != 4 {
		t.Errorf("p100 = %v, want 4", got)
	}
	if _, ok := quantile(nil, 99.9); ok {
		t.Error("quantile of an empty distribution reported ok")
	}
}

func TestParseOutputIncomplete(t *testing.T) {
	// redis-benchmark 7 exits 1 on the first error reply, after printing
	// only progress lines: there is nothing to report.
	if _, err := ParseOutput(readTestdata(t, "errors_set_p1.txt")); !errors.Is(err, ErrNoResult) {
		t.Errorf("error output: err = %v, want ErrNoResult", err)
	}
	// Cut short in the middle of a section (killed by the harness's timeout).
	full := readTestdata(t, "get_p1.txt")
	cut := full[:strings.Index(full, "Cumulative distribution")]
	if _, err := ParseOutput(cut); !errors.Is(err, ErrNoResult) {
		t.Errorf("truncated output: err = %v, want ErrNoResult", err)
	}
	// Of two sections, only the complete one counts.
	two := readTestdata(t, "set_get_p1.txt")
	rs, err := ParseOutput(two[:strings.LastIndex(two, "Summary:")])
	if err != nil || len(rs) != 1 || rs[0].Test != "SET" {
		t.Errorf("half of set_get: %v, %v", rs, err)
	}
	if _, err := ParseOutput(""); !errors.Is(err, ErrNoResult) {
		t.Errorf("empty output: err = %v", err)
	}
}

func TestParseVersion(t *testing.T) {
	for _, tt := range []struct {
		in    string
		major int
		full  string
	}{
		{"redis-benchmark 7.0.15\n", 7, "7.0.15"},
		{"redis-benchmark 7.2.4 (git:abc123)", 7, "7.2.4"},
		{"Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=e08dbad3e06f3fb", 7, "7.0.15"},
		{"redis-benchmark 6.0.16", 6, "6.0.16"},
	} {
		major, full, err := ParseVersion(tt.in)
		if err != nil || major != tt.major || full != tt.full {
			t.Errorf("ParseVersion(%q) = %d, %q, %v", tt.in, major, full, err)
		}
	}
	if _, _, err := ParseVersion("command not found"); err == nil {
		t.Error("no error for a string without a version")
	}
}
