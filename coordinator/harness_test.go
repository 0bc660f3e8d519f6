package coordinator

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/dynago/dynago/engine"
	"github.com/dynago/dynago/version"
)

// memStore is an in-memory Store for fast unit tests of the request path
// (the shipped store is engine.Engine on pebble). One mutex serializes
// everything, which is enough for the semantics under test.
type memStore struct {
	mu    sync.Mutex
	data  map[string]version.Object // partition|key
	hints map[string]map[string]version.Object
	fail  bool // every write fails (an unwritable disk)
}

func newMemStore() *memStore {
	return &memStore{data: map[string]version.Object{}, hints: map[string]map[string]version.Object{}}
}

func mkey(p uint16, key []byte) string { return string([]byte{byte(p >> 8), byte(p)}) + string(key) }

func splitMkey(k string) (uint16, []byte) {
	return uint16(k[0])<<8 | uint16(k[1]), []byte(k[2:])
}

var errDisk = fmt.Errorf("memstore: injected write failure")

func (s *memStore) Get(p uint16, key []byte) (version.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data[mkey(p, key)], nil
}

func (s *memStore) Update(p uint16, key []byte, fn func(version.Object) (version.Object, bool, error)) (version.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.data[mkey(p, key)]
	next, write, err := fn(cur)
	if err != nil {
		return version.Object{}, err
	}
	if !write {
		return cur, nil
	}
	if s.fail {
		return version.Object{}, errDisk
	}
	if next.IsZero() {
		delete(s.data, mkey(p, key)) // the engine deletes on the zero Object
		return next, nil
	}
	s.data[mkey(p, key)] = next
	return next, nil
}

func (s *memStore) Merge(p uint16, key []byte, in version.Object) (version.Object, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return version.Object{}, false, errDisk
	}
	cur := s.data[mkey(p, key)]
	m := version.Merge(cur, in)
	changed := !m.VV.Equal(cur.VV)
	s.data[mkey(p, key)] = m
	return m, changed, nil
}

func (s *memStore) Scan(p uint16, after []byte, fn func([]byte, version.Object) bool) error {
	s.mu.Lock()
	var keys []string
	for k := range s.data {
		kp, kk := splitMkey(k)
		if kp == p && string(kk) > string(after) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	objs := make([]version.Object, len(keys))
	for i, k := range keys {
		objs[i] = s.data[k]
	}
	s.mu.Unlock()
	for i, k := range keys {
		_, kk := splitMkey(k)
		if !fn(kk, objs[i]) {
			break
		}
	}
	return nil
}

func (s *memStore) MergeMany(items []engine.MergeItem) ([]engine.MergeResult, error) {
	out := make([]engine.MergeResult, len(items))
	for i, it := range items {
		m, changed, err := s.Merge(it.P, it.Key, it.Object)
		if err != nil {
			return nil, err
		}
		out[i] = engine.MergeResult{Merged: m, Changed: changed}
	}
	return out, nil
}

func (s *memStore) FlushAll() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data = map[string]version.Object{}
	s.hints = map[string]map[string]version.Object{}
	return nil
}

func (s *memStore) PartitionKeys(p uint16) (keys, expires int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, o := range s.data {
		if kp, _ := splitMkey(k); kp == p {
			if w, ok := o.Value(time.Now().UnixMilli()); ok {
				keys++
				if w.Expiry != 0 {
					expires++
				}
			}
		}
	}
	return keys, expires
}

func (s *memStore) PutHint(target string, p uint16, key []byte, o version.Object) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errDisk
	}
	if s.hints[target] == nil {
		s.hints[target] = map[string]version.Object{}
	}
	s.hints[target][mkey(p, key)] = version.Merge(s.hints[target][mkey(p, key)], o)
	return nil
}

func (s *memStore) GetHint(target string, p uint16, key []byte) (version.Object, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.hints[target][mkey(p, key)]
	return o, ok, nil
}

func (s *memStore) ScanHints(target string, fn func(uint16, []byte, version.Object) bool) error {
	s.mu.Lock()
	var keys []string
	for k := range s.hints[target] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	objs := make([]version.Object, len(keys))
	for i, k := range keys {
		objs[i] = s.hints[target][k]
	}
	s.mu.Unlock()
	for i, k := range keys {
		p, kk := splitMkey(k)
		if !fn(p, kk, objs[i]) {
			break
		}
	}
	return nil
}

func (s *memStore) DeleteHint(target string, p uint16, key []byte, delivered version.Object) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.hints[target][mkey(p, key)]
	if !ok || !o.VV.Equal(delivered.VV) {
		return false, nil
	}
	delete(s.hints[target], mkey(p, key))
	return true, nil
}

func (s *memStore) HintCounts() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int64{}
	for t, m := range s.hints {
		if len(m) > 0 {
			out[t] = int64(len(m))
		}
	}
	return out
}

// PartitionKeysTotal counts every stored object (live or dead).
func (s *memStore) PartitionKeysTotal() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.data)
}

func (s *memStore) hintCount() int64 {
	var n int64
	for _, c := range s.HintCounts() {
		n += c
	}
	return n
}

// fixedPlacement places partition p's walk at the nodes in order starting
// at p mod len(nodes): consecutive partitions have consecutive owners, so
// every walk lists each node once.
type fixedPlacement struct {
	q     int
	nodes []string
}

func (f fixedPlacement) Q() int                { return f.q }
func (f fixedPlacement) Nodes() []string       { return f.nodes }
func (f fixedPlacement) Incoming(int) []string { return nil }
func (f fixedPlacement) Walk(p int) []string {
	out := make([]string, len(f.nodes))
	for i := range f.nodes {
		out[i] = f.nodes[(p+i)%len(f.nodes)]
	}
	return out
}

func nodeID(i int) string {
	sum := sha1.Sum([]byte(fmt.Sprintf("node-%d", i)))
	return hex.EncodeToString(sum[:])
}

// testCluster is an in-process cluster over a MemNetwork (docs/architecture.md §10).
type testCluster struct {
	t      *testing.T
	net    *MemNetwork
	ids    []string
	nodes  []*Coordinator
	stores []*memStore
	mu     sync.Mutex
	down   map[string]bool // the failure detector's view, shared by all nodes
	now    time.Time
	pub    [][]PubMessage // the pub/sub messages each node was handed (Deps.Deliver)
}

func newTestCluster(t *testing.T, size int, tweak func(*Config)) *testCluster {
	t.Helper()
	return newTestClusterWith(t, size, tweak, nil)
}

// newTestClusterWith starts size nodes; pl is their shared placement (nil:
// a fixedPlacement of all of them).
func newTestClusterWith(t *testing.T, size int, tweak func(*Config), pl func() Placement) *testCluster {
	t.Helper()
	seed := time.Now().UnixNano()
	t.Logf("network seed %d", seed)
	tc := &testCluster{t: t, net: NewMemNetwork(seed), down: map[string]bool{}, now: time.UnixMilli(1_700_000_000_000)}
	for i := range size {
		tc.ids = append(tc.ids, nodeID(i))
	}
	if pl == nil {
		fixed := fixedPlacement{q: 64, nodes: tc.ids}
		pl = func() Placement { return fixed }
	}
	for i, id := range tc.ids {
		st := newMemStore()
		cfg := DefaultConfig()
		cfg.Self = id
		raw, _ := hex.DecodeString(id)
		cfg.Actor = version.NewActor(raw, uint32(i+1))
		cfg.RequestTimeout = 2 * time.Second
		cfg.ReadRepairWait = 20 * time.Millisecond
		cfg.ReadRepairChance = 1     // the paper's reads of all N: tests of repair rely on them
		cfg.HintInterval = time.Hour // tests deliver hints by hand
		cfg.HintRate = 1_000_000
		cfg.Now = tc.clock
		if tweak != nil {
			tweak(&cfg)
		}
		var c *Coordinator
		h := HandlerFunc(func(ctx context.Context, from string, req *Request) *Response { return c.HandleRPC(ctx, from, req) })
		tr := tc.net.Register(id, h)
		var err error
		tc.pub = append(tc.pub, nil)
		deliver := func(msgs []PubMessage) {
			tc.mu.Lock()
			tc.pub[i] = append(tc.pub[i], msgs...)
			tc.mu.Unlock()
		}
		c, err = New(cfg, Deps{Store: st, Transport: tr, Placement: pl, Alive: tc.alive, Deliver: deliver})
		if err != nil {
			t.Fatal(err)
		}
		tc.nodes = append(tc.nodes, c)
		tc.stores = append(tc.stores, st)
	}
	t.Cleanup(func() {
		for _, c := range tc.nodes {
			c.Close(context.Background())
		}
		tc.net.Wait()
	})
	return tc
}

func (tc *testCluster) clock() time.Time {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	tc.now = tc.now.Add(time.Millisecond) // every write gets a distinct timestamp
	return tc.now
}

// nowMs is the test clock's current time, for reading expiries.
func (tc *testCluster) nowMs() int64 {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.now.UnixMilli()
}

func (tc *testCluster) alive(id string) bool {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return !tc.down[id]
}

// stop takes node i off the network and marks it dead in every view.
func (tc *testCluster) stop(i int) {
	tc.mu.Lock()
	tc.down[tc.ids[i]] = true
	tc.mu.Unlock()
	tc.net.Isolate(tc.ids[i])
}

// restart heals the network and marks every node alive again.
func (tc *testCluster) restart() {
	tc.mu.Lock()
	tc.down = map[string]bool{}
	tc.mu.Unlock()
	tc.net.Heal()
}

// settle waits for every node's background request work and every
// delivered call to finish.
func (tc *testCluster) settle() {
	for range 3 {
		tc.net.Wait()
		for _, c := range tc.nodes {
			c.quiesce()
		}
	}
}

// homes returns the indexes of key's home replicas, in walk order.
func (tc *testCluster) homes(key string, n int) []int {
	pl := tc.nodes[0].placement()
	walk := pl.Walk(Partition(pl, []byte(key)))
	var out []int
	for _, id := range walk[:n] {
		for i, x := range tc.ids {
			if x == id {
				out = append(out, i)
			}
		}
	}
	return out
}

// index of node id.
func (tc *testCluster) index(id string) int {
	for i, x := range tc.ids {
		if x == id {
			return i
		}
	}
	return -1
}

// local returns node i's own stored value of key ("" and false if none).
func (tc *testCluster) local(i int, key string) (string, bool) {
	pl := tc.nodes[i].placement()
	o, _ := tc.stores[i].Get(uint16(Partition(pl, []byte(key))), []byte(key))
	s, ok := o.Value(tc.nowMs() + 1)
	return string(s.Value), ok
}

func (tc *testCluster) set(i int, key, val string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := tc.nodes[i].Write(ctx, []byte(key), Op{Kind: OpSet, Value: []byte(val)})
	return err
}

func (tc *testCluster) get(i int, key string) (string, bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	o, err := tc.nodes[i].Get(ctx, []byte(key))
	if err != nil {
		return "", false, err
	}
	s, ok := o.Value(tc.nowMs() + 1)
	return string(s.Value), ok, nil
}
