package bench

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Workload is one redis-benchmark test at one pipeline depth.
type Workload struct {
	Test     string // redis-benchmark -t name: set, get, ping_mbulk
	Pipeline int    // -P: requests each connection keeps in flight
}

// String is the workload's label in tables: "SET P1", "PING_MBULK P16".
func (w Workload) String() string {
	return fmt.Sprintf("%s P%d", w.Title(), w.Pipeline)
}

// Title is the section title redis-benchmark prints for the test.
func (w Workload) Title() string { return strings.ToUpper(w.Test) }

// DefaultWorkloads are issue 5's workloads, in the order they run: SET
// before GET at each depth, so the reads find the keys the preload wrote
// (and the SET pass rewrote) already settled.
func DefaultWorkloads() []Workload {
	return []Workload{
		{"set", 1}, {"get", 1},
		{"set", 16}, {"get", 16},
		{"ping_mbulk", 1}, {"ping_mbulk", 16},
	}
}

// ParseWorkloads reads a comma-separated list such as "set-p1,get-p16".
func ParseWorkloads(s string) ([]Workload, error) {
	var ws []Workload
	for _, part := range strings.Split(s, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		if part == "" {
			continue
		}
		test, p, ok := strings.Cut(part, "-p")
		n, err := strconv.Atoi(p)
		if !ok || err != nil || n < 1 {
			return nil, fmt.Errorf("bench: workload %q: want TEST-pN, e.g. get-p16", part)
		}
		switch test {
		case "set", "get", "ping_mbulk":
		default:
			return nil, fmt.Errorf("bench: workload %q: test must be set, get or ping_mbulk", part)
		}
		ws = append(ws, Workload{test, n})
	}
	if len(ws) == 0 {
		return nil, fmt.Errorf("bench: no workloads in %q", s)
	}
	return ws, nil
}

// Job is one redis-benchmark invocation of the plan.
type Job struct {
	Workload Workload
	System   string
	// Rep numbers the measured runs of a cell from 0. A warm-up (Rep -1)
	// is not measured: it sizes the measured runs and lets the system
	// reach its steady state (caches, Go heap, connections) first.
	Rep int
}

// Warmup reports whether the job sizes and warms up its cell rather than
// being measured.
func (j Job) Warmup() bool { return j.Rep < 0 }

// Schedule orders the runs: workload by workload, and within a workload
// the systems interleaved A B C A B C … so that a burst of noise from the
// shared machine hits every system alike instead of one system's whole
// cell. With warmup, each workload starts with one warm-up per system.
func Schedule(systems []string, workloads []Workload, runs int, warmup bool) []Job {
	var jobs []Job
	for _, w := range workloads {
		if warmup {
			for _, s := range systems {
				jobs = append(jobs, Job{Workload: w, System: s, Rep: -1})
			}
		}
		for r := 0; r < runs; r++ {
			for _, s := range systems {
				jobs = append(jobs, Job{Workload: w, System: s, Rep: r})
			}
		}
	}
	return jobs
}

// Median summarises the runs of one cell: every metric is the median of
// that metric over the runs, taken independently (so p99.9 is not tied to
// the run with the median throughput), as benchstat does. With an even
// number of runs it is the mean of the middle two. The distribution is
// dropped: it belongs to single runs.
func Median(rs []Result) Result {
	if len(rs) == 0 {
		return Result{}
	}
	m := Result{Test: rs[0].Test, Clients: rs[0].Clients, Masters: rs[0].Masters}
	f := func(get func(Result) float64) float64 {
		xs := make([]float64, len(rs))
		for i, r := range rs {
			xs[i] = get(r)
		}
		return median(xs)
	}
	m.Requests = int64(f(func(r Result) float64 { return float64(r.Requests) }))
	m.Seconds = f(func(r Result) float64 { return r.Seconds })
	m.OpsPerSec = f(func(r Result) float64 { return r.OpsPerSec })
	m.Avg = f(func(r Result) float64 { return r.Avg })
	m.Min = f(func(r Result) float64 { return r.Min })
	m.P50 = f(func(r Result) float64 { return r.P50 })
	m.P95 = f(func(r Result) float64 { return r.P95 })
	m.P99 = f(func(r Result) float64 { return r.P99 })
	m.P999 = f(func(r Result) float64 { return r.P999 })
	m.Max = f(func(r Result) float64 { return r.Max })
	m.CPUPerOp = f(func(r Result) float64 { return r.CPUPerOp })
	return m
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// SizeRequests picks redis-benchmark's -n for a measured run from the
// warm-up's throughput, so that a run lasts about seconds whatever the
// system's speed: a fixed -n would take a fraction of a second on
// redis-server at P16 and minutes on a slow cluster. The result is a
// multiple of clients×pipeline (every connection sends whole pipelines),
// at least 20 such rounds and at most maxRequests.
func SizeRequests(opsPerSec, seconds float64, clients, pipeline int, maxRequests int64) int64 {
	round := int64(clients * pipeline)
	n := int64(opsPerSec * seconds)
	n = max(n, 20*round)
	n = (n + round - 1) / round * round
	if maxRequests > 0 && n > maxRequests {
		n = max(maxRequests/round*round, round)
	}
	return n
}
