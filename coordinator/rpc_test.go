package coordinator

// Tests of the TCP internode transport on loopback: authentication with the
// cluster secret, pipelined calls on few connections, failures.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynago/dynago/version"
)

// rpcNode is one transport listening on a loopback port.
type rpcNode struct {
	id   string
	rpc  *RPC
	ln   net.Listener
	done chan struct{}
}

type rpcWorld struct {
	mu    sync.Mutex
	addrs map[string]string
}

func (w *rpcWorld) resolve(id string) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	a, ok := w.addrs[id]
	return a, ok
}

func startRPC(t testing.TB, w *rpcWorld, i int, secret string, h Handler, tweak func(*RPCConfig)) *rpcNode {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n := &rpcNode{id: nodeID(i), ln: ln, done: make(chan struct{})}
	cfg := RPCConfig{Self: n.id, Secret: []byte(secret), Resolve: w.resolve}
	if tweak != nil {
		tweak(&cfg)
	}
	n.rpc = NewRPC(cfg, h)
	w.mu.Lock()
	w.addrs[n.id] = ln.Addr().String()
	w.mu.Unlock()
	go func() { defer close(n.done); n.rpc.Serve(ln) }()
	t.Cleanup(func() {
		ln.Close()
		<-n.done
		n.rpc.Close()
	})
	return n
}

// echoHandler answers reads with an object whose value is the key and
// records who called.
type echoHandler struct {
	calls atomic.Int64
	from  sync.Map
	delay time.Duration
}

func (h *echoHandler) HandleRPC(ctx context.Context, from string, req *Request) *Response {
	h.calls.Add(1)
	h.from.Store(from, true)
	if h.delay > 0 { // a slow replica; the transport's Close cancels ctx
		select {
		case <-time.After(h.delay):
		case <-ctx.Done():
		}
	}
	switch req.Kind {
	case MsgRead:
		o := version.Object{}.Put(version.NewActor([]byte("abcdefgh"), 1), nil, version.Sibling{Value: req.Key, Timestamp: 1})
		return &Response{Object: o}
	case MsgForward:
		return &Response{Err: ErrNotInteger}
	}
	return &Response{}
}

func TestRPCRoundTripAndPipelining(t *testing.T) {
	w := &rpcWorld{addrs: map[string]string{}}
	h := &echoHandler{}
	a := startRPC(t, w, 0, "s3cret", &echoHandler{}, nil)
	b := startRPC(t, w, 1, "s3cret", h, nil)
	ctx := context.Background()

	resp, err := a.rpc.Call(ctx, b.id, &Request{Kind: MsgRead, Partition: 7, Key: []byte("hello")})
	if err != nil || resp.Err != nil {
		t.Fatalf("call: %v %v", err, resp)
	}
	if v, _ := resp.Object.Value(2); string(v.Value) != "hello" {
		t.Fatalf("reply %+v", resp.Object)
	}
	// The peer saw our authenticated id.
	if _, ok := h.from.Load(a.id); !ok {
		t.Fatal("handler did not see the caller's node id")
	}
	// Remote errors keep their sentinel across the wire.
	resp, err = a.rpc.Call(ctx, b.id, &Request{Kind: MsgForward, Key: []byte("k"), Op: Op{Kind: OpIncrBy, Delta: 1}})
	if err != nil || !errors.Is(resp.Err, ErrNotInteger) {
		t.Fatalf("remote error %v / %v, want ErrNotInteger", err, resp.Err)
	}
	// Many concurrent calls share a few connections and all get their own
	// answers.
	h.delay = time.Millisecond
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for i := range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := []byte(fmt.Sprintf("k%d", i))
			resp, err := a.rpc.Call(ctx, b.id, &Request{Kind: MsgRead, Key: key})
			if err != nil {
				errs <- err
				return
			}
			if v, _ := resp.Object.Value(2); !bytes.Equal(v.Value, key) {
				errs <- fmt.Errorf("call %d got the answer for %q", i, v.Value)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if d := a.rpc.Stats().Dials.Load(); d > 2 {
		t.Fatalf("%d dials for 1000 calls to one peer, want at most ConnsPerPeer (2)", d)
	}
}

func TestRPCRefusesAnotherSecret(t *testing.T) {
	w := &rpcWorld{addrs: map[string]string{}}
	a := startRPC(t, w, 0, "one", &echoHandler{}, nil)
	h := &echoHandler{}
	b := startRPC(t, w, 1, "two", h, nil)
	_, err := a.rpc.Call(context.Background(), b.id, &Request{Kind: MsgPing})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("call with another secret: %v, want unreachable", err)
	}
	if h.calls.Load() != 0 {
		t.Fatal("a node with another secret was served")
	}
}

func TestRPCRefusesNonMember(t *testing.T) {
	w := &rpcWorld{addrs: map[string]string{}}
	a := startRPC(t, w, 0, "s", &echoHandler{}, nil)
	h := &echoHandler{}
	b := startRPC(t, w, 1, "s", h, func(c *RPCConfig) { c.AllowPeer = func(id string) bool { return false } })
	if _, err := a.rpc.Call(context.Background(), b.id, &Request{Kind: MsgPing}); err == nil {
		t.Fatal("a peer that is not a member was served")
	}
	if h.calls.Load() != 0 {
		t.Fatal("handler ran for a refused peer")
	}
}

func TestRPCDialerChecksPeerIdentity(t *testing.T) {
	w := &rpcWorld{addrs: map[string]string{}}
	a := startRPC(t, w, 0, "s", &echoHandler{}, nil)
	b := startRPC(t, w, 1, "s", &echoHandler{}, nil)
	// Node 2's address now points at node 1: the dialer must notice.
	w.mu.Lock()
	w.addrs[nodeID(2)] = w.addrs[b.id]
	w.mu.Unlock()
	if _, err := a.rpc.Call(context.Background(), nodeID(2), &Request{Kind: MsgPing}); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("reached the wrong node: %v", err)
	}
}

func TestRPCGarbageAndOversizeFramesCloseOnlyThatConnection(t *testing.T) {
	w := &rpcWorld{addrs: map[string]string{}}
	h := &echoHandler{}
	b := startRPC(t, w, 1, "s", h, func(c *RPCConfig) {
		c.MaxFrameBytes = 1 << 10
		c.DialTimeout = 300 * time.Millisecond // bounds a stalled handshake
	})
	a := startRPC(t, w, 0, "s", &echoHandler{}, nil)
	for _, junk := range [][]byte{
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		[]byte(rpcMagic + "short"),
		bytes.Repeat([]byte{0xff}, 4096),
	} {
		c, err := net.Dial("tcp", w.addrs[b.id])
		if err != nil {
			t.Fatal(err)
		}
		c.Write(junk)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 256)
		for {
			if _, err := c.Read(buf); err != nil {
				break // closed by the server (or handshake timeout)
			}
		}
		c.Close()
	}
	// An authenticated peer sending an oversize request loses its
	// connection; the call fails without an answer.
	big := &Request{Kind: MsgReplicate, Key: bytes.Repeat([]byte("k"), 4096)}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := a.rpc.Call(ctx, b.id, big); err == nil {
		t.Fatal("oversize frame was served")
	}
	// Normal service continues.
	if _, err := a.rpc.Call(context.Background(), b.id, &Request{Kind: MsgPing}); err != nil {
		t.Fatalf("after bad connections: %v", err)
	}
}

func TestRPCPeerDeathFailsPendingCallsAndFailsFast(t *testing.T) {
	w := &rpcWorld{addrs: map[string]string{}}
	a := startRPC(t, w, 0, "s", &echoHandler{}, nil)
	blocked := make(chan struct{})
	var once sync.Once
	h := HandlerFunc(func(ctx context.Context, from string, req *Request) *Response {
		once.Do(func() { close(blocked) })
		<-ctx.Done() // never answers until the transport closes
		return &Response{Err: ctx.Err()}
	})
	b := startRPC(t, w, 1, "s", h, nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := a.rpc.Call(context.Background(), b.id, &Request{Kind: MsgPing})
		if err == nil {
			err = resp.Err
		}
		errc <- err
	}()
	<-blocked
	b.ln.Close()
	b.rpc.Close()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("pending call succeeded after the peer died")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("pending call did not fail when the peer died")
	}
	// Later calls fail fast. One may still go out on a connection whose
	// reader has not seen the close yet and fail as "connection lost" (it
	// may have been delivered); once no connection is left they fail with
	// ErrUnreachable (never sent).
	start := time.Now()
	var last error
	for range 5 {
		_, last = a.rpc.Call(context.Background(), b.id, &Request{Kind: MsgPing})
		if last == nil {
			t.Fatal("a call to a dead peer succeeded")
		}
	}
	if !errors.Is(last, ErrUnreachable) {
		t.Fatalf("calls to a dead peer still do not fail as unreachable: %v", last)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("calls to a dead peer took %v", d)
	}
}

func TestRPCCallHonoursContext(t *testing.T) {
	w := &rpcWorld{addrs: map[string]string{}}
	a := startRPC(t, w, 0, "s", &echoHandler{}, nil)
	b := startRPC(t, w, 1, "s", &echoHandler{delay: 2 * time.Second}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := a.rpc.Call(ctx, b.id, &Request{Kind: MsgRead, Key: []byte("x")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want deadline exceeded", err)
	}
	if errors.Is(err, ErrUnreachable) {
		t.Fatal("a call that was sent must not look unsent")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("call returned after %v", d)
	}
}

func TestRPCCloseIsIdempotent(t *testing.T) {
	w := &rpcWorld{addrs: map[string]string{}}
	a := startRPC(t, w, 0, "s", &echoHandler{}, nil)
	b := startRPC(t, w, 1, "s", &echoHandler{}, nil)
	if _, err := a.rpc.Call(context.Background(), b.id, &Request{Kind: MsgPing}); err != nil {
		t.Fatal(err)
	}
	a.rpc.Close()
	a.rpc.Close()
	if _, err := a.rpc.Call(context.Background(), b.id, &Request{Kind: MsgPing}); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("call on a closed transport: %v", err)
	}
}

func BenchmarkRPCRoundTrip(b *testing.B) {
	w := &rpcWorld{addrs: map[string]string{}}
	x := startRPC(b, w, 0, "s", &echoHandler{}, nil)
	y := startRPC(b, w, 1, "s", &echoHandler{}, nil)
	req := &Request{Kind: MsgRead, Key: []byte("key:000000001")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := x.rpc.Call(context.Background(), y.id, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRPCPipelined(b *testing.B) {
	w := &rpcWorld{addrs: map[string]string{}}
	x := startRPC(b, w, 0, "s", &echoHandler{}, nil)
	y := startRPC(b, w, 1, "s", &echoHandler{}, nil)
	req := &Request{Kind: MsgRead, Key: []byte("key:000000001")}
	b.ReportAllocs()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := x.rpc.Call(context.Background(), y.id, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
