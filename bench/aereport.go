package bench

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// AEReport is the outcome of `make bench-ae`, printed by WriteMarkdown.
type AEReport struct {
	Title      string
	Header     []string // bullet lines: machine, versions, how the run was done
	Bytes      []AEBytesRow
	Foreground []AEForegroundRow
	Join       *AEJoin
	Notes      []string
}

// AEBytesRow is one divergence of the bytes table: a cluster restarted
// from a state where node3 missed the overwrite of a share of the keys,
// with no client traffic, watched until anti-entropy stopped repairing.
type AEBytesRow struct {
	Percent     float64 // share of the keys overwritten while node3 was down
	Keys        int64   // keys in the cluster
	Overwritten int64
	// Stale is how many of the overwritten keys node3 held in another
	// version than node1 before the run (DYNAGO LOCAL contexts), -1 if
	// not checked; StaleAfter the same once repairs stopped.
	Stale, StaleAfter int64
	// PartitionsDiffer of Partitions had different tree roots on the three
	// nodes before the run (DYNAGO AE); PartitionsDifferAfter once
	// repairs stopped.
	PartitionsDiffer, PartitionsDifferAfter, Partitions int
	Repair                                              RepairSummary
	// IdlePerExchange is the measured cost of an exchange that finds the
	// roots equal (0 if it could not be measured).
	IdlePerExchange float64
	RawBytes        int64 // one replica's keys and values
	Err             string
}

// DiffBytes is the bytes of the exchanges that found a difference: all
// bytes at the end, less the equal exchanges' at their measured cost (-1
// if that cost is unknown).
func (r AEBytesRow) DiffBytes() int64 {
	if r.IdlePerExchange <= 0 {
		return -1
	}
	t := r.Repair.End.Total()
	return t.Bytes() - int64(float64(t.ExchangesEqual)*r.IdlePerExchange+0.5)
}

// AEForegroundRow is one redis-benchmark run against node 1 of a cluster
// restarted from a divergent state, with anti-entropy on or off.
type AEForegroundRow struct {
	Percent  float64
	Workload Workload
	AE       bool
	Run      int // from 1: the runs of a cell are interleaved with the other cells'
	Result   Result
	// BenchFrom and BenchTo are when redis-benchmark ran, and the
	// Repair times, relative to the start of the nodes.
	BenchFrom, BenchTo time.Duration
	Repair             RepairSummary
	// Stale and StaleAfter: overwritten keys whose node3 copy differed
	// from node1's before the run and at its end (-1: not checked).
	Stale, StaleAfter int64
	Err               string
}

// Overlap is how long anti-entropy repaired (RepairSummary Start to Last,
// or to Bulk with bulk set) while redis-benchmark ran.
func (r AEForegroundRow) Overlap(bulk bool) time.Duration {
	if r.Repair.Start < 0 {
		return 0
	}
	end := r.Repair.Last
	if bulk {
		end = r.Repair.Bulk
	}
	return max(min(end, r.BenchTo)-max(r.Repair.Start, r.BenchFrom), 0)
}

// AEJoin is the 3→4 join of a loaded cluster.
type AEJoin struct {
	Keys     int64 // keys in the cluster
	N        int64 // replicas per key
	Duration time.Duration
	Nodes    []AEJoinNode // node1..node4
	Err      string
}

// AEJoinNode is one node's view after the join.
type AEJoinNode struct {
	Name      string
	Owned     int64 // partitions it is the first home replica of
	Transfers TransferCounters
}

// Moved is the copies streamed to the new nodes (keys_streamed_in summed).
func (j AEJoin) Moved() int64 {
	var n int64
	for _, nd := range j.Nodes {
		n += nd.Transfers.KeysIn
	}
	return n
}

// HandedOff is the copies the nodes handed off (keys_handed_off summed).
func (j AEJoin) HandedOff() int64 {
	var n int64
	for _, nd := range j.Nodes {
		n += nd.Transfers.KeysOut
	}
	return n
}

// Copies is every key's N copies.
func (j AEJoin) Copies() int64 { return j.Keys * j.N }

func fmtPct(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) + " %" }

func fmtSec(d time.Duration) string { return fmt.Sprintf("%.1f", d.Seconds()) }

func fmtBytes(n int64) string {
	switch {
	case n < 0:
		return "-"
	case n >= 10<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 10<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func fmtCount(n int64) string {
	if n < 0 {
		return "-"
	}
	return strconv.FormatInt(n, 10)
}

// OnOff is "on" or "off".
func OnOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// repairWindow says when repairs ran and when 90 % were done, relative
// to base.
func repairWindow(r RepairSummary, base time.Duration) (ran, bulk string) {
	if r.Start < 0 {
		return "none", "-"
	}
	return fmt.Sprintf("%s … %s", fmtSec(r.Start-base), fmtSec(r.Last-base)), fmtSec(r.Bulk - base)
}

func fmtRate(r RepairSummary) string {
	if x := r.Rate(); x > 0 {
		return fmt.Sprintf("%.0f", x)
	}
	return "-"
}

func table(w io.Writer, head []string, rows [][]string) {
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat(" ---: |", len(head)))
	for _, r := range rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
	fmt.Fprintln(w)
}

// WriteMarkdown prints the report: the bytes table, the foreground tables
// (side by side, then in full with each node's INFO antientropy) and the
// join, then the notes.
func (r AEReport) WriteMarkdown(w io.Writer, poll time.Duration) {
	fmt.Fprintf(w, "\n## %s\n\n", r.Title)
	for _, h := range r.Header {
		fmt.Fprintf(w, "- %s\n", h)
	}
	fmt.Fprintln(w)
	if len(r.Bytes) > 0 {
		r.writeBytes(w, poll)
	}
	if len(r.Foreground) > 0 {
		r.writeForeground(w, poll)
	}
	if r.Join != nil {
		r.Join.write(w)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "Note: %s\n\n", n)
	}
}

func (r AEReport) writeBytes(w io.Writer, poll time.Duration) {
	fmt.Fprintf(w, "### Anti-entropy bytes by divergence (no client traffic)\n\n")
	var rows [][]string
	for _, b := range r.Bytes {
		if b.Err != "" {
			rows = append(rows, []string{fmtPct(b.Percent), fmtCount(b.Overwritten), "failed: " + b.Err, "", "", "", "", "", "", "", "", "", ""})
			continue
		}
		t := b.Repair.End.Total()
		diff := b.DiffBytes()
		perKey, share := "-", "-"
		if diff >= 0 && b.Overwritten > 0 {
			perKey = fmt.Sprintf("%.0f", float64(diff)/float64(b.Overwritten))
		}
		if diff >= 0 && b.RawBytes > 0 {
			share = fmt.Sprintf("%.2f %%", 100*float64(diff)/float64(b.RawBytes))
		}
		ran, bulk := repairWindow(b.Repair, 0)
		if !b.Repair.Settled {
			ran += " (not settled)"
		}
		rows = append(rows, []string{
			fmtPct(b.Percent),
			fmtCount(b.Overwritten),
			fmt.Sprintf("%s / %d → %s / %d", fmtCount(b.Stale), b.PartitionsDiffer, fmtCount(b.StaleAfter), b.PartitionsDifferAfter),
			fmtCount(b.Repair.Repaired),
			fmt.Sprintf("%d / %d", t.Exchanges-t.ExchangesEqual, t.Exchanges),
			fmtBytes(t.Bytes()),
			fmtBytes(diff),
			perKey,
			share,
			ran,
			bulk,
			fmtRate(b.Repair),
		})
	}
	table(w, []string{"divergence", "keys overwritten", "node3 stale keys / partitions differing: before → after", "keys repaired",
		"exchanges that differed / all", "AE bytes, all", "AE bytes of differing exchanges", "bytes per overwritten key",
		"share of one replica's raw data", "repairs ran (s after start)", "90 % repaired at (s)", "repair rate keys/s (first 90 %)"}, rows)
	if len(r.Bytes) > 0 {
		b := r.Bytes[0]
		fmt.Fprintf(w, "%d keys in %d partitions (the ring's partition set). AE bytes are INFO antientropy bytes_sent + bytes_received summed over the three nodes (each exchange is counted by the node that starts it), read once every node had run 3 rounds without a repair; times are seconds after the first node was started, from INFO antientropy polled every %v (a repair ran between the last sample showing none and the first showing the final count). An exchange that finds equal roots costs %.0f B (measured on the idle cluster); \"of differing exchanges\" leaves those out. Raw data: %s (keys and values of one replica). Stale keys: overwritten keys whose copy on node3 has another version than node1's (DYNAGO LOCAL); partitions differing: tree roots not equal on all three nodes (DYNAGO AE).\n\n",
			b.Keys, b.Partitions, poll, b.IdlePerExchange, fmtBytes(b.RawBytes))
		fmt.Fprintf(w, "Keys repaired counts every object an exchange merged or pushed: a differing key is fetched and then pushed back by each exchange that meets it, and node3's copies are compared with node1's and node2's, so an overwritten key costs at least 2 repairs. Per node, at the end:\n\n")
	}
	var rows2 [][]string
	for _, b := range r.Bytes {
		if b.Err == "" {
			rows2 = append(rows2, nodeRows([]string{fmtPct(b.Percent)}, b.Repair.End)...)
		}
	}
	table(w, []string{"divergence", "node", "rounds", "exchanges", "exchanges_equal", "exchange_errors", "keys_repaired", "bytes_sent", "bytes_received"}, rows2)
}

// nodeRows is one row per node of s's INFO antientropy counters, each
// starting with lead.
func nodeRows(lead []string, s AESample) [][]string {
	var rows [][]string
	for i, n := range s.Nodes {
		rows = append(rows, append(append([]string(nil), lead...), fmt.Sprintf("node%d", i+1),
			fmtCount(n.Rounds), fmtCount(n.Exchanges), fmtCount(n.ExchangesEqual), fmtCount(n.ExchangeErrors),
			fmtCount(n.KeysRepaired), fmtCount(n.BytesSent), fmtCount(n.BytesReceived)))
	}
	return rows
}

func (r AEReport) writeForeground(w io.Writer, poll time.Duration) {
	fmt.Fprintf(w, "### Foreground latency with and without anti-entropy repairing node3\n\n")
	type key struct {
		pct float64
		w   Workload
	}
	var order []key
	type runs struct{ off, on []*AEForegroundRow }
	byKey := map[key]*runs{}
	for i := range r.Foreground {
		f := &r.Foreground[i]
		k := key{f.Percent, f.Workload}
		rs := byKey[k]
		if rs == nil {
			rs = &runs{}
			byKey[k] = rs
			order = append(order, k)
		}
		if f.Err != "" {
			continue
		}
		if f.AE {
			rs.on = append(rs.on, f)
		} else {
			rs.off = append(rs.off, f)
		}
	}
	med := func(fs []*AEForegroundRow) (Result, bool) {
		var res []Result
		for _, f := range fs {
			res = append(res, f.Result)
		}
		return Median(res), len(res) > 0
	}
	var rows [][]string
	multi := false
	for _, k := range order {
		rs := byKey[k]
		off, okOff := med(rs.off)
		on, okOn := med(rs.on)
		multi = multi || len(rs.off) > 1 || len(rs.on) > 1
		cell := func(ok bool, x float64, format string) string {
			if !ok {
				return "-"
			}
			return fmt.Sprintf(format, x)
		}
		ratio := "-"
		if okOff && okOn && off.P999 > 0 {
			ratio = fmt.Sprintf("%.2f", on.P999/off.P999)
		}
		overlap := "-"
		if okOn {
			var all, bulk, length []float64
			for _, f := range rs.on {
				all = append(all, f.Overlap(false).Seconds())
				bulk = append(bulk, f.Overlap(true).Seconds())
				length = append(length, (f.BenchTo - f.BenchFrom).Seconds())
			}
			overlap = fmt.Sprintf("%.1f (90 %%: %.1f) of %.1f", median(all), median(bulk), median(length))
		}
		rows = append(rows, []string{fmtPct(k.pct), k.w.String(), fmt.Sprintf("%d / %d", len(rs.off), len(rs.on)),
			cell(okOff, off.OpsPerSec, "%.0f"), cell(okOn, on.OpsPerSec, "%.0f"),
			cell(okOff, off.P50, "%.3f"), cell(okOn, on.P50, "%.3f"),
			cell(okOff, off.P99, "%.3f"), cell(okOn, on.P99, "%.3f"),
			cell(okOff, off.P999, "%.3f"), cell(okOn, on.P999, "%.3f"),
			ratio, overlap})
	}
	table(w, []string{"divergence", "workload", "runs off / on", "ops/s AE off", "ops/s AE on", "p50 off", "p50 on", "p99 off", "p99 on",
		"p99.9 off", "p99.9 on", "p99.9 on ÷ off", "s of the run with AE repairing"}, rows)
	if multi {
		fmt.Fprintf(w, "Each figure is the median of the runs, metric by metric; the runs are listed below.\n\n")
	}
	ms := func(x float64) string { return fmt.Sprintf("%.3f", x) }

	rows = nil
	for _, f := range r.Foreground {
		if f.Err != "" {
			rows = append(rows, []string{fmtPct(f.Percent), f.Workload.String(), OnOff(f.AE), strconv.Itoa(f.Run), "failed: " + f.Err, "", "", "", "", "", "", "", "", "", "", ""})
			continue
		}
		t := f.Repair.End.Total()
		ran, bulk := repairWindow(f.Repair, f.BenchFrom)
		if f.AE && !f.Repair.Settled {
			ran += " (not settled)"
		}
		rows = append(rows, []string{fmtPct(f.Percent), f.Workload.String(), OnOff(f.AE), strconv.Itoa(f.Run),
			fmtCount(f.Result.Requests), fmt.Sprintf("%.0f", f.Result.OpsPerSec),
			ms(f.Result.P50), ms(f.Result.P99), ms(f.Result.P999), ms(f.Result.Max),
			fmt.Sprintf("%s … %s", fmtSec(0), fmtSec(f.BenchTo-f.BenchFrom)),
			ran, bulk, fmtCount(t.KeysRepaired), fmtRate(f.Repair), fmtBytes(t.Bytes()),
			fmt.Sprintf("%s → %s", fmtCount(f.Stale), fmtCount(f.StaleAfter))})
	}
	table(w, []string{"divergence", "workload", "AE", "run", "requests", "ops/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms",
		"benchmark ran (s)", "repairs ran (s)", "90 % repaired at (s)", "keys repaired", "repair rate keys/s (first 90 %)", "AE bytes", "node3 stale keys before → after"}, rows)
	fmt.Fprintf(w, "Times are seconds after redis-benchmark started (negative: before it, while the restarted cluster formed). Repairs ran between the last INFO antientropy sample (every %v) showing none and the first showing the final count; the rate is that of the first 90 %% of the repairs (a concurrent writer adds a trickle of repairs: an exchange that lists a key while a write has reached one replica and not yet the other repairs it). Keys repaired and AE bytes are summed over the nodes once every node had run 3 rounds without a repair (AE on), or at the end of the run (AE off). Node3's stale keys include those the benchmark's own SETs and GETs (read repair) fixed.\n\n", poll)

	rows = nil
	for _, f := range r.Foreground {
		if f.Err != "" {
			continue
		}
		rows = append(rows, nodeRows([]string{fmtPct(f.Percent), f.Workload.String(), OnOff(f.AE), strconv.Itoa(f.Run)}, f.Repair.End)...)
	}
	table(w, []string{"divergence", "workload", "AE", "run", "node", "rounds", "exchanges", "exchanges_equal", "exchange_errors",
		"keys_repaired", "bytes_sent", "bytes_received"}, rows)
}

func (j *AEJoin) write(w io.Writer) {
	fmt.Fprintf(w, "### Join 3→4 of the loaded cluster\n\n")
	if j.Err != "" {
		fmt.Fprintf(w, "The join failed: %s\n\n", j.Err)
	}
	var rows [][]string
	for _, n := range j.Nodes {
		t := n.Transfers
		rows = append(rows, []string{n.Name, fmtCount(n.Owned), fmtCount(t.KeysIn), fmtBytes(t.BytesIn), fmtCount(t.KeysOut), fmtBytes(t.BytesOut)})
	}
	if len(rows) > 0 {
		table(w, []string{"node", "partitions owned", "keys_streamed_in", "bytes_streamed_in", "keys_handed_off", "bytes_handed_off"}, rows)
	}
	if c := j.Copies(); c > 0 {
		fmt.Fprintf(w, "| copies stored (N × keys) | moved (streamed in) | moved ÷ copies | ideal | handed off ÷ copies | transfers idle after |\n| ---: | ---: | ---: | ---: | ---: | ---: |\n")
		fmt.Fprintf(w, "| %d × %d = %d | %d | %.3f | 0.250 | %.3f | %s s |\n\n", j.N, j.Keys, c, j.Moved(), float64(j.Moved())/float64(c),
			float64(j.HandedOff())/float64(c), fmtSec(j.Duration))
		fmt.Fprintf(w, "With N=3 on 4 nodes every key keeps 3 copies, and the new node should hold 3/4 of the keys: 0.75 × %d keys = %d copies = 1/4 of the %d. Idle: every node's ring has 4 members and nothing pending (INFO cluster partitions_pending:0) and nothing to stream or hand off (INFO transfers).\n\n",
			j.Keys, j.Keys*3/4, c)
	}
}
