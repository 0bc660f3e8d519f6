package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// System IDs. --systems names the first three; ClusterCC is the cluster's
// second way of being driven, a row of its own.
const (
	Redis     = "redis"      // stock redis-server
	Single    = "single"     // one dynago node
	Cluster   = "cluster"    // three dynago nodes, redis-benchmark pointed at node 1
	ClusterCC = "cluster-cc" // the same cluster driven by redis-benchmark --cluster
)

// System is one system under test.
type System struct {
	ID       string
	Label    string   // its name in the table
	Endpoint Endpoint // where redis-benchmark connects
	Nodes    []string // client address of every node
	Procs    []*Proc  // the processes the harness started for it; none when attached
	DataDirs []string
	// Prefixes are the key prefixes redis-benchmark uses against it:
	// "key:" normally, "key:{tag}:" per master with --cluster.
	Prefixes []string
}

// Servers starts the systems under test. Every process it starts is handed
// to Track at once, before it is waited for, so that the caller can stop
// it whatever happens next; Servers itself never stops anything.
type Servers struct {
	RedisServer    string // redis-server binary
	Dynago         string // dynago binary
	Dir            string // where data directories and logs go
	StartTimeout   time.Duration
	ClusterTimeout time.Duration
	// StandIn starts redis-server wherever dynago would run (same ports and
	// directories, no cluster check), to exercise the harness's process
	// handling while dynago does not build or run.
	StandIn bool
	Track   func(*Proc)
}

func (s Servers) start(name, bin string, args ...string) (*Proc, error) {
	p, err := StartProc(name, filepath.Join(s.Dir, name+".log"), bin, args...)
	if err != nil {
		return nil, err
	}
	s.Track(p)
	return p, nil
}

// redisArgs runs redis-server in the foreground on loopback with
// persistence off, as issue 5 prescribes (--save ” --appendonly no).
func redisArgs(port int, dir string) []string {
	return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no",
		"--dir", dir, "--logfile", ""}
}

func (s Servers) dataDir(name string) (string, error) {
	d := filepath.Join(s.Dir, name)
	return d, os.MkdirAll(d, 0o755)
}

func addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// StartRedis starts a stock redis-server.
// extra are further redis-server flags (--maxmemory …).
func (s Servers) StartRedis(ctx context.Context, extra ...string) (*System, error) {
	ports, err := FreePorts(1, 0)
	if err != nil {
		return nil, err
	}
	dir, err := s.dataDir("redis-data")
	if err != nil {
		return nil, err
	}
	p, err := s.start("redis-server", s.RedisServer, append(redisArgs(ports[0], dir), extra...)...)
	if err != nil {
		return nil, err
	}
	sys := &System{ID: Redis, Label: "redis-server", Endpoint: Endpoint{Addr: addr(ports[0])},
		Nodes: []string{addr(ports[0])}, Procs: []*Proc{p}, DataDirs: []string{dir}, Prefixes: []string{"key:"}}
	return sys, WaitReady(ctx, sys.Endpoint.Addr, p, s.StartTimeout)
}

// startDynago starts one dynago node (or its stand-in).
func (s Servers) startDynago(ctx context.Context, name string, port int, dir string, extra ...string) (*Proc, error) {
	if s.StandIn {
		return s.start(name, s.RedisServer, redisArgs(port, dir)...)
	}
	args := append([]string{"--addr", addr(port), "--data-dir", dir}, extra...)
	return s.start(name, s.Dynago, args...)
}

func (s Servers) label(l string) string {
	if s.StandIn {
		return l + " (stand-in: redis-server)"
	}
	return l
}

// StartSingle starts a single dynago node with its defaults and extra
// flags.
func (s Servers) StartSingle(ctx context.Context, extra ...string) (*System, error) {
	ports, err := FreePorts(1, 10000)
	if err != nil {
		return nil, err
	}
	dir, err := s.dataDir("single-data")
	if err != nil {
		return nil, err
	}
	p, err := s.startDynago(ctx, "dynago-single", ports[0], dir, extra...)
	if err != nil {
		return nil, err
	}
	sys := &System{ID: Single, Label: s.label("dynago 1 node"), Endpoint: Endpoint{Addr: addr(ports[0])},
		Nodes: []string{addr(ports[0])}, Procs: []*Proc{p}, DataDirs: []string{dir}, Prefixes: []string{"key:"}}
	return sys, WaitReady(ctx, sys.Endpoint.Addr, p, s.StartTimeout)
}

// StartCluster starts three dynago nodes with N=3, R=2, W=2: node 1 alone
// first, then nodes 2 and 3 joining it, and waits until every node's
// CLUSTER INFO reports the full, healthy cluster. The client ports are
// chosen so that each port + 10000 (the default cluster port) is free too.
func (s Servers) StartCluster(ctx context.Context) (*System, error) {
	ports, err := FreePorts(3, 10000)
	if err != nil {
		return nil, err
	}
	sys := &System{ID: Cluster, Label: s.label("dynago 3 nodes via node 1"),
		Endpoint: Endpoint{Addr: addr(ports[0])}, Prefixes: []string{"key:"}}
	for i, port := range ports {
		name := fmt.Sprintf("node%d", i+1)
		dir, err := s.dataDir("cluster-" + name)
		if err != nil {
			return sys, err
		}
		extra := []string{"--name", name, "--n", "3", "--r", "2", "--w", "2"}
		if i > 0 {
			extra = append(extra, "--join", addr(ports[0]))
		}
		p, err := s.startDynago(ctx, "dynago-"+name, port, dir, extra...)
		if err != nil {
			return sys, err
		}
		sys.Nodes = append(sys.Nodes, addr(port))
		sys.Procs = append(sys.Procs, p)
		sys.DataDirs = append(sys.DataDirs, dir)
		// Node 1 must be up before the others try to join it.
		if err := WaitReady(ctx, addr(port), p, s.StartTimeout); err != nil {
			return sys, err
		}
	}
	if s.StandIn {
		return sys, nil
	}
	return sys, WaitCluster(ctx, sys.Nodes, sys.Procs, 3, s.ClusterTimeout)
}
