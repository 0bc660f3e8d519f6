package coordinator

import (
	"context"
	"sync"
)

// Pub/sub broadcast: a message published on one node reaches the
// subscribers of every node, as Redis Cluster broadcasts PUBLISH over its
// bus. Messages are not data: nothing is stored, replicated or repaired.
//
// Each peer has a bounded queue and one sender goroutine that sends the
// queue's messages in batches (MsgPublish) and waits for each batch's
// answer before the next, so a peer handles one node's messages in the
// order they were published. Delivery is at most once: a batch whose
// call fails (a dead or partitioned peer, a timeout) is dropped, never
// retried, and so are messages for a peer the failure detector reports
// down or whose queue is full. Publish never waits for a peer.

// PubMessage is one message published on a channel (a shard channel when
// Shard).
type PubMessage struct {
	Shard            bool
	Channel, Message []byte
}

// Bounds of one peer's queue and of one batch.
const (
	pubQueueMax   = 16384    // messages
	pubQueueBytes = 32 << 20 // channel and message bytes
	pubBatchMax   = 512
	pubBatchBytes = 1 << 20
)

// pubsub is the coordinator's broadcast state.
type pubsub struct {
	mu     sync.Mutex
	closed bool
	peers  map[string]*pubPeer
}

// pubPeer is the queue of one peer, drained by its sender goroutine.
type pubPeer struct {
	id   string
	wake chan struct{} // capacity 1

	mu    sync.Mutex
	q     []PubMessage
	bytes int
}

func (m *PubMessage) size() int { return len(m.Channel) + len(m.Message) + 8 }

// Publish queues a message for every other live node of the ring. It
// copies channel and message, never blocks, and keeps the order of the
// calls (of one goroutine) per peer. Messages that find a peer down or
// its queue full are dropped and counted (Stats.PubDropped).
func (c *Coordinator) Publish(shard bool, channel, message []byte) {
	nodes := c.placement().Nodes()
	if len(nodes) <= 1 {
		return
	}
	m := PubMessage{Shard: shard, Channel: append([]byte(nil), channel...), Message: append([]byte(nil), message...)}
	for _, id := range nodes {
		if id == c.cfg.Self {
			continue
		}
		if !c.alive(id) {
			c.stats.PubDropped.Add(1)
			continue
		}
		p := c.pubPeer(id)
		if p == nil {
			return // closed
		}
		p.mu.Lock()
		full := len(p.q) >= pubQueueMax || p.bytes+m.size() > pubQueueBytes
		if !full {
			p.q = append(p.q, m)
			p.bytes += m.size()
		}
		p.mu.Unlock()
		if full {
			c.stats.PubDropped.Add(1)
			continue
		}
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// pubPeer returns id's queue, starting its sender on first use; nil once
// the coordinator is closing.
func (c *Coordinator) pubPeer(id string) *pubPeer {
	c.pub.mu.Lock()
	defer c.pub.mu.Unlock()
	if c.pub.closed {
		return nil
	}
	p := c.pub.peers[id]
	if p == nil {
		if c.pub.peers == nil {
			c.pub.peers = map[string]*pubPeer{}
		}
		p = &pubPeer{id: id, wake: make(chan struct{}, 1)}
		c.pub.peers[id] = p
		c.wg.Add(1)
		go func() { defer c.wg.Done(); c.sendPub(p) }()
	}
	return p
}

// closePub stops new senders; the running ones stop when bg is cancelled.
func (c *Coordinator) closePub() {
	c.pub.mu.Lock()
	c.pub.closed = true
	c.pub.mu.Unlock()
}

// sendPub is a peer's sender: it sends the queue in batches, one call at a
// time, until the coordinator closes.
func (c *Coordinator) sendPub(p *pubPeer) {
	for {
		select {
		case <-p.wake:
		case <-c.bg.Done():
			return
		}
		for {
			batch := p.take()
			if len(batch) == 0 {
				break
			}
			if !c.alive(p.id) {
				c.stats.PubDropped.Add(int64(len(batch)))
				continue
			}
			ctx, cancel := context.WithTimeout(c.bg, c.cfg.RequestTimeout)
			_, err := c.call(ctx, p.id, &Request{Kind: MsgPublish, Pub: batch})
			cancel()
			if err != nil {
				// At most once: the peer may have delivered some of it.
				c.stats.PubDropped.Add(int64(len(batch)))
				c.log.Debug("pub/sub messages to a peer dropped", "peer", p.id, "messages", len(batch), "err", err)
				continue
			}
			c.stats.PubSent.Add(int64(len(batch)))
		}
	}
}

// take removes the next batch from the queue.
func (p *pubPeer) take() []PubMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, size := 0, 0
	for n < len(p.q) && n < pubBatchMax && (n == 0 || size+p.q[n].size() <= pubBatchBytes) {
		size += p.q[n].size()
		n++
	}
	batch := append([]PubMessage(nil), p.q[:n]...)
	clear(p.q[:n])
	p.q = p.q[n:]
	if len(p.q) == 0 {
		p.q = nil // let the backing array go
	}
	p.bytes -= size
	return batch
}

// handlePublish hands a peer's messages to this node's subscribers, in
// order.
func (c *Coordinator) handlePublish(req *Request) *Response {
	if c.deliver != nil {
		c.deliver(req.Pub)
	}
	return &Response{}
}
