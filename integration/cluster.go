package integration

// The cluster harness: several dynago processes on loopback joined into one
// ring, and the probes the cluster tests share (INFO fields, the failure
// detector's view, a key's home replicas, a node's own copy of a key, hint
// queues). Every wait is a poll with a deadline whose failure message names
// what was awaited, what was last seen, and the tail of every node's log.

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClusterDefaults are the flags every test cluster gets before its own:
// fast failure detection, hint delivery and ring exchange, so that a test
// waits for seconds rather than tens of seconds. Later flags win, so a test
// may override any of them.
var ClusterDefaults = []string{
	"--probe-interval", "200ms",
	"--hint-interval", "200ms",
	"--push-pull-interval", "1s",
}

// Cluster is a set of dynago processes that form one ring. Nodes[0] is the
// seed; the others start with --join pointing at it.
type Cluster struct {
	t     testing.TB
	Nodes []*Proc // the members: nodes started, or prepared, as part of the ring
	Gone  []*Proc // nodes that left the ring (Drop); their logs stay in Logs

	args  []string // the flags every node of the cluster was given (Add reuses them)
	names map[*Proc]string
	place func(p *Proc, i int) // puts a new node somewhere other than loopback (Net.Place)

	mu    sync.Mutex
	admin map[*Proc]*redis.Client
}

// NewCluster starts size nodes (the first one alone, then the others with
// --join at it, side by side) and waits until every node reports the same
// ring of size live members.
func NewCluster(t testing.TB, size int, args ...string) *Cluster {
	t.Helper()
	c := PrepareCluster(t, size, args...)
	c.Start()
	return c
}

// PrepareCluster creates the nodes of a cluster without starting them.
// Every node listens on its own free port pair (client port and port+10000).
func PrepareCluster(t testing.TB, size int, args ...string) *Cluster {
	t.Helper()
	return prepareCluster(t, size, nil, args)
}

// prepareCluster is PrepareCluster; place, when not nil, is called on
// each new node with its index among the nodes the cluster ever had
// (Net.Place), before the node's flags are set.
func prepareCluster(t testing.TB, size int, place func(p *Proc, i int), args []string) *Cluster {
	t.Helper()
	c := &Cluster{t: t, admin: map[*Proc]*redis.Client{}, args: args, names: map[*Proc]string{}, place: place}
	t.Cleanup(c.closeAdmin)
	for i := 0; i < size; i++ {
		c.newNode()
	}
	seed := c.Nodes[0].Addr()
	for i, p := range c.Nodes {
		p.Args = append(append([]string{"--name", c.names[p]}, ClusterDefaults...), args...)
		if i > 0 {
			p.Args = append(p.Args, "--join", seed)
		}
	}
	return c
}

// newNode prepares one more node, named node<k> for the k-th node the
// cluster ever had, on a port pair no other node of the cluster uses.
func (c *Cluster) newNode() *Proc {
	used := map[int]bool{}
	for _, q := range append(slices.Clone(c.Nodes), c.Gone...) {
		used[q.Port], used[q.Port+10000] = true, true
	}
	p := NewProc(c.t)
	if c.place != nil {
		c.place(p, len(c.names))
	}
	for used[p.Port] || used[p.Port+10000] {
		p.Port = FreePort(c.t)
	}
	c.names[p] = fmt.Sprintf("node%d", len(c.names)+1)
	c.Nodes = append(c.Nodes, p)
	return p
}

// Add prepares (but does not start) a new node that joins the running
// cluster: the cluster's flags, then args, and --join at the first member
// that runs. It becomes a member of c.Nodes, so WaitRing then expects it.
func (c *Cluster) Add(args ...string) *Proc {
	c.t.Helper()
	seed := ""
	for _, q := range c.Nodes {
		if q.Running() {
			seed = q.Addr()
			break
		}
	}
	if seed == "" {
		c.Fatalf("Add: no member of the cluster runs")
	}
	return c.AddAlone(append(args, "--join", seed)...)
}

// AddAlone is Add without --join: the node starts as a cluster of its own
// until it is met (CLUSTER MEET).
func (c *Cluster) AddAlone(args ...string) *Proc {
	p := c.newNode()
	p.Args = append(append(append([]string{"--name", c.names[p]}, ClusterDefaults...), c.args...), args...)
	return p
}

// Drop takes p out of c.Nodes (after it left the ring or was removed from
// it) into c.Gone; it does not stop the process.
func (c *Cluster) Drop(p *Proc) {
	c.Nodes = slices.DeleteFunc(c.Nodes, func(q *Proc) bool { return q == p })
	c.Gone = append(c.Gone, p)
}

// Start starts the seed, then the other nodes side by side, and waits for
// the ring (WaitRing).
func (c *Cluster) Start() {
	c.t.Helper()
	start := time.Now()
	c.Nodes[0].Start()
	for _, p := range c.Nodes[1:] {
		p.Launch()
	}
	for _, p := range c.Nodes[1:] {
		p.WaitReady(30 * time.Second)
	}
	c.WaitRing(30 * time.Second)
	c.t.Logf("cluster of %d nodes formed in %v", len(c.Nodes), time.Since(start).Round(time.Millisecond))
}

// Restart starts a stopped or killed node again with its old data
// directory and flags, and waits until every node sees the full ring alive.
func (c *Cluster) Restart(p *Proc) {
	c.t.Helper()
	p.Start()
	c.WaitRing(30 * time.Second)
}

// Fatalf fails the test with the message followed by the tail of every
// node's log.
func (c *Cluster) Fatalf(format string, args ...any) {
	c.t.Helper()
	c.t.Fatalf("%s\n%s", fmt.Sprintf(format, args...), c.Logs(60))
}

// Logs returns the last lines lines of every node's log, without
// memberlist's debug lines.
func (c *Cluster) Logs(lines int) string {
	var b strings.Builder
	for _, p := range append(slices.Clone(c.Nodes), c.Gone...) {
		var log []string
		for _, line := range strings.Split(strings.TrimRight(p.Log(), "\n"), "\n") {
			// memberlist's debug chatter (probes, push/pull) would fill
			// the tail; its warnings and errors stay.
			if !strings.Contains(line, `level=DEBUG msg="memberlist:`) {
				log = append(log, line)
			}
		}
		if len(log) > lines {
			log = log[len(log)-lines:]
		}
		fmt.Fprintf(&b, "---- %s %s (last %d lines) ----\n%s\n", c.Name(p), p.Addr(), len(log), strings.Join(log, "\n"))
	}
	return b.String()
}

// Name is "node<k>" for the k-th node the cluster had (its --name).
func (c *Cluster) Name(p *Proc) string {
	if n, ok := c.names[p]; ok {
		return n
	}
	return p.Addr()
}

// Eventually polls cond until it reports true, for at most timeout; on
// timeout the test fails with what, cond's last detail and the logs.
func (c *Cluster) Eventually(timeout time.Duration, what string, cond func() (bool, string)) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.Fatalf("timed out after %v waiting for %s; last seen: %s", timeout, what, detail)
		}
		time.Sleep(50 * time.Millisecond) // polling real processes; nothing to wait on
	}
}

// Admin is a client for the harness's own probes of p: one per node,
// no retries and short timeouts, so that a probe of a dead node fails fast.
func (c *Cluster) Admin(p *Proc) *redis.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.admin[p]; ok {
		return cl
	}
	cl := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1, DialTimeout: time.Second,
		ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, PoolSize: 4})
	c.admin[p] = cl
	return cl
}

func (c *Cluster) closeAdmin() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cl := range c.admin {
		cl.Close()
	}
	c.admin = map[*Proc]*redis.Client{}
}

// Info returns the key:value lines of one INFO section of p.
func (c *Cluster) Info(p *Proc, section string) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	text, err := c.Admin(p).Info(ctx, section).Result()
	if err != nil {
		return nil, err
	}
	return parseInfo(text), nil
}

// MustInfo is Info that fails the test on error.
func (c *Cluster) MustInfo(p *Proc, section string) map[string]string {
	c.t.Helper()
	m, err := c.Info(p, section)
	if err != nil {
		c.Fatalf("INFO %s on %s: %v", section, c.Name(p), err)
	}
	return m
}

// InfoInt is an integer field of INFO section, summed over the nodes given
// (so a counter can be compared before and after across a cluster).
func (c *Cluster) InfoInt(section, field string, nodes ...*Proc) int64 {
	c.t.Helper()
	var sum int64
	for _, p := range nodes {
		v, ok := c.MustInfo(p, section)[field]
		if !ok {
			c.Fatalf("INFO %s on %s has no %s", section, c.Name(p), field)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			c.Fatalf("INFO %s on %s: %s=%q is not a number", section, c.Name(p), field, v)
		}
		sum += n
	}
	return sum
}

func parseInfo(text string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if ok {
			m[k] = v
		}
	}
	return m
}

// Member is one member line of INFO cluster (member<i>:id=…,addr=…,…).
type Member struct {
	ID, Name, Addr, State string
	Alive                 bool
}

// Members parses the member lines of an INFO cluster section.
func Members(info map[string]string) []Member {
	var ms []Member
	for i := 0; ; i++ {
		line, ok := info["member"+strconv.Itoa(i)]
		if !ok {
			return ms
		}
		var m Member
		for _, kv := range strings.Split(line, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "id":
				m.ID = v
			case "name":
				m.Name = v
			case "addr":
				m.Addr = v
			case "state":
				m.State = v
			case "alive":
				m.Alive = v == "1"
			}
		}
		ms = append(ms, m)
	}
}

// Others are the nodes of the cluster except the ones given.
func (c *Cluster) Others(except ...*Proc) []*Proc {
	var ps []*Proc
	for _, p := range c.Nodes {
		if !slices.Contains(except, p) {
			ps = append(ps, p)
		}
	}
	return ps
}

// WaitRing waits until every node of the cluster runs and reports the same
// ring epoch, ring_members equal to the cluster size, every member valid
// and alive (members removed from the ring stay listed as such and are
// skipped), and no pending partition transfer.
func (c *Cluster) WaitRing(timeout time.Duration) {
	c.t.Helper()
	c.Eventually(timeout, fmt.Sprintf("a ring of %d live members on every node", len(c.Nodes)), func() (bool, string) {
		epoch := ""
		for _, p := range c.Nodes {
			info, err := c.Info(p, "cluster")
			if err != nil {
				return false, fmt.Sprintf("%s: INFO cluster: %v", c.Name(p), err)
			}
			if epoch == "" {
				epoch = info["ring_epoch"]
			}
			if info["ring_epoch"] != epoch {
				return false, fmt.Sprintf("%s has ring_epoch %s, %s has %s", c.Name(p), info["ring_epoch"], c.Name(c.Nodes[0]), epoch)
			}
			if info["ring_members"] != strconv.Itoa(len(c.Nodes)) {
				return false, fmt.Sprintf("%s has ring_members:%s", c.Name(p), info["ring_members"])
			}
			if info["partitions_pending"] != "0" {
				return false, fmt.Sprintf("%s has partitions_pending:%s", c.Name(p), info["partitions_pending"])
			}
			for _, m := range Members(info) {
				if m.State == "removed" {
					continue // a tombstone of a node that left or was forgotten
				}
				if !m.Alive || m.State != "valid" {
					return false, fmt.Sprintf("%s sees %+v", c.Name(p), m)
				}
			}
		}
		return true, ""
	})
}

// WaitAlive waits until every observer's failure detector reports target
// as alive (or, with alive false, as dead) in its INFO cluster member line.
func (c *Cluster) WaitAlive(timeout time.Duration, target *Proc, alive bool, observers ...*Proc) {
	c.t.Helper()
	what := fmt.Sprintf("%s (%s) to be seen alive=%v by %d nodes", c.Name(target), target.Addr(), alive, len(observers))
	c.Eventually(timeout, what, func() (bool, string) {
		for _, o := range observers {
			info, err := c.Info(o, "cluster")
			if err != nil {
				return false, fmt.Sprintf("%s: INFO cluster: %v", c.Name(o), err)
			}
			found := false
			for _, m := range Members(info) {
				if m.Addr == target.Addr() {
					found = true
					if m.Alive != alive {
						return false, fmt.Sprintf("%s sees %+v", c.Name(o), m)
					}
				}
			}
			if !found {
				return false, fmt.Sprintf("%s has no member line for %s", c.Name(o), target.Addr())
			}
		}
		return true, ""
	})
}

// WaitHintsDrained waits until no node given holds a hint (INFO hints
// hints_pending:0 on each).
func (c *Cluster) WaitHintsDrained(timeout time.Duration, nodes ...*Proc) {
	c.t.Helper()
	c.Eventually(timeout, "hints_pending:0 on every node", func() (bool, string) {
		var pending []string
		for _, p := range nodes {
			info, err := c.Info(p, "hints")
			if err != nil {
				return false, fmt.Sprintf("%s: INFO hints: %v", c.Name(p), err)
			}
			if info["hints_pending"] != "0" {
				pending = append(pending, fmt.Sprintf("%s hints_pending:%s", c.Name(p), info["hints_pending"]))
			}
		}
		return len(pending) == 0, strings.Join(pending, ", ")
	})
}

// LocalCopy is DYNAGO LOCAL key on one node: its own stored copy.
type LocalCopy struct {
	Partition int
	Replica   bool     // the node is one of the key's home replicas
	Context   string   // the copy's version vector as a context token
	Values    []string // sibling values, sorted (tombstones left out, expired values kept)
	Live      []string // the values of Values that have not expired (by the test's clock)
	Siblings  int      // all siblings, tombstones included
	Hints     map[string][]string
}

// Local runs DYNAGO LOCAL key on p.
func (c *Cluster) Local(p *Proc, key string) (LocalCopy, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := c.Admin(p).Do(ctx, "DYNAGO", "LOCAL", key).Result()
	if err != nil {
		return LocalCopy{}, err
	}
	return parseLocal(v)
}

// MustLocal is Local that fails the test on error.
func (c *Cluster) MustLocal(p *Proc, key string) LocalCopy {
	c.t.Helper()
	lc, err := c.Local(p, key)
	if err != nil {
		c.Fatalf("DYNAGO LOCAL %q on %s: %v", key, c.Name(p), err)
	}
	return lc
}

func parseLocal(v any) (LocalCopy, error) {
	m, err := asMap(v)
	if err != nil {
		return LocalCopy{}, fmt.Errorf("DYNAGO LOCAL reply: %v", err)
	}
	var lc LocalCopy
	part, _ := m["partition"].(int64)
	lc.Partition = int(part)
	rep, _ := m["replica"].(int64)
	lc.Replica = rep == 1
	lc.Context, _ = m["context"].(string)
	lc.Values, lc.Siblings, err = siblingValues(m["siblings"])
	if err != nil {
		return LocalCopy{}, err
	}
	lc.Live = liveValues(m["siblings"], time.Now().UnixMilli())
	hints, err := asMap(m["hints"])
	if err != nil {
		return LocalCopy{}, fmt.Errorf("DYNAGO LOCAL hints: %v", err)
	}
	lc.Hints = map[string][]string{}
	for target, sibs := range hints {
		lc.Hints[target], _, err = siblingValues(sibs)
		if err != nil {
			return LocalCopy{}, err
		}
	}
	return lc, nil
}

// siblingValues reads a SIBLINGS-style array: the live values (sorted) and
// the number of siblings, tombstones included.
func siblingValues(v any) ([]string, int, error) {
	arr, ok := v.([]any)
	if !ok && v != nil {
		return nil, 0, fmt.Errorf("siblings is %T, not an array", v)
	}
	var vals []string
	for _, s := range arr {
		sm, err := asMap(s)
		if err != nil {
			return nil, 0, fmt.Errorf("sibling: %v", err)
		}
		if tomb, _ := sm["tombstone"].(int64); tomb == 1 {
			continue
		}
		val, _ := sm["value"].(string)
		vals = append(vals, val)
	}
	sort.Strings(vals)
	return vals, len(arr), nil
}

// liveValues are the values of the siblings (already checked by
// siblingValues) that are neither tombstones nor expired at nowMs, sorted.
func liveValues(v any, nowMs int64) []string {
	arr, _ := v.([]any)
	var vals []string
	for _, s := range arr {
		sm, _ := asMap(s)
		tomb, _ := sm["tombstone"].(int64)
		exp, _ := sm["expiry"].(int64)
		if tomb == 1 || (exp != 0 && exp <= nowMs) {
			continue
		}
		val, _ := sm["value"].(string)
		vals = append(vals, val)
	}
	sort.Strings(vals)
	return vals
}

// asMap turns a map reply (RESP3) or a flat key-value array (RESP2) into a
// map with string keys.
func asMap(v any) (map[string]any, error) {
	out := map[string]any{}
	switch v := v.(type) {
	case map[any]any:
		for k, val := range v {
			out[fmt.Sprint(k)] = val
		}
	case []any:
		if len(v)%2 != 0 {
			return nil, fmt.Errorf("array of odd length %d is not a map", len(v))
		}
		for i := 0; i < len(v); i += 2 {
			out[fmt.Sprint(v[i])] = v[i+1]
		}
	case nil:
	default:
		return nil, fmt.Errorf("%T is not a map", v)
	}
	return out, nil
}

// HomeReplicas are the nodes that report themselves (DYNAGO LOCAL
// replica:1) as a home replica of key. Every node must be running.
func (c *Cluster) HomeReplicas(key string) []*Proc {
	c.t.Helper()
	var homes []*Proc
	for _, p := range c.Nodes {
		if c.MustLocal(p, key).Replica {
			homes = append(homes, p)
		}
	}
	return homes
}

// Acked records the writes a store acknowledged (key -> value), safe for
// concurrent writers; a write whose call failed is never recorded.
type Acked struct {
	mu sync.Mutex
	m  map[string]string
}

// NewAcked returns an empty record.
func NewAcked() *Acked { return &Acked{m: map[string]string{}} }

// Put records an acknowledged write.
func (a *Acked) Put(k, v string) {
	a.mu.Lock()
	a.m[k] = v
	a.mu.Unlock()
}

// Len is the number of keys recorded.
func (a *Acked) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.m)
}

// Snapshot copies the record.
func (a *Acked) Snapshot() map[string]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := make(map[string]string, len(a.m))
	for k, v := range a.m {
		m[k] = v
	}
	return m
}

// CheckAcked reads every acknowledged key with GET through each node given
// (pipelined) and fails the test on the first key missing or different.
func (c *Cluster) CheckAcked(acked map[string]string, nodes ...*Proc) {
	c.t.Helper()
	keys := make([]string, 0, len(acked))
	for k := range acked {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ctx := context.Background()
	for _, p := range nodes {
		err := pipelineEach(ctx, c.Admin(p), keys,
			func(pipe redis.Pipeliner, k string) *redis.StringCmd { return pipe.Get(ctx, k) },
			func(i int, cmd *redis.StringCmd) error {
				if got, err := cmd.Result(); err != nil || got != acked[keys[i]] {
					return fmt.Errorf("acknowledged write lost: GET %q on %s = %q, %v; want %q (%d keys checked)",
						keys[i], c.Name(p), got, err, acked[keys[i]], len(keys))
				}
				return nil
			})
		if err != nil {
			c.Fatalf("%v", err)
		}
	}
	c.t.Logf("%d acknowledged keys read back through %d nodes", len(keys), len(nodes))
}

// pipelineEach queues one command per key on cl (queue), in pipelines of
// 500 commands, and hands each command, after its pipeline ran, to each
// with the key's index; the first error each returns ends it.
func pipelineEach[C redis.Cmder](ctx context.Context, cl *redis.Client, keys []string,
	queue func(pipe redis.Pipeliner, key string) C, each func(i int, cmd C) error) error {
	for start := 0; start < len(keys); start += 500 {
		batch := keys[start:min(start+500, len(keys))]
		pipe := cl.Pipeline()
		cmds := make([]C, len(batch))
		for i, k := range batch {
			cmds[i] = queue(pipe, k)
		}
		_, _ = pipe.Exec(ctx)
		for i := range batch {
			if err := each(start+i, cmds[i]); err != nil {
				return err
			}
		}
	}
	return nil
}
