package resp

import (
	"net"
	"strings"
	"sync"
	"time"
)

// outbox is the output path of a connection that has subscribed to
// something: pub/sub messages arrive on other goroutines (publishers, the
// cluster's delivery, keyspace notifications) while the connection's
// goroutine may be blocked reading, so a writer goroutine of its own
// writes both the connection's replies and the messages, in one order.
//
// Order: while the connection runs a batch, messages are held back and
// appended after the batch's replies (release), so a SUBSCRIBE's reply
// always precedes the messages of the channels it subscribed to, as in
// Redis. Outside a batch they go straight to the writer.
//
// Memory: messages count against the pubsub output limits (Redis's
// client-output-buffer-limit pubsub, 32mb 8mb 60 by default): a client
// whose pending output passes the hard limit, or stays above the soft one
// for the soft time, is disconnected and its output dropped. Replies do
// not grow it without bound either: a reply waits while more than flushAt
// bytes are pending, as the connection's own write blocks on TCP
// backpressure otherwise.
//
// Ownership: the connection's goroutine creates the outbox on the first
// subscription, calls hold, reply and release, and at the end close, which
// lets the writer drain and joins it. push is safe from any goroutine.
type outbox struct {
	s  *Server
	nc net.Conn // nil for a client driven through Handle: output stays in buf

	mu   sync.Mutex
	cond sync.Cond // on mu: the writer waits for output, reply for room
	// buf is the output ready for the writer; held the messages that
	// arrived during a batch; inflight the bytes being written now.
	buf, held []byte
	inflight  int
	holding   bool
	closed    bool      // the connection is ending: drain buf, then stop
	dead      bool      // over a limit or a write failed: drop everything
	softSince time.Time // when pending output first passed the soft limit

	done chan struct{} // closed when the writer has returned
}

func newOutbox(s *Server, nc net.Conn) *outbox {
	o := &outbox{s: s, nc: nc, holding: true, done: make(chan struct{})}
	o.cond.L = &o.mu
	if nc == nil {
		close(o.done)
	} else {
		go o.run()
	}
	return o
}

// pending is the output not yet written; mu is held.
func (o *outbox) pending() int { return len(o.buf) + len(o.held) + o.inflight }

// push queues one encoded message. It reports false when the client was
// already gone; the message that takes a client over its limits counts as
// received, as in Redis, which drops the client after queueing it.
func (o *outbox) push(msg []byte) bool {
	o.mu.Lock()
	if o.dead || o.closed {
		o.mu.Unlock()
		return false
	}
	if o.holding {
		o.held = append(o.held, msg...)
	} else {
		o.buf = append(o.buf, msg...)
		o.cond.Broadcast()
	}
	over := o.overLimit()
	if over {
		o.drop()
	}
	size := o.pending()
	o.mu.Unlock()
	if over {
		o.s.stats.outputLimitKills.Add(1)
		o.s.log.Warn("pub/sub client reached the output buffer limit; closing it",
			"pending", size+len(msg), "hard", o.s.psHard.Load(), "soft", o.s.psSoft.Load())
		if o.nc != nil {
			o.nc.Close()
		}
	}
	return true
}

// overLimit applies the pubsub output limits; mu is held.
func (o *outbox) overLimit() bool {
	n := int64(o.pending())
	if hard := o.s.psHard.Load(); hard > 0 && n > hard {
		return true
	}
	soft := o.s.psSoft.Load()
	if soft <= 0 || n <= soft {
		o.softSince = time.Time{}
		return false
	}
	now := o.s.cfg.now()
	if o.softSince.IsZero() {
		o.softSince = now
		return false
	}
	return now.Sub(o.softSince) >= time.Duration(o.s.psSoftSecs.Load())*time.Second
}

// drop marks the outbox dead and frees its output; mu is held.
func (o *outbox) drop() {
	o.dead = true
	o.buf, o.held = nil, nil
	o.cond.Broadcast()
}

// hold starts a batch: messages wait behind its replies.
func (o *outbox) hold() {
	o.mu.Lock()
	o.holding = true
	o.mu.Unlock()
}

// reply queues the connection's replies and waits while too much output
// is pending. It reports false when the connection is dead.
func (o *outbox) reply(b []byte) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dead {
		return false
	}
	o.buf = append(o.buf, b...)
	o.cond.Broadcast()
	for o.nc != nil && !o.dead && len(o.buf)+o.inflight > flushAt {
		o.cond.Wait()
	}
	return !o.dead
}

// release ends a batch: the messages held during it follow its replies.
func (o *outbox) release() {
	o.mu.Lock()
	o.holding = false
	if len(o.held) > 0 {
		o.buf = append(o.buf, o.held...)
		o.held = o.held[:0]
		o.cond.Broadcast()
	}
	o.mu.Unlock()
}

// close lets the writer write what is pending and joins it.
func (o *outbox) close() {
	o.release()
	o.mu.Lock()
	o.closed = true
	o.cond.Broadcast()
	o.mu.Unlock()
	<-o.done
}

// take returns and clears the pending output (clients without a
// connection: tests read their messages this way).
func (o *outbox) take() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	b := append(o.buf, o.held...)
	o.buf, o.held = nil, nil
	return b
}

// run is the writer goroutine.
func (o *outbox) run() {
	defer close(o.done)
	var spare []byte
	o.mu.Lock()
	for {
		for len(o.buf) == 0 && !o.closed && !o.dead {
			o.cond.Wait()
		}
		if o.dead || len(o.buf) == 0 {
			o.mu.Unlock()
			return
		}
		b := o.buf
		o.buf, o.inflight = spare[:0], len(b)
		o.mu.Unlock()
		n, err := o.nc.Write(b)
		o.s.stats.netOut.Add(int64(n))
		o.mu.Lock()
		o.inflight = 0
		spare = nil
		if cap(b) <= 4*flushAt {
			spare = b
		}
		o.cond.Broadcast()
		if err != nil {
			o.drop()
			o.mu.Unlock()
			o.nc.Close() // the connection's goroutine notices on its read
			return
		}
	}
}

// setOutputLimits is CONFIG SET client-output-buffer-limit: groups of
// "class hard soft seconds". Only the pubsub class has an effect; normal
// and replica limits are accepted and ignored (dynago bounds a normal
// client's replies with MaxOutputBytes and has no replicas in Redis's
// sense).
func (s *Server) setOutputLimits(v []byte) string {
	f := strings.Fields(string(v))
	if len(f)%4 != 0 {
		return "Wrong number of arguments in buffer limit configuration."
	}
	type limits struct{ hard, soft, secs int64 }
	var ps *limits
	for i := 0; i < len(f); i += 4 {
		class := strings.ToLower(f[i])
		if class != "normal" && class != "replica" && class != "slave" && class != "pubsub" {
			return "Invalid client class specified in buffer limit configuration."
		}
		hard, ok1 := ParseMemory([]byte(f[i+1]))
		soft, ok2 := ParseMemory([]byte(f[i+2]))
		secs, ok3 := parseInt64([]byte(f[i+3]))
		if !ok1 || !ok2 || !ok3 || secs < 0 {
			return "Error in hard, soft or soft_seconds setting in buffer limit configuration."
		}
		if class == "pubsub" {
			ps = &limits{hard, soft, secs}
		}
	}
	if ps != nil {
		s.psHard.Store(ps.hard)
		s.psSoft.Store(ps.soft)
		s.psSoftSecs.Store(ps.secs)
	}
	return ""
}
