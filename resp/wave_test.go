package resp

// Tests of pipelined waves (wave.go): replies in order, one key's commands
// in order, connection state switching exactly at its place, errors,
// deadlines, the output limit, panics and Shutdown in the middle of a
// concurrent wave. Most run runBatch on a connection over an in-memory
// net.Conn; the Shutdown and panic tests use loopback sockets. Concurrency
// is proven with barriers (a call waits until the whole wave is in
// flight), never with sleeps.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynago/dynago/coordinator"
	"github.com/dynago/dynago/version"
)

// hookBackend is the memBackend with a hook before every Get and Write,
// and ParallelReads answering remote.
type hookBackend struct {
	*memBackend
	remote bool
	// hook runs before each call with its key; a non-nil error fails the
	// call. nil: no hook.
	hook func(ctx context.Context, key []byte, write bool) error
	// after runs once each call has returned. nil: none.
	after func(key []byte, write bool)
}

func (hb *hookBackend) ParallelReads() bool { return hb.remote }

func (hb *hookBackend) Get(ctx context.Context, key []byte) (version.Object, error) {
	if hb.hook != nil {
		if err := hb.hook(ctx, key, false); err != nil {
			return version.Object{}, err
		}
	}
	if hb.after != nil {
		defer hb.after(key, false)
	}
	return hb.memBackend.Get(ctx, key)
}

func (hb *hookBackend) Write(ctx context.Context, key []byte, op coordinator.Op) (coordinator.Result, error) {
	if hb.hook != nil {
		if err := hb.hook(ctx, key, true); err != nil {
			return coordinator.Result{}, err
		}
	}
	if hb.after != nil {
		defer hb.after(key, true)
	}
	return hb.memBackend.Write(ctx, key, op)
}

// newHookHarness is newHarness over a hookBackend.
func newHookHarness(t *testing.T, hb *hookBackend, mutate ...func(*Config)) *harness {
	t.Helper()
	clock := newTestClock()
	cfg := testConfig(clock)
	for _, f := range mutate {
		f(&cfg)
	}
	hb.memBackend = newMemBackend(clock, DefaultMaxValueBytes)
	s, err := New(cfg, hb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return &harness{t: t, s: s, b: hb.memBackend, clock: clock, c: s.NewClient(), w: NewWriter(2)}
}

// inflight counts the calls in flight. With want > 0 every call waits
// until want calls are in flight at once (or its ctx ends): a wave that
// ran one command after another would time out instead.
type inflight struct {
	want    int
	mu      sync.Mutex
	n, max  int
	release chan struct{}
}

func newInflight(want int) *inflight { return &inflight{want: want, release: make(chan struct{})} }

func (f *inflight) enter(ctx context.Context) error {
	f.mu.Lock()
	f.n++
	f.max = max(f.max, f.n)
	if f.n == f.want {
		close(f.release)
	}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.n--
		f.mu.Unlock()
	}()
	if f.want == 0 {
		return nil
	}
	select {
	case <-f.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *inflight) maxSeen() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.max
}

// captureConn is a net.Conn that keeps what the server writes.
type captureConn struct {
	net.Conn // nil: only the methods below are called
	out      bytes.Buffer
	closed   bool
}

func (cc *captureConn) Write(p []byte) (int, error) {
	if cc.closed {
		return 0, net.ErrClosed
	}
	return cc.out.Write(p)
}
func (cc *captureConn) Close() error                     { cc.closed = true; return nil }
func (cc *captureConn) SetReadDeadline(time.Time) error  { return nil }
func (cc *captureConn) SetWriteDeadline(time.Time) error { return nil }
func (cc *captureConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2}
}
func (cc *captureConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 6379}
}

// testConn drives one server connection without a socket: its parser and
// runBatch, as serveConn does.
type testConn struct {
	t  *testing.T
	s  *Server
	c  *conn
	nc *captureConn
}

func newTestConn(t *testing.T, s *Server) *testConn {
	nc := &captureConn{}
	c := s.newConn(nc)
	t.Cleanup(c.client.releaseCtx)
	return &testConn{t: t, s: s, c: c, nc: nc}
}

// send pipelines the command lines in one write and runs what the parser
// makes of them; it returns the bytes the server wrote and whether the
// connection stays open.
func (tc *testConn) send(lines ...string) ([]byte, bool) {
	tc.t.Helper()
	var in bytes.Buffer
	for _, line := range lines {
		args := split(line)
		in.WriteString("*" + itoa(len(args)) + "\r\n")
		for _, a := range args {
			in.WriteString("$" + itoa(len(a)) + "\r\n")
			in.Write(a)
			in.WriteString("\r\n")
		}
	}
	r := bytes.NewReader(in.Bytes())
	open := true
	for open {
		tc.c.p.lim = tc.s.limitsFor(tc.c.client)
		cmds, err := tc.c.p.readBatch(r)
		if len(cmds) > 0 && !tc.s.runBatch(tc.c, cmds) {
			open = false
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tc.t.Fatalf("readBatch: %v", err)
		}
	}
	out := bytes.Clone(tc.nc.out.Bytes())
	tc.nc.out.Reset()
	return out, open
}

// replies sends the lines and renders every reply.
func (tc *testConn) replies(lines ...string) []string {
	tc.t.Helper()
	raw, open := tc.send(lines...)
	if !open {
		tc.t.Fatalf("%q: connection closed", lines)
	}
	var out []string
	for len(raw) > 0 {
		r, rest, err := render(raw)
		if err != nil {
			tc.t.Fatalf("malformed reply %q: %v", raw, err)
		}
		out, raw = append(out, r), rest
	}
	return out
}

func checkReplies(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("replies:\n got: %q\nwant: %q", got, want)
	}
}

// The commands that carry Parallel, and Register's check of the flag.
func TestParallelCommands(t *testing.T) {
	h := newHarness(t)
	var got []string
	var walk func(map[string]*Command)
	walk = func(m map[string]*Command) {
		for _, c := range m {
			switch {
			case c.Group == "hash" || c.Group == "set" || c.Group == "sorted-set" || c.Group == "bitmap":
				// The convergent types' and bitmaps' single-key commands
				// are all parallel; their multi-key ones name several keys
				// (BITOP) or have movable keys (ZUNIONSTORE).
				if c.Parallel != (c.LastKey == 1 && !slices.Contains(c.Flags, "movablekeys")) {
					t.Errorf("%s: Parallel %v with keys %d..%d", c.fullName, c.Parallel, c.FirstKey, c.LastKey)
				}
			case c.Parallel:
				got = append(got, c.fullName)
			}
			walk(c.Subcommands)
		}
	}
	walk(h.s.cmds)
	sort.Strings(got)
	want := strings.Fields(`append decr decrby del delctx exists expire expireat expiretime get getctx getdel getex
		getrange getset incr incrby incrbyfloat persist pexpire pexpireat pexpiretime psetex pttl set setctx setex
		setnx setrange siblings strlen substr ttl type unlink`)
	checkReplies(t, got, want)

	for _, bad := range []*Command{
		{Name: "nokey", Arity: 1, Parallel: true, Handler: h.s.cmdPing},
		{Name: "localkey", Arity: 2, FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, local: true, Handler: h.s.cmdPing},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register accepted parallel command %s", bad.Name)
				}
			}()
			h.s.Register(bad)
		}()
	}
}

// waveKey admits Parallel commands with exactly one key.
func TestWaveKey(t *testing.T) {
	h := newHarness(t)
	for _, tt := range []struct {
		line string
		key  string // "" : may not join a wave
	}{
		{"GET k", "k"},
		{"set k v EX 10", "k"},
		{"DEL k", "k"},
		{"DEL a b", ""},
		{"EXISTS a", "a"},
		{"EXISTS a a", ""},
		{"MGET a", ""},
		{"PING", ""},
		{"EXPIRE k 10", "k"},
		{"DYNAGO LOCAL k", ""},
	} {
		args := split(tt.line)
		cmd, msg := h.s.resolve(h.c, args)
		if msg != "" {
			t.Fatalf("%s: %s", tt.line, msg)
		}
		key, ok := waveKey(cmd, args)
		if string(key) != tt.key || ok != (tt.key != "") {
			t.Errorf("%s: key %q, %v; want %q", tt.line, key, ok, tt.key)
		}
	}
}

// Replies come in command order, and commands on one key see each other's
// effects in order, whether the waves run concurrently (writes, remote
// reads) or not.
func TestWaveOrder(t *testing.T) {
	for _, remote := range []bool{false, true} {
		h := newHookHarness(t, &hookBackend{remote: remote})
		tc := newTestConn(t, h.s)
		got := tc.replies(
			"SET k a", "GET k", "SET k b", "GET k",
			"INCR n", "INCR n", "GET n",
			"SET x 1", "SET y 2", "GET z", "DEL x", "EXISTS x", "GET y",
			"GET k", "GET n", "GET y", "APPEND y 3", "STRLEN y", "GETRANGE y 1 1", "TTL y",
		)
		checkReplies(t, got, []string{`OK`, `"a"`, `OK`, `"b"`,
			`(integer) 1`, `(integer) 2`, `"2"`,
			`OK`, `OK`, `(nil)`, `(integer) 1`, `(integer) 0`, `"2"`,
			`"b"`, `"2"`, `"2"`, `(integer) 2`, `(integer) 2`, `"3"`, `(integer) -1`})
		if got := h.s.cmds["get"].stats.calls.Load(); got != 8 {
			t.Errorf("remote=%v: GET calls %d, want 8", remote, got)
		}
	}
}

// A wave with a write runs all its commands at once; a wave of reads does
// so only when the backend says reads are remote.
func TestWaveConcurrency(t *testing.T) {
	const n = pipelineDepth
	keys := func(cmd string) []string {
		var lines []string
		for i := range n {
			lines = append(lines, cmd+" "+benchKey(i)+" v"+itoa(i))
		}
		return lines
	}
	ok := slices.Repeat([]string{"OK"}, n)
	reads := make([]string, n)
	for i := range reads {
		reads[i] = "GET " + benchKey(i)
	}
	// Each key its own value: replies in any other order than the
	// commands' fail.
	values := make([]string, n)
	for i := range values {
		values[i] = `"v` + itoa(i) + `"`
	}

	// Writes: all n in flight at once, or the barrier times out.
	f := newInflight(n)
	hb := &hookBackend{hook: func(ctx context.Context, _ []byte, write bool) error {
		if write {
			return f.enter(ctx)
		}
		return nil
	}}
	h := newHookHarness(t, hb, func(c *Config) { c.RequestTimeout = 3 * time.Second })
	tc := newTestConn(t, h.s)
	checkReplies(t, tc.replies(keys("SET")...), ok)

	// Local reads run one after another.
	f = newInflight(0)
	hb.hook = func(ctx context.Context, _ []byte, _ bool) error { return f.enter(ctx) }
	checkReplies(t, tc.replies(reads...), values)
	if f.maxSeen() != 1 {
		t.Errorf("local reads: %d in flight, want 1", f.maxSeen())
	}

	// Remote reads run together.
	hb.remote = true
	f = newInflight(n)
	checkReplies(t, tc.replies(reads...), values)
}

// Replies come in command order even when a concurrent wave completes in
// reverse: the read of key i waits until the read of key i+1 has returned.
func TestWaveReverseCompletion(t *testing.T) {
	const n = pipelineDepth
	returned := make([]chan struct{}, n)
	for i := range returned {
		returned[i] = make(chan struct{})
	}
	index := func(key []byte) int {
		for i := range n {
			if string(key) == benchKey(i) {
				return i
			}
		}
		t.Errorf("unexpected key %q", key)
		return -1
	}
	var mu sync.Mutex
	var order []int // the reads in the order they returned
	hb := &hookBackend{remote: true}
	h := newHookHarness(t, hb, func(c *Config) { c.RequestTimeout = 3 * time.Second })
	var lines, want []string
	for i := range n {
		h.do("SET " + benchKey(i) + " v" + itoa(i))
		lines = append(lines, "GET "+benchKey(i))
		want = append(want, `"v`+itoa(i)+`"`)
	}
	hb.hook = func(ctx context.Context, key []byte, write bool) error {
		if i := index(key); !write && i >= 0 && i+1 < n {
			select {
			case <-returned[i+1]:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	hb.after = func(key []byte, write bool) {
		if i := index(key); !write && i >= 0 {
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			close(returned[i])
		}
	}
	tc := newTestConn(t, h.s)
	checkReplies(t, tc.replies(lines...), want)
	for k, i := range order {
		if i != n-1-k {
			t.Fatalf("reads returned in order %v, want the reverse of the commands'", order)
		}
	}
	if len(order) != n {
		t.Fatalf("%d reads returned, want %d", len(order), n)
	}
}

// waveBound holds every call until more than maxWave are in flight (over
// the bound) or, once maxWave are, until a short grace has passed: a wave
// of maxWave runs all at once and ends after the grace, while an
// unbounded wave would put a command more in flight within the grace.
type waveBound struct {
	grace   time.Duration
	mu      sync.Mutex
	n, max  int
	release chan struct{}
	once    *sync.Once
}

func newWaveBound(grace time.Duration) *waveBound {
	return &waveBound{grace: grace, release: make(chan struct{}), once: new(sync.Once)}
}

func (b *waveBound) enter(ctx context.Context) error {
	b.mu.Lock()
	b.n++
	b.max = max(b.max, b.n)
	release, once := b.release, b.once
	open := func() { once.Do(func() { close(release) }) }
	switch b.n {
	case maxWave:
		time.AfterFunc(b.grace, open)
	case maxWave + 1:
		open()
	}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		if b.n--; b.n == 0 { // the next wave waits afresh
			b.release, b.once = make(chan struct{}), new(sync.Once)
		}
		b.mu.Unlock()
	}()
	select {
	case <-release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// A wave holds at most maxWave commands, and runs them all at once.
func TestWaveMaxWave(t *testing.T) {
	b := newWaveBound(20 * time.Millisecond)
	hb := &hookBackend{hook: func(ctx context.Context, _ []byte, write bool) error {
		if write {
			return b.enter(ctx)
		}
		return nil
	}}
	h := newHookHarness(t, hb, func(c *Config) { c.RequestTimeout = 3 * time.Second })
	tc := newTestConn(t, h.s)
	var many []string
	for i := range 3 * maxWave {
		many = append(many, "SET k"+itoa(i)+" v")
	}
	checkReplies(t, tc.replies(many...), slices.Repeat([]string{"OK"}, len(many)))
	b.mu.Lock()
	got := b.max
	b.mu.Unlock()
	if got != maxWave {
		t.Errorf("at most %d commands in flight, want %d", got, maxWave)
	}
}

// HELLO in the middle of a pipeline switches the reply format exactly
// there, around concurrent waves.
func TestWaveHelloMidBatch(t *testing.T) {
	h := newHookHarness(t, &hookBackend{remote: true})
	tc := newTestConn(t, h.s)
	raw, _ := tc.send("GET a", "GET b", "HELLO 3", "GET a", "GET b", "SET c 1", "SET d 1", "HELLO 2", "GET a", "SET e 1", "GET b")
	const v2, v3 = "$-1\r\n", "_\r\n"
	if !bytes.HasPrefix(raw, []byte(v2+v2+"%")) {
		t.Fatalf("before HELLO 3: %q", raw)
	}
	i := bytes.Index(raw, []byte(v3+v3+"+OK\r\n+OK\r\n"))
	if i < 0 {
		t.Fatalf("after HELLO 3: %q", raw)
	}
	if !bytes.HasSuffix(raw, []byte(v2+"+OK\r\n"+v2)) {
		t.Fatalf("after HELLO 2: %q", raw)
	}
}

// CLIENT REPLY SKIP and OFF drop exactly the replies they would drop
// sequentially, inside concurrent waves too.
func TestWaveClientReply(t *testing.T) {
	h := newHarness(t)
	tc := newTestConn(t, h.s)
	got := tc.replies("SET a 1", "SET b 2", "CLIENT REPLY SKIP", "SET c 3", "SET d 4", "GET c",
		"CLIENT REPLY OFF", "SET e 5", "SET f 6", "GET e", "CLIENT REPLY ON", "GET e", "GET f")
	checkReplies(t, got, []string{"OK", "OK", "OK", `"3"`, "OK", `"5"`, `"6"`})
	if keys := h.b.liveKeys(); len(keys) != 6 {
		t.Errorf("keys %q", keys)
	}
}

// DYNAGO CONSISTENCY in the middle of a pipeline reaches exactly the
// commands after it, though they share request contexts.
func TestWaveConsistencyMidBatch(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]coordinator.Consistency{}
	hb := &hookBackend{hook: func(ctx context.Context, key []byte, _ bool) error {
		mu.Lock()
		seen[string(key)] = coordinator.ConsistencyFrom(ctx)
		mu.Unlock()
		return nil
	}}
	h := newHookHarness(t, hb)
	tc := newTestConn(t, h.s)
	tc.replies("SET a 1", "SET b 1", "DYNAGO CONSISTENCY 1 1", "SET c 1", "SET d 1",
		"DYNAGO CONSISTENCY DEFAULT", "SET e 1", "SET f 1")
	one := coordinator.Consistency{R: 1, W: 1}
	want := map[string]coordinator.Consistency{"a": {}, "b": {}, "c": one, "d": one, "e": {}, "f": {}}
	for k, c := range want {
		if seen[k] != c {
			t.Errorf("%s: consistency %+v, want %+v", k, seen[k], c)
		}
	}
}

// Errors inside a concurrent wave are each command's own reply, counted
// per command.
func TestWaveErrors(t *testing.T) {
	hb := &hookBackend{hook: func(_ context.Context, key []byte, write bool) error {
		switch {
		case string(key) != "bad":
			return nil
		case write:
			return errQuorumMaybe()
		default:
			return errReadQuorum()
		}
	}}
	h := newHookHarness(t, hb)
	h.do("SET s notanumber")
	tc := newTestConn(t, h.s)
	got := tc.replies("SET a 1", "SET bad 1", "INCR s", "SETEX c -5 v", "GET bad", "SET d 1", "NOSUCH", "SET e 1",
		"GET", "DEL", "SET f 1", "GET a")
	want := []string{"OK", "(error) TRYAGAIN " + errQuorumMaybe().Error(), "(error) " + msgNotInteger,
		"(error) ERR invalid expire time in 'setex' command", "(error) TRYAGAIN " + errors.Unwrap(errReadQuorum()).Error(),
		"OK", "(error) ERR unknown command 'NOSUCH', with args beginning with: ", "OK",
		"(error) ERR wrong number of arguments for 'get' command", "(error) ERR wrong number of arguments for 'del' command",
		"OK", `"1"`}
	checkReplies(t, got, want)
	if n := h.s.stats.errorReplies.Load(); n != 7 {
		t.Errorf("error replies %d, want 7", n)
	}
	for name, failed := range map[string]int64{"set": 1, "incr": 1, "setex": 1, "get": 1} {
		if got := h.s.cmds[name].stats.failed.Load(); got != failed {
			t.Errorf("%s failed %d, want %d", name, got, failed)
		}
	}
}

// Property: a pipeline run by runBatch (waves, concurrent where they pay)
// writes exactly the bytes that running its commands one by one writes,
// for random pipelines over a few keys mixing wave commands with
// connection-state, multi-key, rejected and unknown commands.
func TestWaveMatchesSequential(t *testing.T) {
	vocab := []func(r *rand.Rand, k func() string) string{
		func(_ *rand.Rand, k func() string) string { return "GET " + k() },
		func(r *rand.Rand, k func() string) string { return "SET " + k() + " v" + itoa(r.IntN(9)) },
		func(r *rand.Rand, k func() string) string { return "SET " + k() + " w NX GET" },
		func(_ *rand.Rand, k func() string) string { return "INCR " + k() },
		func(r *rand.Rand, k func() string) string { return "APPEND " + k() + " " + itoa(r.IntN(9)) },
		func(_ *rand.Rand, k func() string) string { return "STRLEN " + k() },
		func(_ *rand.Rand, k func() string) string { return "GETDEL " + k() },
		func(_ *rand.Rand, k func() string) string { return "GETSET " + k() + " g" },
		func(_ *rand.Rand, k func() string) string { return "DEL " + k() },
		func(_ *rand.Rand, k func() string) string { return "DEL " + k() + " " + k() },
		func(_ *rand.Rand, k func() string) string { return "EXISTS " + k() },
		func(_ *rand.Rand, k func() string) string { return "EXPIRE " + k() + " 100" },
		func(_ *rand.Rand, k func() string) string { return "TTL " + k() },
		func(_ *rand.Rand, k func() string) string { return "TYPE " + k() },
		func(_ *rand.Rand, k func() string) string { return "SIBLINGS " + k() },
		func(_ *rand.Rand, k func() string) string { return "MGET " + k() + " " + k() },
		func(_ *rand.Rand, k func() string) string { return "MSET " + k() + " m " + k() + " n" },
		func(_ *rand.Rand, _ func() string) string { return "PING" },
		func(_ *rand.Rand, _ func() string) string { return "CLIENT REPLY SKIP" },
		func(r *rand.Rand, _ func() string) string { return "HELLO " + itoa(2+r.IntN(2)) },
		func(_ *rand.Rand, _ func() string) string { return "GET" },
		func(_ *rand.Rand, _ func() string) string { return "NOSUCH x" },
	}
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 1))
		key := func() string { return string(rune('a' + r.IntN(4))) }
		var lines []string
		for range 1 + r.IntN(40) {
			lines = append(lines, vocab[r.IntN(len(vocab))](r, key))
		}

		seq := newHarness(t)
		c := seq.s.NewClient() // id 2, as the connection's below (HELLO shows it)
		w := NewWriter(2)
		for _, line := range lines {
			seq.s.Handle(c, split(line), w)
		}
		got, _ := newTestConn(t, newHookHarness(t, &hookBackend{remote: seed%2 == 0}).s).send(lines...)
		if !bytes.Equal(got, w.Bytes()) {
			t.Fatalf("seed %d: pipeline %q\n got: %q\nwant: %q", seed, lines, got, w.Bytes())
		}
	}
}

// Every command of a wave that outlives the request timeout fails on its
// own deadline.
func TestWaveDeadline(t *testing.T) {
	hb := &hookBackend{hook: func(ctx context.Context, _ []byte, write bool) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	h := newHookHarness(t, hb, func(c *Config) { c.RequestTimeout = 20 * time.Millisecond })
	tc := newTestConn(t, h.s)
	timedOut := "(error) TRYAGAIN request timed out after 20ms (write may be applied)"
	checkReplies(t, tc.replies("SET a 1", "SET b 1", "SET c 1"), []string{timedOut, timedOut, timedOut})
}

// The output limit applies reply by reply in command order, as it does
// sequentially: replies up to the limit pass, the one beyond it closes the
// client without a byte written.
func TestWaveOutputLimit(t *testing.T) {
	for _, remote := range []bool{false, true} {
		h := newHookHarness(t, &hookBackend{remote: remote}, func(c *Config) { c.MaxOutputBytes = 20000 })
		big := strings.Repeat("x", 6000)
		for i := range 4 {
			h.do("SET big" + itoa(i) + " " + big)
		}
		tc := newTestConn(t, h.s)
		if got := tc.replies("GET big0", "GET big1", "GET big2"); len(got) != 3 {
			t.Fatalf("remote=%v: %d replies", remote, len(got))
		}
		raw, open := tc.send("GET big0", "GET big1", "GET big2", "GET big3")
		if open || len(raw) != 0 || !tc.c.client.dropConn {
			t.Fatalf("remote=%v: over the limit: open=%v, %d bytes written", remote, open, len(raw))
		}
		if n := h.s.stats.outputLimitKills.Load(); n != 1 {
			t.Errorf("remote=%v: output limit kills %d", remote, n)
		}
	}
}

// gate holds writes in flight: each announces itself on entered and waits
// for release or its ctx.
type gate struct {
	entered chan string
	release chan struct{}
}

func newGate() *gate { return &gate{entered: make(chan string, 64), release: make(chan struct{})} }

func (g *gate) hook(ctx context.Context, key []byte, write bool) error {
	if !write {
		return nil
	}
	g.entered <- string(key)
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// startWave serves a backend whose writes wait at a gate, and pipelines
// SETs of n distinct keys on a new connection, returning once all n are
// in flight together. The caller shuts the server down.
func startWave(t *testing.T, n int) (*gate, *harness, *client, chan error) {
	g := newGate()
	h := newHookHarness(t, &hookBackend{hook: g.hook})
	ns, served := serveHarness(t, h)
	c := ns.dial(t)
	var b strings.Builder
	for i := range n {
		k := "k" + itoa(i)
		b.WriteString("*3\r\n$3\r\nSET\r\n$" + itoa(len(k)) + "\r\n" + k + "\r\n$1\r\nv\r\n")
	}
	c.send(b.String())
	for range n {
		<-g.entered
	}
	return g, h, c, served
}

// Shutdown lets a concurrent wave in flight complete and its replies
// arrive, then closes the connection.
func TestWaveShutdownDrains(t *testing.T) {
	g, h, c, served := startWave(t, 4)
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- h.s.Shutdown(ctx)
	}()
	close(g.release)
	for i := range 4 {
		if got := c.reply(); got != "OK" {
			t.Fatalf("reply %d: %s", i, got)
		}
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if !c.closed() {
		t.Fatal("connection left open")
	}
	if keys := h.b.liveKeys(); len(keys) != 4 {
		t.Fatalf("keys %q", keys)
	}
}

// When Shutdown's ctx ends during a concurrent wave, the wave's commands
// are cancelled, and Shutdown still waits for every goroutine of the wave
// (goleak checks none is left).
func TestWaveShutdownDeadline(t *testing.T) {
	_, h, c, served := startWave(t, 4)
	checkShutdownTimesOut(t, h, c, served)
}

// A handler panicking in a concurrent wave drops only its connection,
// after the rest of the wave has returned; the node serves on.
func TestWavePanic(t *testing.T) {
	hb := &hookBackend{hook: func(_ context.Context, key []byte, _ bool) error {
		if string(key) == "boom" {
			panic("boom")
		}
		return nil
	}}
	h := newHookHarness(t, hb)
	ns, served := serveHarness(t, h)
	defer func() {
		if err := h.s.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()
	a := ns.dial(t)
	a.send("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n1\r\n*3\r\n$3\r\nSET\r\n$4\r\nboom\r\n$1\r\n1\r\n*3\r\n$3\r\nSET\r\n$1\r\ny\r\n$1\r\n1\r\n")
	if !a.closed() {
		t.Fatal("connection of the panicking command left open")
	}
	b := ns.dial(t)
	if got := b.cmd("GET", "x"); got != `"1"` {
		t.Fatalf("GET x after the panic: %s", got)
	}
}
