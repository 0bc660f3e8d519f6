package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/dynago/dynago/antientropy"
	"github.com/dynago/dynago/coordinator"
	"github.com/dynago/dynago/engine"
	"github.com/dynago/dynago/resp"
	"github.com/dynago/dynago/ring"
	"github.com/dynago/dynago/version"
)

// Config is everything a node is started with. cmd/dynago fills it from
// flags; DefaultConfig gives the embedded default (one node on
// 127.0.0.1:6379, data in ./dynago-data).
type Config struct {
	// Addr is the client (RESP) listen address.
	Addr string
	// DataDir holds the pebble database and the node's identity.
	DataDir string
	// Name is the node's name; empty keeps the stored one, or uses Addr on
	// a new data directory.
	Name string
	// Partitions is Q, fixed when the cluster is created.
	Partitions int

	Engine      engine.Config      // Dir is set from DataDir
	RESP        resp.Config        // Addr and NodeID are set by Start
	Coordinator coordinator.Config // Self and Actor are set by Start
	Cluster     ClusterConfig
	// AE configures anti-entropy: Interval (--ae-interval) and Rate
	// (--ae-rate); the rest is set by Start.
	AE antientropy.SyncConfig
	// PprofAddr, if set, serves Go's pprof profiles over HTTP there.
	PprofAddr string
	// BusyRequests is the number of client requests in flight above which
	// anti-entropy pauses its repairs (paper §6.5). Default 64.
	BusyRequests int

	Logger *slog.Logger
}

// DefaultConfig returns the embedded default configuration.
func DefaultConfig() Config {
	return Config{
		Addr:        "127.0.0.1:6379",
		DataDir:     "./dynago-data",
		Partitions:  ring.DefaultPartitions,
		Engine:      engine.DefaultConfig("./dynago-data"),
		RESP:        resp.DefaultConfig(),
		Coordinator: coordinator.DefaultConfig(),
	}
}

// Node is one running dynago node.
type Node struct {
	cfg   Config
	log   *slog.Logger
	id    Identity
	eng   *engine.Engine
	coord *coordinator.Coordinator
	srv   *resp.Server
	ln    net.Listener
	// srvHook is srv once it exists: the engine's sweep and the peers'
	// pub/sub messages start before it and find no subscriber until then.
	srvHook atomic.Pointer[resp.Server]

	ae        *antientropy.Syncer
	reaper    atomic.Pointer[coordinator.Coordinator] // set once the coordinator runs
	aeHook    atomic.Pointer[antientropy.Syncer]      // set once the syncer exists
	rpc       *coordinator.RPC
	port      *ring.ClusterPort
	mship     *ring.Membership
	transfers atomic.Pointer[coordinator.Transfers]
	pl        atomic.Pointer[coordinator.RingPlacement] // the ring's placement

	announce, announceCluster string // addresses this node announces
	pprof                     *http.Server

	serveDone chan error // receives Serve's result once

	shutdownOnce sync.Once
	shutdownErr  error
}

// Start opens the data directory and starts serving clients. On error
// everything it opened is closed again.
func Start(cfg Config) (n *Node, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if !ring.ValidPartitions(cfg.Partitions) {
		return nil, fmt.Errorf("node: partitions must be a power of two in %d..%d, got %d", ring.MinPartitions, ring.MaxPartitions, cfg.Partitions)
	}
	n = &Node{cfg: cfg, log: cfg.Logger, serveDone: make(chan error, 1)}
	// The error returns below set n to nil: clean up through a copy.
	started := n
	defer func() {
		if err != nil {
			started.closeAll(context.Background())
		}
	}()

	if cfg.BusyRequests <= 0 {
		cfg.BusyRequests = 64
		n.cfg.BusyRequests = 64
	}
	ecfg := cfg.Engine
	ecfg.Dir = cfg.DataDir
	ecfg.Logger = cfg.Logger.With("component", "engine")
	// Anti-entropy's trees hang off the engine's change hook. The syncer
	// needs the node's identity, stored in the engine, so it comes after
	// Open; changes before it exists are none but the sweep's, and a tree
	// that missed one heals at its next exchange.
	ecfg.OnChange = func(p uint16, key []byte, oldHash, newHash uint64) {
		if s := n.aeHook.Load(); s != nil {
			s.OnChange(p, key, oldHash, newHash)
		}
	}
	// The sweep starts with the engine, before the coordinator exists:
	// until then nothing is reaped.
	ecfg.MayReap = func(p uint16, key []byte, o version.Object) bool {
		c := n.reaper.Load()
		return c != nil && c.MayReap(p, key, o)
	}
	ecfg.OnExpire = func(p uint16, key []byte) {
		if s := n.srvHook.Load(); s != nil {
			s.NotifyExpired(key)
		}
	}
	if n.eng, err = engine.Open(ecfg); err != nil {
		return nil, fmt.Errorf("node: open data directory %s: %w", cfg.DataDir, err)
	}
	if n.id, err = loadIdentity(n.eng, cfg.Name, cfg.Addr); err != nil {
		return nil, err
	}
	// Anti-entropy: the engine is its store; its other collaborators exist
	// only later and are looked up when it runs.
	acfg := cfg.AE
	acfg.Self, acfg.Q = n.id.ID, cfg.Partitions
	acfg.Logger = cfg.Logger.With("component", "antientropy")
	if n.ae, err = antientropy.NewSyncer(acfg, antientropy.SyncDeps{
		Store: n.eng,
		Peer:  peerOf{n},
		Ring:  n.ring,
		Alive: func(id string) bool { return n.mship.Alive(id) },
		Busy:  func() bool { return n.coord.InFlight() > int64(n.cfg.BusyRequests) },
	}); err != nil {
		return nil, err
	}
	n.aeHook.Store(n.ae)

	if err := n.startCluster(); err != nil {
		return nil, err
	}
	n.reaper.Store(n.coord)
	n.ae.Start()
	if cfg.PprofAddr != "" {
		if n.pprof, err = n.startPprof(cfg.PprofAddr); err != nil {
			return nil, fmt.Errorf("node: pprof: %w", err)
		}
	}

	rcfg := cfg.RESP
	rcfg.Addr = cfg.Addr
	rcfg.NodeID = n.id.ID
	rcfg.Logger = cfg.Logger.With("component", "resp")
	if n.srv, err = resp.New(rcfg, &backend{Coordinator: n.coord, n: n}); err != nil {
		return nil, err
	}
	n.srv.EnableCluster(clusterBackend{n: n})
	n.srvHook.Store(n.srv)
	if n.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, fmt.Errorf("node: listen on %s: %w", cfg.Addr, err)
	}
	go func() { n.serveDone <- n.srv.Serve(n.ln) }()
	n.log.Info("dynago node started", "addr", n.ln.Addr().String(), "cluster_addr", n.port.Addr().String(),
		"name", n.id.Name, "id", n.id.ID, "incarnation", n.id.Incarnation, "data_dir", cfg.DataDir)
	return n, nil
}

// startCluster starts the internode RPC, the coordinator, the cluster port,
// gossip membership and ownership transfers. The coordinator exists before
// the cluster port accepts anything, so every RPC finds it.
func (n *Node) startCluster() (err error) {
	cfg := n.cfg
	listen, announce, announceCluster, err := cfg.Cluster.clusterAddrs(cfg.Addr)
	if err != nil {
		return err
	}
	n.announce, n.announceCluster = announce, announceCluster
	seeds, err := seedAddrs(cfg.Cluster.Join)
	if err != nil {
		return err
	}
	n.rpc = coordinator.NewRPC(coordinator.RPCConfig{
		Self: n.id.ID, Secret: []byte(cfg.Cluster.Secret),
		Resolve: n.resolve, AllowPeer: n.isPeer,
		MaxFrameBytes: frameLimit(cfg.RESP.MaxValueBytes),
		Logger:        cfg.Logger.With("component", "rpc"),
	}, coordinator.HandlerFunc(func(ctx context.Context, from string, req *coordinator.Request) *coordinator.Response {
		return n.coord.HandleRPC(ctx, from, req)
	}))

	ccfg := cfg.Coordinator
	ccfg.Self = n.id.ID
	ccfg.Actor = n.id.Actor()
	ccfg.MaxValueBytes = cfg.RESP.MaxValueBytes
	ccfg.Logger = cfg.Logger.With("component", "coordinator")
	dots, err := coordinator.NewDotClock(n.eng)
	if err != nil {
		return err
	}
	if n.coord, err = coordinator.New(ccfg, coordinator.Deps{
		Dots:      dots,
		Store:     n.eng,
		Transport: n.rpc,
		Placement: n.placement,
		Alive:     func(id string) bool { return n.mship.Alive(id) },
		AE:        n.ae,
		Deliver: func(msgs []coordinator.PubMessage) {
			if s := n.srvHook.Load(); s != nil {
				for _, m := range msgs {
					s.Deliver(m.Shard, m.Channel, m.Message)
				}
			}
		},
		OnEvict: func(key []byte) {
			if s := n.srvHook.Load(); s != nil {
				s.NotifyEvicted(key)
			}
		},
	}); err != nil {
		return err
	}

	if n.port, err = ring.ListenCluster(ring.ClusterPortConfig{
		Addr: listen, Advertise: announceCluster,
		IsRPC: coordinator.IsRPC, ServeRPC: n.rpc.ServeConn,
		Logger: cfg.Logger.With("component", "cluster-port"),
	}); err != nil {
		return err
	}
	cc := cfg.Cluster
	n.mship, err = ring.StartMembership(ring.MembershipConfig{
		Self: ring.Member{ID: n.id.ID, Name: n.id.Name, ClientAddr: announce, ClusterAddr: announceCluster, Zone: cc.Zone},
		Q:    cfg.Partitions, N: ccfg.N, Seeds: seeds, Secret: cc.Secret, Port: n.port, Store: n.eng,
		OnRing: n.onRing, OnAlive: n.onAlive,
		ProbeInterval: cc.ProbeInterval, ProbeTimeout: cc.ProbeTimeout, GossipInterval: cc.GossipInterval,
		PushPullInterval: cc.PushPullInterval, BootstrapAfter: cc.BootstrapAfter,
		Logger: cfg.Logger.With("component", "membership"),
	})
	if err != nil {
		n.port.Shutdown()
		n.port = nil
		return err
	}
	if r := n.mship.Ring(); r != nil {
		n.pl.Store(coordinator.NewRingPlacement(r))
	}
	t, err := coordinator.NewTransfers(n.coord, n.mship, n.eng, cc.Transfers)
	if err != nil {
		return err
	}
	n.transfers.Store(t)
	t.Start()
	return nil
}

// Addr is the address the node accepts clients on.
func (n *Node) Addr() string { return n.ln.Addr().String() }

// Identity is the node's name, id and incarnation.
func (n *Node) Identity() Identity { return n.id }

// Done receives the client server's result when it stops on its own (a
// fatal listener error).
func (n *Node) Done() <-chan error { return n.serveDone }

// Shutdown stops accepting clients, lets in-flight commands finish (until
// ctx ends), drains the coordinator's background work, closes the engine
// cleanly and marks the shutdown clean. It is idempotent.
func (n *Node) Shutdown(ctx context.Context) error {
	n.shutdownOnce.Do(func() {
		var errs []error
		if n.srv != nil {
			errs = append(errs, n.srv.Shutdown(ctx))
		}
		errs = append(errs, n.closeAll(ctx))
		n.shutdownErr = errors.Join(errs...)
		n.log.Info("dynago node stopped", "err", n.shutdownErr)
	})
	return n.shutdownErr
}

// closeAll closes what Start opened, in reverse order. The identity is
// marked clean only when everything before the engine closed without
// error, so a node whose writes may not all have reached disk gets a new
// incarnation on its next start.
func (n *Node) closeAll(ctx context.Context) error {
	var errs []error
	if n.pprof != nil {
		n.pprof.Close()
	}
	if n.ln != nil {
		if err := n.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if t := n.transfers.Load(); t != nil {
		t.Close()
	}
	if n.ae != nil {
		n.ae.Close()
	}
	if n.coord != nil {
		// Replica writes still in flight need the RPC: drain them first.
		errs = append(errs, n.coord.Close(ctx))
	}
	if n.mship != nil {
		errs = append(errs, n.mship.Shutdown()) // also shuts the cluster port
	} else if n.port != nil {
		errs = append(errs, n.port.Shutdown())
	}
	if n.rpc != nil {
		errs = append(errs, n.rpc.Close())
	}
	if n.eng != nil {
		if errors.Join(errs...) == nil && n.id.ID != "" {
			n.id.Clean = true
			errs = append(errs, saveIdentity(n.eng, n.id))
		}
		errs = append(errs, n.eng.Close())
	}
	return errors.Join(errs...)
}

// singlePlacement is the ring of one node: every partition's walk is this
// node alone.
type singlePlacement struct {
	q    int
	self string
}

func (p singlePlacement) Q() int                { return p.q }
func (p singlePlacement) Walk(int) []string     { return []string{p.self} }
func (p singlePlacement) Nodes() []string       { return []string{p.self} }
func (p singlePlacement) Incoming(int) []string { return nil }

// frameLimit is the largest internode frame for values of up to
// maxValue bytes: an object of four maximal siblings, or a forwarded write's
// result carrying the old value and the new object, with room for
// headers; never below the RPC default (160 MiB) nor past the 32-bit
// frame length.
func frameLimit(maxValue int) int {
	return int(min(max(4*int64(maxValue)+16<<20, 160<<20), math.MaxUint32-16))
}
