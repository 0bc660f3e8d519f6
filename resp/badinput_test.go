package resp

// TESTING.md "Bad input the server must survive", over a real loopback
// listener: the offending connection gets Redis's error and is closed; a
// second connection keeps working.

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestBadInputClosesOnlyThatConnection(t *testing.T) {
	ns := startServer(t)
	other := ns.dial(t)
	if got := other.cmd("SET", "k", "v"); got != "OK" {
		t.Fatal(got)
	}
	cases := []struct {
		name, input, want string
	}{
		{"multibulk too long", "*3000000000\r\n", "(error) ERR Protocol error: invalid multibulk length"},
		{"multibulk not a number", "*abc\r\n", "(error) ERR Protocol error: invalid multibulk length"},
		{"missing dollar", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n", "(error) ERR Protocol error: expected '$', got 'f'"},
		{"args without dollar", "*1\r\nfoo", "(error) ERR Protocol error: expected '$', got 'f'"},
		{"negative bulk", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n", "(error) ERR Protocol error: invalid bulk length"},
		{"huge bulk", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n", "(error) ERR Protocol error: invalid bulk length"},
		{"bulk not a number", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n", "(error) ERR Protocol error: invalid bulk length"},
		{"payload longer than declared", "*1\r\n$3\r\nPINGX\r\n", "(error) ERR Protocol error: invalid bulk length"},
		{"lone LF after count", "*1\n$4\r\nPING\r\n", "(error) ERR Protocol error: invalid multibulk length"},
		{"unbalanced quotes", "set \"\"\"test-key\"\"\" test-value\r\nping\r\n", "(error) ERR Protocol error: unbalanced quotes in request"},
		{"nested array", "*1\r\n*1\r\n*1\r\n*1\r\n", "(error) ERR Protocol error: expected '$', got '*'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ns.dial(t)
			c.send(tc.input)
			if got := c.reply(); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
			if !c.closed() {
				t.Fatal("connection not closed")
			}
			if got := other.cmd("GET", "k"); got != `"v"` {
				t.Fatalf("other connection: %s", got)
			}
		})
	}
}

func TestIgnoredInput(t *testing.T) {
	ns := startServer(t)
	c := ns.dial(t)
	// An empty line, *-10 and *0 are ignored like Redis; RESP3 type bytes
	// are inline commands (unknown ones).
	c.send("\r\n*-10\r\n*0\r\n\n   \r\nPING\r\n")
	if got := c.reply(); got != "PONG" {
		t.Fatal(got)
	}
	c.send("%1\r\n")
	if got := c.reply(); got != "(error) ERR unknown command '%1', with args beginning with: " {
		t.Fatal(got)
	}
	c.send("_\r\nping \"a\\x41\\n\" 'b\\'c'\r\n")
	c.reply()
	if got := c.reply(); got != "(error) ERR wrong number of arguments for 'ping' command" {
		t.Fatal(got)
	}
	c.send("echo \"a\\x41\\n\"\r\n")
	if got := c.reply(); got != `"aA\n"` {
		t.Fatal(got)
	}
}

func TestInlineAndHeaderLimits(t *testing.T) {
	ns := startServer(t)
	for _, tc := range []struct{ name, prefix, want string }{
		{"inline", "", "too big inline request"},
		{"desync NUL", "\x00", "too big inline request"},
		{"desync star NUL", "*\x00", "too big mbulk count string"},
		{"desync dollar NUL", "$\x00", "too big inline request"},
		{"bulk header", "*1\r\n$", "too big bulk count string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ns.dial(t)
			c.send(tc.prefix)
			// An endless stream without newlines ends in a protocol error
			// within a bound (Redis's desync regression test).
			chunk := strings.Repeat("A", 1024)
			sent := 0
			for ; sent < 1<<20; sent += len(chunk) {
				c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.nc.Write([]byte(chunk)); err != nil {
					break
				}
			}
			if got := c.reply(); got != "(error) ERR Protocol error: "+tc.want {
				t.Fatalf("got %s", got)
			}
		})
	}
}

func TestCrossProtocolClosesSilently(t *testing.T) {
	ns := startServer(t)
	for _, req := range []string{"POST / HTTP/1.1\r\n", "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"} {
		c := ns.dial(t)
		c.send(req)
		if strings.HasPrefix(req, "GET") {
			// "GET / HTTP/1.1" is a GET with two arguments: an arity error,
			// then the Host: line closes the connection.
			if got := c.reply(); !strings.Contains(got, "wrong number of arguments for 'get'") {
				t.Fatal(got)
			}
		}
		if !c.closed() {
			t.Fatalf("%q: connection not closed", req)
		}
	}
}

func TestUnauthenticatedLimits(t *testing.T) {
	ns := startServer(t, func(c *Config) { c.RequirePass = "pw" })
	c := ns.dial(t)
	c.send("*11\r\n")
	if got := c.reply(); got != "(error) ERR Protocol error: unauthenticated multibulk length" {
		t.Fatal(got)
	}
	c = ns.dial(t)
	c.send("*1\r\n$100000\r\n")
	if got := c.reply(); got != "(error) ERR Protocol error: unauthenticated bulk length" {
		t.Fatal(got)
	}
	// AUTH pipelined with a big command lifts the limits for it.
	c = ns.dial(t)
	big := strings.Repeat("x", 20000)
	c.send("*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$20000\r\n" + big + "\r\n")
	if got := c.reply(); got != "OK" {
		t.Fatal(got)
	}
	if got := c.reply(); got != "OK" {
		t.Fatal(got)
	}
}

func TestAuthTimeout(t *testing.T) {
	ns := startServer(t, func(c *Config) { c.RequirePass = "pw"; c.AuthTimeout = 200 * time.Millisecond })
	c := ns.dial(t)
	c.send("*2\r\n$4\r\nAUTH\r\n") // half a command, then silence
	start := time.Now()
	if !c.closed() {
		t.Fatal("not closed")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("closed after %v", d)
	}
}

func TestQueryBufferLimit(t *testing.T) {
	ns := startServer(t, func(c *Config) {
		c.MaxValueBytes, c.MaxBulkBytes, c.MaxQueryBytes = 1<<10, 2<<10, 8<<10
	})
	c := ns.dial(t)
	c.send("*100\r\n")
	for range 10 {
		// The server may close (and reset) the connection mid-stream.
		if _, err := c.nc.Write([]byte("$1000\r\n" + strings.Repeat("a", 1000) + "\r\n")); err != nil {
			break
		}
	}
	if !c.closed() {
		t.Fatal("not closed")
	}
	if got := ns.dial(t).cmd("PING"); got != "PONG" {
		t.Fatal(got)
	}
}

func TestPipelinedFloodAndOutputLimit(t *testing.T) {
	ns := startServer(t, func(c *Config) { c.MaxOutputBytes = 256 << 10 })
	val := strings.Repeat("v", 50<<10)
	setup := ns.dial(t)
	for i := range 10 {
		if got := setup.cmd("SET", "k"+itoa(i), val); got != "OK" {
			t.Fatal(got)
		}
	}
	// A flood of GETs without reading: backpressure, not memory growth,
	// and other clients are served meanwhile.
	flood := ns.dial(t)
	go func() {
		var b strings.Builder
		for range 2000 {
			b.WriteString("*2\r\n$3\r\nGET\r\n$2\r\nk1\r\n")
		}
		for range 50 {
			flood.nc.SetWriteDeadline(time.Now().Add(2 * time.Second))
			if _, err := flood.nc.Write([]byte(b.String())); err != nil {
				return
			}
		}
	}()
	if got := setup.cmd("GET", "k2"); len(got) != len(val)+2 {
		t.Fatalf("other client during the flood: %.20s", got)
	}
	// One reply bigger than the limit closes its client.
	big := ns.dial(t)
	big.send("*11\r\n$4\r\nMGET\r\n$2\r\nk0\r\n$2\r\nk1\r\n$2\r\nk2\r\n$2\r\nk3\r\n$2\r\nk4\r\n$2\r\nk5\r\n$2\r\nk6\r\n$2\r\nk7\r\n$2\r\nk8\r\n$2\r\nk9\r\n")
	if !big.closed() {
		t.Fatal("MGET over the output limit did not close the client")
	}
	flood.nc.Close()
}

func TestMaxClientsAndProtectedMode(t *testing.T) {
	ns := startServer(t, func(c *Config) { c.MaxClients = 2 })
	a, b := ns.dial(t), ns.dial(t)
	a.cmd("PING")
	b.cmd("PING")
	c := ns.dial(t)
	if got := c.reply(); got != "(error) ERR max number of clients reached" {
		t.Fatal(got)
	}
	if !isLoopback(&net.TCPAddr{IP: net.IPv6loopback}) || isLoopback(&net.TCPAddr{IP: net.IPv4(10, 0, 0, 1)}) {
		t.Fatal("isLoopback")
	}
}

// A non-loopback client is refused in protected mode. The test cannot
// connect from another address, so it drives accept with a fake conn.
func TestProtectedModeRefuses(t *testing.T) {
	h := newHarness(t)
	server, remote := net.Pipe()
	fc := &fakeAddrConn{Conn: server, remote: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 4000}}
	done := make(chan string, 1)
	go func() {
		buf := make([]byte, 4096)
		remote.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _ := remote.Read(buf)
		done <- string(buf[:n])
	}()
	h.s.accept(fc)
	if got := <-done; !strings.HasPrefix(got, "-DENIED dynago is running in protected mode") {
		t.Fatalf("got %q", got)
	}
	remote.Close()
}

type fakeAddrConn struct {
	net.Conn
	remote net.Addr
}

func (f *fakeAddrConn) RemoteAddr() net.Addr { return f.remote }

func TestClientKillAndList(t *testing.T) {
	ns := startServer(t)
	a, b := ns.dial(t), ns.dial(t)
	a.cmd("CLIENT", "SETNAME", "victim")
	id := a.cmd("CLIENT", "ID")
	list := b.cmd("CLIENT", "LIST")
	if !strings.Contains(list, "name=victim") || strings.Count(list, "id=") != 2 {
		t.Fatalf("CLIENT LIST: %s", list)
	}
	if got := b.cmd("CLIENT", "KILL", "ID", strings.TrimPrefix(id, "(integer) ")); got != "(integer) 1" {
		t.Fatal(got)
	}
	if !a.closed() {
		t.Fatal("killed client still open")
	}
	if got := b.cmd("CLIENT", "KILL", "SKIPME", "no"); got != "(integer) 1" {
		t.Fatal(got)
	}
}

// Shutdown lets a command in flight finish and its reply arrive, then
// closes the connections and returns; goleak (TestMain) checks that no
// goroutine is left.
func TestShutdownDrains(t *testing.T) {
	h, ns, served := startBlockingServer(t)
	c := ns.dial(t)
	idle := ns.dial(t)
	idle.cmd("PING")
	c.send("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
	<-h.b.entered // the GET is in flight

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- h.s.Shutdown(ctx)
	}()
	// New connections are refused once the listener is closed.
	for i := 0; ; i++ {
		nc, err := net.DialTimeout("tcp", ns.addr, time.Second)
		if err != nil {
			break
		}
		nc.Close()
		if i > 1000 {
			t.Fatal("listener still accepting")
		}
	}
	close(h.b.block)
	if got := c.reply(); got != "(nil)" {
		t.Fatalf("in-flight GET: %s", got)
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if !c.closed() || !idle.closed() {
		t.Fatal("connections left open")
	}
	if err := h.s.Shutdown(context.Background()); err != nil {
		t.Fatal("second Shutdown:", err)
	}
}

// When the drain deadline passes, in-flight commands are cancelled and
// Shutdown still waits for every goroutine.
func TestShutdownDeadlineCancels(t *testing.T) {
	h, ns, served := startBlockingServer(t)
	c := ns.dial(t)
	c.send("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
	<-h.b.entered
	checkShutdownTimesOut(t, h, c, served)
}

// checkShutdownTimesOut shuts h down with a ctx that ends while commands
// are still in flight: Shutdown reports the ctx's error, Serve returns
// nil, and c is closed.
func checkShutdownTimesOut(t *testing.T, h *harness, c *client, served chan error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h.s.Shutdown(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if !c.closed() {
		t.Fatal("connection left open")
	}
}

// startBlockingServer serves a backend whose Get blocks until h.b.block is
// closed, without the automatic Shutdown of startServer.
func startBlockingServer(t *testing.T) (*harness, *netServer, chan error) {
	h := newHarness(t)
	h.b.block = make(chan struct{})
	h.b.entered = make(chan struct{}, 1)
	ns, served := serveHarness(t, h)
	return h, ns, served
}

// A client sending a whole bulk over proto-max-bulk-len reads Redis's
// protocol error and then the end of the stream, not a connection reset:
// the server drains the rest of the bulk before it closes.
func TestOversizedBulkGetsTheErrorNotAReset(t *testing.T) {
	ns := startServer(t, func(c *Config) { c.MaxValueBytes = 1 << 20 })
	c := ns.dial(t)
	val := strings.Repeat("v", 4<<20)
	wrote := make(chan error, 1)
	go func() {
		_, err := io.WriteString(c.nc, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$"+itoa(len(val))+"\r\n"+val+"\r\n")
		wrote <- err
	}()
	if err := <-wrote; err != nil {
		t.Fatalf("writing the value: %v", err)
	}
	if got, want := c.reply(), "(error) ERR Protocol error: invalid bulk length"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if rest, err := io.ReadAll(c.r); err != nil || len(rest) != 0 {
		t.Fatalf("after the error: %q, %v (want a clean end of stream)", rest, err)
	}
}

func TestProtoMaxBulkLen(t *testing.T) {
	ns := startServer(t, func(c *Config) { c.MaxValueBytes = 4 << 20 })
	c := ns.dial(t)
	for _, st := range []step{
		{`CONFIG GET proto-max-bulk-len`, `["proto-max-bulk-len", "4259840"]`},
		{`CONFIG SET proto-max-bulk-len 1mb`, `OK`},
		{`CONFIG GET proto-max-bulk-len`, `["proto-max-bulk-len", "1048576"]`},
		{`CONFIG SET proto-max-bulk-len 2000k`, `OK`},
		{`CONFIG GET proto-max-bulk-len`, `["proto-max-bulk-len", "2000000"]`},
		{`CONFIG SET proto-max-bulk-len 1000`, `(error) ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 268435456 inclusive`},
		{`CONFIG SET proto-max-bulk-len 1xb`, `(error) ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be a memory value`},
	} {
		if got := c.cmd(strings.Fields(st.cmd)...); got != st.want {
			t.Errorf("%s: got %s, want %s", st.cmd, got, st.want)
		}
	}
	// The new limit applies to the next request on every connection.
	if got := c.cmd("SET", "k", strings.Repeat("v", 1999990)); got != "OK" {
		t.Fatal(got)
	}
	c.send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000001\r\n")
	if got, want := c.reply(), "(error) ERR Protocol error: invalid bulk length"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
