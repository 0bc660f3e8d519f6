package resp

// Tests over a real loopback listener: the bad input of TESTING.md ("Bad
// input the server must survive"), limits, protected mode, max clients,
// and shutdown draining. Every test is bounded by deadlines on its
// connections; none sleeps to synchronise.

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// netServer is a Server on 127.0.0.1 with the in-memory backend.
type netServer struct {
	*harness
	addr string
	done chan error
}

func startServer(t *testing.T, mutate ...func(*Config)) *netServer {
	t.Helper()
	h := newHarness(t, mutate...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ns := &netServer{harness: h, addr: ln.Addr().String(), done: make(chan error, 1)}
	go func() { ns.done <- h.s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-ns.done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ns
}

// serveHarness serves h on a loopback listener; the caller shuts it down.
func serveHarness(t *testing.T, h *harness) (*netServer, chan error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- h.s.Serve(ln) }()
	return &netServer{harness: h, addr: ln.Addr().String()}, served
}

// client is a raw connection with a deadline on everything.
type client struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func (ns *netServer) dial(t *testing.T) *client {
	t.Helper()
	nc, err := net.DialTimeout("tcp", ns.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { nc.Close() })
	return &client{t: t, nc: nc, r: bufio.NewReaderSize(nc, 1<<16)}
}

func (c *client) send(raw string) {
	c.t.Helper()
	if _, err := io.WriteString(c.nc, raw); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// reply reads and renders one reply.
func (c *client) reply() string {
	c.t.Helper()
	s, err := readReply(c.r)
	if err != nil {
		c.t.Fatalf("read reply: %v", err)
	}
	return s
}

// readReply reads one complete reply from r and renders it.
func readReply(r *bufio.Reader) (string, error) {
	var buf []byte
	for {
		line, err := r.ReadBytes('\n')
		buf = append(buf, line...)
		if err != nil {
			return "", err
		}
		for {
			out, rest, err := render(buf)
			if err == nil && len(rest) == 0 {
				return out, nil
			}
			if err == nil || !strings.Contains(err.Error(), "short") {
				break
			}
			// A bulk body: read what it declares.
			more := make([]byte, 1)
			if _, err := io.ReadFull(r, more); err != nil {
				return "", err
			}
			buf = append(buf, more...)
		}
	}
}

// closed reports whether the server closed the connection (EOF or reset)
// after any replies that were pending.
func (c *client) closed() bool {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.ReadAll(c.r)
	if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		c.t.Logf("read after close: %v", err)
		return false
	}
	return true
}

// cmd sends a command in RESP and reads its reply.
func (c *client) cmd(args ...string) string {
	c.t.Helper()
	var b strings.Builder
	b.WriteString("*" + itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	c.send(b.String())
	return c.reply()
}

func itoa(n int) string { return strconv.Itoa(n) }

func splitHostPort(a string) (string, string, error) { return net.SplitHostPort(a) }
