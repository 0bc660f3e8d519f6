package resp

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// serverStats are the counters INFO reports. All are updated with atomic
// adds on the command path; nothing here takes a lock per command.
type serverStats struct {
	connsReceived    atomic.Int64
	rejectedConns    atomic.Int64
	commands         atomic.Int64
	errorReplies     atomic.Int64
	protoErrors      atomic.Int64
	outputLimitKills atomic.Int64
	authFailures     atomic.Int64
	netIn, netOut    atomic.Int64
	hits, misses     atomic.Int64

	// Samples of commands for instantaneous_ops_per_sec: taken at most
	// every opsSampleEvery by whichever command or INFO call notices, as
	// Redis's serverCron samples every 100 ms; no goroutine of its own.
	lastSample atomic.Int64 // unix ns
	samples    struct {
		sync.Mutex
		at    [opsSamples]int64 // unix ns
		count [opsSamples]int64
		next  int
	}
}

const (
	opsSamples     = 16
	opsSampleEvery = 100 * time.Millisecond
)

func (st *serverStats) init(now time.Time) { st.lastSample.Store(now.UnixNano()) }

// hit counts a keyspace hit or miss.
func (st *serverStats) hit(found bool) {
	if found {
		st.hits.Add(1)
	} else {
		st.misses.Add(1)
	}
}

// sample records the command count if the last sample is old enough.
func (st *serverStats) sample(now int64) {
	last := st.lastSample.Load()
	if now-last < int64(opsSampleEvery) || !st.lastSample.CompareAndSwap(last, now) {
		return
	}
	st.samples.Lock()
	i := st.samples.next % opsSamples
	st.samples.at[i], st.samples.count[i] = now, st.commands.Load()
	st.samples.next++
	st.samples.Unlock()
}

// opsPerSec is the command rate over the samples of the last ~1.6 s.
func (st *serverStats) opsPerSec(now int64) int64 {
	st.sample(now)
	st.samples.Lock()
	defer st.samples.Unlock()
	n := min(st.samples.next, opsSamples)
	if n < 2 {
		return 0
	}
	newest := (st.samples.next - 1) % opsSamples
	oldest := (st.samples.next - n) % opsSamples
	dt := st.samples.at[newest] - st.samples.at[oldest]
	if dt <= 0 || now-st.samples.at[newest] > int64(2*time.Second) {
		return 0
	}
	return (st.samples.count[newest] - st.samples.count[oldest]) * int64(time.Second) / dt
}

// reset clears the counters CONFIG RESETSTAT clears.
func (st *serverStats) reset() {
	for _, c := range []*atomic.Int64{&st.connsReceived, &st.rejectedConns, &st.commands, &st.errorReplies,
		&st.protoErrors, &st.outputLimitKills, &st.authFailures, &st.netIn, &st.netOut, &st.hits, &st.misses} {
		c.Store(0)
	}
}

// cmdStats are one command's counters and latency histogram (INFO
// commandstats and latencystats; docs/architecture.md §8: p50/p99/p99.9, the paper's SLA
// metric).
type cmdStats struct {
	calls, failed, rejected atomic.Int64
	nanos                   atomic.Int64
	hist                    latencyHist
}

func (cs *cmdStats) record(d time.Duration, failed bool) {
	cs.calls.Add(1)
	cs.nanos.Add(int64(d))
	if failed {
		cs.failed.Add(1)
	}
	cs.hist.add(d)
}

func (cs *cmdStats) reset() {
	cs.calls.Store(0)
	cs.failed.Store(0)
	cs.rejected.Store(0)
	cs.nanos.Store(0)
	for i := range cs.hist.b {
		cs.hist.b[i].Store(0)
	}
}

// latencyHist is a log-linear histogram of durations: 8 buckets per power
// of two of nanoseconds, so a reported percentile is within 12.5 % of the
// truth, from 1 ns to about 18 minutes, in 2.4 KiB. Recording is one
// atomic add.
type latencyHist struct {
	b [histBuckets]atomic.Uint64
}

const (
	histSub     = 8                                // buckets per power of two
	histMaxExp  = 40                               // 2^40 ns ≈ 18 min; slower lands in the last bucket
	histBuckets = (histMaxExp-3)*histSub + histSub // indexes 0..(histMaxExp-3)*8+7
)

// histIndex maps a duration in ns to its bucket: values below 8 have a
// bucket each; above, the leading bit and the next three pick the bucket.
func histIndex(ns uint64) int {
	e := bits.Len64(ns)
	if e <= 3 {
		return int(ns)
	}
	if e > histMaxExp {
		return histBuckets - 1
	}
	return (e-3)*histSub + int((ns>>(e-4))&(histSub-1))
}

// histUpper is the largest duration in ns that falls in bucket i.
func histUpper(i int) uint64 {
	if i < histSub {
		return uint64(i)
	}
	e := i/histSub + 3
	m := uint64(i%histSub) + histSub
	return (m+1)<<(e-4) - 1
}

func (h *latencyHist) add(d time.Duration) {
	h.b[histIndex(uint64(max(d, 0)))].Add(1)
}

// percentiles returns the upper bounds (ns) of the buckets holding the
// given quantiles, and the number of samples.
func (h *latencyHist) percentiles(qs ...float64) ([]uint64, uint64) {
	var counts [histBuckets]uint64
	var total uint64
	for i := range h.b {
		counts[i] = h.b[i].Load()
		total += counts[i]
	}
	out := make([]uint64, len(qs))
	if total == 0 {
		return out, 0
	}
	for qi, q := range qs {
		rank := uint64(q*float64(total) + 0.999999)
		rank = max(rank, 1)
		var seen uint64
		for i, n := range counts {
			seen += n
			if seen >= rank {
				out[qi] = histUpper(i)
				break
			}
		}
	}
	return out, total
}
