package coordinator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynago/dynago/engine"
	"github.com/dynago/dynago/ring"
	"github.com/dynago/dynago/version"
)

// Store is the local storage a coordinator needs; engine.Engine implements
// it. Methods must be safe for concurrent use; Update, Merge, PutHint and
// DeleteHint are serialized per key by the store and durable when they
// return.
type Store interface {
	Get(p uint16, key []byte) (version.Object, error)
	Update(p uint16, key []byte, fn func(cur version.Object) (next version.Object, write bool, err error)) (version.Object, error)
	Merge(p uint16, key []byte, in version.Object) (merged version.Object, changed bool, err error)
	Scan(p uint16, after []byte, fn func(key []byte, o version.Object) bool) error
	MergeMany(items []engine.MergeItem) ([]engine.MergeResult, error)
	FlushAll() error
	PartitionKeys(p uint16) (keys, expires int64)

	PutHint(target string, p uint16, key []byte, o version.Object) error
	GetHint(target string, p uint16, key []byte) (version.Object, bool, error)
	ScanHints(target string, fn func(p uint16, key []byte, o version.Object) bool) error
	DeleteHint(target string, p uint16, key []byte, delivered version.Object) (bool, error)
	HintCounts() map[string]int64
}

// Placement is the coordinator's view of the ring: which nodes hold which
// partition. ring.Ring provides it (node adapts it); tests use a fixed
// placement. Implementations are immutable snapshots, safe for concurrent
// use.
type Placement interface {
	// Q is the number of partitions.
	Q() int
	// Walk returns partition p's distinct nodes in preference order: its
	// home replicas first, then the fallbacks (docs/architecture.md §2). The caller must
	// not modify the slice.
	Walk(p int) []string
	// Nodes returns every member that holds data (for cluster-wide SCAN,
	// DBSIZE and FLUSHALL).
	Nodes() []string
	// Incoming returns the nodes that are becoming home replicas of p while
	// it is handed off (docs/architecture.md §5): they receive every write but do not
	// count toward W and are not read. nil when p is not moving.
	Incoming(p int) []string
}

// Config configures a Coordinator. DefaultConfig gives the defaults; Self
// and Actor must be set.
type Config struct {
	// Self is this node's 40-hex id, as the Placement names it.
	Self string
	// Actor is this node's current incarnation; it names the dots of every
	// write this node coordinates.
	Actor version.Actor
	// N is the number of home replicas of each key; R and W the read and
	// write quorums (defaults 3, 2, 2). Each is clamped to the replicas a
	// key actually has in a smaller cluster (docs/architecture.md §2).
	N, R, W int
	// RequestTimeout bounds a request whose context has no deadline, the
	// forwarded requests this node coordinates for others, and the
	// replica writes that carry on after the client got its answer.
	RequestTimeout time.Duration
	// MaxValueBytes bounds values produced by writes (APPEND, INCR, SET).
	MaxValueBytes int
	// ReadRepairWait is how long a read waits, after answering the client,
	// for the replies it did not need before repairing stale replicas
	// (paper §5). Default 100 ms.
	ReadRepairWait time.Duration
	// ReadRepairChance is the fraction of reads sent to every target
	// rather than to R of them (default 0.1; 1 reads every target always,
	// as the paper does). See readQuorum.
	ReadRepairChance float64
	// HedgeAfter is how long a read waits for its first targets before it
	// asks the others too (default 20 ms; 0 never hedges).
	HedgeAfter time.Duration
	// MaxRepairs bounds the read repairs in flight; beyond it a repair is
	// skipped and counted (anti-entropy catches up). Default 1024.
	MaxRepairs int
	// HintInterval is how often hinted handoff looks for hints whose home
	// replica is alive again (it also runs when membership reports a node
	// alive). Default 1 s.
	HintInterval time.Duration
	// HintRate bounds hint deliveries per second (paper §6.5: background
	// work must not crowd out foreground traffic). Default 2000.
	HintRate int
	// NoHandoff stops the hinted-handoff loop (hints are still stored and
	// DeliverHints still works). Only tests set it, to keep a replica
	// stale on purpose.
	NoHandoff bool
	// MaxMemory limits the logical size of the live data this node stores
	// (Redis's maxmemory; 0, the default, sets no limit); MaxMemoryPolicy
	// says what happens over it (default NoEviction: writes get OOM) and
	// MaxMemorySamples how many keys are sampled per victim (default 5).
	// All three change at run time (SetMaxMemory...). See evict.go.
	MaxMemory        int64
	MaxMemoryPolicy  Policy
	MaxMemorySamples int
	// Now is the clock for write timestamps; nil means time.Now.
	Now func() time.Time
	// Logger receives operational messages; nil discards them.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults of a node.
func DefaultConfig() Config {
	return Config{
		N: 3, R: 2, W: 2,
		RequestTimeout:   5 * time.Second,
		MaxValueBytes:    64 << 20,
		ReadRepairWait:   100 * time.Millisecond,
		ReadRepairChance: 0.1,
		HedgeAfter:       20 * time.Millisecond,
		MaxRepairs:       1024,
		HintInterval:     time.Second,
		HintRate:         2000,
	}
}

// ErrInvalidConfig is returned by Validate.
var ErrInvalidConfig = errors.New("coordinator: invalid config")

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if len(c.Self) != 40 {
		bad("Self must be a 40-hex node id, got %q", c.Self)
	}
	if c.Actor == (version.Actor{}) {
		bad("Actor not set")
	}
	if c.N < 1 || c.N > 16 {
		bad("N must be in 1..16, got %d", c.N)
	}
	if c.R < 1 || c.R > c.N {
		bad("R must be in 1..N (%d), got %d", c.N, c.R)
	}
	if c.W < 1 || c.W > c.N {
		bad("W must be in 1..N (%d), got %d", c.N, c.W)
	}
	if c.RequestTimeout <= 0 {
		bad("RequestTimeout must be positive")
	}
	if c.MaxValueBytes <= 0 {
		bad("MaxValueBytes must be positive")
	}
	if c.MaxMemory < 0 || c.MaxMemorySamples < 0 || int(c.MaxMemoryPolicy) >= len(policyNames) {
		bad("MaxMemory and MaxMemorySamples must not be negative, MaxMemoryPolicy must be known")
	}
	if c.ReadRepairWait < 0 || c.MaxRepairs < 0 || c.HintInterval <= 0 || c.HintRate <= 0 {
		bad("ReadRepairWait, MaxRepairs must not be negative; HintInterval, HintRate must be positive")
	}
	return errors.Join(errs...)
}

// Deps are the coordinator's collaborators.
type Deps struct {
	// Store is the local storage.
	Store Store
	// Transport reaches other nodes.
	Transport Transport
	// Placement returns the current ring view; it is called once per
	// request and must be cheap (an atomic load).
	Placement func() Placement
	// Alive reports whether the failure detector considers a node up. It
	// is called on every request and must be cheap and safe for concurrent
	// use. nil means every node is alive.
	Alive func(id string) bool
	// AE answers peers' anti-entropy exchanges; nil answers "not ready".
	AE AEServer
	// Dots hands out dot counters; nil means an unpersisted clock (tests).
	Dots *DotClock
	// Deliver hands the pub/sub messages another node published to this
	// node's subscribers. It is called for one peer's messages one batch at
	// a time, in order, and must not block. nil drops them.
	Deliver func(msgs []PubMessage)
	// OnEvict is called with each key this node evicted (keyspace
	// notifications); it must not block. May be nil.
	OnEvict func(key []byte)
}

// Stats are the coordinator's counters for INFO (replication and hints
// sections).
type Stats struct {
	Forwarded           atomic.Int64 // client writes forwarded to a home replica
	Coordinated         atomic.Int64 // writes this node coordinated
	FallbackWrites      atomic.Int64 // replica writes sent to a fallback with a hint
	HintsStored         atomic.Int64 // hints this node stored for an unreachable replica
	HintsDelivered      atomic.Int64 // hints handed to their home replica and deleted
	ReadRepairs         atomic.Int64 // stale replicas repaired after a read
	RepairsSkipped      atomic.Int64 // repairs skipped because MaxRepairs were in flight
	WriteQuorumFailures atomic.Int64
	ReadQuorumFailures  atomic.Int64
	PubSent             atomic.Int64 // pub/sub messages delivered to peers
	PubDropped          atomic.Int64 // pub/sub messages dropped: peer down, queue full, call failed
}

// Coordinator serves client requests for one node and answers its peers'
// internode requests (HandleRPC). It owns the goroutines that finish
// replica writes after a client was answered, the read repairs and the
// hinted-handoff loop; Close stops and joins them all.
type Coordinator struct {
	cfg       Config
	store     Store
	tr        Transport
	placement func() Placement
	alive     func(id string) bool
	ae        AEServer
	dots      *DotClock
	deliver   func(msgs []PubMessage)
	log       *slog.Logger
	onEvict   func(key []byte)
	evict     eviction

	// bg is the context of work that outlives a client request: replica
	// writes still in flight, read repairs, handoff. Close cancels it.
	bg     context.Context
	stop   context.CancelFunc
	wg     sync.WaitGroup // the handoff loop and the pub/sub senders
	pub    pubsub
	closed atomic.Bool
	// bgMu guards the count of request work running in the background
	// (goBG): replica writes after the answer, read repairs.
	bgMu      sync.Mutex
	bgN       int           // guarded by bgMu
	bgIdle    chan struct{} // guarded by bgMu; closed when bgN drops to 0
	bgStopped bool          // guarded by bgMu; no new background work

	inflightReqs atomic.Int64 // client requests being served (InFlight)

	workers  *workerPool   // runs goBG work on grown stacks
	repairs  chan struct{} // semaphore of read repairs in flight
	hintKick chan struct{} // wakes the handoff loop
	handoff  handoffState
	txLocks  txLocks // the slot transaction locks this node keeps (txlock.go)

	stats Stats
}

// New returns a coordinator and starts its hinted-handoff loop and, when
// the store can be held under a memory limit, its evictor.
func New(cfg Config, d Deps) (*Coordinator, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Store == nil || d.Transport == nil || d.Placement == nil {
		return nil, fmt.Errorf("%w: Store, Transport and Placement are required", ErrInvalidConfig)
	}
	if d.Alive == nil {
		d.Alive = func(string) bool { return true }
	}
	if d.Dots == nil {
		d.Dots, _ = NewDotClock(nil)
	}
	c := &Coordinator{
		cfg: cfg, store: d.Store, tr: d.Transport, placement: d.Placement, alive: d.Alive, ae: d.AE, dots: d.Dots,
		deliver:  d.Deliver,
		log:      cfg.Logger,
		repairs:  make(chan struct{}, max(cfg.MaxRepairs, 1)),
		hintKick: make(chan struct{}, 1),
		handoff:  handoffState{retry: map[string]handoffRetry{}},
		workers:  newWorkerPool(512, 10*time.Second),
		onEvict:  d.OnEvict,
	}
	c.evict.kick = make(chan struct{}, 1)
	c.evict.store, _ = d.Store.(evictionStore)
	c.evict.maxBytes.Store(cfg.MaxMemory)
	c.evict.policy.Store(uint32(cfg.MaxMemoryPolicy))
	c.SetMaxMemorySamples(cmp.Or(cfg.MaxMemorySamples, DefaultMaxMemorySamples))
	c.trackAccess()
	c.bg, c.stop = context.WithCancel(context.Background())
	if c.evict.store != nil {
		c.wg.Add(1)
		go func() { defer c.wg.Done(); c.evictLoop() }()
	}
	if !cfg.NoHandoff {
		c.wg.Add(1)
		go func() { defer c.wg.Done(); c.handoffLoop() }()
	}
	return c, nil
}

// Close drains and stops the background work. It first lets replica writes
// still in flight and read repairs finish (each is bounded by
// RequestTimeout) until ctx ends, then cancels what is left — replicas
// that missed a write get it through hints and anti-entropy — stops hinted
// handoff and waits for every goroutine. Call it after the client front end
// has stopped. It is idempotent.
func (c *Coordinator) Close(ctx context.Context) error {
	if !c.closed.Swap(true) {
		c.waitIdle(ctx)
		c.bgMu.Lock()
		c.bgStopped = true
		c.bgMu.Unlock()
		c.closePub()
		c.stop()
	}
	c.waitIdle(context.Background())
	c.wg.Wait()
	c.workers.Close()
	return nil
}

// waitIdle waits until no request work runs in the background, or ctx ends.
func (c *Coordinator) waitIdle(ctx context.Context) {
	c.bgMu.Lock()
	if c.bgN == 0 {
		c.bgMu.Unlock()
		return
	}
	idle := c.bgIdle
	c.bgMu.Unlock()
	select {
	case <-idle:
	case <-ctx.Done():
	}
}

// quiesce waits for the request work running in the background (replica
// writes after the answer, read repairs); tests use it.
func (c *Coordinator) quiesce() {
	for {
		c.bgMu.Lock()
		n := c.bgN
		c.bgMu.Unlock()
		if n == 0 {
			return
		}
		c.waitIdle(context.Background())
	}
}

// Stats returns the live counters.
func (c *Coordinator) Stats() *Stats { return &c.stats }

// Config returns the configuration the coordinator runs with.
func (c *Coordinator) Config() Config { return c.cfg }

// Partition returns the partition that holds key under placement pl.
func Partition(pl Placement, key []byte) int {
	return ring.PartitionOf(ring.Slot(key), pl.Q())
}

func (c *Coordinator) nowMs() int64 { return c.cfg.Now().UnixMilli() }

// call sends req to node and waits for its answer, at most RequestTimeout
// (or ctx's deadline); an error the node answered is returned as err.
func (c *Coordinator) call(ctx context.Context, node string, req *Request) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	resp, err := c.tr.Call(ctx, node, req)
	if err != nil {
		return nil, err
	}
	return resp, resp.Err
}

// goBG runs fn as background work owned by the coordinator, unless it is
// closed (then fn does not run and goBG reports false). Work started while
// Close drains still runs, so a request in flight is not cut short.
func (c *Coordinator) goBG(fn func()) bool {
	c.bgMu.Lock()
	if c.bgStopped {
		c.bgMu.Unlock()
		return false
	}
	if c.bgN == 0 {
		c.bgIdle = make(chan struct{})
	}
	c.bgN++
	c.bgMu.Unlock()
	c.workers.Go(func() {
		defer func() {
			c.bgMu.Lock()
			if c.bgN--; c.bgN == 0 {
				close(c.bgIdle)
			}
			c.bgMu.Unlock()
		}()
		fn()
	})
	return true
}

// route computes the key's partition, replica count and targets.
type route struct {
	p        int
	n        int // replicas the key has: min(N, nodes in the walk)
	walk     []string
	targets  []Target
	orphans  []string
	incoming []string // nodes becoming home replicas: written, not counted
}

func (c *Coordinator) route(key []byte) route {
	pl := c.placement()
	p := Partition(pl, key)
	walk := pl.Walk(p)
	n := min(c.cfg.N, len(walk))
	targets, orphans := Targets(walk, n, c.cfg.Self, c.alive)
	return route{p: p, n: n, walk: walk, targets: targets, orphans: orphans, incoming: pl.Incoming(p)}
}

// selfTarget reports whether this node is one of the targets.
func (r route) selfTarget(self string) bool {
	for _, t := range r.targets {
		if t.Node == self {
			return true
		}
	}
	return false
}

// quorums returns the effective R and W for a request: the context's
// override or the defaults, clamped to the key's replicas.
func (c *Coordinator) quorums(ctx context.Context, replicas int) (r, w int) {
	o := ConsistencyFrom(ctx)
	return Clamp(o.R, c.cfg.R, replicas), Clamp(o.W, c.cfg.W, replicas)
}

// withTimeout gives ctx the default request deadline if it has none, and
// counts the request in InFlight until the returned cancel is called.
func (c *Coordinator) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	c.inflightReqs.Add(1)
	done := func() { c.inflightReqs.Add(-1) }
	if _, ok := ctx.Deadline(); ok {
		return ctx, done
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	return ctx, func() { cancel(); done() }
}
