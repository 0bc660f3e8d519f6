package bench

import (
	"bufio"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Result is one redis-benchmark test (one "====== NAME ======" section),
// with latencies in milliseconds.
type Result struct {
	Test                         string  // title printed by redis-benchmark: SET, GET, PING_MBULK
	Requests                     int64   // requests completed
	Seconds                      float64 // wall time of the test, as printed (2 decimals)
	Clients                      int     // parallel clients
	Masters                      int     // cluster mode: masters the clients were spread over; 0 otherwise
	OpsPerSec                    float64
	Avg, Min, P50, P95, P99, Max float64
	// P999 is read from the percentile distribution; see quantile.
	P999 float64
	// CPUPerOp is the server CPU time per request in µs: utime+stime of
	// every process of the system under test (ReadCPU) over the run,
	// divided by Requests. The harness measures it, not redis-benchmark;
	// 0 when not measured (attached systems, warm-ups).
	CPUPerOp float64
	// Dist holds every "<= value (cumulative count c)" line of both
	// distributions, in the order printed.
	Dist []DistPoint
}

// DistPoint is one line of redis-benchmark's latency distributions:
// Count requests took at most Millis.
type DistPoint struct {
	Millis float64
	Count  int64
}

// ErrNoResult is returned by ParseOutput when the output holds no complete
// test section, e.g. because redis-benchmark was killed or exited early.
var ErrNoResult = errors.New("bench: redis-benchmark output has no result")

var (
	titleRe   = regexp.MustCompile(`^====== (.+) ======$`)
	doneRe    = regexp.MustCompile(`^(\d+) requests completed in ([0-9.]+) seconds$`)
	clientsRe = regexp.MustCompile(`^(\d+) parallel clients$`)
	mastersRe = regexp.MustCompile(`^cluster mode: yes \((\d+) masters\)$`)
	distRe    = regexp.MustCompile(`^([0-9.]+)% <= ([0-9.]+) milliseconds \(cumulative count (\d+)\)$`)
	rpsRe     = regexp.MustCompile(`^throughput summary: ([0-9.]+) requests per second$`)
)

// ParseOutput parses the default (human) output of redis-benchmark 7.
//
// It reads the default output rather than --csv because only the default
// output has the latency distribution, and p99.9 (Dynamo's SLA percentile)
// is not among the CSV columns (avg, min, p50, p95, p99, max). The summary
// block of the default output carries the same numbers as the CSV row.
//
// The progress lines redis-benchmark rewrites with carriage returns are
// skipped. A section counts only once its summary has been read, so a run
// that was cut short yields ErrNoResult rather than a partial number.
func ParseOutput(out string) ([]Result, error) {
	var (
		results     []Result
		cur         *Result
		wantSummary bool // the previous line was the "avg min p50 ..." header
		haveSummary bool // cur's latency summary has been read
	)
	finish := func() error {
		if cur == nil {
			return nil
		}
		r := *cur
		cur = nil
		if r.OpsPerSec == 0 || !haveSummary {
			return nil // cut short: no summary
		}
		p, ok := quantile(r.Dist, 99.9)
		if !ok {
			return fmt.Errorf("bench: %s: no latency distribution to read p99.9 from", r.Test)
		}
		r.P999 = p
		results = append(results, r)
		return nil
	}
	sc := bufio.NewScanner(strings.NewReader(strings.ReplaceAll(out, "\r", "\n")))
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if m := titleRe.FindStringSubmatch(line); m != nil {
			if err := finish(); err != nil {
				return nil, err
			}
			cur, haveSummary = &Result{Test: m[1]}, false
			continue
		}
		if cur == nil {
			continue
		}
		if wantSummary {
			wantSummary = false
			f := strings.Fields(line)
			if len(f) != 6 {
				return nil, fmt.Errorf("bench: %s: latency summary %q: want 6 numbers", cur.Test, line)
			}
			var v [6]float64
			for i, s := range f {
				x, err := strconv.ParseFloat(s, 64)
				if err != nil {
					return nil, fmt.Errorf("bench: %s: latency summary %q: %v", cur.Test, line, err)
				}
				v[i] = x
			}
			cur.Avg, cur.Min, cur.P50, cur.P95, cur.P99, cur.Max = v[0], v[1], v[2], v[3], v[4], v[5]
			haveSummary = true
			continue
		}
		switch {
		case strings.HasPrefix(line, "avg") && strings.Contains(line, "p99"):
			wantSummary = true
		case doneRe.MatchString(line):
			m := doneRe.FindStringSubmatch(line)
			cur.Requests, _ = strconv.ParseInt(m[1], 10, 64)
			cur.Seconds, _ = strconv.ParseFloat(m[2], 64)
		case clientsRe.MatchString(line):
			cur.Clients, _ = strconv.Atoi(clientsRe.FindStringSubmatch(line)[1])
		case mastersRe.MatchString(line):
			cur.Masters, _ = strconv.Atoi(mastersRe.FindStringSubmatch(line)[1])
		case distRe.MatchString(line):
			m := distRe.FindStringSubmatch(line)
			ms, err1 := strconv.ParseFloat(m[2], 64)
			n, err2 := strconv.ParseInt(m[3], 10, 64)
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("bench: %s: distribution line %q: %v", cur.Test, line, err)
			}
			cur.Dist = append(cur.Dist, DistPoint{Millis: ms, Count: n})
		case rpsRe.MatchString(line):
			cur.OpsPerSec, _ = strconv.ParseFloat(rpsRe.FindStringSubmatch(line)[1], 64)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := finish(); err != nil {
		return nil, err
	}
	if len(results) == 0 {
		return nil, ErrNoResult
	}
	return results, nil
}

// quantile returns the latency at percentile pct (e.g. 99.9) from
// redis-benchmark's printed distributions.
//
// redis-benchmark keeps an HDR histogram (3 significant digits) and prints
// two walks over it: by percentile (…, 99.805 %, 99.902 %, 99.951 %, … each
// step halving the distance to 100 %) and by value (every 0.1 ms up to 2 ms,
// then every 1 ms). Every line "v (cumulative count c)" says that c requests
// took at most v, so any line with c at or above the rank of pct is an upper
// bound of the quantile; the smallest such v is the answer. The rank is
// computed as HDR's hdr_value_at_percentile does (round half up, at least
// 1), so p50 and p99 read this way agree with the summary's. For p99.9 the
// percentile walk has a line at 99.902 %, so the value returned lies between
// the true p99.9 and p99.902: at most 0.002 % of the requests above it.
func quantile(dist []DistPoint, pct float64) (float64, bool) {
	var total int64
	for _, p := range dist {
		total = max(total, p.Count)
	}
	if total == 0 {
		return 0, false
	}
	rank := max(int64(pct/100*float64(total)+0.5), 1)
	best, ok := 0.0, false
	for _, p := range dist {
		if p.Count >= rank && (!ok || p.Millis < best) {
			best, ok = p.Millis, true
		}
	}
	return best, ok
}

// ParseVersion returns the major version from "redis-benchmark 7.0.15" or
// "Redis server v=7.0.15 sha=…".
func ParseVersion(s string) (major int, full string, err error) {
	s = strings.TrimSpace(s)
	for _, f := range strings.Fields(s) {
		f = strings.TrimPrefix(f, "v=")
		if f == "" || f[0] < '0' || f[0] > '9' || !strings.Contains(f, ".") {
			continue
		}
		m, _, _ := strings.Cut(f, ".")
		n, err := strconv.Atoi(m)
		if err != nil {
			continue
		}
		return n, f, nil
	}
	return 0, "", fmt.Errorf("bench: no version number in %q", s)
}
