package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/dynago/dynago/bench"
)

// cell is the state of one system × workload cell while the plan runs.
type cell struct {
	requests int64          // -n of a measured run, set by the warm-up
	runs     []bench.Result // measured runs
	failed   bool           // a run failed
	// unknown: the server answered "unknown command"; the cell's later
	// runs are skipped.
	unknown bool
}

// compare is `make bench`: start (or attach to) the systems, preload them,
// run the interleaved plan and print the table.
func (h *harness) compare(ctx context.Context) error {
	if err := h.setup(ctx); err != nil {
		return err
	}
	start := time.Now().UTC()
	systems, notes, err := h.startSystems(ctx)
	if err != nil {
		return err
	}
	p := h.runPlan(ctx, systems)
	notes = append(notes, p.notes...)

	// Memory is read before cleanup stops the servers.
	mem := h.memoryReport(systems)

	runs := map[bench.CellKey][]bench.Result{}
	failed := map[bench.CellKey]bool{}
	for k, c := range p.cells {
		runs[k], failed[k] = c.runs, c.failed
	}
	var infos []bench.SystemInfo
	for _, s := range systems {
		infos = append(infos, bench.SystemInfo{ID: s.ID, Label: s.Label})
	}
	rows := bench.BuildRows(infos, h.cfg.workloads, runs, failed, bench.Redis)

	var rep bytes.Buffer
	h.writeReport(&rep, start, systems, rows, notes, mem, p.failures, p.stopErr)
	stamp := start.Format("20060102T150405Z")
	csvPath, mdPath, werr := h.saveResults(stamp, rows, rep.Bytes())
	if werr == nil {
		fmt.Fprintf(&rep, "\nSaved: %s and %s\n", csvPath, mdPath)
	}
	h.out.Write(rep.Bytes())
	switch {
	case p.stopErr != nil:
		return fmt.Errorf("run stopped early, the table above is partial: %w", p.stopErr)
	case werr != nil:
		return werr
	case len(p.failures) > 0:
		return fmt.Errorf("%d failure(s), listed above", len(p.failures))
	}
	return nil
}

// plan is the outcome of the runs.
type plan struct {
	cells    map[bench.CellKey]*cell
	failures []string // in the order they happened
	notes    []string // for the report
	stopErr  error    // why the plan stopped early (Ctrl-C, deadline), if it did
}

// runPlan runs the interleaved plan over systems. A run that fails is
// recorded and the plan goes on; a system that went down (process exited,
// node not answering PING) is dropped from the rest of the plan.
func (h *harness) runPlan(ctx context.Context, systems []*bench.System) plan {
	var order []string
	byID := map[string]*bench.System{}
	for _, s := range systems {
		order = append(order, s.ID)
		byID[s.ID] = s
	}
	jobs := bench.Schedule(order, h.cfg.workloads, h.cfg.runs, true)
	p := plan{cells: map[bench.CellKey]*cell{}}
	failed := map[string]bool{} // systems dropped from the rest of the run
	ccWorked := false           // a redis-benchmark --cluster run has succeeded
	fmt.Fprintf(h.log, "bench: %d redis-benchmark runs (%d warm-ups), systems interleaved per workload\n",
		len(jobs), len(order)*len(h.cfg.workloads))
	for i, j := range jobs {
		if ctx.Err() != nil {
			p.stopErr = context.Cause(ctx)
			break
		}
		if failed[j.System] {
			continue
		}
		sys := byID[j.System]
		key := bench.CellKey{System: j.System, Workload: j.Workload}
		c := p.cells[key]
		if c == nil {
			c = &cell{}
			p.cells[key] = c
		}
		if c.unknown {
			continue
		}
		res, err := h.runJob(ctx, sys, j, c)
		if err != nil {
			if ctx.Err() != nil {
				p.stopErr = context.Cause(ctx)
				break
			}
			if down := systemDown(ctx, sys); down != nil {
				// Every later run would fail the same way, each after its
				// timeout: drop the system.
				failed[j.System] = true
				p.failures = append(p.failures, fmt.Sprintf("%s: dropped during %s: %v\n(the run: %v)", sys.Label, j.Workload, down, err))
				fmt.Fprintf(h.log, "bench: %s: dropped: %v\n", sys.Label, down)
				continue
			}
			if j.System == bench.ClusterCC && !ccWorked {
				// redis-benchmark --cluster is reported only if it works
				// against dynago's CLUSTER NODES: its failure is a finding
				// about the protocol, not a failed run.
				failed[j.System] = true
				p.notes = append(p.notes, "redis-benchmark --cluster: not reported, it does not work against dynago: "+err.Error())
				fmt.Fprintf(h.log, "bench: redis-benchmark --cluster does not work against dynago: %v\n", err)
				continue
			}
			c.failed = true
			if bench.UnknownCommand(err) {
				c.unknown = true
				err = fmt.Errorf("%w\n(the server does not have the command: the cell's other runs are skipped)", err)
			}
			p.failures = append(p.failures, fmt.Sprintf("%s %s: %v", j.Workload, sys.Label, err))
			fmt.Fprintf(h.log, "bench: [%d/%d] %s %s: %v\n", i+1, len(jobs), j.Workload, sys.Label, err)
			continue
		}
		ccWorked = ccWorked || j.System == bench.ClusterCC
		what := "warm-up"
		if !j.Warmup() {
			what = fmt.Sprintf("run %d/%d", j.Rep+1, h.cfg.runs)
		}
		fmt.Fprintf(h.log, "bench: [%d/%d] %-14s %-26s %-9s n=%-9d %9.0f ops/s  p50 %.3f  p99 %.3f  p99.9 %.3f ms\n",
			i+1, len(jobs), j.Workload, sys.Label, what, res.Requests, res.OpsPerSec, res.P50, res.P99, res.P999)
	}
	return p
}

// systemDown says why sys cannot serve any more runs: one of its
// processes exited, or a node no longer answers PING within 2 s (hung,
// stopped, deadlocked). It returns nil for a system that is still up.
func systemDown(ctx context.Context, sys *bench.System) error {
	if dead := deadProc(sys); dead != nil {
		return fmt.Errorf("%s exited (%s); its log ends:\n%s", dead.Name, exitString(dead), indent(dead.LogTail(20)))
	}
	for _, n := range sys.Nodes {
		if err := bench.WaitReady(ctx, n, nil, 2*time.Second); err != nil {
			return fmt.Errorf("node %s stopped answering: %v", n, err)
		}
	}
	return nil
}

// runJob runs one job. A warm-up sizes the cell's measured runs. It starts
// small, so that a slow system (a cluster at P16 may be 100 times slower
// than redis-server) does not spend long in it, and repeats, sized for a
// second from the last rate, until one lasts half a second or more: the
// rate of a run much shorter than that is mostly connection set-up.
func (h *harness) runJob(ctx context.Context, sys *bench.System, j bench.Job, c *cell) (bench.Result, error) {
	w := j.Workload
	if !j.Warmup() {
		n := c.requests
		if h.cfg.requests > 0 {
			n = h.cfg.requests
		}
		if n == 0 { // the warm-up failed; try with its size
			n = firstWarmup(w)
		}
		res, err := h.runOnce(ctx, sys, w, n)
		if err == nil {
			c.runs = append(c.runs, res)
		}
		return res, err
	}
	n := firstWarmup(w)
	var res bench.Result
	for range 4 {
		var err error
		if res, err = h.runOnce(ctx, sys, w, n); err != nil {
			return res, err
		}
		if res.Seconds >= 0.5 {
			break
		}
		n = bench.SizeRequests(res.OpsPerSec, 1, h.cfg.clients, w.Pipeline, h.cfg.maxRequests)
	}
	c.requests = bench.SizeRequests(res.OpsPerSec, h.cfg.runSeconds, h.cfg.clients, w.Pipeline, h.cfg.maxRequests)
	return res, nil
}

// runOnce runs redis-benchmark once and measures the servers' CPU per
// request meanwhile.
//
// redis-benchmark 7.0 stops at the first error reply, except with
// --cluster: then it counts error replies as answers without a word, and a
// workload the nodes refuse would show a high rate. So with --cluster the
// nodes' error replies (INFO stats total_error_replies) are counted around
// the run, and a run during which they grew fails, quoting what the
// harness is answered for one request of the workload.
func (h *harness) runOnce(ctx context.Context, sys *bench.System, w bench.Workload, n int64) (bench.Result, error) {
	var errsBefore int64
	if sys.Endpoint.Cluster {
		var err error
		if errsBefore, err = bench.ErrorReplies(ctx, sys.Nodes); err != nil {
			return bench.Result{}, err
		}
	}
	cpuBefore, measured := systemCPU(sys)
	res, err := h.runner.Run(ctx, sys.Endpoint, w, n)
	if cpuAfter, ok := systemCPU(sys); ok && measured && err == nil && res.Requests > 0 {
		res.CPUPerOp = float64((cpuAfter-cpuBefore)/time.Nanosecond) / 1e3 / float64(res.Requests)
	}
	if err != nil || !sys.Endpoint.Cluster {
		return res, err
	}
	errsAfter, err := bench.ErrorReplies(ctx, sys.Nodes)
	if err != nil || errsAfter == errsBefore {
		return res, err
	}
	probe := w.Probe(h.cfg.dataSize)
	args := make([]any, len(probe))
	for i, a := range probe {
		args[i] = a
	}
	c := bench.NewClient(sys.Endpoint.Addr, 1)
	defer c.Close()
	answer := "no error"
	if err := c.Do(ctx, args...).Err(); err != nil {
		answer = "Error from server: " + err.Error()
	}
	return bench.Result{}, fmt.Errorf("redis-benchmark --cluster, %s: the nodes sent %d error replies during the run (INFO stats total_error_replies), which redis-benchmark --cluster counts as answers; the harness's own %s got: %s",
		w, errsAfter-errsBefore, bench.ShellJoin(probe), answer)
}

// systemCPU is the CPU time (user and system) used so far by every server
// process of sys; false when it has none (attached) or one cannot be read.
func systemCPU(sys *bench.System) (time.Duration, bool) {
	var total time.Duration
	for _, p := range sys.Procs {
		d, err := bench.ReadCPU(p.PID())
		if err != nil {
			return 0, false
		}
		total += d
	}
	return total, len(sys.Procs) > 0
}

// firstWarmup is the first warm-up's -n: 40 pipelines per connection.
func firstWarmup(w bench.Workload) int64 { return 2000 * int64(w.Pipeline) }

// deadProc returns a process of sys that has exited, if any.
func deadProc(sys *bench.System) *bench.Proc {
	for _, p := range sys.Procs {
		if ok, _ := p.Exited(); ok {
			return p
		}
	}
	return nil
}

func exitString(p *bench.Proc) string {
	_, err := p.Exited()
	if err == nil {
		return "status 0"
	}
	return err.Error()
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }

// startSystems starts (or attaches to) the selected systems in table order,
// preloads their keys and, with the cluster, prepares the --cluster row.
// notes collects what the report must say about how systems were driven.
func (h *harness) startSystems(ctx context.Context) ([]*bench.System, []string, error) {
	srv := h.servers()
	var systems []*bench.System
	var notes []string
	for _, id := range h.cfg.systems {
		var sys *bench.System
		var err error
		if a := h.cfg.attach[id]; a != "" {
			sys = attached(id, a)
			err = bench.WaitReady(ctx, a, nil, h.cfg.startTimeout)
		} else {
			fmt.Fprintf(h.log, "bench: starting %s\n", id)
			switch id {
			case bench.Redis:
				sys, err = srv.StartRedis(ctx)
			case bench.Single:
				sys, err = srv.StartSingle(ctx)
			case bench.Cluster:
				sys, err = srv.StartCluster(ctx)
			}
		}
		if err != nil {
			return nil, nil, fmt.Errorf("starting %s: %w", id, err)
		}
		if err := h.preload(ctx, sys); err != nil {
			return nil, nil, err
		}
		systems = append(systems, sys)
		if id == bench.Cluster && !h.cfg.clusterCC {
			notes = append(notes, "redis-benchmark --cluster: not run (--cluster-client=false; quick runs leave it out)")
		}
		if id == bench.Cluster && h.cfg.clusterCC {
			if h.cfg.standIn {
				notes = append(notes, "redis-benchmark --cluster: not run against the stand-in (standalone redis-servers are no cluster)")
				continue
			}
			cc, err := h.clusterClient(ctx, sys)
			if err != nil {
				notes = append(notes, "redis-benchmark --cluster: not reported: "+err.Error())
				fmt.Fprintf(h.log, "bench: redis-benchmark --cluster will not run: %v\n", err)
				continue
			}
			systems = append(systems, cc)
		}
	}
	return systems, notes, nil
}

func attached(id, addr string) *bench.System {
	label := map[string]string{bench.Redis: "redis-server", bench.Single: "dynago 1 node", bench.Cluster: "dynago 3 nodes via node 1"}[id]
	return &bench.System{ID: id, Label: label + " (attached)", Endpoint: bench.Endpoint{Addr: addr},
		Nodes: []string{addr}, Prefixes: []string{"key:"}}
}

// preload writes every key the benchmark's GETs can draw, through all of
// the system's nodes, then reads a few back from each node.
func (h *harness) preload(ctx context.Context, sys *bench.System) error {
	if !h.cfg.preload {
		return nil
	}
	ks := bench.KeySet{Prefixes: sys.Prefixes, From: 0, To: int64(h.cfg.keyspace)}
	targets := [][]string{sys.Nodes}
	if h.cfg.standIn && len(sys.Nodes) > 1 {
		// Stand-in nodes are independent redis-servers: each needs every key.
		targets = nil
		for _, n := range sys.Nodes {
			targets = append(targets, []string{n})
		}
	}
	for _, nodes := range targets {
		st, err := bench.Load(ctx, nodes, ks, h.cfg.dataSize, h.cfg.loadWorkers, h.cfg.loadBatch, nil)
		if err != nil {
			return fmt.Errorf("preloading %s: %w", sys.Label, err)
		}
		fmt.Fprintf(h.log, "bench: preloaded %d keys into %s via %s in %v (%.0f keys/s)\n",
			st.Keys, sys.Label, strings.Join(nodes, ","), st.Elapsed.Round(time.Millisecond), st.Rate())
	}
	for _, n := range sys.Nodes {
		if err := bench.CheckKeys(ctx, n, ks, h.cfg.dataSize); err != nil {
			return err
		}
	}
	return nil
}

// clusterClient prepares the redis-benchmark --cluster row: it reads the
// masters from node 1's CLUSTER NODES, learns the hash tags redis-benchmark
// will put in its keys, and preloads those keys.
func (h *harness) clusterClient(ctx context.Context, sys *bench.System) (*bench.System, error) {
	c := bench.NewClient(sys.Endpoint.Addr, 1)
	defer c.Close()
	text, err := c.Do(ctx, "CLUSTER", "NODES").Text()
	if err != nil {
		return nil, fmt.Errorf("CLUSTER NODES: %w", err)
	}
	masters, err := bench.ParseClusterNodes(text)
	if err != nil {
		return nil, err
	}
	prefixes, err := bench.ProbeClusterPrefixes(ctx, h.tools.RedisBenchmark, masters, 30*time.Second)
	if err != nil {
		return nil, err
	}
	cc := &bench.System{ID: bench.ClusterCC, Label: "dynago 3 nodes, --cluster",
		Endpoint: bench.Endpoint{Addr: sys.Endpoint.Addr, Cluster: true},
		Nodes:    sys.Nodes, Procs: sys.Procs, DataDirs: sys.DataDirs, Prefixes: prefixes}
	if err := h.preload(ctx, cc); err != nil {
		return nil, err
	}
	return cc, nil
}

// memory is one line of the memory report.
type memory struct {
	label string
	line  string
}

// memoryReport reads every started server's RSS and data directory size.
func (h *harness) memoryReport(systems []*bench.System) []memory {
	var out []memory
	for _, s := range systems {
		if s.ID == bench.ClusterCC {
			continue // the same processes as the cluster's
		}
		for i, p := range s.Procs {
			line := ""
			if m, err := bench.ReadMemory(p.PID()); err != nil {
				line = fmt.Sprintf("RSS unavailable (%v)", err)
			} else {
				line = fmt.Sprintf("RSS %s (peak %s)", bench.MB(m.RSS), bench.MB(m.Peak))
			}
			if i < len(s.DataDirs) {
				if n, err := bench.DirSize(s.DataDirs[i]); err == nil {
					line += fmt.Sprintf(", data dir %s", bench.MB(n))
				}
			}
			out = append(out, memory{label: fmt.Sprintf("%s (pid %d)", p.Name, p.PID()), line: line})
		}
	}
	return out
}

// writeReport writes everything `make bench` prints at the end.
func (h *harness) writeReport(w io.Writer, start time.Time, systems []*bench.System, rows []bench.Row,
	notes []string, mem []memory, failures []string, stopErr error) {
	m := bench.DescribeMachine(runtime.NumCPU(), h.cfg.repo)
	mode := "full"
	if h.cfg.quick {
		mode = "quick"
	}
	fmt.Fprintf(w, "\n## dynago vs redis-server (%s run, %s UTC)\n\n", mode, start.Format("2006-01-02 15:04:05"))
	fmt.Fprintf(w, "- machine: %d CPUs, %s, Linux %s\n", m.CPUs, m.CPUModel, m.Kernel)
	fmt.Fprintf(w, "- dynago commit %s; redis-server %s; redis-benchmark %s; %s\n",
		m.Commit, orNA(h.tools.ServerVersion), h.tools.BenchVersion, runtime.Version())
	env := ""
	if h.cfg.quickFromEnv {
		env = "BENCH_QUICK=1 "
	}
	fmt.Fprintf(w, "- command: %s%s\n", env, h.cfg.commandLine)
	sizing := fmt.Sprintf("-n sized from a warm-up for about %g s per run", h.cfg.runSeconds)
	if h.cfg.requests > 0 {
		sizing = fmt.Sprintf("-n %d per run", h.cfg.requests)
	}
	preload := fmt.Sprintf("all %d keys preloaded", h.cfg.keyspace)
	if !h.cfg.preload {
		preload = "no preload (--preload=false): GETs may miss"
	}
	fmt.Fprintf(w, "- load: redis-benchmark -c %d -d %d -r %d, %s; median of %d run(s) per cell, %s; systems interleaved within each workload\n",
		h.cfg.clients, h.cfg.dataSize, h.cfg.keyspace, preload, h.cfg.runs, sizing)
	for _, s := range systems {
		fmt.Fprintf(w, "- %s: %s\n", s.Label, describe(s))
	}
	fmt.Fprintln(w)
	if len(rows) == 0 {
		fmt.Fprintln(w, "(no results)")
	} else {
		fmt.Fprint(w, bench.Markdown(rows, "redis"))
	}
	fmt.Fprintln(w, "\nLatencies in ms as redis-benchmark measures them (send to reply, per request; with -P 16 a request's latency is its pipeline's).")
	fmt.Fprintln(w, "p50 and p99 are redis-benchmark's own; p99.9 is read from its printed latency distribution (at most 0.002 % of requests above the true p99.9).")
	fmt.Fprintln(w, "CPU µs/op: user+system CPU of every server process of the system (all 3 nodes for the cluster) from /proc/PID/stat over the run, divided by the requests; 10 ms ticks, background work (compaction, gossip) included; \"-\": not measured (attached).")
	fmt.Fprintln(w, "\"vs redis\": ops/s divided by redis-server's, and p99.9 divided by redis-server's, same workload, same run.")
	if slices.ContainsFunc(rows, func(r bench.Row) bool { return r.Failed }) {
		fmt.Fprintln(w, "\"failed\": every run of the cell failed; the errors are under Failures.")
	}
	if h.cfg.runs == 1 {
		fmt.Fprintln(w, "One run per cell: on a shared machine single runs vary by tens of percent; quote the median of a full run.")
	}
	for _, n := range notes {
		fmt.Fprintf(w, "\nNote: %s\n", n)
	}
	if vs := bench.Evaluate(rows, bench.IssueTargets()); len(vs) > 0 {
		fmt.Fprintf(w, "\n### Targets of issue 5\n\n```\n%s```\n", bench.FormatVerdicts(vs))
	}
	if t := bench.VsSet(rows); t != "" {
		fmt.Fprintf(w, "\n### INCR, HSET, SADD, ZADD vs SET on the same system\n\n%s\n", t)
		fmt.Fprintf(w, "Each figure is the command's divided by SET's, same system, depth and run. Goals: INCR ops/s >= %.2fx SET's; HSET, SADD, ZADD CPU µs/op <= %.2fx SET's (their ops/s ratio beside it). redis-server's line is the reference.\n",
			bench.IncrOpsVsSet, bench.CollectionCPUVsSet)
		fmt.Fprintf(w, "HSET, SADD, ZADD: %s, %s, %s with -r %d (%d collections of each type, each of up to %d members; HSET values of %d bytes).\n",
			cmdLine(bench.Workload{Test: "hset"}, h.cfg.dataSize), cmdLine(bench.Workload{Test: "sadd"}, h.cfg.dataSize),
			cmdLine(bench.Workload{Test: "zadd"}, h.cfg.dataSize), h.cfg.collectionKeys, h.cfg.collectionKeys, h.cfg.collectionKeys, h.cfg.dataSize)
	}
	if len(mem) > 0 {
		fmt.Fprintf(w, "\n### Memory and disk after the run\n\n")
		for _, x := range mem {
			fmt.Fprintf(w, "- %s: %s\n", x.label, x.line)
		}
	}
	if len(failures) > 0 {
		fmt.Fprintf(w, "\n### Failures\n\n")
		for _, f := range failures {
			fmt.Fprintf(w, "- %s\n", strings.ReplaceAll(f, "\n", "\n  "))
		}
	}
	if stopErr != nil {
		fmt.Fprintf(w, "\nThe run stopped early: %v. Cells not reached are missing from the table.\n", stopErr)
	}
}

// cmdLine is w's command for the report, a long HSET value abbreviated.
func cmdLine(w bench.Workload, dataSize int) string {
	c := w.Command(false, dataSize)
	if w.Test == "hset" && dataSize > 8 {
		c[len(c)-1] = fmt.Sprintf("<%d × x>", dataSize)
	}
	return "`" + strings.Join(c, " ") + "`"
}

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

// describe says how a system runs and how redis-benchmark reaches it.
func describe(s *bench.System) string {
	var cmds []string
	for _, p := range s.Procs {
		cmds = append(cmds, "`"+p.CommandLine()+"`")
	}
	switch {
	case s.ID == bench.ClusterCC:
		return fmt.Sprintf("the same cluster driven by `redis-benchmark --cluster`: it reads node 1's CLUSTER NODES and spreads the clients over the masters listed there (one client thread per master), each connection sending keys hash-tagged for its master's first slot (%s): client-driven coordination, paper §6.4",
			strings.Join(s.Prefixes, ", "))
	case len(s.Procs) == 0:
		return "attached at " + s.Endpoint.Addr + " (started elsewhere)"
	case s.ID == bench.Cluster:
		return strings.Join(cmds, "; ") + "; redis-benchmark connects all clients to node 1, as a cluster-unaware client does (node 1 coordinates or forwards every request)"
	}
	return strings.Join(cmds, "; ")
}

// saveResults writes the table as CSV and the whole report as Markdown.
func (h *harness) saveResults(stamp string, rows []bench.Row, report []byte) (string, string, error) {
	if err := os.MkdirAll(h.cfg.resultsDir, 0o755); err != nil {
		return "", "", err
	}
	csvPath := filepath.Join(h.cfg.resultsDir, stamp+".csv")
	mdPath := filepath.Join(h.cfg.resultsDir, stamp+".md")
	var buf bytes.Buffer
	if err := bench.WriteCSV(&buf, rows); err != nil {
		return "", "", err
	}
	err := errors.Join(os.WriteFile(csvPath, buf.Bytes(), 0o644), os.WriteFile(mdPath, report, 0o644))
	return csvPath, mdPath, err
}
