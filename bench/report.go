package bench

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Row is one line of the result table: the median of one system's runs of
// one workload, and its ratios to the baseline (redis-server) in the same
// run. A ratio is NaN when the baseline has no result for the workload.
type Row struct {
	Workload Workload
	System   string // system id: redis, single, cluster, cluster-cc
	Label    string // how the table names the system
	Median   Result
	Runs     int // measured runs behind the median
	// OpsRatio is ops/s divided by the baseline's ops/s.
	OpsRatio float64
	// P999Ratio is p99.9 divided by the baseline's p99.9.
	P999Ratio float64
	// Failed marks a cell whose every run failed (e.g. the server answered
	// "unknown command"): it has no figures, Median is zero.
	Failed bool
}

// SystemInfo names a system in the table.
type SystemInfo struct {
	ID    string
	Label string
}

// BuildRows turns the runs of every cell into table rows, workload by
// workload and, within one, in the order of systems, so that each dynago
// row sits under the redis-server row it is compared with. runs is keyed by
// CellKey. A cell with no successful run is a Failed row if failed says so,
// and left out otherwise (not reached).
func BuildRows(systems []SystemInfo, workloads []Workload, runs map[CellKey][]Result, failed map[CellKey]bool, baseline string) []Row {
	var rows []Row
	for _, w := range workloads {
		base, haveBase := Result{}, false
		if rs := runs[CellKey{baseline, w}]; len(rs) > 0 {
			base, haveBase = Median(rs), true
		}
		for _, s := range systems {
			rs := runs[CellKey{s.ID, w}]
			if len(rs) == 0 {
				if failed[CellKey{s.ID, w}] {
					rows = append(rows, Row{Workload: w, System: s.ID, Label: s.Label,
						OpsRatio: math.NaN(), P999Ratio: math.NaN(), Failed: true})
				}
				continue
			}
			m := Median(rs)
			r := Row{Workload: w, System: s.ID, Label: s.Label, Median: m, Runs: len(rs),
				OpsRatio: math.NaN(), P999Ratio: math.NaN()}
			if haveBase {
				r.OpsRatio = ratio(m.OpsPerSec, base.OpsPerSec)
				r.P999Ratio = ratio(m.P999, base.P999)
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// CellKey names one cell of the table.
type CellKey struct {
	System   string
	Workload Workload
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

func fmtRatio(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

func fmtMs(x float64) string { return strconv.FormatFloat(x, 'f', 3, 64) }

// fmtCPU formats CPU µs per request; "-" when not measured.
func fmtCPU(x float64) string {
	if x <= 0 {
		return "-"
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

// Markdown renders the rows as one Markdown table with aligned columns.
func Markdown(rows []Row, baselineLabel string) string {
	header := []string{"workload", "system", "ops/s", "CPU µs/op", "p50 ms", "p99 ms", "p99.9 ms",
		"ops/s vs " + baselineLabel, "p99.9 vs " + baselineLabel, "runs"}
	right := []bool{false, false, true, true, true, true, true, true, true, true}
	cells := [][]string{header}
	for _, r := range rows {
		if r.Failed {
			cells = append(cells, []string{r.Workload.String(), r.Label, "failed", "-", "-", "-", "-", "-", "-", "0"})
			continue
		}
		cells = append(cells, []string{
			r.Workload.String(), r.Label,
			strconv.FormatFloat(math.Round(r.Median.OpsPerSec), 'f', 0, 64), fmtCPU(r.Median.CPUPerOp),
			fmtMs(r.Median.P50), fmtMs(r.Median.P99), fmtMs(r.Median.P999),
			fmtRatio(r.OpsRatio), fmtRatio(r.P999Ratio), strconv.Itoa(r.Runs),
		})
	}
	return mdTable(cells, right)
}

// mdTable renders cells (the header first) as a Markdown table with
// aligned columns, right-aligned where right says so.
func mdTable(cells [][]string, right []bool) string {
	width := make([]int, len(cells[0]))
	for _, line := range cells {
		for i, c := range line {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	writeLine := func(line []string) {
		b.WriteString("|")
		for i, c := range line {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if right[i] {
				b.WriteString(" " + pad + c + " |")
			} else {
				b.WriteString(" " + c + pad + " |")
			}
		}
		b.WriteString("\n")
	}
	writeLine(cells[0])
	b.WriteString("|")
	for i, w := range width {
		if right[i] {
			b.WriteString(" " + strings.Repeat("-", w-1) + ": |")
		} else {
			b.WriteString(" " + strings.Repeat("-", w) + " |")
		}
	}
	b.WriteString("\n")
	for _, line := range cells[1:] {
		writeLine(line)
	}
	return b.String()
}

// WriteCSV writes the same rows as Markdown, one per line, with a header;
// numbers are unrounded enough to recompute the ratios.
func WriteCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"workload", "test", "pipeline", "system", "system_label",
		"ops_per_sec", "p50_ms", "p99_ms", "p999_ms", "ops_ratio", "p999_ratio",
		"runs", "requests_per_run", "cpu_us_per_op"})
	for _, r := range rows {
		ratio := func(x float64) string {
			if math.IsNaN(x) {
				return ""
			}
			return strconv.FormatFloat(x, 'f', 4, 64)
		}
		cpu := ""
		if r.Median.CPUPerOp > 0 {
			cpu = strconv.FormatFloat(r.Median.CPUPerOp, 'f', 3, 64)
		}
		if r.Failed { // no figures, 0 runs
			cw.Write([]string{r.Workload.String(), r.Workload.Test, strconv.Itoa(r.Workload.Pipeline),
				r.System, r.Label, "", "", "", "", "", "", "0", "", ""})
			continue
		}
		cw.Write([]string{r.Workload.String(), r.Workload.Test, strconv.Itoa(r.Workload.Pipeline),
			r.System, r.Label,
			strconv.FormatFloat(r.Median.OpsPerSec, 'f', 2, 64),
			fmtMs(r.Median.P50), fmtMs(r.Median.P99), fmtMs(r.Median.P999),
			ratio(r.OpsRatio), ratio(r.P999Ratio),
			strconv.Itoa(r.Runs), strconv.FormatInt(r.Median.Requests, 10), cpu})
	}
	cw.Flush()
	return cw.Error()
}

// Target is one of issue 5's goals: a bound on a row's ratio to
// redis-server.
type Target struct {
	System   string
	Workload Workload
	// P999 selects the p99.9 ratio (an upper bound); otherwise the ops/s
	// ratio (a lower bound).
	P999  bool
	Bound float64
}

func (t Target) String() string {
	if t.P999 {
		return fmt.Sprintf("%s p99.9 <= %.2fx redis-server's", t.Workload, t.Bound)
	}
	return fmt.Sprintf("%s ops/s >= %.2f of redis-server's", t.Workload, t.Bound)
}

// IssueTargets are the targets of issue 5 (ratios to redis-server in the
// same run). The cluster's apply to each way of driving it that ran:
// through one node and, when it works, redis-benchmark --cluster.
func IssueTargets() []Target {
	var ts []Target
	for _, t := range []struct {
		w     Workload
		bound float64
	}{{Workload{"set", 1}, 0.80}, {Workload{"get", 1}, 0.80}, {Workload{"get", 16}, 0.60}, {Workload{"set", 16}, 0.50}} {
		ts = append(ts, Target{System: Single, Workload: t.w, Bound: t.bound})
	}
	for _, sys := range []string{Cluster, ClusterCC} {
		ts = append(ts,
			Target{System: sys, Workload: Workload{"set", 1}, Bound: 0.50},
			Target{System: sys, Workload: Workload{"get", 1}, Bound: 0.50},
			Target{System: sys, Workload: Workload{"set", 16}, Bound: 0.15},
			Target{System: sys, Workload: Workload{"get", 16}, Bound: 0.15},
			Target{System: sys, Workload: Workload{"set", 1}, P999: true, Bound: 3.0},
			Target{System: sys, Workload: Workload{"get", 1}, P999: true, Bound: 3.0})
	}
	return ts
}

// Verdict is a target checked against the table.
type Verdict struct {
	Target
	Label string  // the system's label
	Got   float64 // the measured ratio; NaN when not measured
}

// Status is PASS, FAIL or "n/a" (not measured in this run).
func (v Verdict) Status() string {
	switch {
	case math.IsNaN(v.Got):
		return "n/a"
	case v.P999 && v.Got <= v.Bound, !v.P999 && v.Got >= v.Bound:
		return "PASS"
	default:
		return "FAIL"
	}
}

// Evaluate checks the targets of the systems that are in the table.
// Targets of systems that did not run at all are left out; a system that
// ran but lacks a workload (or the baseline) gets "n/a".
func Evaluate(rows []Row, targets []Target) []Verdict {
	labels := map[string]string{}
	for _, r := range rows {
		labels[r.System] = r.Label
	}
	var vs []Verdict
	for _, t := range targets {
		label, ran := labels[t.System]
		if !ran {
			continue
		}
		v := Verdict{Target: t, Label: label, Got: math.NaN()}
		for _, r := range rows {
			if r.System == t.System && r.Workload == t.Workload {
				v.Got = r.OpsRatio
				if t.P999 {
					v.Got = r.P999Ratio
				}
			}
		}
		vs = append(vs, v)
	}
	return vs
}

// FormatVerdicts renders verdicts one per line: "PASS  dynago 1 node: SET
// P1 ops/s >= 0.80 of redis-server's (got 0.93)".
func FormatVerdicts(vs []Verdict) string {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "%-4s  %s: %s (got %s)\n", v.Status(), v.Label, v.Target, fmtRatio(v.Got))
	}
	return b.String()
}

// Goals of INCR, HSET, SADD and ZADD, each against SET on the same system
// at the same depth in the same run.
const (
	IncrOpsVsSet       = 1.0 // INCR's ops/s at least this times SET's
	CollectionCPUVsSet = 1.5 // HSET's, SADD's, ZADD's CPU µs/op at most this times SET's
)

// VsSet renders, per system and depth that has a SET row and one of INCR,
// HSET, SADD, ZADD, their ratios to SET as a Markdown table: INCR's ops/s,
// and HSET's, SADD's and ZADD's CPU µs/op (with PASS or FAIL against the
// goals) and ops/s. "-": not measured; "failed": the command's cell failed.
// It returns "" when there is nothing to compare.
func VsSet(rows []Row) string {
	type key struct {
		system   string
		pipeline int
	}
	cells := map[key]map[string]Row{}
	var order []key
	for _, r := range rows {
		k := key{r.System, r.Workload.Pipeline}
		if cells[k] == nil {
			cells[k] = map[string]Row{}
			order = append(order, k)
		}
		cells[k][r.Workload.Test] = r
	}
	verdict := func(x, bound float64, upper bool) string {
		switch {
		case math.IsNaN(x):
			return "-"
		case upper && x <= bound, !upper && x >= bound:
			return fmtRatio(x) + " PASS"
		}
		return fmtRatio(x) + " FAIL"
	}
	table := [][]string{{"system", "depth", "INCR ops/s", "HSET CPU/op", "HSET ops/s",
		"SADD CPU/op", "SADD ops/s", "ZADD CPU/op", "ZADD ops/s"}}
	for _, k := range order {
		set, ok := cells[k]["set"]
		if !ok || set.Failed {
			continue
		}
		line, any := []string{set.Label, fmt.Sprintf("P%d", k.pipeline)}, false
		for _, test := range []string{"incr", "hset", "sadd", "zadd"} {
			r, ok := cells[k][test]
			any = any || ok
			cpu := ratio(r.Median.CPUPerOp, set.Median.CPUPerOp)
			if r.Median.CPUPerOp <= 0 || set.Median.CPUPerOp <= 0 {
				cpu = math.NaN()
			}
			ops := ratio(r.Median.OpsPerSec, set.Median.OpsPerSec)
			switch {
			case !ok && test == "incr":
				line = append(line, "-")
			case !ok:
				line = append(line, "-", "-")
			case r.Failed && test == "incr":
				line = append(line, "failed")
			case r.Failed:
				line = append(line, "failed", "failed")
			case test == "incr":
				line = append(line, verdict(ops, IncrOpsVsSet, false))
			default:
				line = append(line, verdict(cpu, CollectionCPUVsSet, true), fmtRatio(ops))
			}
		}
		if any {
			table = append(table, line)
		}
	}
	if len(table) == 1 {
		return ""
	}
	return mdTable(table, []bool{false, false, true, true, true, true, true, true, true})
}
