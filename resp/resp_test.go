package resp

// Test harness: an in-memory Backend built on coordinator.Apply (the pure
// write semantics a coordinator runs), an injectable clock, and helpers
// that run a command through Server.Handle and render the reply the way
// redis-cli does, so that table tests read like a redis-cli session.

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/dynago/dynago/coordinator"
	"github.com/dynago/dynago/version"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testClock is the injected clock; tests move it by hand.
type testClock struct{ ms atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ms.Store(1_700_000_000_000)
	return c
}

func (c *testClock) now() time.Time          { return time.UnixMilli(c.ms.Load()) }
func (c *testClock) advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

// memBackend is a single-replica store: Write runs coordinator.Apply on
// the current object under a lock, exactly what a coordinator does for a
// key on one node.
type memBackend struct {
	clock *testClock
	actor version.Actor
	max   int

	mu   sync.Mutex
	objs map[string]version.Object

	// block, when set, makes Get wait until it is closed or ctx ends (the
	// shutdown-drain test uses it to hold a command in flight).
	block   chan struct{}
	entered chan struct{}
	// failWith makes every call fail with this error.
	failWith error
}

func newMemBackend(clock *testClock, maxValue int) *memBackend {
	return &memBackend{clock: clock, max: maxValue, objs: map[string]version.Object{},
		actor: version.NewActor([]byte("node-one"), 1)}
}

func (m *memBackend) Get(ctx context.Context, key []byte) (version.Object, error) {
	if m.block != nil {
		m.entered <- struct{}{}
		select {
		case <-m.block:
		case <-ctx.Done():
			return version.Object{}, ctx.Err()
		}
	}
	if m.failWith != nil {
		return version.Object{}, m.failWith
	}
	if err := ctx.Err(); err != nil {
		return version.Object{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.objs[string(key)], nil
}

func (m *memBackend) GetMany(ctx context.Context, keys [][]byte) ([]version.Object, error) {
	out := make([]version.Object, len(keys))
	for i, k := range keys {
		o, err := m.Get(ctx, k)
		if err != nil {
			return nil, err
		}
		out[i] = o
	}
	return out, nil
}

func (m *memBackend) Write(ctx context.Context, key []byte, op coordinator.Op) (coordinator.Result, error) {
	if m.failWith != nil {
		return coordinator.Result{}, m.failWith
	}
	if err := ctx.Err(); err != nil {
		return coordinator.Result{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	next, write, res, err := coordinator.Apply(m.objs[string(key)], op, m.actor, m.clock.ms.Load(), m.max)
	if err != nil {
		return coordinator.Result{}, err
	}
	if write {
		m.objs[string(key)] = next
	}
	return res, nil
}

func (m *memBackend) WriteMany(ctx context.Context, keys [][]byte, ops []coordinator.Op) ([]coordinator.Result, []error) {
	res := make([]coordinator.Result, len(keys))
	errs := make([]error, len(keys))
	for i := range keys {
		res[i], errs[i] = m.Write(ctx, keys[i], ops[i])
	}
	return res, errs
}

// liveKeys returns the keys holding a live value, sorted.
func (m *memBackend) liveKeys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for k, o := range m.objs {
		if _, ok := o.Value(m.clock.ms.Load()); ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// Scan's cursor is an index into the sorted live keys, plus one.
func (m *memBackend) Scan(ctx context.Context, cursor uint64, count int, fn func(key []byte)) (uint64, error) {
	if m.failWith != nil {
		return 0, m.failWith
	}
	keys := m.liveKeys()
	i := 0
	if cursor > 0 {
		i = int(cursor - 1)
	}
	for n := 0; i < len(keys) && n < count; i, n = i+1, n+1 {
		fn([]byte(keys[i]))
	}
	if i >= len(keys) {
		return 0, nil
	}
	return uint64(i + 1), nil
}

func (m *memBackend) DBSize(ctx context.Context) (int64, error) { return int64(len(m.liveKeys())), nil }

func (m *memBackend) FlushAll(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.objs)
	return nil
}

func (m *memBackend) Info(ctx context.Context) []InfoSection {
	return []InfoSection{{Name: "Keyspace", Fields: []InfoField{
		{"db0", fmt.Sprintf("keys=%d,expires=0,avg_ttl=0", len(m.liveKeys()))}}}}
}

// harness is one server over a memBackend, with a client driven through
// Handle (no sockets, STYLE 18).
type harness struct {
	t     *testing.T
	s     *Server
	b     *memBackend
	clock *testClock
	c     *Client
	w     *Writer
}

func testConfig(clock *testClock) Config {
	cfg := DefaultConfig()
	cfg.NodeID = strings.Repeat("ab", 20)
	cfg.now = clock.now
	return cfg
}

func newHarness(t *testing.T, mutate ...func(*Config)) *harness {
	t.Helper()
	clock := newTestClock()
	cfg := testConfig(clock)
	for _, f := range mutate {
		f(&cfg)
	}
	b := newMemBackend(clock, cfg.MaxValueBytes)
	if b.max == 0 {
		b.max = DefaultMaxValueBytes
	}
	s, err := New(cfg, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) }) // stops wave workers (testConn)
	return &harness{t: t, s: s, b: b, clock: clock, c: s.NewClient(), w: NewWriter(2)}
}

// split turns a command line into arguments with redis-cli's quoting
// rules (the server's own inline splitter).
func split(line string) [][]byte {
	var p parser
	if !p.splitInline([]byte(line)) {
		panic("unbalanced quotes in test command: " + line)
	}
	var args [][]byte
	for _, s := range p.spans {
		args = append(args, p.arena[s.a:s.b])
	}
	return args
}

// do runs one command line and returns the rendered reply.
func (h *harness) do(line string) string {
	h.t.Helper()
	return h.doArgs(split(line)...)
}

func (h *harness) doArgs(args ...[]byte) string {
	h.t.Helper()
	h.w.Reset(h.c.proto)
	h.s.Handle(h.c, args, h.w)
	if h.w.Len() == 0 {
		return ""
	}
	out, rest, err := render(h.w.Bytes())
	if err != nil || len(rest) != 0 {
		h.t.Fatalf("%q: malformed reply %q (%v)", args, h.w.Bytes(), err)
	}
	return out
}

// step is one row of a command table test.
type step struct{ cmd, want string }

func (h *harness) run(steps []step) {
	h.t.Helper()
	for _, st := range steps {
		if got := h.do(st.cmd); got != st.want {
			h.t.Errorf("%s\n got: %s\nwant: %s", st.cmd, got, st.want)
		}
	}
}

// render turns one RESP2/RESP3 reply into redis-cli-like text: OK,
// (error) ERR …, (integer) 1, "bulk", (nil), [a, b], {k: v}, ~[set],
// (true), (double) 1.5, (verbatim) "txt", >[push].
func render(b []byte) (string, []byte, error) {
	if len(b) == 0 {
		return "", b, fmt.Errorf("empty reply")
	}
	i := bytes.Index(b, []byte("\r\n"))
	if i < 0 {
		return "", b, fmt.Errorf("no CRLF")
	}
	line, rest := string(b[1:i]), b[i+2:]
	n, _ := strconv.Atoi(line)
	switch b[0] {
	case '+':
		return line, rest, nil
	case '-':
		return "(error) " + line, rest, nil
	case ':':
		return "(integer) " + line, rest, nil
	case '_':
		return "(nil)", rest, nil
	case '#':
		return map[string]string{"t": "(true)", "f": "(false)"}[line], rest, nil
	case ',':
		return "(double) " + line, rest, nil
	case '$', '=':
		if n < 0 {
			return "(nil)", rest, nil
		}
		if len(rest) < n+2 {
			return "", b, fmt.Errorf("short bulk")
		}
		body := string(rest[:n])
		if b[0] == '=' {
			return "(verbatim) " + strconv.Quote(body[4:]), rest[n+2:], nil
		}
		return strconv.Quote(body), rest[n+2:], nil
	case '*', '~', '%', '>':
		if n < 0 {
			return "(nil)", rest, nil
		}
		count := n
		if b[0] == '%' {
			count = 2 * n
		}
		parts := make([]string, 0, count)
		for range count {
			var p string
			var err error
			if p, rest, err = render(rest); err != nil {
				return "", b, err
			}
			parts = append(parts, p)
		}
		switch b[0] {
		case '~':
			return "~[" + strings.Join(parts, ", ") + "]", rest, nil
		case '>':
			return ">[" + strings.Join(parts, ", ") + "]", rest, nil
		case '%':
			var kv []string
			for j := 0; j < len(parts); j += 2 {
				kv = append(kv, parts[j]+": "+parts[j+1])
			}
			return "{" + strings.Join(kv, ", ") + "}", rest, nil
		}
		return "[" + strings.Join(parts, ", ") + "]", rest, nil
	}
	return "", b, fmt.Errorf("unknown type %q", b[0])
}

func errQuorumMaybe() error {
	return &coordinator.QuorumError{Kind: coordinator.ErrQuorumMaybe, Got: 1, Need: 2}
}
func errReadQuorum() error {
	return fmt.Errorf("get: %w", &coordinator.QuorumError{Kind: coordinator.ErrReadQuorum, Got: 1, Need: 2})
}
func errTimeout() error       { return fmt.Errorf("waiting for replicas: %w", context.DeadlineExceeded) }
func errWrappedQuorum() error { return fmt.Errorf("put: %w", coordinator.ErrQuorumNotApplied) }
func errOther() error         { return fmt.Errorf("disk on fire") }

func timeMicro(n int) time.Duration { return time.Duration(n) * time.Microsecond }
