package resp

// Handler tests for the Redis Cluster face (docs/architecture.md §5), without sockets:
// reply shapes in RESP2 and RESP3 over a fake ClusterBackend, CLUSTER
// NODES read by a parser that mirrors redis-cli's and redis-benchmark's,
// and the answers of a server that is not a cluster node.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dynago/dynago/coordinator"
	"github.com/dynago/dynago/ring"
	"github.com/dynago/dynago/version"
)

// fakeCluster is a ClusterBackend that answers a fixed view and records
// the membership calls it gets.
type fakeCluster struct {
	mu      sync.Mutex
	view    ClusterView
	local   LocalCopy
	reports map[string][]InfoSection
	err     error // returned by Meet, Remove, Leave, Local and Report
	calls   []string
	// localCons is the consistency override Local's ctx carried.
	localCons coordinator.Consistency
}

func (f *fakeCluster) record(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	return f.err
}

func (f *fakeCluster) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.calls
	f.calls = nil
	return out
}

func (f *fakeCluster) View(ctx context.Context) ClusterView {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.view
}

func (f *fakeCluster) Meet(ctx context.Context, host string, port, cport int) error {
	return f.record(fmt.Sprintf("meet %s %d %d", host, port, cport))
}

func (f *fakeCluster) Remove(ctx context.Context, id string) error {
	return f.record("remove " + id)
}

func (f *fakeCluster) Leave(ctx context.Context, id string) error {
	return f.record("leave " + id)
}

func (f *fakeCluster) Local(ctx context.Context, key []byte) (LocalCopy, error) {
	err := f.record("local " + string(key))
	f.mu.Lock()
	defer f.mu.Unlock()
	f.localCons = coordinator.ConsistencyFrom(ctx)
	return f.local, err
}

func (f *fakeCluster) Report(ctx context.Context, name string) ([]InfoSection, error) {
	err := f.record("report " + name)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reports[name], err
}

// spyBackend is the in-memory Backend, recording the consistency override
// each Get and Write carried in its ctx and which server handled each key.
type spyBackend struct {
	*memBackend
	server int
	seen   *routeLog

	mu   sync.Mutex
	cons []coordinator.Consistency
	// cluster, when set, is returned by Info as a backend Cluster section.
	cluster []InfoField
}

func (s *spyBackend) note(ctx context.Context, op string, key []byte) {
	s.mu.Lock()
	s.cons = append(s.cons, coordinator.ConsistencyFrom(ctx))
	s.mu.Unlock()
	if s.seen != nil {
		s.seen.add(op, string(key), s.server)
	}
}

func (s *spyBackend) lastCons() coordinator.Consistency {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cons) == 0 {
		return coordinator.Consistency{R: -1, W: -1}
	}
	return s.cons[len(s.cons)-1]
}

func (s *spyBackend) Get(ctx context.Context, key []byte) (version.Object, error) {
	s.note(ctx, "get", key)
	return s.memBackend.Get(ctx, key)
}

func (s *spyBackend) Write(ctx context.Context, key []byte, op coordinator.Op) (coordinator.Result, error) {
	s.note(ctx, "write", key)
	return s.memBackend.Write(ctx, key, op)
}

func (s *spyBackend) Info(ctx context.Context) []InfoSection {
	out := s.memBackend.Info(ctx)
	if s.cluster != nil {
		out = append(out, InfoSection{Name: "Cluster", Fields: s.cluster})
	}
	return out
}

// routeLog records, per operation and key, the servers that handled it.
type routeLog struct {
	mu   sync.Mutex
	seen map[string][]int // "get k" → server indexes
}

func (r *routeLog) add(op, key string, server int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string][]int{}
	}
	r.seen[op+" "+key] = append(r.seen[op+" "+key], server)
}

func (r *routeLog) servers(op, key string) []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen[op+" "+key])
}

// newClusterHarness is newHarness over a spyBackend with fc enabled.
func newClusterHarness(t *testing.T, fc *fakeCluster) (*harness, *spyBackend) {
	t.Helper()
	clock := newTestClock()
	cfg := testConfig(clock)
	spy := &spyBackend{memBackend: newMemBackend(clock, cfg.MaxValueBytes)}
	s, err := New(cfg, spy)
	if err != nil {
		t.Fatal(err)
	}
	if fc != nil {
		s.EnableCluster(fc)
	}
	return &harness{t: t, s: s, b: spy.memBackend, clock: clock, c: s.NewClient(), w: NewWriter(2)}, spy
}

// Node ids of the test views.
var (
	idA = strings.Repeat("a1", 20)
	idB = strings.Repeat("b2", 20)
	idC = strings.Repeat("c3", 20)
)

// ids names idA, idB, idC in expected replies.
var ids = strings.NewReplacer("$A", idA, "$B", idB, "$C", idC)

// twoNodes is a small healthy view: A (this node) heads 0-8191, B the rest.
func twoNodes() ClusterView {
	return ClusterView{MyID: idA, Epoch: 3, OK: true, N: 2, R: 1, W: 1, Partitions: 16,
		Nodes: []ClusterNode{
			{ID: idA, Name: "n1", Host: "127.0.0.1", Port: 7001, CPort: 17001, Zone: "z1", Alive: true, Myself: true, State: "valid", Owned: 8},
			{ID: idB, Name: "n2", Host: "127.0.0.1", Port: 7002, CPort: 17002, Zone: "z2", Alive: true, State: "valid", Owned: 8},
		},
		Ranges: []SlotRange{{0, 8191, []string{idA, idB}}, {8192, 16383, []string{idB, idA}}},
	}
}

// rotatingView is a view of len(addrs) nodes over q equal ranges, range p
// replicated on nodes p, p+1, … p+n-1 (mod the node count), as a ring with
// one partition per range would place them. me is this node's index.
func rotatingView(addrs []string, nodeIDs []string, q, n, me int) ClusterView {
	v := ClusterView{MyID: nodeIDs[me], Epoch: 5, OK: true, N: n, R: 2, W: 2, Partitions: q}
	for i, a := range addrs {
		host, port, _ := splitHostPort(a)
		p, _ := strconv.Atoi(port)
		v.Nodes = append(v.Nodes, ClusterNode{ID: nodeIDs[i], Name: "n" + strconv.Itoa(i+1), Host: host, Port: p, CPort: p + 10000,
			Alive: true, Myself: i == me, State: "valid", Owned: q / len(addrs)})
	}
	width := 16384 / q
	for p := range q {
		r := SlotRange{Start: uint16(p * width), End: uint16(p*width + width - 1)}
		for k := range n {
			r.Replicas = append(r.Replicas, nodeIDs[(p+k)%len(addrs)])
		}
		v.Ranges = append(v.Ranges, r)
	}
	return v
}

// TestClusterDisabled: without EnableCluster the family answers as a
// non-cluster Redis 7 does, while DYNAGO CONSISTENCY keeps working.
func TestClusterDisabled(t *testing.T) {
	h := newHarness(t)
	for _, cmd := range []string{
		"CLUSTER INFO", "CLUSTER NODES", "CLUSTER SLOTS", "CLUSTER SHARDS", "CLUSTER MYID", "CLUSTER KEYSLOT k",
		"CLUSTER MEET 127.0.0.1 7000", "CLUSTER FORGET x", "CLUSTER HELP", "CLUSTER ADDSLOTS 1",
		"READONLY", "READWRITE", "ASKING",
		"DYNAGO LOCAL k", "DYNAGO RING", "DYNAGO HINTS", "DYNAGO AE", "DYNAGO TRANSFERS", "DYNAGO LEAVE", "DYNAGO REMOVE x",
	} {
		if got := h.do(cmd); got != "(error) "+msgClusterDisabled {
			t.Errorf("%s: %s", cmd, got)
		}
	}
	h.run([]step{
		{"CLUSTER NOSUCH", "(error) ERR unknown subcommand 'NOSUCH'. Try CLUSTER HELP."},
		{"DYNAGO CONSISTENCY 1 2", "OK"},
		{"DYNAGO CONSISTENCY", `["r", (integer) 1, "w", (integer) 2]`},
	})
	if got := h.do("DYNAGO HELP"); !strings.Contains(got, "CONSISTENCY: ") {
		t.Errorf("DYNAGO HELP: %s", got)
	}
	if got := h.do("INFO cluster"); got != `"# Cluster\r\ncluster_enabled:0\r\n"` {
		t.Errorf("INFO cluster: %s", got)
	}
	if got := h.do("INFO server"); !strings.Contains(got, `redis_mode:standalone`) {
		t.Errorf("INFO server: %s", got)
	}
}

// TestClusterReplies pins every reply shape in both protocol versions.
func TestClusterReplies(t *testing.T) {
	fc := &fakeCluster{view: twoNodes(), reports: map[string][]InfoSection{
		"hints": {{Name: "Hints", Fields: []InfoField{{"hints_pending", "3"}, {"hints_" + idB, "3"}}}},
		"ae":    {{Name: "Antientropy", Fields: []InfoField{{"partition_0", "last=5s"}}}, {Name: "Totals", Fields: []InfoField{{"keys_repaired", "0"}}}},
	}}
	h, _ := newClusterHarness(t, fc)
	info := `cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\ncluster_slots_pfail:0\r\ncluster_slots_fail:0\r\n` +
		`cluster_known_nodes:2\r\ncluster_size:2\r\ncluster_current_epoch:3\r\ncluster_my_epoch:3\r\ncluster_stats_messages_sent:0\r\n` +
		`cluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\ncluster_partitions:16\r\ncluster_n:2\r\ncluster_r:1\r\ncluster_w:1\r\n`
	nodes := `$A 127.0.0.1:7001@17001 myself,master - 0 0 3 connected 0-8191\n$B 127.0.0.1:7002@17002 master - 0 0 3 connected 8192-16383\n`
	slots := `[[(integer) 0, (integer) 8191, ["127.0.0.1", (integer) 7001, "$A", M], ["127.0.0.1", (integer) 7002, "$B", M]], ` +
		`[(integer) 8192, (integer) 16383, ["127.0.0.1", (integer) 7002, "$B", M], ["127.0.0.1", (integer) 7001, "$A", M]]]`
	shardNode := func(id string, port int, role string) string {
		return fmt.Sprintf(`{"id": "%s", "port": (integer) %d, "ip": "127.0.0.1", "endpoint": "127.0.0.1", "role": "%s", "replication-offset": (integer) 0, "health": "online"}`, id, port, role)
	}
	shards := `[{"slots": [(integer) 0, (integer) 8191], "nodes": [` + shardNode("$A", 7001, "master") + `, ` + shardNode("$B", 7002, "replica") + `]}, ` +
		`{"slots": [(integer) 8192, (integer) 16383], "nodes": [` + shardNode("$B", 7002, "master") + `, ` + shardNode("$A", 7001, "replica") + `]}]`
	ringNode := func(id, name string, port, alive, myself int, zone string) string {
		return fmt.Sprintf(`{"id": "%s", "name": "%s", "addr": "127.0.0.1:%d", "cport": (integer) %d, "zone": "%s", "state": "valid", "alive": (integer) %d, "owned": (integer) 8, "myself": (integer) %d}`,
			id, name, port, port+10000, zone, alive, myself)
	}
	ringReply := `{"myid": "$A", "epoch": (integer) 3, "state": "ok", "partitions": (integer) 16, "n": (integer) 2, "r": (integer) 1, "w": (integer) 1, "nodes": [` +
		ringNode("$A", "n1", 7001, 1, 1, "z1") + `, ` + ringNode("$B", "n2", 7002, 1, 0, "z2") + `], "ranges": [` +
		`{"start": (integer) 0, "end": (integer) 8191, "replicas": ["$A", "$B"]}, {"start": (integer) 8192, "end": (integer) 16383, "replicas": ["$B", "$A"]}]}`

	// want3 is the RESP3 rendering; RESP2 turns maps into flat arrays and
	// verbatim strings into bulk strings.
	for _, tc := range []struct{ cmd, want3 string }{
		{"CLUSTER INFO", `(verbatim) "` + info + `"`},
		{"CLUSTER MYID", `"$A"`},
		{"CLUSTER NODES", `(verbatim) "` + nodes + `"`},
		{"CLUSTER SLOTS", strings.ReplaceAll(slots, "M", "{}")},
		{"CLUSTER SHARDS", shards},
		{"CLUSTER KEYSLOT {user1}.cart", "(integer) 8106"},
		{"CLUSTER KEYSLOT foo", "(integer) 12182"},
		{"cluster keyslot {}x", "(integer) " + strconv.Itoa(int(ring.Slot([]byte("{}x"))))},
		{"DYNAGO RING", ringReply},
		{"DYNAGO HINTS", `(verbatim) "# Hints\r\nhints_pending:3\r\nhints_$B:3\r\n"`},
		{"DYNAGO AE", `(verbatim) "# Antientropy\r\npartition_0:last=5s\r\n\r\n# Totals\r\nkeys_repaired:0\r\n"`},
		{"DYNAGO TRANSFERS", `(verbatim) ""`},
		{"DYNAGO CONSISTENCY", `{"r": (integer) 0, "w": (integer) 0}`},
		{"READONLY", "OK"},
		{"READWRITE", "OK"},
		{"ASKING", "OK"},
	} {
		want3 := ids.Replace(tc.want3)
		want2 := toRESP2(want3)
		for _, proto := range []int{2, 3} {
			h.c.proto = proto
			want := map[int]string{2: want2, 3: want3}[proto]
			if got := h.do(tc.cmd); got != want {
				t.Errorf("RESP%d %s\n got: %s\nwant: %s", proto, tc.cmd, got, want)
			}
		}
	}
	if got := fc.takeCalls(); !slices.Equal(got, []string{"report hints", "report hints", "report ae", "report ae", "report transfers", "report transfers"}) {
		t.Errorf("backend calls: %q", got)
	}
	h.c.proto = 2
	if got := h.do("CLUSTER MYSHARDID"); len(got) != 42 || strings.Trim(got[1:41], "0123456789abcdef") != "" || got != h.do("CLUSTER MYSHARDID") {
		t.Errorf("CLUSTER MYSHARDID: %s", got)
	}
}

// toRESP2 rewrites an expected RESP3 rendering as RESP2 renders it: maps
// become flat arrays ("k": v → "k", v) and verbatim strings bulk strings.
// It works on the renderings of this file, whose strings hold no braces.
func toRESP2(s string) string {
	s = strings.ReplaceAll(s, "(verbatim) ", "")
	var b strings.Builder
	inStr := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '"' && (i == 0 || s[i-1] != '\\'):
			inStr = !inStr
		case inStr:
		case ch == '{':
			ch = '['
		case ch == '}':
			ch = ']'
		case ch == ':' && i+1 < len(s) && s[i+1] == ' ' && i > 0 && s[i-1] == '"':
			ch = ','
		}
		b.WriteByte(ch)
	}
	return b.String()
}

// TestClusterViewEdges: dead nodes, nodes without an address or without
// ranges, ranges naming unknown nodes, and slot runs that CLUSTER NODES
// merges.
func TestClusterViewEdges(t *testing.T) {
	v := ClusterView{MyID: idA, Epoch: 9, OK: false, N: 3, R: 2, W: 2, Partitions: 16,
		Nodes: []ClusterNode{
			{ID: idA, Host: "10.0.0.1", Port: 6379, CPort: 16379, Alive: true, Myself: true},
			{ID: idB, Host: "10.0.0.2", Port: 6379, CPort: 16379, Alive: false},
			{ID: idC, Port: 6379, CPort: 16379, Alive: true}, // no address yet, heads nothing
		},
		Ranges: []SlotRange{
			{0, 99, []string{idA, idB}},
			{100, 199, []string{idA, "unknown"}}, // adjacent, same master: merged in NODES
			{200, 16000, []string{idB, idA}},     // no live replica: the dead one heads it
			{16001, 16383, []string{"unknown"}},  // nobody known: left out of SLOTS
		},
	}
	h, _ := newClusterHarness(t, &fakeCluster{view: v})
	h.run([]step{
		{"CLUSTER NODES", ids.Replace(`"$A 10.0.0.1:6379@16379 myself,master - 0 0 9 connected 0-199\n` +
			`$B 10.0.0.2:6379@16379 master,fail - 0 0 9 disconnected 200-16000\n` +
			`$C :6379@16379 master,noaddr - 0 0 9 connected\n"`)},
		{"CLUSTER SLOTS", ids.Replace(`[[(integer) 0, (integer) 99, ["10.0.0.1", (integer) 6379, "$A", []]], ` +
			`[(integer) 100, (integer) 199, ["10.0.0.1", (integer) 6379, "$A", []]], ` +
			`[(integer) 200, (integer) 16000, ["10.0.0.2", (integer) 6379, "$B", []], ["10.0.0.1", (integer) 6379, "$A", []]]]`)},
	})
	info := h.do("CLUSTER INFO")
	for _, want := range []string{`cluster_state:fail\r\n`, `cluster_slots_assigned:16384\r\n`, `cluster_slots_ok:200\r\n`,
		`cluster_slots_fail:16184\r\n`, `cluster_known_nodes:3\r\n`, `cluster_size:2\r\n`} {
		if !strings.Contains(info, want) {
			t.Errorf("CLUSTER INFO lacks %s:\n%s", want, info)
		}
	}
	shards := h.do("CLUSTER SHARDS")
	// Four replica lists, plus C's own empty shard; B is failed, the
	// unknown id is left out.
	if n := strings.Count(shards, `"slots", `); n != 5 {
		t.Errorf("CLUSTER SHARDS: %d shards:\n%s", n, shards)
	}
	if !strings.Contains(shards, ids.Replace(`["slots", [], "nodes", [["id", "$C", "port", (integer) 6379, "ip", "", "endpoint", "", "role", "master"`)) ||
		!strings.Contains(shards, ids.Replace(`"role", "master", "replication-offset", (integer) 0, "health", "failed"`)) ||
		!strings.Contains(shards, `["slots", [(integer) 16001, (integer) 16383], "nodes", []]`) {
		t.Errorf("CLUSTER SHARDS:\n%s", shards)
	}

	nodes, err := parseClusterNodes(unquote(t, h.do("CLUSTER NODES")))
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 3 || !nodes[1].fail || nodes[1].slotCount != 15801 || nodes[2].slotCount != 0 || nodes[0].slotCount != 200 {
		t.Errorf("parsed: %+v", nodes)
	}
}

// TestClusterMembershipCommands: CLUSTER MEET / FORGET and DYNAGO LEAVE /
// REMOVE reach the backend with the right arguments; bad input never does.
func TestClusterMembershipCommands(t *testing.T) {
	fc := &fakeCluster{view: twoNodes()}
	h, _ := newClusterHarness(t, fc)
	h.run(ids2steps([]step{
		{"CLUSTER MEET 10.0.0.9 7005", "OK"},
		{"CLUSTER MEET node9.example 7005 17777", "OK"},
		{"CLUSTER MEET 10.0.0.9 x", "(error) ERR Invalid TCP base port specified: x"},
		{"CLUSTER MEET 10.0.0.9 7005 y", "(error) ERR Invalid TCP bus port specified: y"},
		{"CLUSTER MEET 10.0.0.9 70000", "(error) ERR Invalid node address specified: 10.0.0.9:70000"},
		{"CLUSTER MEET 10.0.0.9 0", "(error) ERR Invalid node address specified: 10.0.0.9:0"},
		{"CLUSTER MEET 10.0.0.9 7005 0", "(error) ERR Invalid node address specified: 10.0.0.9:7005"},
		{`CLUSTER MEET "" 7005`, "(error) ERR Invalid node address specified: :7005"},
		{"CLUSTER MEET 10.0.0.9 7005 17005 extra", "(error) ERR syntax error"},
		{"CLUSTER MEET 10.0.0.9", "(error) ERR wrong number of arguments for 'cluster|meet' command"},
		{"CLUSTER FORGET $B", "OK"},
		{"CLUSTER FORGET n2", "(error) ERR Unknown node n2"},
		{"CLUSTER FORGET $A", "(error) ERR I tried hard but I can't forget myself..."},
		{"DYNAGO REMOVE n2", "OK"},
		{"DYNAGO REMOVE $B", "OK"},
		{"DYNAGO REMOVE nobody", "(error) ERR Unknown node nobody"},
		{"DYNAGO REMOVE n1", "(error) ERR a node cannot remove itself: use DYNAGO LEAVE"},
		{"DYNAGO LEAVE", "OK"},
		{"DYNAGO LEAVE n1", "OK"},
		{"DYNAGO LEAVE N2", "OK"},
		{"DYNAGO LEAVE nobody", "(error) ERR Unknown node nobody"},
		{"DYNAGO LEAVE a b", "(error) ERR syntax error"},
	}))
	want := []string{"meet 10.0.0.9 7005 0", "meet node9.example 7005 17777", "remove " + idB, "remove " + idB, "remove " + idB,
		"leave ", "leave ", "leave " + idB}
	if got := fc.takeCalls(); !slices.Equal(got, want) {
		t.Errorf("calls:\n got %q\nwant %q", got, want)
	}

	// Backend errors keep their cause; a membership change cut short by
	// the deadline may still happen, and the reply says so.
	fc.err = errors.New("ring: join refused: the cluster holds data")
	h.run([]step{
		{"CLUSTER MEET 10.0.0.9 7005", "(error) ERR ring: join refused: the cluster holds data"},
		{"DYNAGO LEAVE", "(error) ERR ring: join refused: the cluster holds data"},
	})
	fc.err = fmt.Errorf("leave: %w", context.DeadlineExceeded)
	h.run([]step{
		{"DYNAGO REMOVE n2", "(error) TRYAGAIN request timed out after 5s (write may be applied)"},
		{"CLUSTER FORGET " + idB, "(error) TRYAGAIN request timed out after 5s (write may be applied)"},
	})
}

// unquote undoes the rendering of a bulk string reply.
func unquote(t *testing.T, rendered string) string {
	t.Helper()
	s, err := strconv.Unquote(rendered)
	if err != nil {
		t.Fatalf("not a bulk string: %s", rendered)
	}
	return s
}

func ids2steps(steps []step) []step {
	for i := range steps {
		steps[i].cmd, steps[i].want = ids.Replace(steps[i].cmd), ids.Replace(steps[i].want)
	}
	return steps
}

// TestClusterUnsupported: the slot-management commands get a clear error
// naming the reason, whatever their arguments.
func TestClusterUnsupported(t *testing.T) {
	h, _ := newClusterHarness(t, &fakeCluster{view: twoNodes()})
	h.run([]step{
		{"CLUSTER ADDSLOTS 1 2 3", "(error) ERR CLUSTER ADDSLOTS is not supported by dynago: slots are assigned by the ring"},
		{"CLUSTER addslotsrange 0 100", "(error) ERR CLUSTER ADDSLOTSRANGE is not supported by dynago: slots are assigned by the ring"},
		{"CLUSTER SETSLOT 1 NODE x", "(error) ERR CLUSTER SETSLOT is not supported by dynago: slots are assigned by the ring"},
		{"CLUSTER RESET HARD", "(error) ERR CLUSTER RESET is not supported by dynago: slots are assigned by the ring"},
		{"CLUSTER FAILOVER", "(error) ERR CLUSTER FAILOVER is not supported by dynago: every node is a master; the replicas of a range are in CLUSTER SLOTS"},
		{"CLUSTER REPLICATE x", "(error) ERR CLUSTER REPLICATE is not supported by dynago: every node is a master; the replicas of a range are in CLUSTER SLOTS"},
		{"CLUSTER COUNTKEYSINSLOT 5", "(error) ERR CLUSTER COUNTKEYSINSLOT is not supported by dynago: keys are not indexed by slot; use SCAN"},
		{"CLUSTER GETKEYSINSLOT 5 10", "(error) ERR CLUSTER GETKEYSINSLOT is not supported by dynago: keys are not indexed by slot; use SCAN"},
	})
}

// TestReadOnlyFlag: READONLY shows as CLIENT INFO's "r" flag until
// READWRITE.
func TestReadOnlyFlag(t *testing.T) {
	h, _ := newClusterHarness(t, &fakeCluster{view: twoNodes()})
	flags := func() string {
		t.Helper()
		got := h.do("CLIENT INFO")
		i := strings.Index(got, " flags=")
		return strings.Fields(got[i+1:])[0]
	}
	if f := flags(); f != "flags=N" {
		t.Errorf("before READONLY: %s", f)
	}
	h.do("READONLY")
	if f := flags(); f != "flags=r" {
		t.Errorf("after READONLY: %s", f)
	}
	h.do("READWRITE")
	if f := flags(); f != "flags=N" {
		t.Errorf("after READWRITE: %s", f)
	}
}

// TestClusterInfoSections: INFO says cluster_enabled:1 and redis_mode
// cluster (redis-cli --cluster refuses a node without them), also when the
// backend brings its own Cluster section.
func TestClusterInfoSections(t *testing.T) {
	h, spy := newClusterHarness(t, &fakeCluster{view: twoNodes()})
	if got := h.do("INFO cluster"); got != `"# Cluster\r\ncluster_enabled:1\r\n"` {
		t.Errorf("INFO cluster: %s", got)
	}
	spy.cluster = []InfoField{{"cluster_members", "2"}}
	if got := h.do("INFO cluster"); got != `"# Cluster\r\ncluster_enabled:1\r\ncluster_members:2\r\n"` {
		t.Errorf("INFO cluster with the backend's section: %s", got)
	}
	if got := h.do("INFO"); strings.Count(got, "# Cluster") != 1 || !strings.Contains(got, `redis_mode:cluster`) {
		t.Errorf("INFO: %s", got)
	}
	if got := h.do("HELLO 3"); !strings.Contains(got, `"mode": "cluster"`) {
		t.Errorf("HELLO 3: %s", got)
	}
}

// TestClusterCommandTable: COMMAND describes the family as cluster
// clients need: containers without keys, DYNAGO LOCAL read-only with its
// key at position 2 (after the container and subcommand names).
func TestClusterCommandTable(t *testing.T) {
	h, _ := newClusterHarness(t, &fakeCluster{view: twoNodes()})
	h.run([]step{
		{"COMMAND GETKEYS DYNAGO LOCAL mykey", `["mykey"]`},
		{"COMMAND GETKEYS CLUSTER KEYSLOT mykey", "(error) ERR The command has no key arguments"},
		{"COMMAND INFO readonly", `[["readonly", (integer) 1, [loading, stale, fast], (integer) 0, (integer) 0, (integer) 0, [@fast, @connection], [], [], []]]`},
	})
	for _, name := range []string{"cluster", "dynago"} {
		if got := h.do("COMMAND INFO " + name); !strings.HasPrefix(got, `[["`+name+`", (integer) -2, [], (integer) 0, (integer) 0, (integer) 0,`) {
			t.Errorf("COMMAND INFO %s: %.200s", name, got)
		}
	}
	if got := h.do("COMMAND INFO dynago|local"); !strings.HasPrefix(got, `[["dynago|local", (integer) 3, [readonly], (integer) 2, (integer) 2, (integer) 1,`) {
		t.Errorf("COMMAND INFO dynago|local: %s", got)
	}
	if got := h.do("COMMAND DOCS cluster"); !strings.Contains(got, `"cluster|slots"`) || strings.Contains(got, `"dynago`) {
		t.Errorf("COMMAND DOCS cluster: %.300s", got)
	}
	if got := h.do("COMMAND DOCS dynago"); !strings.Contains(got, `"dynago|local"`) || !strings.Contains(got, `"summary"`) {
		t.Errorf("COMMAND DOCS dynago: %.300s", got)
	}
}
