package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dynago/dynago/bench"
)

// scaleStage is what the scale run measured after loading up to Keys keys.
type scaleStage struct {
	keys  int64
	load  bench.LoadStats // this stage's keys only
	gets  []bench.Row     // GET P1, GET P16 over all keys loaded so far
	mem   []bench.Memory  // per node
	disk  []int64         // data directory bytes per node
	notes []string
}

// scaleRun is `make bench-scale`: the cluster (or a single node, for
// comparison) is loaded in stages (the
// benchmark's keyspace, then --scale-keys, then 10M with --scale-10m);
// after each stage it measures GET over every key loaded so far and reads
// each node's RSS and data directory size.
func (h *harness) scaleRun(ctx context.Context) error {
	if err := h.setup(ctx); err != nil {
		return err
	}
	start := time.Now().UTC()
	id := h.cfg.systems[0]
	fmt.Fprintf(h.log, "bench: starting %s\n", id)
	start1 := h.servers().StartCluster
	if id == bench.Single {
		start1 = func(ctx context.Context) (*bench.System, error) { return h.servers().StartSingle(ctx) }
	}
	sys, err := start1(ctx)
	if err != nil {
		return fmt.Errorf("starting %s: %w", id, err)
	}
	loadVia, checkAt := sys.Nodes, sys.Nodes
	if h.cfg.standIn {
		// Independent redis-servers: load and read node 1 only.
		loadVia, checkAt = sys.Nodes[:1], sys.Nodes[:1]
	}
	targets := []int64{int64(h.cfg.keyspace), h.cfg.scaleKeys}
	if h.cfg.scale10M {
		targets = append(targets, 10_000_000)
	}
	slices.Sort(targets)
	targets = slices.Compact(targets)

	var stages []scaleStage
	var stopErr error
	loaded := int64(0)
	for _, target := range targets {
		st := scaleStage{keys: target}
		ks := bench.KeySet{Prefixes: []string{"key:"}, From: loaded, To: target}
		fmt.Fprintf(h.log, "bench: loading keys %d..%d through %d connections\n", loaded, target-1, h.cfg.loadWorkers)
		next := ks.Len() / 10
		st.load, err = bench.Load(ctx, loadVia, ks, h.cfg.dataSize, h.cfg.loadWorkers, h.cfg.loadBatch, func(done int64) {
			if done >= next && next > 0 {
				fmt.Fprintf(h.log, "bench:   %d%% (%d keys)\n", done*100/ks.Len(), done)
				next += ks.Len() / 10
			}
		})
		if err != nil {
			stopErr = err
			break
		}
		loaded = target
		fmt.Fprintf(h.log, "bench: loaded %d keys in %v: %.0f keys/s\n", st.load.Keys, st.load.Elapsed.Round(time.Millisecond), st.load.Rate())
		all := bench.KeySet{Prefixes: []string{"key:"}, From: 0, To: target}
		for _, n := range checkAt {
			if err := bench.CheckKeys(ctx, n, all, h.cfg.dataSize); err != nil {
				st.notes = append(st.notes, err.Error())
			}
		}
		runner := h.runner
		runner.Keyspace = int(target)
		for _, w := range []bench.Workload{{Test: "get", Pipeline: 1}, {Test: "get", Pipeline: 16}} {
			row, err := h.measure(ctx, runner, sys, w)
			if err != nil {
				st.notes = append(st.notes, fmt.Sprintf("%s over %d keys: %v", w, target, err))
				continue
			}
			st.gets = append(st.gets, row)
		}
		for i, p := range sys.Procs {
			m, err := bench.ReadMemory(p.PID())
			if err != nil {
				st.notes = append(st.notes, fmt.Sprintf("%s: %v", p.Name, err))
			}
			st.mem = append(st.mem, m)
			d, _ := bench.DirSize(sys.DataDirs[i])
			st.disk = append(st.disk, d)
		}
		stages = append(stages, st)
		if ctx.Err() != nil {
			stopErr = context.Cause(ctx)
			break
		}
	}

	var rep bytes.Buffer
	h.writeScaleReport(&rep, start, sys, stages, stopErr)
	stamp := start.Format("20060102T150405Z")
	if err := os.MkdirAll(h.cfg.resultsDir, 0o755); err == nil {
		p := filepath.Join(h.cfg.resultsDir, stamp+"-scale.md")
		if err := os.WriteFile(p, rep.Bytes(), 0o644); err == nil {
			fmt.Fprintf(&rep, "\nSaved: %s\n", p)
		}
	}
	h.out.Write(rep.Bytes())
	if stopErr != nil {
		return fmt.Errorf("scale run stopped early: %w", stopErr)
	}
	return nil
}

// measure runs one workload against sys the way a table cell is measured
// (warm-up, then --runs runs, median) and returns its row.
func (h *harness) measure(ctx context.Context, runner bench.Runner, sys *bench.System, w bench.Workload) (bench.Row, error) {
	c := &cell{}
	saved := h.runner
	h.runner = runner
	defer func() { h.runner = saved }()
	for rep := -1; rep < h.cfg.runs; rep++ {
		res, err := h.runJob(ctx, sys, bench.Job{Workload: w, System: sys.ID, Rep: rep}, c)
		if err != nil {
			return bench.Row{}, err
		}
		fmt.Fprintf(h.log, "bench: %s -r %d rep %d: %.0f ops/s p99.9 %.3f ms\n", w, runner.Keyspace, rep, res.OpsPerSec, res.P999)
	}
	return bench.Row{Workload: w, System: sys.ID, Label: sys.Label, Median: bench.Median(c.runs), Runs: len(c.runs)}, nil
}

func (h *harness) writeScaleReport(w *bytes.Buffer, start time.Time, sys *bench.System, stages []scaleStage, stopErr error) {
	m := bench.DescribeMachine(runtime.NumCPU(), h.cfg.repo)
	fmt.Fprintf(w, "\n## %s at scale (%s UTC)\n\n", sys.Label, start.Format("2006-01-02 15:04:05"))
	fmt.Fprintf(w, "- machine: %d CPUs, %s, Linux %s\n", m.CPUs, m.CPUModel, m.Kernel)
	fmt.Fprintf(w, "- dynago commit %s; redis-benchmark %s; %s\n", m.Commit, h.tools.BenchVersion, runtime.Version())
	fmt.Fprintf(w, "- command: %s\n", h.cfg.commandLine)
	fmt.Fprintf(w, "- %s: %s\n", sys.Label, describe(sys))
	fmt.Fprintf(w, "- load: go-redis, %d connections spread over the nodes, pipelines of %d SETs, keys key:%%012d with %d-byte values of 64 symbols (as redis-benchmark's)\n",
		h.cfg.loadWorkers, h.cfg.loadBatch, h.cfg.dataSize)
	fmt.Fprintf(w, "- GET: redis-benchmark -c %d -r <keys loaded> against node 1, median of %d run(s) of about %g s\n\n",
		h.cfg.clients, h.cfg.runs, h.cfg.runSeconds)

	keyBytes := int64(len(bench.KeyName("key:", 0)))
	head := []string{"keys", "stage load", "load keys/s", "load MB/s", "GET P1 ops/s", "GET P1 p99.9 ms", "GET P16 ops/s", "GET P16 p99.9 ms"}
	for i := range sys.Procs {
		head = append(head, fmt.Sprintf("node%d RSS MB", i+1))
	}
	copies := int64(len(sys.Procs)) // N=3 on three nodes: every node holds every key
	head = append(head, "data dirs MB", fmt.Sprintf("raw MB (×%d)", copies), fmt.Sprintf("data ÷ raw×%d", copies))
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat(" ---: |", len(head)))
	for _, st := range stages {
		cells := []string{strconv.FormatInt(st.keys, 10),
			st.load.Elapsed.Round(10 * time.Millisecond).String(),
			fmt.Sprintf("%.0f", st.load.Rate()),
			fmt.Sprintf("%.1f", float64(st.load.Bytes)/st.load.Elapsed.Seconds()/(1<<20))}
		for _, p := range []int{1, 16} {
			ops, p999 := "-", "-"
			for _, r := range st.gets {
				if r.Workload.Pipeline == p {
					ops, p999 = fmt.Sprintf("%.0f", r.Median.OpsPerSec), fmt.Sprintf("%.3f", r.Median.P999)
				}
			}
			cells = append(cells, ops, p999)
		}
		var disk int64
		for i := range sys.Procs {
			rss := "-"
			if i < len(st.mem) && st.mem[i].RSS > 0 {
				rss = fmt.Sprintf("%.1f", float64(st.mem[i].RSS)/(1<<20))
			}
			cells = append(cells, rss)
			if i < len(st.disk) {
				disk += st.disk[i]
			}
		}
		raw := st.keys * (keyBytes + int64(h.cfg.dataSize)) * copies
		cells = append(cells, fmt.Sprintf("%.1f", float64(disk)/(1<<20)), fmt.Sprintf("%.1f", float64(raw)/(1<<20)),
			fmt.Sprintf("%.2f", float64(disk)/float64(raw)))
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	fmt.Fprintf(w, "\nRaw = keys × (%d B key + %d B value) × %d copies (every node holds every key: N=3 on 3 nodes). Data directories are measured as they are after the stage (apparent file sizes, no forced compaction).\n",
		keyBytes, h.cfg.dataSize, copies)
	for _, st := range stages {
		if st.keys == 1_000_000 {
			var worst int64
			for _, m := range st.mem {
				worst = max(worst, m.RSS)
			}
			verdict := "PASS"
			if worst >= 300<<20 {
				verdict = "FAIL"
			}
			fmt.Fprintf(w, "\nIssue 5 memory target, each node's RSS under 300 MB with 1M keys: %s (largest %s)\n", verdict, bench.MB(worst))
		}
		for _, n := range st.notes {
			fmt.Fprintf(w, "\nNote (%d keys): %s\n", st.keys, n)
		}
	}
	if stopErr != nil {
		fmt.Fprintf(w, "\nThe run stopped early: %v\n", stopErr)
	}
}
