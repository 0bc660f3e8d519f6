package antientropy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynago/dynago/engine"
	"github.com/dynago/dynago/internal/pace"
	"github.com/dynago/dynago/ring"
	"github.com/dynago/dynago/version"
)

// Store is the local storage anti-entropy reads and repairs; engine.Engine
// implements it.
type Store interface {
	Get(p uint16, key []byte) (version.Object, error)
	Scan(p uint16, after []byte, fn func(key []byte, o version.Object) bool) error
	MergeMany(items []engine.MergeItem) ([]engine.MergeResult, error)
}

// Peer reaches another replica's anti-entropy side; the coordinator
// implements it over the internode RPC. It must be safe for concurrent use.
type Peer interface {
	// Hashes asks node for the tree hashes req names (Tree.Answer).
	Hashes(ctx context.Context, node string, p int, req LevelRequest) ([]uint64, error)
	// KeyHashes asks node for the (key, hash) list of segments of p.
	KeyHashes(ctx context.Context, node string, p int, segments []int) ([]KeyHash, error)
	// Fetch asks node for its objects of keys (zero Objects for keys it
	// does not hold).
	Fetch(ctx context.Context, node string, p int, keys [][]byte) ([]version.Object, error)
	// Push merges objs into node's copies of keys.
	Push(ctx context.Context, node string, p int, keys [][]byte, objs []version.Object) error
}

// SyncConfig configures a Syncer.
type SyncConfig struct {
	// Self is this node's id.
	Self string
	// Q is the number of partitions; it decides the tree shape
	// (TreeShape), which every replica must share.
	Q int
	// Interval is the pause between rounds; a round compares every
	// partition this node replicates with each other live home replica.
	// Default 60 s (--ae-interval).
	Interval time.Duration
	// Off stops the rounds and the exchanges with returning nodes; the
	// trees are still kept and peers' exchanges still answered. Tests use
	// it (--ae-interval 0) to watch hints or read repair alone.
	Off bool
	// Rate bounds the keys repaired per second (--ae-rate); default 10000.
	Rate int
	// BusyPause is how long a repair waits while the node is busy with
	// foreground requests (Deps.Busy), at most BusyPauses times per batch;
	// defaults 20 ms and 50.
	BusyPause  time.Duration
	BusyPauses int
	// Now is the clock for expiry decisions and reports; nil: time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// SyncDeps are a Syncer's collaborators.
type SyncDeps struct {
	Store Store
	Peer  Peer
	// Ring returns the current ring (nil while the node has none).
	Ring func() *ring.Ring
	// Alive is the failure detector's view.
	Alive func(id string) bool
	// Busy reports foreground pressure (paper §6.5's admission control):
	// repairs pause while it is true. nil: never busy.
	Busy func() bool
}

// TreeShape returns the tree shape for q partitions: about a million leaf
// hashes per node in all (8 MiB), at least 64 leaves per tree, at most
// DefaultLeaves.
func TreeShape(q int) (leaves, fanout int) {
	leaves = DefaultLeaves
	for leaves > 64 && leaves*q > 1<<20 {
		leaves /= 2
	}
	return leaves, DefaultFanout
}

// SyncStats are the counters behind INFO antientropy.
type SyncStats struct {
	TreesBuilt      atomic.Int64 // partitions whose tree was built from disk
	Exchanges       atomic.Int64 // exchanges completed
	ExchangesEqual  atomic.Int64 // ... that found the trees equal at the root
	ExchangeErrors  atomic.Int64
	KeysRepaired    atomic.Int64 // objects merged here or pushed to a peer
	KeysSkippedDead atomic.Int64 // dead objects not copied to a replica lacking the key
	BytesSent       atomic.Int64 // hashes, key lists and objects sent
	BytesReceived   atomic.Int64
	LeavesHealed    atomic.Int64 // tree leaves corrected from the stored keys
	Rounds          atomic.Int64
}

// PartitionState is what DYNAGO AE shows for one partition.
type PartitionState struct {
	LastExchange time.Time
	LastPeer     string
	LastRepaired int
	Root         uint64
}

// Syncer keeps this node's replicas in sync with the others' (paper §4.7,
// docs/architecture.md §7): it owns one Merkle tree per partition, kept current by the
// engine's change hook (OnChange), and runs exchanges with the other home
// replicas of each partition it replicates — periodically, and at once with
// a node that comes back. It answers its peers' exchanges (Answer,
// KeyHashes).
//
// It owns one goroutine (Start, stopped by Close) that builds the trees
// from disk and then runs rounds.
type Syncer struct {
	cfg SyncConfig
	d   SyncDeps
	log *slog.Logger

	trees []*Tree
	ready atomic.Bool // every tree built

	mu      sync.Mutex
	parts   []PartitionState        // guarded by mu
	suspect []map[int]leafSuspicion // guarded by mu: per partition, by segment

	stats SyncStats
	kick  chan string
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	start atomic.Bool
}

// ErrNotReady is returned to a peer while this node's trees are still
// being built.
var ErrNotReady = errors.New("antientropy: trees not built yet")

// NewSyncer returns a syncer with empty trees.
func NewSyncer(cfg SyncConfig, d SyncDeps) (*Syncer, error) {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 10000
	}
	if cfg.BusyPause <= 0 {
		cfg.BusyPause = 20 * time.Millisecond
	}
	if cfg.BusyPauses <= 0 {
		cfg.BusyPauses = 50
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if !ring.ValidPartitions(cfg.Q) {
		return nil, fmt.Errorf("antientropy: invalid partition count %d", cfg.Q)
	}
	if d.Busy == nil {
		d.Busy = func() bool { return false }
	}
	s := &Syncer{cfg: cfg, d: d, log: cfg.Logger, parts: make([]PartitionState, cfg.Q), suspect: make([]map[int]leafSuspicion, cfg.Q),
		kick: make(chan string, 64), stop: make(chan struct{}), done: make(chan struct{})}
	leaves, fanout := TreeShape(cfg.Q)
	s.trees = make([]*Tree, cfg.Q)
	for p := range s.trees {
		var err error
		if s.trees[p], err = NewTree(leaves, fanout); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// OnChange is the engine's change hook: it moves key's contribution to its
// partition's tree from oldHash to newHash. O(depth), no I/O.
func (s *Syncer) OnChange(p uint16, key []byte, oldHash, newHash uint64) {
	if int(p) < len(s.trees) {
		s.trees[p].Update(key, oldHash, newHash)
	}
}

// Ready reports whether every tree has been built.
func (s *Syncer) Ready() bool { return s.ready.Load() }

// Stats returns the live counters.
func (s *Syncer) Stats() *SyncStats { return &s.stats }

// Partition returns partition p's state for DYNAGO AE.
func (s *Syncer) Partition(p int) PartitionState {
	s.mu.Lock()
	st := s.parts[p]
	s.mu.Unlock()
	st.Root = s.trees[p].Root()
	return st
}

// Start builds the trees from disk in the background, then runs rounds
// until Close. Client traffic is served meanwhile; peers asking before the
// trees are built get ErrNotReady and try again later.
func (s *Syncer) Start() {
	s.start.Store(true)
	go func() {
		defer close(s.done)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-s.stop:
				cancel()
			case <-s.done:
			}
		}()
		if err := s.BuildTrees(ctx); err != nil {
			if ctx.Err() == nil {
				s.log.Error("cannot build anti-entropy trees", "err", err)
			}
			return
		}
		if s.cfg.Off {
			<-s.stop
			return
		}
		t := time.NewTimer(s.cfg.Interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case id := <-s.kick:
				s.exchangeWith(ctx, id)
				continue
			case <-t.C:
			}
			if err := s.Round(ctx); err != nil && ctx.Err() == nil {
				s.log.Debug("anti-entropy round", "err", err)
			}
			t.Reset(s.cfg.Interval)
		}
	}()
}

// Close stops the goroutine and waits for it.
func (s *Syncer) Close() {
	s.once.Do(func() { close(s.stop) })
	if s.start.Load() {
		<-s.done
	}
}

// NodeAlive schedules an exchange of every shared partition with node id,
// which just came (back) alive.
func (s *Syncer) NodeAlive(id string) {
	select {
	case s.kick <- id:
	default:
	}
}

// BuildTrees rebuilds every tree from the stored objects. Writes that race
// with a partition's build may leave its tree slightly wrong; exchanges
// heal such leaves (SetLeafIf) when they meet them.
func (s *Syncer) BuildTrees(ctx context.Context) error {
	for p := range s.trees {
		if err := ctx.Err(); err != nil {
			return err
		}
		var scanErr error
		s.trees[p].Build(func(fn func(key []byte, h uint64)) {
			scanErr = s.d.Store.Scan(uint16(p), nil, func(key []byte, o version.Object) bool {
				fn(key, version.Hash(key, o))
				return true
			})
		})
		if scanErr != nil {
			return scanErr
		}
		s.stats.TreesBuilt.Add(1)
	}
	s.ready.Store(true)
	return nil
}

// Answer serves a peer's request for tree hashes of partition p.
func (s *Syncer) Answer(p int, req LevelRequest) ([]uint64, error) {
	if !s.ready.Load() {
		return nil, ErrNotReady
	}
	if p < 0 || p >= len(s.trees) {
		return nil, fmt.Errorf("%w: partition %d", ErrProtocol, p)
	}
	return s.trees[p].Answer(req)
}

// KeyHashes serves a peer's request for the (key, hash) list of segments
// of partition p, read from the stored objects. The leaves of those
// segments are healed on the way.
func (s *Syncer) KeyHashes(p int, segments []int) ([]KeyHash, error) {
	if !s.ready.Load() {
		return nil, ErrNotReady
	}
	if p < 0 || p >= len(s.trees) {
		return nil, fmt.Errorf("%w: partition %d", ErrProtocol, p)
	}
	return s.localKeyHashes(p, segments)
}

// leafSuspicion remembers a leaf whose hash disagreed with the stored keys
// at one scan: the scanned hash and the tree's hash then.
type leafSuspicion struct{ scanned, leaf uint64 }

// localKeyHashes lists the (key, hash) pairs of segments of p from the
// stored objects, and heals the tree where it drifted. A scan races with
// writes (a write is visible before its tree update lands), so one
// disagreement between a scan and the tree proves nothing; a leaf is
// corrected only when a later scan finds the same hash again while the
// tree's leaf did not move in between — then no write touched the segment
// and the tree is the one that is wrong.
func (s *Syncer) localKeyHashes(p int, segments []int) ([]KeyHash, error) {
	t := s.trees[p]
	in := t.SegmentFilter(segments)
	leafXOR := make(map[int]uint64, len(segments))
	for _, seg := range segments {
		leafXOR[seg] = 0
	}
	var out []KeyHash
	err := s.d.Store.Scan(uint16(p), nil, func(key []byte, o version.Object) bool {
		if !in(key) {
			return true
		}
		h := version.Hash(key, o)
		out = append(out, KeyHash{Key: append([]byte(nil), key...), Hash: h})
		leafXOR[t.Segment(key)] ^= h
		return true
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for seg, h := range leafXOR {
		leaf := t.Level(t.Depth(), seg, 1)[0]
		sus, seen := s.suspect[p][seg]
		switch {
		case h == leaf:
			delete(s.suspect[p], seg)
		case seen && sus.scanned == h && sus.leaf == leaf:
			// Only if the leaf is still the one read above: a write's
			// Update landing in between must not be overwritten.
			if t.SetLeafIf(seg, leaf, h) {
				s.stats.LeavesHealed.Add(1)
			}
			delete(s.suspect[p], seg)
		default:
			if s.suspect[p] == nil {
				s.suspect[p] = map[int]leafSuspicion{}
			}
			s.suspect[p][seg] = leafSuspicion{scanned: h, leaf: leaf}
		}
	}
	return out, nil
}

// Round runs one exchange for every partition this node replicates with
// each other live home replica whose id is greater than this node's (so
// each pair is compared once per round; the other side starts the pairs
// where it has the smaller id).
func (s *Syncer) Round(ctx context.Context) error {
	defer s.stats.Rounds.Add(1)
	r := s.d.Ring()
	if r == nil {
		return nil
	}
	var errs []error
	for p := range r.Q() {
		for _, peer := range s.peers(r, p) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if peer < s.cfg.Self {
				continue
			}
			if _, err := s.Exchange(ctx, p, peer); err != nil {
				errs = append(errs, fmt.Errorf("partition %d with %s: %w", p, peer[:8], err))
			}
		}
	}
	return errors.Join(errs...)
}

// Retries of an exchange with a returning node, which is often still
// building its trees when gossip first sees it alive.
const (
	kickRetries    = 20
	kickRetryPause = 500 * time.Millisecond
)

// exchangeWith runs exchanges of every shared partition with node id. A
// failed exchange is retried after a pause, kickRetries times in all for
// the call, so a peer still building its trees is compared once it can
// answer instead of at the next round.
func (s *Syncer) exchangeWith(ctx context.Context, id string) {
	r := s.d.Ring()
	if r == nil {
		return
	}
	retries := kickRetries
	for p := 0; p < r.Q(); p++ {
		if ctx.Err() != nil {
			return
		}
		if !slices.Contains(s.peers(r, p), id) {
			continue
		}
		_, err := s.Exchange(ctx, p, id)
		if err == nil {
			continue
		}
		s.log.Debug("anti-entropy with a returning node", "partition", p, "node", id, "err", err)
		if retries == 0 || pace.Sleep(ctx, kickRetryPause) != nil {
			return
		}
		retries--
		p-- // the same partition again
	}
}

// peers returns the other live home replicas of p, when this node is one.
func (s *Syncer) peers(r *ring.Ring, p int) []string {
	homes := r.PreferenceList(p)
	if !slices.Contains(homes, s.cfg.Self) {
		return nil
	}
	var out []string
	for _, id := range homes {
		if id != s.cfg.Self && s.d.Alive(id) {
			out = append(out, id)
		}
	}
	return out
}

// ExchangeResult is what one exchange found and did.
type ExchangeResult struct {
	Equal   bool // roots matched
	Fetched int  // objects merged here from the peer
	Pushed  int  // objects sent to the peer
	Cost    Cost
}

// Exchange compares partition p with peer and repairs both sides: keys one
// side lacks travel to it, keys that differ travel both ways and are merged
// (docs/architecture.md §3), so both replicas end with the same objects. A dead object
// (tombstones, expired values) is not copied to a replica that lacks the
// key: it has nothing to resurrect, and a tombstone the other side already
// reaped must not come back.
//
// Every failure counts in ExchangeErrors, except ErrNotReady for this
// node's own trees.
func (s *Syncer) Exchange(ctx context.Context, p int, peer string) (res ExchangeResult, err error) {
	if !s.ready.Load() {
		return res, ErrNotReady
	}
	defer func() {
		if err != nil {
			s.stats.ExchangeErrors.Add(1)
		}
	}()
	ex := NewExchange(s.trees[p])
	for ex.Phase() == PhaseHashes {
		var hashes []uint64
		if hashes, err = s.d.Peer.Hashes(ctx, peer, p, ex.Request()); err != nil {
			return res, err
		}
		if err = ex.HandleHashes(hashes); err != nil {
			return res, err
		}
	}
	if ex.Phase() == PhaseDone {
		res.Equal = true
		res.Cost = ex.Cost()
		s.finish(p, peer, res)
		return res, nil
	}
	segs := ex.Segments()
	remote, err := s.d.Peer.KeyHashes(ctx, peer, p, segs)
	if err != nil {
		return res, err
	}
	local, err := s.localKeyHashes(p, segs)
	if err != nil {
		return res, err
	}
	onlyLocal, onlyRemote, differ, err := ex.HandleKeys(local, remote)
	if err != nil {
		return res, err
	}
	res.Cost = ex.Cost()
	nowMs := s.cfg.Now().UnixMilli()
	if err = s.fetch(ctx, p, peer, onlyRemote, differ, nowMs, &res); err != nil {
		return res, err
	}
	if err = s.push(ctx, p, peer, onlyLocal, differ, nowMs, &res); err != nil {
		return res, err
	}
	s.finish(p, peer, res)
	return res, nil
}

func (s *Syncer) finish(p int, peer string, res ExchangeResult) {
	s.stats.Exchanges.Add(1)
	if res.Equal {
		s.stats.ExchangesEqual.Add(1)
	}
	s.stats.BytesSent.Add(int64(res.Cost.BytesSent))
	s.stats.BytesReceived.Add(int64(res.Cost.BytesReceived))
	s.mu.Lock()
	s.parts[p] = PartitionState{LastExchange: s.cfg.Now(), LastPeer: peer, LastRepaired: res.Fetched + res.Pushed}
	s.mu.Unlock()
}

// repairBatch is how many keys one Fetch or Push carries.
const repairBatch = 256

// copyable reports whether object o may be copied to a replica: not when
// the sender has no object, nor when o is dead (tombstones, expired values)
// and the receiver lacks the key (Exchange); such a skip is counted in
// KeysSkippedDead.
func (s *Syncer) copyable(o version.Object, receiverLacks bool, nowMs int64) bool {
	if o.IsZero() {
		return false
	}
	if receiverLacks && o.Dead(nowMs) {
		s.stats.KeysSkippedDead.Add(1)
		return false
	}
	return true
}

// fetch merges the peer's objects of onlyRemote and differ into the store.
func (s *Syncer) fetch(ctx context.Context, p int, peer string, onlyRemote, differ [][]byte, nowMs int64, res *ExchangeResult) error {
	keys := append(slices.Clone(onlyRemote), differ...)
	lacking := len(onlyRemote) // keys[:lacking] are keys this node lacks
	pacer := pace.New(s.cfg.Rate)
	for start := 0; start < len(keys); start += repairBatch {
		batch := keys[start:min(start+repairBatch, len(keys))]
		if err := s.admit(ctx, pacer, len(batch)); err != nil {
			return err
		}
		objs, err := s.d.Peer.Fetch(ctx, peer, p, batch)
		if err != nil {
			return err
		}
		if len(objs) != len(batch) {
			return fmt.Errorf("%w: %d objects for %d keys", ErrProtocol, len(objs), len(batch))
		}
		var items []engine.MergeItem
		for i, o := range objs {
			s.stats.BytesReceived.Add(int64(o.EncodedSize()))
			if !s.copyable(o, start+i < lacking, nowMs) {
				continue
			}
			items = append(items, engine.MergeItem{P: uint16(p), Key: batch[i], Object: o})
		}
		if len(items) > 0 {
			if _, err := s.d.Store.MergeMany(items); err != nil {
				return err
			}
		}
		res.Fetched += len(items)
		s.stats.KeysRepaired.Add(int64(len(items)))
	}
	return nil
}

// push sends this node's objects of onlyLocal and differ to the peer.
func (s *Syncer) push(ctx context.Context, p int, peer string, onlyLocal, differ [][]byte, nowMs int64, res *ExchangeResult) error {
	keys := append(slices.Clone(onlyLocal), differ...)
	lacking := len(onlyLocal) // keys[:lacking] are keys the peer lacks
	pacer := pace.New(s.cfg.Rate)
	for start := 0; start < len(keys); start += repairBatch {
		batch := keys[start:min(start+repairBatch, len(keys))]
		if err := s.admit(ctx, pacer, len(batch)); err != nil {
			return err
		}
		var sendKeys [][]byte
		var objs []version.Object
		for i, k := range batch {
			o, err := s.d.Store.Get(uint16(p), k)
			if err != nil {
				return err
			}
			if !s.copyable(o, start+i < lacking, nowMs) {
				continue
			}
			sendKeys = append(sendKeys, k)
			objs = append(objs, o)
			s.stats.BytesSent.Add(int64(len(k) + o.EncodedSize()))
		}
		if len(sendKeys) == 0 {
			continue
		}
		if err := s.d.Peer.Push(ctx, peer, p, sendKeys, objs); err != nil {
			return err
		}
		res.Pushed += len(sendKeys)
		s.stats.KeysRepaired.Add(int64(len(sendKeys)))
	}
	return nil
}

// admit paces repairs to the configured rate and yields to foreground
// traffic: while the node is busy it waits, up to BusyPauses pauses.
func (s *Syncer) admit(ctx context.Context, pacer *pace.Pacer, n int) error {
	for i := 0; i < s.cfg.BusyPauses && s.d.Busy(); i++ {
		if err := pace.Sleep(ctx, s.cfg.BusyPause); err != nil {
			return err
		}
	}
	return pacer.Wait(ctx, n)
}
