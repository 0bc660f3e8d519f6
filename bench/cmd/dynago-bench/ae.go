package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dynago/dynago/bench"
	"github.com/dynago/dynago/internal/pace"
)

// aePoll is how often the anti-entropy run reads INFO antientropy.
const aePoll = 200 * time.Millisecond

// aeQuietRounds is how many rounds every node must run without a repair
// before the repairs count as stopped.
const aeQuietRounds = 3

// aeRun is `make bench-ae` (issue 4): anti-entropy bytes by divergence,
// foreground latency with and without anti-entropy repairing a divergent
// replica, and the data a 3→4 join moves. The three nodes keep the same
// ports throughout, because a data directory holds the ring with the
// nodes' addresses: every state (the loaded cluster, each divergence) is
// a set of stopped nodes' data directories, copied before each run that
// starts from it.
type aeRun struct {
	h      *harness
	ports  []int // client ports of node1..node4 (cluster ports +10000)
	root   string
	procs  [4]*bench.Proc
	keys   int64
	rep    bench.AEReport
	fgN    map[bench.Workload]int64 // redis-benchmark -n per workload
	idle   float64                  // bytes of an exchange that finds equal roots
	stales map[float64][]string     // per divergence: the overwritten keys
	before map[float64][3]int64     // per divergence: stale keys, differing partitions, partitions
}

func (a *aeRun) addr(i int) string { return "127.0.0.1:" + strconv.Itoa(a.ports[i]) }

func (a *aeRun) addrs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = a.addr(i)
	}
	return out
}

// nodeArgs are node i's flags (i from 0). ae 0 turns anti-entropy off.
func (a *aeRun) nodeArgs(i int, dir string, ae time.Duration) []string {
	args := []string{"--addr", a.addr(i), "--data-dir", dir, "--name", fmt.Sprintf("node%d", i+1),
		"--n", "3", "--r", "2", "--w", "2", "--ae-interval", ae.String(), "--test-no-handoff", "--probe-interval", "200ms"}
	if i > 0 {
		args = append(args, "--join", a.addr(0))
	}
	return args
}

// startNode starts node i from set's data directory.
func (a *aeRun) startNode(set string, i int, ae time.Duration) (*bench.Proc, error) {
	if a.procs[i] != nil {
		return nil, fmt.Errorf("node%d is already running", i+1)
	}
	dir := filepath.Join(a.root, set, fmt.Sprintf("node%d", i+1))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("dynago-node%d", i+1)
	p, err := bench.StartProc(name, filepath.Join(a.root, name+".log"), a.h.cfg.dynago, a.nodeArgs(i, dir, ae)...)
	if err != nil {
		return nil, err
	}
	a.h.track(p)
	a.procs[i] = p
	return p, nil
}

// start starts nodes 1..n from set (node 1 first: the others join it on a
// new cluster) and waits until every node reports the cluster of n.
// listening, if not nil, is called once every node answers PING, before
// the cluster has formed.
func (a *aeRun) start(ctx context.Context, set string, n int, ae time.Duration, listening func()) error {
	var procs []*bench.Proc
	for i := range n {
		p, err := a.startNode(set, i, ae)
		if err != nil {
			return err
		}
		procs = append(procs, p)
		if i == 0 {
			if err := bench.WaitReady(ctx, a.addr(0), p, a.h.cfg.startTimeout); err != nil {
				return err
			}
		}
	}
	for i, p := range procs {
		if err := bench.WaitReady(ctx, a.addr(i), p, a.h.cfg.startTimeout); err != nil {
			return err
		}
	}
	if listening != nil {
		listening()
	}
	return bench.WaitCluster(ctx, a.addrs(n), procs, n, a.h.cfg.clusterWait)
}

// stop stops the given nodes (0-based) by PID, all at once.
func (a *aeRun) stop(nodes ...int) error {
	var ps []*bench.Proc
	for _, i := range nodes {
		if a.procs[i] != nil {
			ps = append(ps, a.procs[i])
			a.procs[i] = nil
		}
	}
	return bench.StopAll(ps, a.h.cfg.stopGrace)
}

func (a *aeRun) stopAll() error { return a.stop(0, 1, 2, 3) }

// restore copies the state from's node directories 1..3 to a new set.
func (a *aeRun) restore(from, to string) error {
	for i := 1; i <= 3; i++ {
		n := fmt.Sprintf("node%d", i)
		if err := bench.CopyDir(filepath.Join(a.root, from, n), filepath.Join(a.root, to, n)); err != nil {
			return err
		}
	}
	return nil
}

func (a *aeRun) drop(set string) { os.RemoveAll(filepath.Join(a.root, set)) }

// clients returns one admin connection per node 1..n.
func (a *aeRun) clients(n int) []*redis.Client {
	cs := make([]*redis.Client, n)
	for i := range cs {
		cs[i] = bench.NewClient(a.addr(i), 1)
	}
	return cs
}

func closeAll(cs []*redis.Client) {
	for _, c := range cs {
		c.Close()
	}
}

func info(ctx context.Context, c *redis.Client, section string) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	text, err := c.Info(ctx, section).Result()
	if err != nil {
		return nil, fmt.Errorf("INFO %s at %s: %w", section, c.Options().Addr, err)
	}
	return bench.ParseInfo(text), nil
}

// sample reads INFO antientropy on every node. Its time is that of the
// last reply.
func sample(ctx context.Context, cs []*redis.Client, t0 time.Time) (s bench.AESample, err error) {
	defer func() { s.At = time.Since(t0) }()
	for _, c := range cs {
		m, err := info(ctx, c, "antientropy")
		if err != nil {
			return s, err
		}
		n, err := bench.ParseAECounters(m)
		if err != nil {
			return s, err
		}
		s.Nodes = append(s.Nodes, n)
	}
	return s, nil
}

// sampler polls INFO antientropy on nodes 1..n every aePoll in the
// background, from the moment every node answers (before the cluster has
// formed: no exchange can run yet); a poll that does not reach every node
// is dropped.
type sampler struct {
	t0      time.Time
	mu      sync.Mutex
	samples []bench.AESample
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

func (a *aeRun) startSampler(ctx context.Context, n int, t0 time.Time) *sampler {
	s := &sampler{t0: t0, stop: make(chan struct{}), done: make(chan struct{})}
	cs := a.clients(n)
	go func() {
		defer close(s.done)
		defer closeAll(cs)
		t := time.NewTicker(aePoll)
		defer t.Stop()
		for {
			if smp, err := sample(ctx, cs, t0); err == nil {
				s.mu.Lock()
				s.samples = append(s.samples, smp)
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// get returns the samples so far.
func (s *sampler) get() []bench.AESample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.samples)
}

// close stops the polls; it must come before the nodes stop (a poll of a
// stopped node makes go-redis log its failed dials). Closing twice, or a
// nil sampler, does nothing.
func (s *sampler) close() {
	if s == nil {
		return
	}
	s.once.Do(func() { close(s.stop) })
	<-s.done
}

// watch waits until done says so of the samples so far, the timeout
// passes (an error) or a node exits, and returns the samples.
func (a *aeRun) watch(ctx context.Context, s *sampler, timeout time.Duration, done func([]bench.AESample) bool) ([]bench.AESample, error) {
	deadline := time.Now().Add(timeout)
	for {
		for _, p := range a.procs {
			if p != nil {
				if ok, err := p.Exited(); ok {
					return s.get(), fmt.Errorf("%s exited (%v); its log ends:\n%s", p.Name, err, indent(p.LogTail(20)))
				}
			}
		}
		if smp := s.get(); len(smp) > 0 && done(smp) {
			return smp, nil
		}
		if time.Now().After(deadline) {
			return s.get(), fmt.Errorf("not done after %v", timeout)
		}
		if err := pace.Sleep(ctx, aePoll/2); err != nil {
			return s.get(), err
		}
	}
}

// settled is watch's condition for "anti-entropy stopped repairing": trees
// ready everywhere and aeQuietRounds rounds on every node since the last
// repair.
func settled(samples []bench.AESample) bool {
	last := samples[len(samples)-1]
	return last.Total().TreesReady && bench.SummarizeRepairs(samples, aeQuietRounds).Settled
}

// treesReady is watch's condition for every node having built its trees.
func treesReady(samples []bench.AESample) bool { return samples[len(samples)-1].Total().TreesReady }

// divergence compares the three nodes: partitions whose tree roots differ
// (DYNAGO AE) and overwritten keys whose node3 copy is not node1's
// version (DYNAGO LOCAL).
func (a *aeRun) divergence(ctx context.Context, keys []string) (stale int64, differ, partitions int, err error) {
	cs := a.clients(3)
	defer closeAll(cs)
	var views []map[int]uint64
	for _, c := range cs {
		text, err := c.Do(ctx, "DYNAGO", "AE").Text()
		if err != nil {
			return 0, 0, 0, fmt.Errorf("DYNAGO AE at %s: %w", c.Options().Addr, err)
		}
		v, err := bench.ParseAERoots(text)
		if err != nil {
			return 0, 0, 0, err
		}
		views = append(views, v)
	}
	differ, partitions = bench.DifferingPartitions(views)
	c1, err := bench.LocalContexts(ctx, a.addr(0), keys)
	if err != nil {
		return 0, 0, 0, err
	}
	c3, err := bench.LocalContexts(ctx, a.addr(2), keys)
	if err != nil {
		return 0, 0, 0, err
	}
	for i := range keys {
		if c1[i] != c3[i] {
			stale++
		}
	}
	return stale, differ, partitions, nil
}

func pctName(p float64) string {
	return strings.ReplaceAll(strconv.FormatFloat(p, 'f', -1, 64), ".", "_")
}

// overwritten is the keys a divergence of pct % overwrites: evenly spread.
func (a *aeRun) overwritten(pct float64) bench.KeySet {
	n := max(int64(float64(a.keys)*pct/100+0.5), 1)
	return bench.KeySet{Prefixes: []string{"key:"}, From: 0, To: a.keys, Step: a.keys / n}
}

// aeRunMain runs every part, writes the report (also after a failure:
// what was measured so far) and stops every node.
func (h *harness) aeRunMain(ctx context.Context) error {
	if err := h.setup(ctx); err != nil {
		return err
	}
	start := time.Now().UTC()
	load0 := loadAvg()
	ports, err := bench.FreePorts(4, 10000)
	if err != nil {
		return err
	}
	a := &aeRun{h: h, ports: ports, root: h.tmp, keys: int64(h.cfg.keyspace), fgN: map[bench.Workload]int64{},
		stales: map[float64][]string{}, before: map[float64][3]int64{}}
	a.rep.Title = fmt.Sprintf("dynago anti-entropy and join (%s UTC)", start.Format("2006-01-02 15:04:05"))
	runErr := a.all(ctx)
	if err := a.stopAll(); err != nil {
		fmt.Fprintln(h.log, "bench:", err)
	}
	a.header()
	a.rep.Header = append(a.rep.Header, fmt.Sprintf("load average (1, 5, 15 min) at the start: %s; at the end: %s; run time %v",
		load0, loadAvg(), time.Since(start).Round(time.Second)))
	if runErr != nil {
		a.rep.Notes = append(a.rep.Notes, "the run stopped early: "+runErr.Error())
	}
	var rep bytes.Buffer
	a.rep.WriteMarkdown(&rep, aePoll)
	if err := os.MkdirAll(h.cfg.resultsDir, 0o755); err == nil {
		p := filepath.Join(h.cfg.resultsDir, start.Format("20060102T150405Z")+"-ae.md")
		if err := os.WriteFile(p, rep.Bytes(), 0o644); err == nil {
			fmt.Fprintf(&rep, "Saved: %s\n", p)
		}
	}
	h.out.Write(rep.Bytes())
	return runErr
}

func (a *aeRun) header() {
	h := a.h
	m := bench.DescribeMachine(runtime.NumCPU(), h.cfg.repo)
	a.rep.Header = append(a.rep.Header,
		fmt.Sprintf("machine: %d CPUs, %s, Linux %s (shared: other work may run at the same time)", m.CPUs, m.CPUModel, m.Kernel),
		fmt.Sprintf("dynago commit %s; redis-benchmark %s; %s", m.Commit, h.tools.BenchVersion, runtime.Version()),
		"command: "+h.cfg.commandLine,
		fmt.Sprintf("cluster: 3 nodes on loopback, `%s` (node 2 and 3 also `--join` node 1); --ae-interval %v when anti-entropy is on, 0 (off) when it is off; default --ae-rate (10000 keys/s) and --transfer-rate",
			bench.ShellJoin(append([]string{"dynago"}, a.nodeArgs(0, "DIR", h.cfg.aeInterval)...)), h.cfg.aeInterval),
		fmt.Sprintf("data: %d keys key:%%012d with %d-byte values, loaded through the three nodes with go-redis (%d connections, pipelines of %d SETs) on a cluster with anti-entropy on, which then ran %d rounds without a repair",
			a.keys, h.cfg.dataSize, h.cfg.loadWorkers, h.cfg.loadBatch, aeQuietRounds),
		"divergence: from that state, node3 stopped (SIGTERM) and the share of the keys (every k-th key) overwritten through node1 with anti-entropy off (--test-no-handoff: no hint reaches node3), then every node stopped; each run below starts all three nodes on a copy of those data directories",
		fmt.Sprintf("foreground: redis-benchmark -c %d -d %d -r %d -P 1 against node 1, -n sized for about %g s from a warm-up on the loaded cluster (%s), started as soon as the restarted cluster is formed and its trees are built; %d run(s) per cell, run by run, anti-entropy off and on one after the other (off first in odd runs, on first in even ones)",
			h.cfg.clients, h.cfg.dataSize, a.keys, h.cfg.runSeconds, a.fgSizes(), h.cfg.runs),
	)
}

// loadAvg is the first three fields of /proc/loadavg: how busy the shared
// machine was.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

func (a *aeRun) fgSizes() string {
	var parts []string
	for _, w := range aeWorkloads {
		parts = append(parts, fmt.Sprintf("%s -n %d", w, a.fgN[w]))
	}
	return strings.Join(parts, ", ")
}

var aeWorkloads = []bench.Workload{{Test: "set", Pipeline: 1}, {Test: "get", Pipeline: 1}}

// all runs the parts in order.
func (a *aeRun) all(ctx context.Context) error {
	if err := a.base(ctx); err != nil {
		return fmt.Errorf("loaded cluster: %w", err)
	}
	pcts := append([]float64(nil), a.h.cfg.aeDivergence...)
	for _, p := range a.h.cfg.aeForeground {
		if !slices.Contains(pcts, p) {
			pcts = append(pcts, p)
		}
	}
	for _, p := range pcts {
		if err := a.diverge(ctx, p); err != nil {
			return fmt.Errorf("divergence %g %%: %w", p, err)
		}
	}
	for _, p := range a.h.cfg.aeDivergence {
		if err := a.bytesRun(ctx, p); err != nil {
			return fmt.Errorf("bytes at %g %%: %w", p, err)
		}
	}
	if a.h.cfg.aeJoin {
		if err := a.join(ctx); err != nil {
			return fmt.Errorf("join: %w", err)
		}
	}
	// Run by run, every cell once per run, anti-entropy off first in odd
	// runs and on first in even ones: a burst of noise from the shared
	// machine, or a drift, then hits both alike.
	failed := 0
	for run := 1; run <= a.h.cfg.runs; run++ {
		for _, p := range a.h.cfg.aeForeground {
			for _, w := range aeWorkloads {
				for _, on := range []bool{run%2 == 0, run%2 != 0} {
					err := a.foreground(ctx, p, w, on, run)
					if err == nil {
						continue
					}
					if ctx.Err() != nil {
						return err
					}
					failed++
					fmt.Fprintf(a.h.log, "bench: foreground %s at %g %%, anti-entropy %s, run %d: %v\n", w, p, bench.OnOff(on), run, err)
					if err := a.stopAll(); err != nil {
						return err
					}
				}
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d foreground run(s) failed; they are listed in the tables", failed)
	}
	return nil
}

// base loads the cluster, sizes the foreground runs, waits for
// anti-entropy to be idle, measures an idle exchange, and stops the nodes:
// their directories are the state "base".
func (a *aeRun) base(ctx context.Context) error {
	h := a.h
	fmt.Fprintf(h.log, "bench: starting the 3-node cluster (anti-entropy every %v)\n", h.cfg.aeInterval)
	t0 := time.Now()
	if err := a.start(ctx, "base", 3, h.cfg.aeInterval, nil); err != nil {
		return err
	}
	ks := bench.KeySet{Prefixes: []string{"key:"}, From: 0, To: a.keys}
	st, err := bench.Load(ctx, a.addrs(3), ks, h.cfg.dataSize, h.cfg.loadWorkers, h.cfg.loadBatch, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(h.log, "bench: loaded %d keys in %v (%.0f keys/s)\n", st.Keys, st.Elapsed.Round(time.Millisecond), st.Rate())
	for _, n := range a.addrs(3) {
		if err := bench.CheckKeys(ctx, n, ks, h.cfg.dataSize); err != nil {
			return err
		}
	}
	sys := &bench.System{ID: bench.Cluster, Label: "dynago 3 nodes", Endpoint: bench.Endpoint{Addr: a.addr(0)}, Nodes: a.addrs(3)}
	for _, w := range aeWorkloads {
		c := &cell{}
		res, err := h.runJob(ctx, sys, bench.Job{Workload: w, System: sys.ID, Rep: -1}, c)
		if err != nil {
			return fmt.Errorf("warm-up %s: %w", w, err)
		}
		a.fgN[w] = c.requests
		fmt.Fprintf(h.log, "bench: warm-up %s: %.0f ops/s, p99.9 %.3f ms: -n %d\n", w, res.OpsPerSec, res.P999, c.requests)
	}
	smp := a.startSampler(ctx, 3, t0)
	samples, err := a.watch(ctx, smp, 3*time.Minute, settled)
	smp.close()
	if err != nil {
		return fmt.Errorf("waiting for anti-entropy to stop repairing: %w", err)
	}
	sum := bench.SummarizeRepairs(samples, aeQuietRounds)
	cs := a.clients(3)
	defer closeAll(cs)
	fmt.Fprintf(h.log, "bench: anti-entropy idle: %d keys repaired since the start\n", sum.Repaired)
	for try := 0; try < 5 && a.idle == 0; try++ {
		from, err := sample(ctx, cs, t0)
		if err != nil {
			return err
		}
		if err := pace.Sleep(ctx, 3*time.Second); err != nil {
			return err
		}
		to, err := sample(ctx, cs, t0)
		if err != nil {
			return err
		}
		if x, ok := bench.IdleBytesPerExchange(from, to); ok {
			a.idle = x
		}
	}
	if a.idle == 0 {
		a.rep.Notes = append(a.rep.Notes, "the cost of an idle exchange could not be measured (every 3 s window held an exchange that found a difference)")
	}
	return a.stopAll()
}

// diverge makes the state "div-<pct>" from "base": node3 misses the
// overwrite of pct % of the keys. It then restarts the three nodes with
// anti-entropy off to measure the divergence, and stops them again.
func (a *aeRun) diverge(ctx context.Context, pct float64) error {
	h := a.h
	set := "div-" + pctName(pct)
	if err := a.restore("base", set); err != nil {
		return err
	}
	if err := a.start(ctx, set, 3, 0, nil); err != nil {
		return err
	}
	if err := a.stop(2); err != nil {
		return err
	}
	// Wait until node 1 and 2 see node3 dead, so that node 1 does not
	// forward a write to it.
	cs := a.clients(2)
	defer closeAll(cs)
	deadline := time.Now().Add(30 * time.Second)
	for {
		down := 0
		for _, c := range cs {
			if m, err := info(ctx, c, "cluster"); err == nil {
				if v, err := bench.ParseClusterView(m); err == nil && !v.Alive["node3"] {
					down++
				}
			}
		}
		if down == len(cs) {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("node 1 and 2 still see node3 alive 30 s after it stopped")
		}
		if err := pace.Sleep(ctx, aePoll); err != nil {
			return err
		}
	}
	ks := a.overwritten(pct)
	st, err := bench.Load(ctx, a.addrs(1), ks, h.cfg.dataSize, 4, h.cfg.loadBatch, nil)
	if err != nil {
		return err
	}
	a.stales[pct] = ks.Keys()
	fmt.Fprintf(h.log, "bench: %g %%: overwrote %d keys through node1 with node3 down\n", pct, st.Keys)
	if err := a.stopAll(); err != nil {
		return err
	}
	if err := a.start(ctx, set, 3, 0, nil); err != nil {
		return err
	}
	stale, differ, parts, err := a.divergence(ctx, a.stales[pct])
	if err != nil {
		return err
	}
	a.before[pct] = [3]int64{stale, int64(differ), int64(parts)}
	fmt.Fprintf(h.log, "bench: %g %%: node3 holds %d of the %d overwritten keys in an older version; %d of %d partitions differ\n",
		pct, stale, len(a.stales[pct]), differ, parts)
	return a.stopAll()
}

// bytesRun restarts the divergent state with anti-entropy on and no
// client, and watches until repairs stop.
func (a *aeRun) bytesRun(ctx context.Context, pct float64) error {
	set := "bytes-" + pctName(pct)
	defer a.drop(set)
	if err := a.restore("div-"+pctName(pct), set); err != nil {
		return err
	}
	b := a.before[pct]
	row := bench.AEBytesRow{Percent: pct, Keys: a.keys, Overwritten: int64(len(a.stales[pct])), Stale: b[0],
		PartitionsDiffer: int(b[1]), Partitions: int(b[2]), IdlePerExchange: a.idle,
		RawBytes: a.keys * int64(len(bench.KeyName("key:", 0))+a.h.cfg.dataSize)}
	defer func() { a.rep.Bytes = append(a.rep.Bytes, row) }()
	t0 := time.Now()
	var smp *sampler
	defer func() { smp.close() }()
	if err := a.start(ctx, set, 3, a.h.cfg.aeInterval, func() { smp = a.startSampler(ctx, 3, t0) }); err != nil {
		row.Err = err.Error()
		return err
	}
	samples, err := a.watch(ctx, smp, 3*time.Minute, settled)
	row.Repair = bench.SummarizeRepairs(samples, aeQuietRounds)
	if err != nil {
		row.Err = err.Error()
		return err
	}
	s, d, _, err := a.divergence(ctx, a.stales[pct])
	if err != nil {
		row.Err = err.Error()
		return err
	}
	row.StaleAfter, row.PartitionsDifferAfter = s, d
	t := row.Repair.End.Total()
	fmt.Fprintf(a.h.log, "bench: %g %%: %d keys repaired, %d bytes, repairs stopped %.1f s after the start; after: %d stale keys, %d partitions differ\n",
		pct, row.Repair.Repaired, t.Bytes(), row.Repair.Last.Seconds(), s, d)
	smp.close()
	return a.stopAll()
}

// foreground runs redis-benchmark against node 1 of the divergent state
// restarted with anti-entropy on or off, and watches the repairs.
func (a *aeRun) foreground(ctx context.Context, pct float64, w bench.Workload, on bool, run int) error {
	set := fmt.Sprintf("fg-%s-%s-%v-%d", pctName(pct), w, on, run)
	defer a.drop(set)
	if err := a.restore("div-"+pctName(pct), set); err != nil {
		return err
	}
	row := bench.AEForegroundRow{Percent: pct, Workload: w, AE: on, Run: run, Stale: a.before[pct][0], StaleAfter: -1}
	defer func() { a.rep.Foreground = append(a.rep.Foreground, row) }()
	fail := func(err error) error { row.Err = err.Error(); return err }
	ae := time.Duration(0)
	if on {
		ae = a.h.cfg.aeInterval
	}
	t0 := time.Now()
	var smp *sampler
	defer func() { smp.close() }()
	if err := a.start(ctx, set, 3, ae, func() { smp = a.startSampler(ctx, 3, t0) }); err != nil {
		return fail(err)
	}
	if _, err := a.watch(ctx, smp, time.Minute, treesReady); err != nil {
		return fail(fmt.Errorf("waiting for the trees: %w", err))
	}
	type outcome struct {
		res bench.Result
		err error
		end time.Duration
	}
	done := make(chan outcome, 1)
	row.BenchFrom = time.Since(t0)
	go func() {
		res, err := a.h.runner.Run(ctx, bench.Endpoint{Addr: a.addr(0)}, w, a.fgN[w])
		done <- outcome{res, err, time.Since(t0)}
	}()
	var out *outcome
	samples, err := a.watch(ctx, smp, a.h.cfg.runTimeout+2*time.Minute, func(s []bench.AESample) bool {
		if out == nil {
			select {
			case o := <-done:
				out = &o
			default:
			}
		}
		return out != nil && (!on || settled(s))
	})
	row.Repair = bench.SummarizeRepairs(samples, aeQuietRounds)
	if out == nil {
		o := <-done // the run has its own timeout
		out = &o
	}
	if out.err != nil {
		return fail(out.err)
	}
	row.Result, row.BenchTo = out.res, out.end
	if err != nil {
		return fail(err)
	}
	if row.StaleAfter, _, _, err = a.divergence(ctx, a.stales[pct]); err != nil {
		return fail(err)
	}
	fmt.Fprintf(a.h.log, "bench: %g %% %s AE %s run %d: %.0f ops/s p50 %.3f p99 %.3f p99.9 %.3f ms; %d keys repaired; node3 stale keys %d -> %d\n",
		pct, w, bench.OnOff(on), run, row.Result.OpsPerSec, row.Result.P50, row.Result.P99, row.Result.P999, row.Repair.Repaired, row.Stale, row.StaleAfter)
	smp.close()
	return a.stopAll()
}

// join starts the loaded cluster, starts a fourth node with --join and
// waits until every node's ring has four members and nothing is pending,
// streaming or left to hand off.
func (a *aeRun) join(ctx context.Context) error {
	set := "join"
	defer a.drop(set)
	if err := a.restore("base", set); err != nil {
		return err
	}
	j := &bench.AEJoin{Keys: a.keys, N: 3}
	a.rep.Join = j
	fail := func(err error) error { j.Err = err.Error(); return err }
	if err := a.start(ctx, set, 3, a.h.cfg.aeInterval, nil); err != nil {
		return fail(err)
	}
	t0 := time.Now()
	p, err := a.startNode(set, 3, a.h.cfg.aeInterval)
	if err != nil {
		return fail(err)
	}
	if err := bench.WaitReady(ctx, a.addr(3), p, a.h.cfg.startTimeout); err != nil {
		return fail(err)
	}
	cs := a.clients(4)
	defer closeAll(cs)
	deadline := time.Now().Add(5 * time.Minute)
	idleSince := 0
	var last string
	for {
		nodes, state, err := a.joinState(ctx, cs)
		if err == nil && state == "" {
			idleSince++
		} else {
			idleSince = 0
			if err != nil {
				state = err.Error()
			}
			last = state
		}
		if idleSince >= 2 {
			j.Nodes, j.Duration = nodes, time.Since(t0)
			break
		}
		if ok, _ := p.Exited(); ok {
			return fail(fmt.Errorf("node4 exited; its log ends:\n%s", indent(p.LogTail(20))))
		}
		if time.Now().After(deadline) {
			j.Nodes = nodes
			return fail(fmt.Errorf("transfers not idle after 5 minutes: %s", last))
		}
		if err := pace.Sleep(ctx, 500*time.Millisecond); err != nil {
			return fail(err)
		}
	}
	fmt.Fprintf(a.h.log, "bench: join 3->4: idle after %v; node4 streamed in %d keys (%.3f of %d copies)\n",
		j.Duration.Round(time.Millisecond), j.Moved(), float64(j.Moved())/float64(j.Copies()), j.Copies())
	return a.stopAll()
}

// joinState reads every node's transfers and ring; state is "" when the
// join is done, else what is still going on.
func (a *aeRun) joinState(ctx context.Context, cs []*redis.Client) ([]bench.AEJoinNode, string, error) {
	var nodes []bench.AEJoinNode
	state := ""
	for i, c := range cs {
		cm, err := info(ctx, c, "cluster")
		if err != nil {
			return nodes, "", err
		}
		tm, err := info(ctx, c, "transfers")
		if err != nil {
			return nodes, "", err
		}
		v, err := bench.ParseClusterView(cm)
		if err != nil {
			return nodes, "", err
		}
		t, err := bench.ParseTransferCounters(tm)
		if err != nil {
			return nodes, "", err
		}
		nodes = append(nodes, bench.AEJoinNode{Name: fmt.Sprintf("node%d", i+1), Owned: v.Owned, Transfers: t})
		if state == "" && (v.Members != int64(len(cs)) || v.Pending != 0 || !t.Idle()) {
			state = fmt.Sprintf("node%d: ring_members:%d partitions_pending:%d partitions_to_sync:%d partitions_to_hand_off:%d partition_streaming:%d",
				i+1, v.Members, v.Pending, t.ToSync, t.ToHandOff, t.Streaming)
		}
	}
	return nodes, state, nil
}
