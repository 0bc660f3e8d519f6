// Command dynago-bench runs issue 5's benchmark: dynago (one node and a
// three-node cluster) side by side with a stock redis-server, all driven by
// redis-benchmark on loopback, and prints one Markdown table of ops/s and
// p50/p99/p99.9 latency with each dynago row's ratio to redis-server.
// With --scale it loads 1M (or 10M) keys into the cluster instead and
// reports load and read throughput, memory and disk use.
//
// Every process it starts it stops by PID at the end, also on error, on
// Ctrl-C and when the global --deadline passes; each redis-benchmark run
// has its own timeout. See bench/doc.go for what is measured and how.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dynago/dynago/bench"
)

// config is the parsed command line.
type config struct {
	systems        []string
	clusterCC      bool
	quick          bool
	runs           int
	runSeconds     float64
	requests       int64
	maxRequests    int64
	workloads      []bench.Workload
	clients        int
	dataSize       int
	keyspace       int
	collectionKeys int
	deadline       time.Duration
	runTimeout     time.Duration
	startTimeout   time.Duration
	clusterWait    time.Duration
	stopGrace      time.Duration
	dynago         string
	build          bool
	redisServer    string
	redisBench     string
	install        bool
	attach         map[string]string
	preload        bool
	resultsDir     string
	keep           bool
	standIn        bool
	scale          bool
	scaleKeys      int64
	scale10M       bool
	loadWorkers    int
	ae             bool
	cache          bool
	cacheMaxMemory string
	cachePolicy    string
	cacheSkew      float64
	cacheRequests  int64
	aeDivergence   []float64
	aeForeground   []float64
	aeInterval     time.Duration
	aeJoin         bool
	loadBatch      int
	repo           string
	goCmd          string
	commandLine    string
	quickFromEnv   bool
	explicitFlags  map[string]bool
}

const usage = `dynago-bench: dynago side by side with redis-server (issue 5).

Usage:
  dynago-bench [flags]            the comparison table (make bench)
  dynago-bench --cache [flags]    cache mode's hit rate next to redis-server (make bench-cache)
  dynago-bench --scale [flags]    1M (--scale-10m: 10M) keys in the cluster (make bench-scale)
  dynago-bench --ae [flags]       anti-entropy and join of a loaded cluster (make bench-ae, issue 4)

BENCH_QUICK=1 in the environment is the same as --quick (about two minutes).

Flags:
`

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("dynago-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	systems := fs.String("systems", "redis,single,cluster", "systems to run, comma-separated: redis (stock redis-server), single (one dynago node), cluster (three dynago nodes, N=3 R=2 W=2)")
	fs.BoolVar(&c.clusterCC, "cluster-client", true, "with the cluster, also run redis-benchmark --cluster (client-driven coordination, paper §6.4) and report it as its own row when it works (quick: off, its preload of 3×keyspace keys takes long)")
	fs.BoolVar(&c.quick, "quick", false, "about two minutes: 1 run per cell of about 1 s (also BENCH_QUICK=1)")
	fs.IntVar(&c.runs, "runs", 3, "measured runs per cell; the table shows their median (quick: 1)")
	fs.Float64Var(&c.runSeconds, "run-seconds", 3, "target length of one measured run in seconds; -n is sized from the warm-up's throughput (quick: 1)")
	fs.Int64Var(&c.requests, "requests", 0, "fixed redis-benchmark -n for every measured run instead of sizing it by --run-seconds")
	fs.Int64Var(&c.maxRequests, "max-requests", 50_000_000, "upper bound of a run's -n")
	workloads := fs.String("workloads", bench.FormatWorkloads(bench.DefaultWorkloads()), "workloads in order, TEST-pDEPTH with TEST one of set, get, incr, hset, sadd, zadd, ping_mbulk (quick: INCR, HSET, SADD and ZADD at P16 only)")
	fs.IntVar(&c.clients, "clients", 50, "redis-benchmark -c: connections")
	fs.IntVar(&c.dataSize, "data-size", 100, "redis-benchmark -d: value bytes")
	fs.IntVar(&c.keyspace, "keyspace", 100_000, "redis-benchmark -r: keys key:000000000000 … are drawn from, all preloaded (also INCR's counter:…)")
	fs.IntVar(&c.collectionKeys, "collection-keys", 1000, "redis-benchmark -r of HSET, SADD and ZADD: that many collections, each of up to that many members")
	fs.DurationVar(&c.deadline, "deadline", 40*time.Minute, "the whole run is stopped after this (quick: 5m, --scale: 30m, --scale-10m: 90m)")
	fs.DurationVar(&c.runTimeout, "run-timeout", 2*time.Minute, "one redis-benchmark invocation is killed after this")
	fs.DurationVar(&c.startTimeout, "start-timeout", 30*time.Second, "how long a server may take to answer PING")
	fs.DurationVar(&c.clusterWait, "cluster-timeout", time.Minute, "how long the cluster may take to report cluster_state:ok with 3 known nodes")
	fs.DurationVar(&c.stopGrace, "stop-grace", 10*time.Second, "time between SIGTERM and SIGKILL when stopping a server")
	fs.StringVar(&c.dynago, "dynago", "bin/dynago", "dynago binary (relative to --repo), built first unless --build=false")
	fs.BoolVar(&c.build, "build", true, "build dynago (go build -o bin/dynago ./cmd/dynago) before the run")
	fs.StringVar(&c.redisServer, "redis-server", "", "redis-server binary (default: from PATH)")
	fs.StringVar(&c.redisBench, "redis-benchmark", "", "redis-benchmark binary (default: from PATH)")
	fs.BoolVar(&c.install, "install", true, "when redis-server or redis-benchmark is missing and running as root, apt-get install redis-server redis-tools")
	attach := fs.String("attach", "", "benchmark already-running systems instead of starting any, e.g. redis=127.0.0.1:6379,single=127.0.0.1:7000,cluster=127.0.0.1:7001 (cluster: any node; nothing is started or stopped, no memory figures)")
	fs.BoolVar(&c.preload, "preload", true, "write every key of the keyspace before the runs so that GET finds them")
	fs.StringVar(&c.resultsDir, "results-dir", "", "where the CSV and Markdown results go (default: <repo>/bench/results)")
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary data directories and server logs")
	fs.BoolVar(&c.standIn, "standin-redis", false, "testing the harness: start redis-server wherever dynago would run (no cluster check, no --cluster row)")
	fs.BoolVar(&c.scale, "scale", false, "the scale run: load keys into the 3-node cluster (or, with --systems single, one node), report load and GET throughput, RSS and disk use")
	fs.Int64Var(&c.scaleKeys, "scale-keys", 1_000_000, "keys loaded by --scale (after a first stage of --keyspace keys)")
	fs.BoolVar(&c.scale10M, "scale-10m", false, "with --scale, go on to 10M keys")
	fs.IntVar(&c.loadWorkers, "load-workers", 16, "connections of the preload/loader")
	fs.IntVar(&c.loadBatch, "load-batch", 200, "SETs per pipeline of the preload/loader")
	fs.BoolVar(&c.cache, "cache", false, "the cache-mode run (issue 14): redis-server and one dynago node under the same --cache-maxmemory and --cache-policy, a cache-aside Zipf workload over 10x the keys that fit; hit rate, throughput, CPU")
	fs.StringVar(&c.cacheMaxMemory, "cache-maxmemory", "8mb", "with --cache: maxmemory of both systems (<n>mb)")
	fs.StringVar(&c.cachePolicy, "cache-policy", "allkeys-lru", "with --cache: maxmemory-policy of both systems")
	fs.Float64Var(&c.cacheSkew, "cache-skew", 1.01, "with --cache: Zipf exponent s (> 1)")
	fs.Int64Var(&c.cacheRequests, "cache-requests", 400_000, "with --cache: GETs per system (quick: 150000)")
	fs.BoolVar(&c.ae, "ae", false, "the anti-entropy run (issue 4): bytes exchanged by divergence, foreground latency with and without anti-entropy repairing a divergent replica, and a 3->4 join, on a 3-node cluster holding --keyspace keys")
	aeDiv := fs.String("ae-divergence", "0.1,1,10", "with --ae: divergences (percent of the keys node3 misses) whose anti-entropy bytes are measured")
	aeFg := fs.String("ae-foreground", "1,10", "with --ae: divergences at which foreground latency is measured with and without anti-entropy")
	fs.DurationVar(&c.aeInterval, "ae-interval", time.Second, "with --ae: the nodes' --ae-interval when anti-entropy is on")
	fs.BoolVar(&c.aeJoin, "ae-join", true, "with --ae: also join a 4th node to the loaded cluster and report the data moved")
	fs.StringVar(&c.repo, "repo", "", "the dynago checkout (default: the git top level of the working directory)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	c.explicitFlags = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { c.explicitFlags[f.Name] = true })
	c.commandLine = strings.Join(append([]string{"dynago-bench"}, args...), " ")

	if v := os.Getenv("BENCH_QUICK"); v != "" && v != "0" && !c.explicitFlags["quick"] {
		c.quick, c.quickFromEnv = true, true
	}
	setDefault := func(name string, set func()) {
		if !c.explicitFlags[name] {
			set()
		}
	}
	if c.quick {
		setDefault("runs", func() { c.runs = 1 })
		setDefault("run-seconds", func() { c.runSeconds = 1 })
		setDefault("deadline", func() { c.deadline = 5 * time.Minute })
		setDefault("cluster-client", func() { c.clusterCC = false })
		setDefault("workloads", func() { *workloads = bench.FormatWorkloads(bench.QuickWorkloads()) })
	}
	if c.ae {
		// Quick: one run per cell of about 2 s.
		deadline, seconds := 15*time.Minute, 10.0
		if c.quick {
			deadline, seconds = 6*time.Minute, 2
		}
		setDefault("deadline", func() { c.deadline = deadline })
		setDefault("run-seconds", func() { c.runSeconds = seconds })
		setDefault("systems", func() { *systems = bench.Cluster })
	}
	if c.cache && c.quick {
		setDefault("cache-requests", func() { c.cacheRequests = 150_000 })
	}
	if c.scale {
		setDefault("deadline", func() {
			c.deadline = 30 * time.Minute
			if c.scale10M {
				c.deadline = 90 * time.Minute
			}
		})
		setDefault("systems", func() { *systems = bench.Cluster })
	}

	for _, s := range strings.Split(*systems, ",") {
		s = strings.TrimSpace(s)
		switch s {
		case bench.Redis, bench.Single, bench.Cluster:
			if !slices.Contains(c.systems, s) {
				c.systems = append(c.systems, s)
			}
		case "":
		default:
			return c, fmt.Errorf("--systems: unknown system %q (want redis, single, cluster)", s)
		}
	}
	var err error
	if c.aeDivergence, err = parsePercents(*aeDiv); err != nil {
		return c, fmt.Errorf("--ae-divergence: %w", err)
	}
	if c.aeForeground, err = parsePercents(*aeFg); err != nil {
		return c, fmt.Errorf("--ae-foreground: %w", err)
	}
	if c.workloads, err = bench.ParseWorkloads(*workloads); err != nil {
		return c, fmt.Errorf("--workloads: %w", err)
	}
	if *attach != "" {
		c.attach = map[string]string{}
		for _, kv := range strings.Split(*attach, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok || !slices.Contains([]string{bench.Redis, bench.Single, bench.Cluster}, k) || v == "" {
				return c, fmt.Errorf("--attach: %q: want SYSTEM=HOST:PORT with SYSTEM redis, single or cluster", kv)
			}
			c.attach[k] = v
		}
		if !c.explicitFlags["systems"] {
			c.systems = nil
			for _, s := range []string{bench.Redis, bench.Single, bench.Cluster} {
				if c.attach[s] != "" {
					c.systems = append(c.systems, s)
				}
			}
		}
		for _, s := range c.systems {
			if c.attach[s] == "" {
				return c, fmt.Errorf("--attach has no address for system %q", s)
			}
		}
	}
	switch {
	case len(c.systems) == 0:
		return c, errors.New("--systems: no system selected")
	case c.ae && (c.scale || c.attach != nil || c.standIn):
		return c, errors.New("--ae starts its own dynago cluster: not with --scale, --attach or --standin-redis")
	case c.ae && (len(c.systems) != 1 || c.systems[0] != bench.Cluster):
		return c, errors.New("--ae runs against the 3-node cluster only (--systems cluster)")
	case c.ae && c.aeInterval <= 0:
		return c, errors.New("--ae-interval must be positive (anti-entropy on)")
	case c.scale && (len(c.systems) != 1 || c.systems[0] == bench.Redis):
		return c, errors.New("--scale runs against one dynago system: --systems cluster (the default) or single")
	case c.runs < 1 || c.runSeconds <= 0 || c.clients < 1 || c.dataSize < 1 || c.keyspace < 1 || c.collectionKeys < 1:
		return c, errors.New("--runs, --run-seconds, --clients, --data-size, --keyspace and --collection-keys must be positive")
	case c.maxRequests > 2_000_000_000:
		return c, errors.New("--max-requests: redis-benchmark's -n is a 32-bit int")
	case c.loadWorkers < 1 || c.loadBatch < 1:
		return c, errors.New("--load-workers and --load-batch must be positive")
	}
	if c.repo == "" {
		c.repo = "."
		if out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output(); err == nil {
			c.repo = strings.TrimSpace(string(out))
		}
	}
	if c.resultsDir == "" {
		c.resultsDir = filepath.Join(c.repo, "bench", "results")
	}
	if !filepath.IsAbs(c.dynago) {
		c.dynago = filepath.Join(c.repo, c.dynago)
	}
	c.goCmd = os.Getenv("GO")
	if c.goCmd == "" {
		c.goCmd = "go"
		if _, err := exec.LookPath("go"); err != nil {
			c.goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
	}
	return c, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dynago-bench:", err)
		os.Exit(2)
	}
	os.Exit(run(cfg))
}

// parsePercents reads a comma-separated list of percentages in (0, 100].
func parsePercents(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		x, err := strconv.ParseFloat(strings.TrimSuffix(f, "%"), 64)
		if err != nil || x <= 0 || x > 100 {
			return nil, fmt.Errorf("%q is not a percentage in (0, 100]", f)
		}
		out = append(out, x)
	}
	return out, nil
}

// harness is one run: its configuration, the processes it started and the
// tools it found.
type harness struct {
	cfg    config
	log    io.Writer // progress, as it happens
	out    io.Writer // the report
	tmp    string    // temporary root of data directories and logs
	tools  bench.Tools
	runner bench.Runner

	mu    sync.Mutex
	procs []*bench.Proc // every process started, in order
}

func run(cfg config) int {
	// The first Ctrl-C or SIGTERM cancels the run, which then stops its
	// servers; the handler stays installed until cleanup is over, so a
	// second Ctrl-C cannot cut the cleanup short.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.deadline,
		fmt.Errorf("the global deadline of %v passed (--deadline)", cfg.deadline))
	defer cancel()

	h := &harness{cfg: cfg, log: os.Stderr, out: os.Stdout}
	var err error
	func() {
		defer h.cleanup()
		switch {
		case cfg.ae:
			err = h.aeRunMain(ctx)
		case cfg.cache:
			err = h.cacheRun(ctx)
		case cfg.scale:
			err = h.scaleRun(ctx)
		default:
			err = h.compare(ctx)
		}
	}()
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, context.Cause(ctx)) {
			err = fmt.Errorf("%w (%v)", err, context.Cause(ctx))
		}
		fmt.Fprintln(os.Stderr, "dynago-bench:", err)
		return 1
	}
	return 0
}

// track records a started process so that cleanup stops it.
func (h *harness) track(p *bench.Proc) {
	h.mu.Lock()
	h.procs = append(h.procs, p)
	h.mu.Unlock()
	fmt.Fprintf(h.log, "bench: started %s (pid %d): %s\n", p.Name, p.PID(), p.CommandLine())
}

// cleanup stops every process the harness started (SIGTERM, SIGKILL after
// the grace period; all at once) and removes the temporary directory.
func (h *harness) cleanup() {
	h.mu.Lock()
	procs := slices.Clone(h.procs)
	h.mu.Unlock()
	if len(procs) > 0 {
		fmt.Fprintf(h.log, "bench: stopping %d server process(es)\n", len(procs))
		if err := bench.StopAll(procs, h.cfg.stopGrace); err != nil {
			fmt.Fprintln(h.log, err)
		}
	}
	if h.tmp == "" {
		return
	}
	if h.cfg.keep {
		fmt.Fprintf(h.log, "bench: kept data directories and logs in %s\n", h.tmp)
		return
	}
	if err := os.RemoveAll(h.tmp); err != nil {
		fmt.Fprintln(h.log, "bench: removing the temporary directory:", err)
	}
}

// setup finds the tools, builds dynago when a started system needs it and
// creates the temporary directory.
func (h *harness) setup(ctx context.Context) error {
	needDynago, needServer := false, h.cfg.standIn
	for _, s := range h.cfg.systems {
		if h.cfg.attach[s] != "" {
			continue
		}
		if s == bench.Redis {
			needServer = true
		} else {
			needDynago = !h.cfg.standIn
		}
	}
	var err error
	h.tools, err = bench.FindTools(ctx, h.cfg.redisServer, h.cfg.redisBench, needServer, h.cfg.install, h.log)
	if err != nil {
		return err
	}
	h.runner = bench.Runner{Path: h.tools.RedisBenchmark, Clients: h.cfg.clients, DataSize: h.cfg.dataSize,
		Keyspace: h.cfg.keyspace, CollectionKeys: h.cfg.collectionKeys, Timeout: h.cfg.runTimeout}
	if needDynago && h.cfg.build {
		args := []string{"build", "-o", h.cfg.dynago, "./cmd/dynago"}
		fmt.Fprintf(h.log, "bench: %s %s\n", h.cfg.goCmd, strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, h.cfg.goCmd, args...)
		cmd.Dir = h.cfg.repo
		if out, err := cmd.CombinedOutput(); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("building dynago: %w", context.Cause(ctx))
			}
			return fmt.Errorf("dynago does not build in this checkout (%v):\n%s\nto benchmark redis-server alone: --systems redis", err, strings.TrimSpace(string(out)))
		}
	}
	if needDynago {
		if _, err := os.Stat(h.cfg.dynago); err != nil {
			return fmt.Errorf("dynago binary: %w", err)
		}
	}
	h.tmp, err = os.MkdirTemp("", "dynago-bench-")
	return err
}

func (h *harness) servers() bench.Servers {
	return bench.Servers{
		RedisServer:    h.tools.RedisServer,
		Dynago:         h.cfg.dynago,
		Dir:            h.tmp,
		StartTimeout:   h.cfg.startTimeout,
		ClusterTimeout: h.cfg.clusterWait,
		StandIn:        h.cfg.standIn,
		Track:          h.track,
	}
}
