package bench

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func sampleRows() []Row {
	systems := []SystemInfo{{"redis", "redis-server"}, {"single", "dynago 1 node"}, {"cluster", "dynago 3 nodes"}}
	set1, get1 := Workload{"set", 1}, Workload{"get", 1}
	runs := map[CellKey][]Result{
		{"redis", set1}:  {{OpsPerSec: 100000, CPUPerOp: 2, P50: 0.2, P99: 0.4, P999: 1.0, Requests: 300000}, {OpsPerSec: 120000, CPUPerOp: 3, P50: 0.2, P99: 0.4, P999: 1.2, Requests: 300000}, {OpsPerSec: 110000, CPUPerOp: 2.5, P50: 0.25, P99: 0.5, P999: 1.1, Requests: 300000}},
		{"single", set1}: {{OpsPerSec: 88000, CPUPerOp: 6.2, P50: 0.3, P99: 0.6, P999: 2.2, Requests: 250000}},
		// The cluster's CPU was not measured (attached): "-".
		{"cluster", set1}: {{OpsPerSec: 44000, P50: 1, P99: 2, P999: 4.4, Requests: 100000}},
		// GET P1: the baseline failed, so dynago has no ratio.
		{"single", get1}: {{OpsPerSec: 90000, P50: 0.3, P99: 0.6, P999: 2.0, Requests: 250000}},
	}
	// SET P16: every run of the single node failed; the cluster's cell
	// was not reached.
	failed := map[CellKey]bool{{"single", Workload{"set", 16}}: true}
	return BuildRows(systems, []Workload{set1, get1, {"set", 16}}, runs, failed, "redis")
}

func TestBuildRows(t *testing.T) {
	rows := sampleRows()
	if len(rows) != 5 {
		t.Fatalf("%d rows, want 5 (cells without runs are left out unless failed)", len(rows))
	}
	r := rows[0]
	if r.System != "redis" || r.Runs != 3 || r.Median.OpsPerSec != 110000 || r.OpsRatio != 1 || r.P999Ratio != 1 {
		t.Errorf("baseline row: %+v", r)
	}
	if r := rows[1]; math.Abs(r.OpsRatio-0.8) > 1e-9 || math.Abs(r.P999Ratio-2.0) > 1e-9 {
		t.Errorf("single SET P1 ratios: %v %v, want 0.8 2.0", r.OpsRatio, r.P999Ratio)
	}
	if r := rows[3]; r.System != "single" || !math.IsNaN(r.OpsRatio) || !math.IsNaN(r.P999Ratio) {
		t.Errorf("row without a baseline: %+v", r)
	}
	if r := rows[4]; r.System != "single" || !r.Failed || r.Runs != 0 || !math.IsNaN(r.OpsRatio) {
		t.Errorf("failed cell: %+v", r)
	}
}

func TestMarkdown(t *testing.T) {
	got := Markdown(sampleRows(), "redis")
	want := `| workload | system         |  ops/s | CPU µs/op | p50 ms | p99 ms | p99.9 ms | ops/s vs redis | p99.9 vs redis | runs |
| -------- | -------------- | -----: | --------: | -----: | -----: | -------: | -------------: | -------------: | ---: |
| SET P1   | redis-server   | 110000 |      2.50 |  0.200 |  0.400 |    1.100 |           1.00 |           1.00 |    3 |
| SET P1   | dynago 1 node  |  88000 |      6.20 |  0.300 |  0.600 |    2.200 |           0.80 |           2.00 |    1 |
| SET P1   | dynago 3 nodes |  44000 |         - |  1.000 |  2.000 |    4.400 |           0.40 |           4.00 |    1 |
| GET P1   | dynago 1 node  |  90000 |         - |  0.300 |  0.600 |    2.000 |              - |              - |    1 |
| SET P16  | dynago 1 node  | failed |         - |      - |      - |        - |              - |              - |    0 |
`
	if got != want {
		t.Errorf("markdown:\n%s\nwant:\n%s", got, want)
	}
}

func TestWriteCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, sampleRows()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines, want header + 5:\n%s", len(lines), buf.String())
	}
	if lines[0] != "workload,test,pipeline,system,system_label,ops_per_sec,p50_ms,p99_ms,p999_ms,ops_ratio,p999_ratio,runs,requests_per_run,cpu_us_per_op" {
		t.Errorf("header: %s", lines[0])
	}
	if lines[2] != "SET P1,set,1,single,dynago 1 node,88000.00,0.300,0.600,2.200,0.8000,2.0000,1,250000,6.200" {
		t.Errorf("single row: %s", lines[2])
	}
	if !strings.HasSuffix(lines[4], ",2.000,,,1,250000,") {
		t.Errorf("a missing ratio or CPU figure is an empty field: %s", lines[4])
	}
	if lines[5] != "SET P16,set,16,single,dynago 1 node,,,,,,,0,," {
		t.Errorf("failed cell: %s", lines[5])
	}
}

func TestEvaluate(t *testing.T) {
	vs := Evaluate(sampleRows(), IssueTargets())
	got := FormatVerdicts(vs)
	want := `PASS  dynago 1 node: SET P1 ops/s >= 0.80 of redis-server's (got 0.80)
n/a   dynago 1 node: GET P1 ops/s >= 0.80 of redis-server's (got -)
n/a   dynago 1 node: GET P16 ops/s >= 0.60 of redis-server's (got -)
n/a   dynago 1 node: SET P16 ops/s >= 0.50 of redis-server's (got -)
FAIL  dynago 3 nodes: SET P1 ops/s >= 0.50 of redis-server's (got 0.40)
n/a   dynago 3 nodes: GET P1 ops/s >= 0.50 of redis-server's (got -)
n/a   dynago 3 nodes: SET P16 ops/s >= 0.15 of redis-server's (got -)
n/a   dynago 3 nodes: GET P16 ops/s >= 0.15 of redis-server's (got -)
FAIL  dynago 3 nodes: SET P1 p99.9 <= 3.00x redis-server's (got 4.00)
n/a   dynago 3 nodes: GET P1 p99.9 <= 3.00x redis-server's (got -)
`
	if got != want {
		t.Errorf("verdicts:\n%s\nwant:\n%s", got, want)
	}
	// Bounds are inclusive on both sides.
	for _, tt := range []struct {
		v    Verdict
		want string
	}{
		{Verdict{Target: Target{P999: true, Bound: 3}, Got: 3}, "PASS"},
		{Verdict{Target: Target{P999: true, Bound: 3}, Got: 3.01}, "FAIL"},
		{Verdict{Target: Target{Bound: 0.5}, Got: 0.5}, "PASS"},
		{Verdict{Target: Target{Bound: 0.5}, Got: 0.49}, "FAIL"},
	} {
		if s := tt.v.Status(); s != tt.want {
			t.Errorf("%+v: %s, want %s", tt.v, s, tt.want)
		}
	}
}

func TestVsSet(t *testing.T) {
	systems := []SystemInfo{{"redis", "redis-server"}, {"single", "dynago 1 node"}, {"cluster", "dynago 3 nodes"}}
	res := func(ops, cpu float64) []Result { return []Result{{OpsPerSec: ops, CPUPerOp: cpu, P999: 1}} }
	w := func(test string, p int) Workload { return Workload{test, p} }
	runs := map[CellKey][]Result{
		{"redis", w("set", 16)}:   res(400000, 2),
		{"redis", w("incr", 16)}:  res(420000, 1.9),
		{"redis", w("hset", 16)}:  res(300000, 3),
		{"redis", w("sadd", 16)}:  res(380000, 2.2),
		{"redis", w("zadd", 16)}:  res(250000, 3.2),
		{"single", w("set", 16)}:  res(200000, 5),
		{"single", w("incr", 16)}: res(150000, 6),
		{"single", w("zadd", 16)}: res(100000, 7.5),
		// The cluster has no SET row at P1: no line; its CPU was not
		// measured at P16: "-".
		{"cluster", w("hset", 1)}:  res(1000, 50),
		{"cluster", w("set", 16)}:  res(50000, 0),
		{"cluster", w("hset", 16)}: res(40000, 0),
	}
	failed := map[CellKey]bool{{"single", w("hset", 16)}: true, {"single", w("sadd", 16)}: true}
	var ws []Workload
	for _, p := range []int{1, 16} {
		for _, test := range []string{"set", "incr", "hset", "sadd", "zadd"} {
			ws = append(ws, w(test, p))
		}
	}
	got := VsSet(BuildRows(systems, ws, runs, failed, "redis"))
	want := `| system         | depth | INCR ops/s | HSET CPU/op | HSET ops/s | SADD CPU/op | SADD ops/s | ZADD CPU/op | ZADD ops/s |
| -------------- | ----- | ---------: | ----------: | ---------: | ----------: | ---------: | ----------: | ---------: |
| redis-server   | P16   |  1.05 PASS |   1.50 PASS |       0.75 |   1.10 PASS |       0.95 |   1.60 FAIL |       0.62 |
| dynago 1 node  | P16   |  0.75 FAIL |      failed |     failed |      failed |     failed |   1.50 PASS |       0.50 |
| dynago 3 nodes | P16   |          - |           - |       0.80 |           - |          - |           - |          - |
`
	if got != want {
		t.Errorf("VsSet:\n%s\nwant:\n%s", got, want)
	}
	if s := VsSet(sampleRows()); s != "" {
		t.Errorf("VsSet without INCR, HSET, SADD, ZADD: %q", s)
	}
}
