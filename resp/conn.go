package resp

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// flushAt is the amount of pending reply bytes after which the connection
// writes them out in the middle of a batch. Writing blocks while the client
// does not read, so a pipelined flood is throttled by TCP backpressure and
// the pending output stays near this size; only a single reply can be
// larger (up to MaxOutputBytes).
const flushAt = 64 << 10

// conn is one client connection. Its goroutine (serveConn) owns the parser,
// the writer and the Client; other goroutines only call interrupt and kill,
// or read the Client's shared fields.
type conn struct {
	s      *Server
	nc     net.Conn
	client *Client
	p      parser
	w      Writer

	// mu orders the goroutine's read-deadline changes against interrupt,
	// so that Shutdown's wake-up is never overwritten.
	mu     sync.Mutex
	killed atomic.Bool // CLIENT KILL: stop after the current command
	// lastDone is when the connection last completed a command (or was
	// accepted); idle and auth timeouts count from it. Network deadlines
	// use the real clock, not Config.now, which only decides expiries.
	lastDone time.Time

	// wave is runBatch's scratch for the wave being gathered (wave.go),
	// run hands a concurrent wave to its workers, and wg joins them.
	wave []waveCmd
	run  waveRun
	wg   sync.WaitGroup
}

func (s *Server) newConn(nc net.Conn) *conn {
	c := &conn{s: s, nc: nc}
	c.client = s.newClient(nc.RemoteAddr().String(), nc.LocalAddr().String())
	c.client.conn = c
	c.w.proto = 2
	c.lastDone = time.Now()
	return c
}

// Read feeds the parser, counting input bytes for INFO.
func (c *conn) Read(b []byte) (int, error) {
	n, err := c.nc.Read(b)
	c.s.stats.netIn.Add(int64(max(n, 0)))
	return n, err
}

// interrupt wakes the goroutine from a blocking read (Shutdown).
func (c *conn) interrupt() {
	c.mu.Lock()
	c.nc.SetReadDeadline(time.Unix(1, 0))
	c.mu.Unlock()
}

// kill closes the connection (CLIENT KILL). The goroutine notices on its
// next read or write and cleans up.
func (c *conn) kill() {
	c.killed.Store(true)
	c.nc.Close()
}

// serveConn is the connection's goroutine: read a batch, run it, write
// the replies, until the client leaves, breaks the protocol, is killed or
// the server shuts down.
func (s *Server) serveConn(c *conn) {
	defer func() {
		if r := recover(); r != nil {
			// A bug in a handler must not take the node down; drop this
			// connection and say loudly what happened.
			s.log.Error("panic serving a client; connection closed", "addr", c.client.addr,
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
		if cl := c.client; cl.out != nil {
			s.unsubscribeAll(cl) // no message finds it any more
			cl.out.close()       // the writer drains and returns
		}
		c.nc.Close()
		c.client.releaseCtx()
		c.client.tx.unwatch()
		s.mu.Lock()
		delete(s.mu.conns, c.client.id)
		s.mu.Unlock()
		s.conns.Done()
	}()
	for !s.closing.Load() && !c.killed.Load() {
		c.p.lim = s.limitsFor(c.client)
		if !c.armReadDeadline() {
			return
		}
		cmds, err := c.p.readBatch(c)
		if len(cmds) > 0 {
			c.lastDone = time.Now()
			if !s.runBatch(c, cmds) {
				return
			}
		}
		if err != nil {
			var pe protoError
			switch {
			case errors.As(err, &pe):
				s.stats.protoErrors.Add(1)
				c.w.WriteError("ERR " + pe.Error())
				c.flush()
				s.log.Info("protocol error from client; closing it", "addr", c.client.addr, "err", pe.Error())
				c.drain(c.p.unread)
			case errors.Is(err, errQueryLimit):
				s.log.Warn("client reached the query buffer limit; closing it", "addr", c.client.addr,
					"buffered", c.p.buffered(), "limit", c.p.lim.maxQuery)
			default:
				// EOF, reset, idle timeout or Shutdown's wake-up: whatever
				// replies are pending still go out if they can.
				c.flush()
			}
			return
		}
	}
}

// drainTimeout bounds how long a connection closing on a refused bulk
// reads the rest of it.
const drainTimeout = 10 * time.Second

// drain reads and drops up to n bytes still coming from the client (the
// rest of a bulk refused as too long), nothing of it buffered, so that a
// client still writing it gets to read the error: closing a socket with
// unread input makes TCP send a reset, and a client blocked writing sees
// "connection reset" and never the reply. The write side is shut first,
// so the client sees the error and the end of the stream at once. It
// gives up after drainTimeout or on Shutdown's interrupt.
func (c *conn) drain(n int64) {
	if n <= 0 {
		return
	}
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.mu.Lock()
	if c.s.closing.Load() {
		c.mu.Unlock()
		return
	}
	c.nc.SetReadDeadline(time.Now().Add(drainTimeout))
	c.mu.Unlock()
	io.CopyN(io.Discard, c, n)
}

// limitsFor returns the parser limits for a client's next batch.
func (s *Server) limitsFor(cl *Client) limits {
	l := limits{
		maxArgs:   s.cfg.MaxArgs,
		maxBulk:   int(s.maxBulk.Load()),
		maxInline: s.cfg.MaxInlineBytes,
		maxQuery:  s.cfg.MaxQueryBytes,
	}
	if !cl.authed {
		l.unauth = true
		l.maxQuery = min(l.maxQuery, unauthMaxQuery)
	}
	return l
}

// armReadDeadline sets the read deadline the idle and auth timeouts call
// for, under mu so that it cannot undo Shutdown's interrupt. It reports
// false when the server is shutting down.
func (c *conn) armReadDeadline() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.s.closing.Load() {
		return false
	}
	var d time.Duration
	if idle := time.Duration(c.s.idleTimeout.Load()); idle > 0 {
		d = idle
	}
	if !c.client.authed && c.s.cfg.AuthTimeout > 0 && (d == 0 || c.s.cfg.AuthTimeout < d) {
		d = c.s.cfg.AuthTimeout
	}
	var deadline time.Time
	if d > 0 {
		deadline = c.lastDone.Add(d)
	}
	return c.nc.SetReadDeadline(deadline) == nil
}

// dropClient closes a client whose reply would exceed the output limit,
// without sending it (Redis's client-output-buffer-limit). A client driven
// through Handle sees an error reply instead.
func (s *Server) dropClient(c *Client, w *Writer, size int) {
	if c.dropConn {
		return
	}
	c.dropConn = true
	s.stats.outputLimitKills.Add(1)
	s.log.Warn("client reached the output buffer limit; closing it", "addr", c.addr,
		"pending", size, "limit", s.cfg.MaxOutputBytes)
	w.WriteError("ERR reply exceeds the output buffer limit; closing the connection")
}

// flush writes the pending replies. It reports false on a write error.
func (c *conn) flush() bool {
	b := c.w.Bytes()
	if len(b) == 0 {
		return true
	}
	if o := c.client.out; o != nil {
		// A subscriber's writer writes replies and messages in order.
		ok := o.reply(b)
		c.w.Reset(c.w.proto)
		return ok
	}
	n, err := c.nc.Write(b)
	c.s.stats.netOut.Add(int64(n))
	c.w.Reset(c.w.proto)
	if cap(c.w.buf) > 4*flushAt {
		c.w.buf = nil // give back what one huge reply grew
	}
	return err == nil
}
