package bench

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Workload is one redis-benchmark test at one pipeline depth.
type Workload struct {
	Test     string // set, get, incr, ping_mbulk (redis-benchmark -t names), hset, sadd, zadd
	Pipeline int    // -P: requests each connection keeps in flight
}

// String is the workload's label in tables: "SET P1", "PING_MBULK P16".
func (w Workload) String() string {
	return fmt.Sprintf("%s P%d", strings.ToUpper(w.Test), w.Pipeline)
}

// Command is the command line redis-benchmark sends for the workloads that
// are not among its -t tests, nil for those that are. Its own hset, sadd
// and zadd tests write one collection (myhash, myset, myzset) that grows
// by every request; these spread over CollectionKeys collections instead:
// the key and each field, member or score is a __rand_int__, which
// redis-benchmark draws anew for every occurrence, so each collection
// holds up to CollectionKeys members. HSET's value has the -d size of
// SET's. With --cluster the key carries redis-benchmark's {tag}, which it
// replaces by a hash tag of the connection's master.
func (w Workload) Command(cluster bool, dataSize int) []string {
	tag := ""
	if cluster {
		tag = "{tag}:"
	}
	switch w.Test {
	case "hset":
		return []string{"HSET", "bench:h:" + tag + "__rand_int__", "f:__rand_int__", strings.Repeat("x", dataSize)}
	case "sadd":
		return []string{"SADD", "bench:s:" + tag + "__rand_int__", "m:__rand_int__"}
	case "zadd":
		return []string{"ZADD", "bench:z:" + tag + "__rand_int__", "__rand_int__", "m:__rand_int__"}
	}
	return nil
}

// Probe is one concrete request of w: Command without the {tag}, or the
// request of redis-benchmark's -t test, each __rand_int__ as
// 000000000000. The harness sends it itself to learn what a server answers.
func (w Workload) Probe(dataSize int) []string {
	c := w.Command(false, dataSize)
	switch w.Test {
	case "set":
		c = []string{"SET", "key:__rand_int__", strings.Repeat("x", dataSize)}
	case "get":
		c = []string{"GET", "key:__rand_int__"}
	case "incr":
		c = []string{"INCR", "counter:__rand_int__"}
	case "ping_mbulk":
		c = []string{"PING"}
	}
	for i := range c {
		c[i] = strings.ReplaceAll(c[i], "__rand_int__", "000000000000")
	}
	return c
}

// tests are the workload names ParseWorkloads accepts.
var tests = []string{"set", "get", "incr", "hset", "sadd", "zadd", "ping_mbulk"}

// DefaultWorkloads are the workloads of a full run, in the order they
// run: issue 5's SET before GET at each depth, so the reads find the keys
// the preload wrote (and the SET pass rewrote) already settled, and
// PING_MBULK; then INCR, HSET, SADD and ZADD, compared with SET on the
// same system.
func DefaultWorkloads() []Workload {
	return []Workload{
		{"set", 1}, {"get", 1},
		{"set", 16}, {"get", 16},
		{"ping_mbulk", 1}, {"ping_mbulk", 16},
		{"incr", 1}, {"hset", 1}, {"sadd", 1}, {"zadd", 1},
		{"incr", 16}, {"hset", 16}, {"sadd", 16}, {"zadd", 16},
	}
}

// QuickWorkloads are those of a quick run: the new commands at P16 only,
// where a request's cost is least hidden by the round trip.
func QuickWorkloads() []Workload {
	return slices.DeleteFunc(DefaultWorkloads(), func(w Workload) bool {
		return w.Pipeline == 1 && slices.Contains([]string{"incr", "hset", "sadd", "zadd"}, w.Test)
	})
}

// FormatWorkloads is the inverse of ParseWorkloads.
func FormatWorkloads(ws []Workload) string {
	var parts []string
	for _, w := range ws {
		parts = append(parts, fmt.Sprintf("%s-p%d", w.Test, w.Pipeline))
	}
	return strings.Join(parts, ",")
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
		if !slices.Contains(tests, test) {
			return nil, fmt.Errorf("bench: workload %q: test must be one of %s", part, strings.Join(tests, ", "))
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
