package ring

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// Membership runs gossip membership and failure detection on
// hashicorp/memberlist (paper §4.8, docs/architecture.md §5) and keeps this node's copy of
// the ring.
//
// The ring is versioned state: every node holds one, changes come from
// Propose (an operator's join, leave or remove, or a transfer's commit) and
// raise the epoch, and nodes reconcile with Merge, which picks the same
// ring on every node whatever order rings arrive in. A changed ring is sent
// to every live member over memberlist's TCP streams (rings outgrow a UDP
// packet) and memberlist's periodic push/pull exchanges it with a random
// member, so every node converges even after missing a send.
//
// Failure detection is memberlist's SWIM. A node it declares dead stays in
// the ring (§4.8: an outage is not a departure); Alive reports the
// detector's view so the coordinator routes around it.
//
// Goroutines: memberlist's own, the event loop that persists rings and
// calls the callbacks in order, and the reconcile loop (joins seeds,
// bootstraps a new cluster, re-proposes this node when a concurrent change
// lost it). Shutdown stops them all.
type Membership struct {
	cfg   MembershipConfig
	log   *slog.Logger
	ml    *memberlist.Memberlist
	ring  atomic.Pointer[Ring] // nil until this node has a ring
	start time.Time

	// proposeMu serializes ring changes made here, so two local proposals
	// cannot both build on the same ring.
	proposeMu sync.Mutex

	// mu guards the failure detector's view.
	mu    sync.RWMutex
	alive map[string]bool   // guarded by mu: node id -> alive
	meta  map[string]Member // guarded by mu: node id -> what it announces

	events   chan func()
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	joining  atomic.Bool // a background rejoin is running
}

// MetaStore keeps the ring across restarts (engine.Engine implements it).
type MetaStore interface {
	GetMeta(name string) ([]byte, bool, error)
	PutMeta(name string, v []byte) error
}

// MembershipConfig configures StartMembership.
type MembershipConfig struct {
	// Self is this node as it announces itself (ID, Name, addresses, zone).
	Self Member
	// Q and N shape a new ring when this node creates one.
	Q, N int
	// Seeds are cluster addresses of nodes to join.
	Seeds []string
	// Secret encrypts gossip (AES-256-GCM with a key derived from it) and
	// keeps clusters with another secret apart. Empty: no encryption.
	Secret string
	// Port is the cluster port memberlist runs on.
	Port *ClusterPort
	// Store persists the ring (meta key "ring").
	Store MetaStore
	// OnRing is called after the ring changed (old is nil for the first
	// ring). OnAlive is called when the failure detector sees a node join
	// or come back; OnDead when it declares one dead. Callbacks run on one
	// goroutine, in order, never concurrently; they may call Ring, Alive and
	// Propose but must not block for long.
	OnRing  func(old, cur *Ring)
	OnAlive func(id string)
	OnDead  func(id string)
	// Timing. Zero values take memberlist's LAN defaults, except
	// PushPullInterval (default 10 s: the ring's anti-entropy) and
	// BootstrapAfter.
	ProbeInterval, ProbeTimeout, GossipInterval, PushPullInterval time.Duration
	SuspicionMult                                                 int
	// BootstrapAfter is how long a new node with seeds waits to receive a
	// ring before it creates one (default 3 s): nodes started together
	// with each other as seeds all wait, then one ring wins and the others
	// join it.
	BootstrapAfter time.Duration
	Logger         *slog.Logger
}

const metaRing = "ring"

// Message kinds of memberlist user messages (NotifyMsg).
const msgRing byte = 'R'

// ErrNoRing is returned by Propose before this node has a ring.
var ErrNoRing = errors.New("ring: this node has no ring yet (still joining)")

// StartMembership starts gossip on cfg.Port and joins cfg.Seeds in the
// background. The node's ring is the one it stored, or a new ring of
// itself alone when it has no seeds and none stored.
func StartMembership(cfg MembershipConfig) (*Membership, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PushPullInterval == 0 {
		cfg.PushPullInterval = 10 * time.Second
	}
	if cfg.BootstrapAfter == 0 {
		cfg.BootstrapAfter = 3 * time.Second
	}
	if err := cfg.Self.check(); err != nil {
		return nil, err
	}
	m := &Membership{
		cfg: cfg, log: cfg.Logger, start: time.Now(),
		alive:  map[string]bool{cfg.Self.ID: true},
		meta:   map[string]Member{cfg.Self.ID: cfg.Self},
		events: make(chan func(), 1024),
		stop:   make(chan struct{}),
	}
	stored, err := m.loadRing()
	if err != nil {
		return nil, err
	}
	switch {
	case stored != nil:
		m.ring.Store(stored)
	case len(cfg.Seeds) == 0:
		r, err := New(cfg.Q, cfg.N, []Member{cfg.Self})
		if err != nil {
			return nil, err
		}
		m.ring.Store(r)
		m.persist(r)
	}

	mc := memberlist.DefaultLANConfig()
	mc.Name = cfg.Self.ID
	mc.Transport = cfg.Port
	mc.Delegate = (*mlDelegate)(m)
	mc.Events = (*mlEvents)(m)
	mc.PushPullInterval = cfg.PushPullInterval
	mc.Logger = log.New(&slogWriter{l: cfg.Logger}, "", 0)
	if cfg.ProbeInterval > 0 {
		mc.ProbeInterval = cfg.ProbeInterval
	}
	if cfg.ProbeTimeout > 0 {
		mc.ProbeTimeout = cfg.ProbeTimeout
	}
	if cfg.GossipInterval > 0 {
		mc.GossipInterval = cfg.GossipInterval
	}
	if cfg.SuspicionMult > 0 {
		mc.SuspicionMult = cfg.SuspicionMult
	}
	ip, port, err := cfg.Port.FinalAdvertiseAddr("", 0)
	if err != nil {
		return nil, err
	}
	mc.AdvertiseAddr, mc.AdvertisePort = ip.String(), port
	mc.BindAddr, mc.BindPort = cfg.Port.Addr().IP.String(), cfg.Port.Addr().Port
	if cfg.Secret != "" {
		key := sha256.Sum256([]byte("dynago-gossip:" + cfg.Secret))
		mc.SecretKey = key[:]
		mc.GossipVerifyIncoming, mc.GossipVerifyOutgoing = true, true
	}
	// The label keeps dynago's gossip apart from any other memberlist
	// cluster on the same network.
	mc.Label = "dynago"
	// A dead member is contacted again by rejoin; a short TCP timeout
	// keeps those attempts (and push/pull with a paused node) brief.
	mc.TCPTimeout = 2 * time.Second
	if m.ml, err = memberlist.Create(mc); err != nil {
		return nil, fmt.Errorf("ring: start gossip: %w", err)
	}
	m.wg.Add(2)
	go func() { defer m.wg.Done(); m.eventLoop() }()
	go func() { defer m.wg.Done(); m.reconcileLoop() }()
	if r := m.ring.Load(); r != nil {
		m.emit(func() { m.callRing(nil, r) })
	}
	return m, nil
}

// Ring returns this node's current ring, or nil while a new node waits to
// receive one.
func (m *Membership) Ring() *Ring { return m.ring.Load() }

// Alive reports whether the failure detector considers node id up. This
// node is always alive to itself.
func (m *Membership) Alive(id string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.alive[id]
}

// Announced returns what node id announced about itself over gossip
// (addresses, name, zone), for nodes the failure detector has seen.
func (m *Membership) Announced(id string) (Member, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	mem, ok := m.meta[id]
	return mem, ok
}

// Join contacts the nodes at the given cluster addresses (CLUSTER MEET).
// It returns once one of them answered.
func (m *Membership) Join(addrs []string) error {
	n, err := m.ml.Join(addrs)
	if n > 0 {
		return nil
	}
	return fmt.Errorf("ring: join %s: %w", strings.Join(addrs, ","), err)
}

// Propose applies fn to the current ring and, if the result differs,
// adopts it and sends it to every live member. fn must return a ring with a
// higher epoch (every Ring operation does), or nil / the same ring for no
// change.
func (m *Membership) Propose(fn func(cur *Ring) (*Ring, error)) (*Ring, error) {
	m.proposeMu.Lock()
	defer m.proposeMu.Unlock()
	cur := m.ring.Load()
	if cur == nil {
		return nil, ErrNoRing
	}
	next, err := fn(cur)
	if err != nil || next == nil || next.Equal(cur) {
		return cur, err
	}
	if next.Epoch() <= cur.Epoch() {
		return nil, fmt.Errorf("ring: proposed epoch %d is not above %d", next.Epoch(), cur.Epoch())
	}
	m.adopt(next)
	return m.ring.Load(), nil
}

// adopt merges r into the current ring; when that changes it, the result
// is stored, persisted, announced and reported, in that order.
func (m *Membership) adopt(r *Ring) {
	for {
		cur := m.ring.Load()
		merged := r
		if cur != nil {
			merged = Merge(cur, r)
			if merged.Equal(cur) {
				return
			}
		}
		if !m.ring.CompareAndSwap(cur, merged) {
			continue // another adopt won the race: merge again
		}
		m.emit(func() {
			m.persist(merged)
			m.broadcast(merged)
			m.callRing(cur, merged)
		})
		return
	}
}

func (m *Membership) callRing(old, cur *Ring) {
	m.log.Info("ring changed", "epoch", cur.Epoch(), "members", len(cur.Members()))
	if m.cfg.OnRing != nil {
		m.cfg.OnRing(old, cur)
	}
}

// broadcast sends r to every live member over TCP.
func (m *Membership) broadcast(r *Ring) {
	if m.ring.Load() != r {
		return // a newer ring is on its way out already
	}
	msg := append([]byte{msgRing}, r.Encode()...)
	for _, n := range m.ml.Members() {
		if n.Name == m.cfg.Self.ID {
			continue
		}
		if err := m.ml.SendReliable(n, msg); err != nil {
			m.log.Debug("send ring", "to", n.Name, "err", err)
		}
	}
}

func (m *Membership) loadRing() (*Ring, error) {
	b, ok, err := m.cfg.Store.GetMeta(metaRing)
	if err != nil || !ok {
		return nil, err
	}
	r, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("ring: stored ring: %w", err)
	}
	if r.Q() != m.cfg.Q {
		return nil, fmt.Errorf("ring: the data directory's ring has %d partitions, not %d (Q is fixed when the cluster is created)", r.Q(), m.cfg.Q)
	}
	return r, nil
}

func (m *Membership) persist(r *Ring) {
	if err := m.cfg.Store.PutMeta(metaRing, r.Encode()); err != nil {
		m.log.Error("cannot persist ring", "epoch", r.Epoch(), "err", err)
	}
}

// emit queues fn for the event loop. The queue is large; if it is ever full
// emit waits, which slows memberlist down rather than losing a ring.
func (m *Membership) emit(fn func()) {
	select {
	case m.events <- fn:
	case <-m.stop:
	}
}

func (m *Membership) eventLoop() {
	for {
		select {
		case fn := <-m.events:
			fn()
		case <-m.stop:
			return
		}
	}
}

// reconcileLoop keeps this node in the cluster: it joins the seeds until
// one answers, creates a ring if none arrives in time, re-proposes itself
// when a concurrent change left it out of the ring, and contacts ring
// members the failure detector holds dead.
func (m *Membership) reconcileLoop() {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	seeds := m.cfg.Seeds
	if len(seeds) == 0 {
		// A node restarted without --join still knows its cluster from
		// the ring it stored.
		seeds = m.memberAddrs(false)
	}
	joined := len(seeds) == 0
	for tick := 0; ; tick++ {
		if !joined {
			joined = m.Join(seeds) == nil
		}
		m.reconcile()
		if joined && tick%10 == 0 {
			m.rejoin()
		}
		select {
		case <-t.C:
		case <-m.stop:
			return
		}
	}
}

// memberAddrs returns the cluster addresses of the ring's other members
// that are not removed; with deadOnly, only those the failure detector
// holds dead.
func (m *Membership) memberAddrs(deadOnly bool) []string {
	r := m.ring.Load()
	if r == nil {
		return nil
	}
	var out []string
	for _, mem := range r.Members() {
		if mem.ID == m.cfg.Self.ID || mem.State == Removed || mem.ClusterAddr == "" {
			continue
		}
		if deadOnly && m.Alive(mem.ID) {
			continue
		}
		out = append(out, mem.ClusterAddr)
	}
	return out
}

// rejoin contacts ring members the failure detector holds dead, in the
// background. memberlist stops gossiping with a node some time after it
// died; without this a node that comes back, or the other side of a healed
// network partition, would never be heard from again (paper §4.8: an
// outage is not a departure).
func (m *Membership) rejoin() {
	addrs := m.memberAddrs(true)
	if len(addrs) == 0 || !m.joining.CompareAndSwap(false, true) {
		return
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer m.joining.Store(false)
		if m.Join(addrs) == nil {
			m.log.Info("contacted ring members held dead", "addrs", strings.Join(addrs, ","))
		}
	}()
}

func (m *Membership) reconcile() {
	r := m.ring.Load()
	self := m.cfg.Self
	if r == nil {
		if time.Since(m.start) < m.cfg.BootstrapAfter {
			return
		}
		nr, err := New(m.cfg.Q, m.cfg.N, []Member{self})
		if err != nil {
			m.log.Error("cannot create ring", "err", err)
			return
		}
		m.log.Info("no ring received from the seeds: creating one")
		m.adopt(nr)
		return
	}
	cur, ok := r.Member(self.ID)
	switch {
	case ok && cur.State == Removed:
		return // an operator removed this node: it stays out
	case !ok:
		m.Propose(func(r *Ring) (*Ring, error) {
			if _, in := r.Member(self.ID); in {
				return nil, nil
			}
			joining := self
			joining.State = Joining
			next, err := r.WithMember(joining)
			if err != nil {
				return nil, err
			}
			return r.Stage(next)
		})
	case cur.ClientAddr != self.ClientAddr || cur.ClusterAddr != self.ClusterAddr || cur.Name != self.Name:
		// The node restarted with new addresses: announce them.
		m.Propose(func(r *Ring) (*Ring, error) {
			c, _ := r.Member(self.ID)
			c.ClientAddr, c.ClusterAddr, c.Name = self.ClientAddr, self.ClusterAddr, self.Name
			return r.WithMember(c)
		})
	}
}

// Shutdown leaves the gossip cluster (the node stays in the ring) and
// stops every goroutine. It is idempotent.
func (m *Membership) Shutdown() error {
	var err error
	m.stopOnce.Do(func() {
		close(m.stop)
		if lerr := m.ml.Leave(time.Second); lerr != nil {
			m.log.Debug("gossip leave", "err", lerr)
		}
		// Shutting memberlist down closes the cluster port, which ends a
		// rejoin in progress at once.
		err = m.ml.Shutdown()
		m.wg.Wait()
	})
	return err
}

// mlDelegate is memberlist's Delegate: node metadata, the ring messages
// and the push/pull state.
type mlDelegate Membership

func (d *mlDelegate) m() *Membership { return (*Membership)(d) }

// NodeMeta announces this node's addresses, name and zone.
func (d *mlDelegate) NodeMeta(limit int) []byte {
	b, _ := json.Marshal(d.cfg.Self)
	if len(b) > limit {
		return nil
	}
	return b
}

// NotifyMsg receives rings sent by other nodes.
func (d *mlDelegate) NotifyMsg(b []byte) {
	if len(b) < 2 || b[0] != msgRing {
		return
	}
	d.m().receive(b[1:])
}

// GetBroadcasts sends nothing over UDP gossip: rings travel over TCP.
func (d *mlDelegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }

// LocalState is the ring, for push/pull.
func (d *mlDelegate) LocalState(join bool) []byte {
	if r := d.m().Ring(); r != nil {
		return r.Encode()
	}
	return nil
}

// MergeRemoteState merges a peer's ring from push/pull.
func (d *mlDelegate) MergeRemoteState(buf []byte, join bool) {
	if len(buf) > 0 {
		d.m().receive(buf)
	}
}

func (m *Membership) receive(b []byte) {
	r, err := Decode(b)
	if err != nil {
		m.log.Warn("ignoring a malformed ring from a peer", "err", err)
		return
	}
	if r.Q() != m.cfg.Q || r.N() != m.cfg.N {
		m.log.Error("ignoring a ring of another shape: every node must run with the same --partitions and --n",
			"their_partitions", r.Q(), "their_n", r.N(), "our_partitions", m.cfg.Q, "our_n", m.cfg.N)
		return
	}
	m.adopt(r)
}

// mlEvents is memberlist's EventDelegate: the failure detector's view.
type mlEvents Membership

func (e *mlEvents) m() *Membership { return (*Membership)(e) }

func (e *mlEvents) NotifyJoin(n *memberlist.Node)   { e.m().seen(n, true) }
func (e *mlEvents) NotifyUpdate(n *memberlist.Node) { e.m().seen(n, true) }
func (e *mlEvents) NotifyLeave(n *memberlist.Node)  { e.m().seen(n, false) }

func (m *Membership) seen(n *memberlist.Node, alive bool) {
	if n.Name == m.cfg.Self.ID {
		return
	}
	var mem Member
	hasMeta := json.Unmarshal(n.Meta, &mem) == nil && mem.ID == n.Name
	m.mu.Lock()
	was := m.alive[n.Name]
	m.alive[n.Name] = alive
	if hasMeta {
		m.meta[n.Name] = mem
	}
	m.mu.Unlock()
	switch {
	case alive && !was:
		m.log.Info("node alive", "id", n.Name, "addr", n.Address())
		if m.cfg.OnAlive != nil {
			m.emit(func() { m.cfg.OnAlive(n.Name) })
		}
	case !alive && was:
		m.log.Warn("node failed", "id", n.Name, "addr", n.Address())
		if m.cfg.OnDead != nil {
			m.emit(func() { m.cfg.OnDead(n.Name) })
		}
	}
}

// slogWriter turns memberlist's log lines into debug records ("[DEBUG]",
// "[WARN]" prefixes mapped to levels).
type slogWriter struct{ l *slog.Logger }

func (w *slogWriter) Write(p []byte) (int, error) {
	line := string(bytes.TrimSpace(p))
	switch {
	case strings.Contains(line, "[ERR]"):
		w.l.Error("memberlist: " + line)
	case strings.Contains(line, "[WARN]"):
		w.l.Warn("memberlist: " + line)
	default:
		w.l.Debug("memberlist: " + line)
	}
	return len(p), nil
}

var _ io.Writer = (*slogWriter)(nil)
