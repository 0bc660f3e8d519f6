package coordinator

import (
	"context"
	"fmt"
	"math/rand"
	"sync"
	"time"
)

// MemNetwork is an in-memory network of nodes for in-process cluster tests
// (docs/architecture.md §10), in the spirit of memberlist's MockNetwork and raft's
// rafttest network. Requests and responses are encoded and decoded as on the
// wire, so codec bugs show up here too.
//
// Faults:
//   - Partition(a, b): calls between a and b fail at once with
//     ErrUnreachable (a refused connection, `ip route prohibit`).
//   - Blackhole(a, b): calls between a and b are never answered; the caller
//     waits for its context (a SIGSTOPped peer, `ip rule blackhole`).
//   - SetDrop(p): each call is lost with probability p (seeded).
//   - SetDelay(d): every call takes d before delivery.
//   - Hook: sees every call and may drop it.
//
// All methods are safe for concurrent use.
type MemNetwork struct {
	mu        sync.Mutex
	nodes     map[string]Handler
	cut       map[[2]string]bool // unordered pairs, refused
	holes     map[[2]string]bool // unordered pairs, silent
	dropP     float64
	rng       *rand.Rand
	delay     time.Duration
	hook      func(from, to string, req *Request) bool
	delivered map[MsgKind]int
	running   int        // handlers running for delivered calls; guarded by mu
	idle      *sync.Cond // signalled (with mu) when running drops to 0
}

// NewMemNetwork returns an empty network whose random faults are seeded
// with seed (log it in the test so a failure can be replayed).
func NewMemNetwork(seed int64) *MemNetwork {
	n := &MemNetwork{
		nodes: map[string]Handler{}, cut: map[[2]string]bool{}, holes: map[[2]string]bool{},
		rng: rand.New(rand.NewSource(seed)), delivered: map[MsgKind]int{},
	}
	n.idle = sync.NewCond(&n.mu)
	return n
}

// Register attaches a node's handler; it returns the node's Transport.
func (n *MemNetwork) Register(id string, h Handler) Transport {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.nodes[id] = h
	return &memTransport{net: n, self: id}
}

// Unregister detaches a node, as if its process died: calls to it fail
// with ErrUnreachable.
func (n *MemNetwork) Unregister(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.nodes, id)
}

func pair(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

// Partition refuses every call between a and b in both directions.
func (n *MemNetwork) Partition(a, b string) { n.mu.Lock(); n.cut[pair(a, b)] = true; n.mu.Unlock() }

// Blackhole silently loses every call between a and b.
func (n *MemNetwork) Blackhole(a, b string) { n.mu.Lock(); n.holes[pair(a, b)] = true; n.mu.Unlock() }

// Isolate partitions id from every other registered node.
func (n *MemNetwork) Isolate(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for other := range n.nodes {
		if other != id {
			n.cut[pair(id, other)] = true
		}
	}
}

// Heal removes every partition and blackhole.
func (n *MemNetwork) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut, n.holes = map[[2]string]bool{}, map[[2]string]bool{}
}

// SetDrop loses each call with probability p.
func (n *MemNetwork) SetDrop(p float64) { n.mu.Lock(); n.dropP = p; n.mu.Unlock() }

// SetDelay delays every call by d.
func (n *MemNetwork) SetDelay(d time.Duration) { n.mu.Lock(); n.delay = d; n.mu.Unlock() }

// SetHook installs fn, called for every call before delivery; returning
// false loses the call (the caller waits for its context).
func (n *MemNetwork) SetHook(fn func(from, to string, req *Request) bool) {
	n.mu.Lock()
	n.hook = fn
	n.mu.Unlock()
}

// Delivered returns how many calls of kind k reached a handler.
func (n *MemNetwork) Delivered(k MsgKind) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.delivered[k]
}

type memTransport struct {
	net  *MemNetwork
	self string
}

func (t *memTransport) Call(ctx context.Context, to string, req *Request) (*Response, error) {
	n := t.net
	n.mu.Lock()
	h, ok := n.nodes[to]
	_, selfOK := n.nodes[t.self]
	cut := n.cut[pair(t.self, to)]
	hole := n.holes[pair(t.self, to)] || (n.dropP > 0 && n.rng.Float64() < n.dropP)
	hook, delay := n.hook, n.delay
	n.mu.Unlock()
	if !ok || !selfOK || cut {
		return nil, fmt.Errorf("%w: no route from %s to %s", ErrUnreachable, short(t.self), short(to))
	}
	// Encode as the TCP transport would: the handler gets its own copy.
	wire := AppendRequest(nil, req)
	if hook != nil && !hook(t.self, to, req) {
		hole = true
	}
	if hole {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	in, err := DecodeRequest(wire)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	n.delivered[req.Kind]++
	n.running++
	n.mu.Unlock()
	// A delivered request runs to completion on the receiver even if the
	// caller stops waiting, as on a real network.
	out := make(chan []byte, 1)
	go func() {
		defer func() {
			n.mu.Lock()
			if n.running--; n.running == 0 {
				n.idle.Broadcast()
			}
			n.mu.Unlock()
		}()
		resp := h.HandleRPC(context.WithoutCancel(ctx), t.self, in)
		out <- AppendResponse(nil, req.Kind, resp)
	}()
	select {
	case b := <-out:
		return DecodeResponse(req.Kind, b)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Wait blocks until every delivered call's handler has returned.
func (n *MemNetwork) Wait() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for n.running > 0 {
		n.idle.Wait()
	}
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
