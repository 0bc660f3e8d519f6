package resp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is the RESP front end of one node: it accepts client connections,
// parses their commands, runs them against a Backend and writes the
// replies. See doc.go for the concurrency model.
type Server struct {
	cfg Config
	b   Backend
	// reads is b as ParallelReads, nil when b does not implement it.
	reads ParallelReads
	// mem is b as MemoryLimit, nil when b does not implement it.
	mem MemoryLimit
	// cluster serves the cluster commands; nil until EnableCluster, which
	// runs before Serve, and never changed after.
	cluster ClusterBackend
	// txLocker is b as TxLocker; without one, txMu (a semaphore of one)
	// serializes this server's transactions.
	txLocker TxLocker
	txMu     chan struct{}
	// watchers counts the clients watching keys; while it is 0 reads skip
	// looking for a watch in their context (watchBackend).
	watchers atomic.Int64
	log      *slog.Logger
	started  time.Time

	// cmds is the command table, keyed by lower-case name. Register fills
	// it before Serve; it is read-only once serving starts.
	cmds    map[string]*Command
	serving atomic.Bool

	// baseCtx parents every request context. It is cancelled when
	// Shutdown stops waiting for in-flight commands (its ctx ended), so
	// that they give up at once.
	baseCtx    context.Context
	cancelBase context.CancelFunc

	closing atomic.Bool // Shutdown has begun: accept nothing, read nothing more
	mu      struct {
		sync.Mutex
		listeners map[net.Listener]struct{}
		conns     map[int64]*conn // open connections by client id
	}
	// conns counts the connection goroutines; Add happens under mu while
	// !closing, so it never races with Shutdown's Wait.
	conns        sync.WaitGroup
	shutdownOnce sync.Once
	drained      chan struct{} // closed when every connection goroutine has returned

	nextID atomic.Int64
	stats  serverStats
	// workers are the goroutines concurrent waves borrow (workers.go).
	workers waveWorkers

	// Runtime-settable configuration (CONFIG SET).
	maxClients  atomic.Int64
	idleTimeout atomic.Int64 // nanoseconds
	maxBulk     atomic.Int64 // proto-max-bulk-len, bytes
	// The pubsub output limits (client-output-buffer-limit pubsub):
	// bytes, bytes, seconds.
	psHard, psSoft, psSoftSecs atomic.Int64
	notifyFlags                atomic.Int32 // notify-keyspace-events (notify.go)

	ps  pubsub    // the subscription registry (pubsub.go)
	pub Publisher // b as Publisher, nil when b does not implement it
}

// New returns a server over backend b. cfg's zero limits are replaced by
// the defaults.
func New(cfg Config, b Backend) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if b == nil {
		return nil, errors.New("resp: nil backend")
	}
	cfg.ensureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		b:       b,
		log:     cfg.Logger,
		started: cfg.now(),
		cmds:    make(map[string]*Command),
		drained: make(chan struct{}),
	}
	s.reads, _ = b.(ParallelReads)
	s.pub, _ = b.(Publisher)
	s.initPubSub()
	s.txLocker, _ = b.(TxLocker)
	s.txMu = make(chan struct{}, 1)
	s.b = &watchBackend{Backend: b, watchers: &s.watchers}
	s.mem, _ = b.(MemoryLimit)
	s.workers.now = cfg.now
	s.baseCtx, s.cancelBase = context.WithCancel(context.Background())
	s.mu.listeners = make(map[net.Listener]struct{})
	s.mu.conns = make(map[int64]*conn)
	s.maxClients.Store(int64(cfg.MaxClients))
	s.idleTimeout.Store(int64(cfg.IdleTimeout))
	s.maxBulk.Store(int64(cfg.MaxBulkBytes))
	s.stats.init(cfg.now())
	s.Register(s.builtinCommands()...)
	return s, nil
}

// Register adds commands to the table; later packages add their families
// this way (CLUSTER …, DYNAGO …). Like redcon's ServeMux.Handle it panics on
// a nil or duplicate registration, and also when called after Serve.
func (s *Server) Register(cmds ...*Command) {
	if s.serving.Load() {
		panic("resp: Register called after Serve")
	}
	for _, c := range cmds {
		if c == nil || c.Name == "" {
			panic("resp: nil or unnamed command")
		}
		if c.Name != strings.ToLower(c.Name) || len(c.Name) > len(Client{}.lower) {
			panic("resp: command name must be lower case and at most 32 bytes: " + c.Name)
		}
		if _, dup := s.cmds[c.Name]; dup {
			panic("resp: multiple registrations for " + c.Name)
		}
		if err := prepare(c, ""); err != nil {
			panic(err)
		}
		s.cmds[c.Name] = c
	}
}

// prepare checks one table entry and fills its derived fields.
func prepare(c *Command, parent string) error {
	c.fullName = c.Name
	if parent != "" {
		c.fullName = parent + "|" + c.Name
	}
	if c.Handler == nil && len(c.Subcommands) == 0 {
		return fmt.Errorf("resp: command %s has no handler", c.fullName)
	}
	if c.Arity == 0 {
		return fmt.Errorf("resp: command %s has no arity", c.fullName)
	}
	for _, f := range c.Flags {
		switch f {
		case "write":
			c.flags |= flagWrite
		case "no_auth":
			c.flags |= flagNoAuth
		case "denyoom":
			c.flags |= flagDenyOOM
		}
	}
	if c.local {
		c.flags |= flagLocal
	}
	switch c.fullName {
	case "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe", "ping", "quit", "reset":
		c.flags |= flagPubSubOK
	}
	if c.Parallel {
		if c.local || c.Handler == nil || c.Subcommands != nil || c.FirstKey <= 0 || c.Step <= 0 {
			return fmt.Errorf("resp: parallel command %s needs a handler, a key and the backend", c.fullName)
		}
		c.flags |= flagParallel
	}
	c.stats = &cmdStats{}
	for name, sub := range c.Subcommands {
		if name != sub.Name {
			return fmt.Errorf("resp: subcommand %s registered as %s", sub.Name, name)
		}
		if err := prepare(sub, c.Name); err != nil {
			return err
		}
	}
	return nil
}

// Serve accepts connections on ln until Shutdown, serving each on its own
// goroutine. It returns nil after Shutdown and the listener's error
// otherwise. Serve may be called for several listeners.
func (s *Server) Serve(ln net.Listener) error {
	s.serving.Store(true)
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.mu.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.mu.listeners, ln)
		s.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				// Out of file descriptors and the like: back off as
				// net/http does rather than spinning.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "err", err, "backoff", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		s.accept(nc)
	}
}

// isTemporary reports accept errors worth retrying (EMFILE, ECONNABORTED…).
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// accept admits or refuses one new connection.
func (s *Server) accept(nc net.Conn) {
	s.stats.connsReceived.Add(1)
	if s.cfg.ProtectedMode && s.cfg.RequirePass == "" && !isLoopback(nc.RemoteAddr()) {
		s.stats.rejectedConns.Add(1)
		s.log.Warn("refused a non-loopback client in protected mode", "addr", nc.RemoteAddr().String())
		refuse(nc, protectedModeMsg)
		return
	}
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if int64(len(s.mu.conns)) >= s.maxClients.Load() {
		s.mu.Unlock()
		s.stats.rejectedConns.Add(1)
		refuse(nc, "ERR max number of clients reached")
		return
	}
	c := s.newConn(nc)
	s.mu.conns[c.client.id] = c
	s.conns.Add(1)
	s.mu.Unlock()
	go s.serveConn(c)
}

// refuse writes one error reply to a connection that is not admitted and
// closes it. The short deadline keeps the accept loop from blocking on it.
func refuse(nc net.Conn, msg string) {
	nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	w := NewWriter(2)
	w.WriteError(msg)
	nc.Write(w.Bytes())
	nc.Close()
}

// isLoopback reports whether a client address is on the loopback interface
// (or a unix socket), the only clients protected mode admits.
func isLoopback(a net.Addr) bool {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	case *net.UnixAddr:
		return true
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// protectedModeMsg is Redis's DENIED reply, adapted to dynago's flags.
const protectedModeMsg = "DENIED dynago is running in protected mode because protected mode is enabled and no password is set for the default user. " +
	"In this mode connections are only accepted from the loopback interface. " +
	"If you want to connect from external computers to dynago you may adopt one of the following solutions: " +
	"1) Set a password for the default user with --requirepass and connect with AUTH. " +
	"2) Restart dynago with --protected-mode=false, however MAKE SURE dynago is not publicly accessible from internet if you do so. " +
	"NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside."

// Shutdown stops accepting connections, stops reading new commands, lets
// the commands already read finish and their replies flush, then closes
// every connection. If ctx ends first, in-flight commands are cancelled
// and connections closed at once; Shutdown still waits for every goroutine
// it started (the pipeline workers included) and returns ctx's error. It
// is idempotent and safe to call concurrently; later calls wait like the
// first. A Server driven only through Handle needs no Shutdown; one whose
// connections ran concurrent waves (Serve) does, to stop their workers.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() {
		s.mu.Lock()
		s.closing.Store(true)
		for ln := range s.mu.listeners {
			ln.Close()
		}
		conns := make([]*conn, 0, len(s.mu.conns))
		for _, c := range s.mu.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		for _, c := range conns {
			c.interrupt()
		}
		go func() {
			s.conns.Wait()
			s.workers.close() // no wave runs once every connection has returned
			close(s.drained)
		}()
	})
	select {
	case <-s.drained:
		return nil
	case <-ctx.Done():
	}
	s.cancelBase()
	s.mu.Lock()
	for _, c := range s.mu.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	<-s.drained
	return ctx.Err()
}

// NewClient returns a client for driving Handle without a connection (tests,
// embedding). It starts unauthenticated when a password is set.
func (s *Server) NewClient() *Client {
	return s.newClient("", "")
}

func (s *Server) newClient(addr, laddr string) *Client {
	now := s.cfg.now()
	c := &Client{
		id:           s.nextID.Add(1),
		addr:         addr,
		laddr:        laddr,
		created:      now,
		proto:        2,
		requiresAuth: s.cfg.RequirePass != "",
		authed:       s.cfg.RequirePass == "",
		user:         "default",
	}
	c.lastUsed.Store(now.UnixNano())
	c.pushProto.Store(int32(c.proto))
	c.mu.user, c.mu.proto = c.user, c.proto
	c.tx.watchers = &s.watchers
	return c
}
