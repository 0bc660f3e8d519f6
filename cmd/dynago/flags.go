package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/dynago/dynago/coordinator"
	"github.com/dynago/dynago/engine"
	"github.com/dynago/dynago/node"
	"github.com/dynago/dynago/resp"
)

const usageHeader = `dynago: a Dynamo-style key-value store that speaks the Redis protocol.

Usage: dynago [flags]

With no flags, dynago serves 127.0.0.1:6379 and keeps its data in
./dynago-data. Connect with: redis-cli -p 6379

Flags may also come from a config file (--config FILE): one "name value" per
line, names as the flags below without the dashes, '#' starts a comment.
Flags given on the command line win over the file.

Flags:
`

// parseFlags turns the command line (and an optional config file) into a
// node configuration and a log level.
func parseFlags(args []string, out io.Writer) (node.Config, slog.Level, error) {
	cfg := node.DefaultConfig()
	fs := flag.NewFlagSet("dynago", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, usageHeader)
		fs.PrintDefaults()
	}

	var (
		pprofAddr   = fs.String("pprof-addr", "", "serve Go's pprof profiles over HTTP on this address (e.g. 127.0.0.1:6060); off by default")
		join        = fs.String("join", "", "comma-separated client addresses (host:port) of cluster nodes to join, like CLUSTER MEET; their cluster ports are port+10000")
		configFile  = fs.String("config", "", "read flags from this file (command-line flags win)")
		durability  = fs.String("durability", "group", "when a write is acknowledged: sync (fsync each write), group (fsync batched across concurrent writes, still before the ack), none (no fsync: a crash may lose recent writes; for caches)")
		logLevel    = fs.String("log-level", "info", "log level: debug, info, warn, error")
		maxSiblings = fs.Int("max-siblings", cfg.Engine.MaxSiblings, "siblings kept per key; beyond it the oldest are folded (last writer wins) and counted in INFO")
		maxMemory   = fs.String("maxmemory", "0", "limit on the live data this node stores (bytes, or with a unit: 100mb, 1gb); 0: none. Over it, --maxmemory-policy applies")
		policy      = fs.String("maxmemory-policy", "noeviction", "what happens over --maxmemory: noeviction (writes get OOM), allkeys-lru, allkeys-lfu, allkeys-random, volatile-lru, volatile-lfu, volatile-random, volatile-ttl")
	)
	fs.IntVar(&cfg.Coordinator.MaxMemorySamples, "maxmemory-samples", coordinator.DefaultMaxMemorySamples, "keys sampled per eviction victim (more: closer to true LRU/LFU, more CPU)")
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "client (RESP) listen address host:port")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "data directory (created if missing)")
	fs.StringVar(&cfg.Name, "name", "", "node name; its id is derived from it (default: the stored name, or --addr on a new data directory)")
	fs.IntVar(&cfg.Partitions, "partitions", cfg.Partitions, "number of fixed partitions Q (power of two, 16..16384), fixed when the cluster is created")
	fs.IntVar(&cfg.RESP.MaxValueBytes, "max-value-bytes", cfg.RESP.MaxValueBytes, "largest value accepted, in bytes (larger writes are refused)")
	fs.StringVar(&cfg.RESP.RequirePass, "requirepass", "", "password clients must give with AUTH (empty: none; then only loopback clients are accepted)")
	fs.BoolVar(&cfg.RESP.EnableFlushAll, "enable-flushall", false, "allow FLUSHALL and FLUSHDB (refused by default)")
	fs.IntVar(&cfg.RESP.MaxClients, "maxclients", cfg.RESP.MaxClients, "maximum simultaneous client connections")
	fs.BoolVar(&cfg.RESP.ProtectedMode, "protected-mode", cfg.RESP.ProtectedMode, "with no --requirepass, refuse clients that are not on loopback")
	fs.DurationVar(&cfg.RESP.RequestTimeout, "request-timeout", cfg.RESP.RequestTimeout, "deadline of one client command (and of the quorum it waits for)")
	fs.StringVar(&cfg.Cluster.Addr, "cluster-addr", "", "cluster port listen address for gossip and internode RPC (default: the client host, port+10000)")
	fs.StringVar(&cfg.Cluster.Announce, "announce-addr", "", "client address other nodes and cluster-aware clients should dial (default: --addr); for NAT and containers")
	fs.StringVar(&cfg.Cluster.Secret, "cluster-secret", "", "shared secret: encrypts gossip and authenticates internode RPC; nodes with another secret are refused")
	fs.StringVar(&cfg.Cluster.Zone, "zone", "", "failure zone (rack, AZ): preference lists spread over zones when there are at least N")
	fs.IntVar(&cfg.Coordinator.N, "n", cfg.Coordinator.N, "replicas of each key (N)")
	fs.IntVar(&cfg.Coordinator.R, "r", cfg.Coordinator.R, "read quorum (R); clamped to the replicas a key has")
	fs.IntVar(&cfg.Coordinator.W, "w", cfg.Coordinator.W, "write quorum (W): durable copies before a write is acknowledged; clamped to the replicas a key has")
	fs.IntVar(&cfg.Coordinator.HintRate, "hint-rate", cfg.Coordinator.HintRate, "hinted-handoff deliveries per second, at most")
	fs.IntVar(&cfg.Cluster.Transfers.Rate, "transfer-rate", 20000, "keys per second streamed in or handed off when partitions move, at most")
	fs.DurationVar(&cfg.AE.Interval, "ae-interval", time.Minute, "pause between anti-entropy rounds (each round compares every partition with its other replicas); 0 turns anti-entropy off")
	fs.IntVar(&cfg.AE.Rate, "ae-rate", 10000, "keys per second anti-entropy repairs, at most")
	fs.DurationVar(&cfg.Engine.SweepInterval, "sweep-interval", cfg.Engine.SweepInterval, "period of the background sweep that purges expired values and reaps tombstones")
	fs.DurationVar(&cfg.Coordinator.HintInterval, "hint-interval", cfg.Coordinator.HintInterval, "how often hinted handoff retries (it also runs when a node comes back)")
	fs.BoolVar(&cfg.Coordinator.NoHandoff, "test-no-handoff", false, "testing only: never deliver hints (keeps a replica stale on purpose)")
	fs.DurationVar(&cfg.Cluster.ProbeInterval, "probe-interval", 0, "failure detector probe interval (default 1s; a dead node is declared after a few missed probes)")
	fs.DurationVar(&cfg.Cluster.PushPullInterval, "push-pull-interval", 0, "how often the ring is exchanged with a random node (default 10s)")
	fs.Int64Var(&cfg.Engine.CacheBytes, "cache-bytes", cfg.Engine.CacheBytes, "pebble block cache size in bytes")
	fs.Int64Var(&cfg.Engine.ObjectCacheBytes, "object-cache-bytes", cfg.Engine.ObjectCacheBytes, "in-memory cache of decoded objects in front of pebble, in bytes (0: off)")
	fs.Uint64Var(&cfg.Engine.MemTableBytes, "memtable-bytes", cfg.Engine.MemTableBytes, "pebble memtable size in bytes")
	fs.DurationVar(&cfg.Engine.TombstoneGrace, "tombstone-grace", cfg.Engine.TombstoneGrace, "how long deleted and expired keys are kept before they may be reaped")

	if err := fs.Parse(args); err != nil {
		return cfg, 0, err
	}
	if fs.NArg() > 0 {
		return cfg, 0, fmt.Errorf("unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	if *configFile != "" {
		if err := applyConfigFile(fs, *configFile); err != nil {
			return cfg, 0, err
		}
	}

	cfg.Coordinator.RequestTimeout = cfg.RESP.RequestTimeout
	cfg.PprofAddr = *pprofAddr
	cfg.AE.Off = cfg.AE.Interval == 0
	if *join != "" {
		for _, a := range strings.Split(*join, ",") {
			if a = strings.TrimSpace(a); a != "" {
				cfg.Cluster.Join = append(cfg.Cluster.Join, a)
			}
		}
	}
	d, err := engine.ParseDurability(*durability)
	if err != nil {
		return cfg, 0, err
	}
	cfg.Engine.Durability = d
	cfg.Engine.MaxSiblings = *maxSiblings
	mm, ok := resp.ParseMemory([]byte(*maxMemory))
	if !ok {
		return cfg, 0, fmt.Errorf("bad --maxmemory %q: want bytes, or a number with a unit (kb, mb, gb)", *maxMemory)
	}
	cfg.Coordinator.MaxMemory = mm
	if cfg.Coordinator.MaxMemoryPolicy, err = coordinator.ParsePolicy(*policy); err != nil {
		return cfg, 0, fmt.Errorf("bad --maxmemory-policy: %w", err)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return cfg, 0, fmt.Errorf("bad --log-level %q: %w", *logLevel, err)
	}
	return cfg, level, nil
}

// applyConfigFile sets every flag named in the file that the command line
// did not set.
func applyConfigFile(fs *flag.FlagSet, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	onCommandLine := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { onCommandLine[fl.Name] = true })

	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		name, value, _ := strings.Cut(text, " ")
		name = strings.TrimLeft(name, "-")
		value = strings.Trim(strings.TrimSpace(value), `"`)
		if name == "config" {
			return fmt.Errorf("%s:%d: a config file cannot name another", path, line)
		}
		if fs.Lookup(name) == nil {
			return fmt.Errorf("%s:%d: unknown setting %q", path, line, name)
		}
		if onCommandLine[name] {
			continue
		}
		if err := fs.Set(name, value); err != nil {
			return fmt.Errorf("%s:%d: %s: %w", path, line, name, err)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return nil
}
