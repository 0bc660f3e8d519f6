package coordinator

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The internode RPC runs on the cluster port, beside memberlist's TCP
// streams: a connection whose first bytes are rpcMagic is ours (memberlist's
// message types are small numbers, so 'D' never starts one of its streams).
//
// After the handshake both directions carry frames:
//
//	uint32 length of the rest | uint64 call id | payload
//
// Requests and responses are matched by call id, so many calls are in
// flight on one connection and answers may come back in any order. Each
// connection has one writer goroutine that coalesces queued frames into one
// socket write (docs/architecture.md §4: pipelined, writes coalesced, no connection per
// request, no lock-step round trip).
//
// Handshake (the dialer speaks first, so the listener can demultiplex):
//
//	C→S  rpcMagic | client id (40) | client nonce (32)
//	S→C  server id (40) | server nonce (32) | HMAC(secret, "s"|nc|ns|sid|cid)
//	C→S  HMAC(secret, "c"|ns|nc|cid|sid)
//	S→C  0x01
//
// Both sides prove knowledge of the cluster secret without sending it, and
// the dialer checks it reached the node it meant to. Nodes with another
// secret are refused.
const (
	rpcMagic       = "DYNRPC1\n"
	nodeIDLen      = 40
	nonceLen       = 32
	frameHeaderLen = 12
)

// RPCConfig configures the TCP transport.
type RPCConfig struct {
	// Self is this node's 40-hex id.
	Self string
	// Secret authenticates peers (--cluster-secret). Empty is a valid
	// secret shared by every node started without one.
	Secret []byte
	// Resolve maps a node id to its cluster address.
	Resolve func(id string) (addr string, ok bool)
	// AllowPeer, if set, must accept an authenticated peer's id before
	// its requests are served.
	AllowPeer func(id string) bool
	// ConnsPerPeer is how many connections carry calls to one peer
	// (default 1: every frame to a peer goes through one writer, which
	// coalesces more of them into each write; measured cheaper than 2).
	ConnsPerPeer int
	// DialTimeout bounds connecting plus the handshake (default 2 s).
	DialTimeout time.Duration
	// RedialBackoff is how long calls to a peer fail fast after a failed
	// dial (default 250 ms), so a dead peer costs no dial per request.
	RedialBackoff time.Duration
	// MaxFrameBytes bounds one frame (default 160 MiB: the largest object
	// is max-siblings values of max-value-bytes).
	MaxFrameBytes int
	// MaxInflightPerConn bounds concurrently served requests per inbound
	// connection (default 1024).
	MaxInflightPerConn int
	Logger             *slog.Logger
}

func (c *RPCConfig) setDefaults() {
	if c.ConnsPerPeer <= 0 {
		c.ConnsPerPeer = 1
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 2 * time.Second
	}
	if c.RedialBackoff <= 0 {
		c.RedialBackoff = 250 * time.Millisecond
	}
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = 160 << 20
	}
	if c.MaxInflightPerConn <= 0 {
		c.MaxInflightPerConn = 1024
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// RPC is the TCP Transport. It dials peers on demand and serves inbound
// connections handed to ServeConn.
type RPC struct {
	cfg     RPCConfig
	handler Handler
	log     *slog.Logger

	ctx    context.Context // cancelled by Close; parent of served requests
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the RPC starts

	mu      sync.Mutex
	closed  bool
	peers   map[string]*peer
	inbound map[*rpcConn]struct{}

	nextID  atomic.Uint64
	stats   RPCStats
	workers *workerPool // serves inbound requests on grown stacks
}

// RPCStats are transport counters for INFO.
type RPCStats struct {
	CallsSent, CallsFailed, CallsServed, Dials, DialFailures, AuthFailures atomic.Int64
}

// NewRPC returns a transport that serves inbound requests with h.
func NewRPC(cfg RPCConfig, h Handler) *RPC {
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &RPC{cfg: cfg, handler: h, log: cfg.Logger, ctx: ctx, cancel: cancel,
		peers: map[string]*peer{}, inbound: map[*rpcConn]struct{}{},
		workers: newWorkerPool(256, 10*time.Second)}
}

// Stats returns the transport counters.
func (r *RPC) Stats() *RPCStats { return &r.stats }

// Close closes every connection and waits for the transport's goroutines.
// Calls in flight fail. It is idempotent.
func (r *RPC) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		r.wg.Wait()
		return nil
	}
	r.closed = true
	var conns []*rpcConn
	for _, p := range r.peers {
		p.mu.Lock()
		conns = append(conns, p.conns...)
		p.conns = nil
		p.mu.Unlock()
	}
	for c := range r.inbound {
		conns = append(conns, c)
	}
	r.mu.Unlock()
	r.cancel()
	for _, c := range conns {
		c.close(net.ErrClosed)
	}
	r.wg.Wait()
	r.workers.Close()
	return nil
}

// IsRPC reports whether the first bytes of a connection on the cluster port
// belong to the RPC (rather than to memberlist).
func IsRPC(first byte) bool { return first == rpcMagic[0] }

// ServeConn authenticates an inbound connection and serves its requests
// until it closes. It returns at once; the RPC owns the connection.
func (r *RPC) ServeConn(nc net.Conn) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		nc.Close()
		return
	}
	r.wg.Add(1)
	r.mu.Unlock()
	go func() {
		defer r.wg.Done()
		peerID, err := r.acceptHandshake(nc)
		if err != nil {
			r.stats.AuthFailures.Add(1)
			r.log.Warn("refused internode connection", "remote", nc.RemoteAddr().String(), "err", err)
			nc.Close()
			return
		}
		c := r.newConn(nc, peerID, true)
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			c.close(net.ErrClosed)
			return
		}
		r.inbound[c] = struct{}{}
		r.mu.Unlock()
		c.start()
	}()
}

// Serve accepts connections from ln (already known to be RPC connections)
// until ln is closed.
func (r *RPC) Serve(ln net.Listener) error {
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		r.ServeConn(nc)
	}
}

func (r *RPC) mac(tag byte, n1, n2 []byte, id1, id2 string) []byte {
	m := hmac.New(sha256.New, r.cfg.Secret)
	m.Write([]byte{tag})
	m.Write(n1)
	m.Write(n2)
	m.Write([]byte(id1))
	m.Write([]byte(id2))
	return m.Sum(nil)
}

func (r *RPC) acceptHandshake(nc net.Conn) (string, error) {
	nc.SetDeadline(time.Now().Add(r.cfg.DialTimeout))
	defer nc.SetDeadline(time.Time{})
	hello := make([]byte, len(rpcMagic)+nodeIDLen+nonceLen)
	if _, err := io.ReadFull(nc, hello); err != nil {
		return "", err
	}
	if string(hello[:len(rpcMagic)]) != rpcMagic {
		return "", errors.New("not a dynago RPC connection")
	}
	cid := string(hello[len(rpcMagic) : len(rpcMagic)+nodeIDLen])
	nc1 := hello[len(rpcMagic)+nodeIDLen:]
	ns := make([]byte, nonceLen)
	rand.Read(ns)
	reply := append([]byte(r.cfg.Self), ns...)
	reply = append(reply, r.mac('s', nc1, ns, r.cfg.Self, cid)...)
	if _, err := nc.Write(reply); err != nil {
		return "", err
	}
	proof := make([]byte, sha256.Size)
	if _, err := io.ReadFull(nc, proof); err != nil {
		return "", err
	}
	if !hmac.Equal(proof, r.mac('c', ns, nc1, cid, r.cfg.Self)) {
		return "", errors.New("peer does not know the cluster secret")
	}
	if r.cfg.AllowPeer != nil && !r.cfg.AllowPeer(cid) {
		return "", fmt.Errorf("node %s is not a cluster member", cid)
	}
	_, err := nc.Write([]byte{1})
	return cid, err
}

func (r *RPC) dialHandshake(ctx context.Context, id, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.DialTimeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	fail := func(err error) (net.Conn, error) { nc.Close(); return nil, err }
	nc1 := make([]byte, nonceLen)
	rand.Read(nc1)
	hello := append([]byte(rpcMagic), r.cfg.Self...)
	hello = append(hello, nc1...)
	if _, err := nc.Write(hello); err != nil {
		return fail(err)
	}
	reply := make([]byte, nodeIDLen+nonceLen+sha256.Size)
	if _, err := io.ReadFull(nc, reply); err != nil {
		return fail(fmt.Errorf("handshake with %s: %w (another cluster secret?)", addr, err))
	}
	sid := string(reply[:nodeIDLen])
	ns := reply[nodeIDLen : nodeIDLen+nonceLen]
	if sid != id {
		return fail(fmt.Errorf("%s is node %s, not %s", addr, sid, id))
	}
	if !hmac.Equal(reply[nodeIDLen+nonceLen:], r.mac('s', nc1, ns, sid, r.cfg.Self)) {
		return fail(fmt.Errorf("node %s does not know the cluster secret", sid))
	}
	if _, err := nc.Write(r.mac('c', ns, nc1, r.cfg.Self, sid)); err != nil {
		return fail(err)
	}
	ok := make([]byte, 1)
	if _, err := io.ReadFull(nc, ok); err != nil || ok[0] != 1 {
		return fail(fmt.Errorf("node %s refused the connection", sid))
	}
	nc.SetDeadline(time.Time{})
	return nc, nil
}

// peer holds the connections to one node.
type peer struct {
	id string

	mu         sync.Mutex
	conns      []*rpcConn
	next       int  // round-robin over conns
	dialing    bool // one dial at a time
	dialDone   chan struct{}
	failedAt   time.Time // last dial failure, for RedialBackoff
	failedWith error
}

func (r *RPC) peer(id string) (*peer, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, fmt.Errorf("%w: transport closed", ErrUnreachable)
	}
	p := r.peers[id]
	if p == nil {
		p = &peer{id: id}
		r.peers[id] = p
	}
	return p, nil
}

// conn returns a live connection to p, dialing one if there are fewer than
// ConnsPerPeer.
func (r *RPC) conn(ctx context.Context, p *peer) (*rpcConn, error) {
	for {
		p.mu.Lock()
		n := len(p.conns)
		recentFailure := time.Since(p.failedAt) < r.cfg.RedialBackoff
		if n > 0 && (n >= r.cfg.ConnsPerPeer || p.dialing || recentFailure) {
			c := p.conns[p.next%n]
			p.next++
			p.mu.Unlock()
			return c, nil
		}
		if p.dialing { // n == 0: wait for the dial in progress
			wait := p.dialDone
			p.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if recentFailure { // n == 0: fail fast instead of dialing a dead peer per call
			err := p.failedWith
			p.mu.Unlock()
			return nil, err
		}
		p.dialing, p.dialDone = true, make(chan struct{})
		p.mu.Unlock()

		c, err := r.dial(ctx, p.id)

		p.mu.Lock()
		p.dialing = false
		close(p.dialDone)
		if err != nil {
			p.failedAt, p.failedWith = time.Now(), err
			p.mu.Unlock()
			continue // use a connection we still have, or fail fast above
		}
		p.conns = append(p.conns, c)
		p.failedAt = time.Time{}
		p.mu.Unlock()
		c.start()
	}
}

func (r *RPC) dial(ctx context.Context, id string) (*rpcConn, error) {
	addr, ok := r.cfg.Resolve(id)
	if !ok {
		return nil, fmt.Errorf("%w: no address for node %s", ErrUnreachable, id)
	}
	r.stats.Dials.Add(1)
	nc, err := r.dialHandshake(ctx, id, addr)
	if err != nil {
		r.stats.DialFailures.Add(1)
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		nc.Close()
		return nil, fmt.Errorf("%w: transport closed", ErrUnreachable)
	}
	r.mu.Unlock()
	return r.newConn(nc, id, false), nil
}

func (r *RPC) dropConn(c *rpcConn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.inbound {
		delete(r.inbound, c)
		return
	}
	if p := r.peers[c.peerID]; p != nil {
		p.mu.Lock()
		for i, pc := range p.conns {
			if pc == c {
				p.conns = append(p.conns[:i], p.conns[i+1:]...)
				break
			}
		}
		p.mu.Unlock()
	}
}

// Call implements Transport.
func (r *RPC) Call(ctx context.Context, to string, req *Request) (*Response, error) {
	p, err := r.peer(to)
	if err != nil {
		return nil, err
	}
	c, err := r.conn(ctx, p)
	if err != nil {
		r.stats.CallsFailed.Add(1)
		return nil, err
	}
	r.stats.CallsSent.Add(1)
	f := AppendRequest(make([]byte, frameHeaderLen, frameHeaderLen+64+len(req.Key)+req.Object.EncodedSize()), req)
	payload, err := c.call(ctx, setFrameHeader(f, r.nextID.Add(1)))
	if err != nil {
		r.stats.CallsFailed.Add(1)
		return nil, err
	}
	return DecodeResponse(req.Kind, payload)
}

// rpcConn is one authenticated connection. Outbound connections carry our
// calls; inbound ones carry the peer's.
type rpcConn struct {
	r       *RPC
	nc      net.Conn
	peerID  string
	inbound bool

	out  chan []byte   // frames to write, coalesced by the writer
	done chan struct{} // closed when the connection is closed

	mu      sync.Mutex
	err     error                     // why it closed
	pending map[uint64]chan callReply // outbound: calls awaiting replies
}

type callReply struct {
	payload []byte
	err     error
}

func (r *RPC) newConn(nc net.Conn, peerID string, inbound bool) *rpcConn {
	return &rpcConn{r: r, nc: nc, peerID: peerID, inbound: inbound,
		out: make(chan []byte, 1024), done: make(chan struct{}), pending: map[uint64]chan callReply{}}
}

// start runs the connection's reader and writer goroutines, owned by the
// RPC's WaitGroup.
func (c *rpcConn) start() {
	c.r.wg.Add(2)
	go func() { defer c.r.wg.Done(); c.writeLoop() }()
	go func() { defer c.r.wg.Done(); c.readLoop() }()
}

func (c *rpcConn) close(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	pending := c.pending
	c.pending = nil
	close(c.done)
	c.mu.Unlock()
	c.nc.Close()
	c.r.dropConn(c)
	for _, ch := range pending {
		ch <- callReply{err: fmt.Errorf("coordinator: connection to %s lost: %w", c.peerID, err)}
	}
}

// setFrameHeader fills in the header of f, a frame built by appending its
// payload after frameHeaderLen reserved bytes.
func setFrameHeader(f []byte, id uint64) []byte {
	binary.BigEndian.PutUint32(f, uint32(len(f)-4))
	binary.BigEndian.PutUint64(f[4:], id)
	return f
}

func (c *rpcConn) send(f []byte) error {
	select {
	case c.out <- f:
		return nil
	case <-c.done:
		return net.ErrClosed
	}
}

func (c *rpcConn) call(ctx context.Context, f []byte) ([]byte, error) {
	id := binary.BigEndian.Uint64(f[4:])
	ch := make(chan callReply, 1)
	c.mu.Lock()
	if c.pending == nil {
		err := c.err
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	c.pending[id] = ch
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		if c.pending != nil {
			delete(c.pending, id)
		}
		c.mu.Unlock()
	}
	select {
	case c.out <- f:
	case <-c.done:
		forget()
		return nil, fmt.Errorf("%w: connection closed", ErrUnreachable)
	case <-ctx.Done():
		forget()
		return nil, ctx.Err()
	}
	select {
	case rep := <-ch:
		return rep.payload, rep.err
	case <-ctx.Done():
		// The request is on the wire: the peer may still apply it. Its
		// late reply finds no pending call and is dropped.
		forget()
		return nil, ctx.Err()
	}
}

// writeLoop writes queued frames, flushing only when the queue is empty so
// that frames queued together go out in one write.
func (c *rpcConn) writeLoop() {
	w := bufio.NewWriterSize(c.nc, 64<<10)
	for {
		select {
		case f := <-c.out:
			if _, err := w.Write(f); err != nil {
				c.close(err)
				return
			}
			// Drain what is queued; then yield once and drain again, so that
			// frames other goroutines are about to queue join this write: at
			// low pipelining a write per frame was a sixth of a node's CPU.
			for yielded := false; ; {
				select {
				case f := <-c.out:
					if _, err := w.Write(f); err != nil {
						c.close(err)
						return
					}
					continue
				default:
				}
				if yielded {
					break
				}
				yielded = true
				runtime.Gosched()
			}
			if err := w.Flush(); err != nil {
				c.close(err)
				return
			}
		case <-c.done:
			return
		}
	}
}

func (c *rpcConn) readLoop() {
	rd := bufio.NewReaderSize(c.nc, 64<<10)
	var sem chan struct{}
	if c.inbound {
		sem = make(chan struct{}, c.r.cfg.MaxInflightPerConn)
	}
	hdr := make([]byte, frameHeaderLen)
	for {
		if _, err := io.ReadFull(rd, hdr); err != nil {
			c.close(err)
			return
		}
		n := int(binary.BigEndian.Uint32(hdr))
		id := binary.BigEndian.Uint64(hdr[4:])
		if n < 8 || n-8 > c.r.cfg.MaxFrameBytes {
			c.close(fmt.Errorf("frame of %d bytes exceeds the limit", n))
			return
		}
		payload := make([]byte, n-8)
		if _, err := io.ReadFull(rd, payload); err != nil {
			c.close(err)
			return
		}
		if !c.inbound {
			c.mu.Lock()
			ch := c.pending[id]
			delete(c.pending, id)
			c.mu.Unlock()
			if ch != nil {
				ch <- callReply{payload: payload}
			}
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-c.done:
			return
		}
		c.r.wg.Add(1)
		c.r.workers.Go(func() {
			defer c.r.wg.Done()
			defer func() { <-sem }()
			c.serve(id, payload)
		})
	}
}

// serve runs one inbound request and queues its response.
func (c *rpcConn) serve(id uint64, payload []byte) {
	c.r.stats.CallsServed.Add(1)
	req, err := DecodeRequest(payload)
	var resp *Response
	if err != nil {
		resp = &Response{Err: err}
	} else {
		resp = c.r.handler.HandleRPC(c.r.ctx, c.peerID, req)
	}
	f := AppendResponse(make([]byte, frameHeaderLen, frameHeaderLen+64+resp.Object.EncodedSize()), req.Kind, resp)
	_ = c.send(setFrameHeader(f, id))
}
