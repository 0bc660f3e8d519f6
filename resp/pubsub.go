package resp

import (
	"context"
	"net"
	"slices"
	"sync"
)

// Pub/sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE,
// SUNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB CHANNELS|NUMSUB|NUMPAT|
// SHARDCHANNELS|SHARDNUMSUB, with Redis 7's replies in RESP2 and RESP3
// (push messages). Channels are not keys: nothing is stored, and a
// message reaches the clients subscribed when it arrives, at most once.
//
// In a cluster PUBLISH and SPUBLISH reach the subscribers of every node:
// the backend (Publisher) carries them to the other nodes, which deliver
// them with Deliver. The reply counts the receivers on this node only, as
// Redis Cluster's does; PUBSUB reports this node's subscriptions.
// Keyspace notifications (notify.go) stay on the node where the event
// happened.

// Publisher is an optional interface of a Backend: a clustered backend
// carries PUBLISH and SPUBLISH to the other nodes, which hand them to their
// Server's Deliver. Publish must not block on other nodes (queue and
// return) and must keep the order of the calls of one goroutine; it is
// called concurrently. A backend without it keeps messages on this node.
type Publisher interface {
	Publish(shard bool, channel, message []byte)
}

// pubsub is the server's subscription registry. Publishers read it, the
// connections' goroutines change it; each subscriber's Client also keeps
// its own sets (clientSubs) for its replies and for cleanup.
type pubsub struct {
	mu       sync.RWMutex
	channels map[string]map[*Client]struct{}
	shards   map[string]map[*Client]struct{}
	patterns map[string]*patternSubs
}

// patternSubs are the subscribers of one pattern, with the pattern compiled.
type patternSubs struct {
	g       *glob
	clients map[*Client]struct{}
}

// subKind is one of the three subscription namespaces.
type subKind uint8

const (
	subChannel subKind = iota
	subPattern
	subShard
)

// clientSubs is one client's subscriptions, owned by its connection's
// goroutine.
type clientSubs [3]map[string]struct{}

func (s *Server) initPubSub() {
	s.ps.channels = map[string]map[*Client]struct{}{}
	s.ps.shards = map[string]map[*Client]struct{}{}
	s.ps.patterns = map[string]*patternSubs{}
	s.psHard.Store(int64(s.cfg.PubSubHardBytes))
	s.psSoft.Store(int64(s.cfg.PubSubSoftBytes))
	s.psSoftSecs.Store(int64(s.cfg.PubSubSoftTime / 1e9))
}

// subscribed reports whether the client has any subscription (Redis's
// CLIENT_PUBSUB flag: RESP2 restricts its commands).
func (c *Client) subscribed() bool {
	return c.subs != nil && len(c.subs[subChannel])+len(c.subs[subPattern])+len(c.subs[subShard]) > 0
}

// subCount is the count a (un)subscribe reply carries: channels and
// patterns, or shard channels alone.
func (c *Client) subCount(k subKind) int64 {
	if c.subs == nil {
		return 0
	}
	if k == subShard {
		return int64(len(c.subs[subShard]))
	}
	return int64(len(c.subs[subChannel]) + len(c.subs[subPattern]))
}

// subscribe adds one subscription of c; it reports false if c had it.
func (s *Server) subscribe(c *Client, k subKind, name []byte) bool {
	if c.subs == nil {
		c.subs = &clientSubs{{}, {}, {}}
	}
	if c.out == nil {
		var nc net.Conn
		if c.conn != nil {
			nc = c.conn.nc
		}
		c.out = newOutbox(s, nc) // before the broker can see c
	}
	key := string(name)
	if _, ok := c.subs[k][key]; ok {
		return false
	}
	c.subs[k][key] = struct{}{}
	c.subN[k].Add(1)
	s.ps.mu.Lock()
	defer s.ps.mu.Unlock()
	switch k {
	case subPattern:
		p := s.ps.patterns[key]
		if p == nil {
			p = &patternSubs{g: compileGlob(name, false), clients: map[*Client]struct{}{}}
			s.ps.patterns[key] = p
		}
		p.clients[c] = struct{}{}
	default:
		m := s.ps.byName(k)
		set := m[key]
		if set == nil {
			set = map[*Client]struct{}{}
			m[key] = set
		}
		set[c] = struct{}{}
	}
	return true
}

// byName is the channel or shard-channel map.
func (ps *pubsub) byName(k subKind) map[string]map[*Client]struct{} {
	if k == subShard {
		return ps.shards
	}
	return ps.channels
}

// unsubscribe removes one subscription of c; it reports false if c had
// none.
func (s *Server) unsubscribe(c *Client, k subKind, key string) bool {
	if c.subs == nil {
		return false
	}
	if _, ok := c.subs[k][key]; !ok {
		return false
	}
	delete(c.subs[k], key)
	c.subN[k].Add(-1)
	s.ps.mu.Lock()
	defer s.ps.mu.Unlock()
	if k == subPattern {
		if p := s.ps.patterns[key]; p != nil {
			delete(p.clients, c)
			if len(p.clients) == 0 {
				delete(s.ps.patterns, key)
			}
		}
		return true
	}
	m := s.ps.byName(k)
	if set := m[key]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(m, key)
		}
	}
	return true
}

// unsubscribeAll drops every subscription of c without replies (RESET,
// connection close).
func (s *Server) unsubscribeAll(c *Client) {
	if c.subs == nil {
		return
	}
	for k := range c.subs {
		for key := range c.subs[k] {
			s.unsubscribe(c, subKind(k), key)
		}
	}
}

// subscribeKinds names each kind's subscribe and unsubscribe replies.
var subscribeKinds = [3][2]string{
	subChannel: {"subscribe", "unsubscribe"},
	subPattern: {"psubscribe", "punsubscribe"},
	subShard:   {"ssubscribe", "sunsubscribe"},
}

// subscribeHandler serves SUBSCRIBE, PSUBSCRIBE and SSUBSCRIBE: one reply
// per name, with the client's count after it.
func (s *Server) subscribeHandler(k subKind) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		for _, name := range args[1:] {
			s.subscribe(c, k, name)
			writeSubReply(w, subscribeKinds[k][0], name, c.subCount(k))
		}
	}
}

// unsubscribeHandler serves UNSUBSCRIBE, PUNSUBSCRIBE and SUNSUBSCRIBE;
// without names it drops every subscription of its kind, and answers with
// a null name when there was none.
func (s *Server) unsubscribeHandler(k subKind) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		kind := subscribeKinds[k][1]
		if len(args) > 1 {
			for _, name := range args[1:] {
				s.unsubscribe(c, k, string(name))
				writeSubReply(w, kind, name, c.subCount(k))
			}
			return
		}
		var names []string
		if c.subs != nil {
			for key := range c.subs[k] {
				names = append(names, key)
			}
		}
		if len(names) == 0 {
			writeSubReply(w, kind, nil, c.subCount(k))
			return
		}
		slices.Sort(names)
		for _, key := range names {
			s.unsubscribe(c, k, key)
			writeSubReply(w, kind, []byte(key), c.subCount(k))
		}
	}
}

// writeSubReply writes one (un)subscribe confirmation: a push in RESP3.
func writeSubReply(w *Writer, kind string, name []byte, count int64) {
	w.WritePush(3)
	w.WriteBulkString(kind)
	if name == nil {
		w.WriteNull()
	} else {
		w.WriteBulk(name)
	}
	w.WriteInt(count)
}

// PUBLISH channel message, SPUBLISH shardchannel message: deliver here,
// hand to the cluster, answer the number of receivers on this node.
func (s *Server) publishHandler(shard bool) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		n := s.Deliver(shard, args[1], args[2])
		if s.pub != nil {
			s.pub.Publish(shard, args[1], args[2])
		}
		w.WriteInt(int64(n))
	}
}

// Deliver hands a message to this node's subscribers of channel (of the
// shard channel when shard) and returns how many received it: one per
// subscribed client and one per (client, matching pattern), as Redis
// counts. It never blocks: a client whose pending output passes its limits
// is disconnected instead. Safe for concurrent use; the cluster calls it
// for messages published on other nodes.
func (s *Server) Deliver(shard bool, channel, message []byte) int {
	var msg pushMsg
	n := 0
	s.ps.mu.RLock()
	defer s.ps.mu.RUnlock()
	if shard {
		for c := range s.ps.shards[string(channel)] {
			if c.out.push(msg.get(c, "smessage", nil, channel, message)) {
				n++
			}
		}
		return n
	}
	for c := range s.ps.channels[string(channel)] {
		if c.out.push(msg.get(c, "message", nil, channel, message)) {
			n++
		}
	}
	if len(s.ps.patterns) == 0 {
		return n
	}
	for pat, p := range s.ps.patterns {
		if m, _ := p.g.match(channel, globBudget(p.g.size, len(channel))); !m {
			continue
		}
		var pm pushMsg // the pattern is part of the message
		for c := range p.clients {
			if c.out.push(pm.get(c, "pmessage", []byte(pat), channel, message)) {
				n++
			}
		}
	}
	return n
}

// pushMsg encodes one message once per protocol version.
type pushMsg struct{ enc [2][]byte }

func (m *pushMsg) get(c *Client, kind string, pattern, channel, message []byte) []byte {
	v := 0
	if c.pushProto.Load() >= 3 {
		v = 1
	}
	if m.enc[v] == nil {
		w := NewWriter(2 + v)
		n := 3
		if pattern != nil {
			n = 4
		}
		w.WritePush(n)
		w.WriteBulkString(kind)
		if pattern != nil {
			w.WriteBulk(pattern)
		}
		w.WriteBulk(channel)
		w.WriteBulk(message)
		m.enc[v] = w.Bytes()
	}
	return m.enc[v]
}

// PUBSUB CHANNELS [pattern], PUBSUB SHARDCHANNELS [pattern]: the channels
// with subscribers on this node, sorted.
func (s *Server) pubsubChannels(shard bool) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		if len(args) > 3 {
			// Redis 7's PUBSUB checks its own argument count.
			w.WriteError("ERR unknown subcommand or wrong number of arguments for '" + string(args[1]) + "'. Try PUBSUB HELP.")
			return
		}
		var g *glob
		if len(args) == 3 {
			g = compileGlob(args[2], false)
		}
		k := subChannel
		if shard {
			k = subShard
		}
		var out []string
		s.ps.mu.RLock()
		for name := range s.ps.byName(k) {
			if g != nil {
				if m, _ := g.match([]byte(name), globBudget(g.size, len(name))); !m {
					continue
				}
			}
			out = append(out, name)
		}
		s.ps.mu.RUnlock()
		slices.Sort(out)
		w.WriteArray(len(out))
		for _, name := range out {
			w.WriteBulkString(name)
		}
	}
}

// PUBSUB NUMSUB [channel ...], PUBSUB SHARDNUMSUB [shardchannel ...]: each
// channel and its number of subscribers on this node, in a flat array.
func (s *Server) pubsubNumSub(shard bool) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		k := subChannel
		if shard {
			k = subShard
		}
		w.WriteArray(2 * (len(args) - 2))
		s.ps.mu.RLock()
		defer s.ps.mu.RUnlock()
		m := s.ps.byName(k)
		for _, name := range args[2:] {
			w.WriteBulk(name)
			w.WriteInt(int64(len(m[string(name)])))
		}
	}
}

// PUBSUB NUMPAT: the number of distinct patterns subscribed on this node.
func (s *Server) cmdPubSubNumPat(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.ps.mu.RLock()
	n := len(s.ps.patterns)
	s.ps.mu.RUnlock()
	w.WriteInt(int64(n))
}

// subscribedOnly is Redis 7's refusal of other commands on a RESP2
// connection with subscriptions.
func subscribedOnly(cmd *Command) string {
	return "ERR Can't execute '" + cmd.fullName + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
}

// isPubSub is subscribed for other goroutines (CLIENT LIST).
func (c *Client) isPubSub() bool {
	return c.subN[subChannel].Load()+c.subN[subPattern].Load()+c.subN[subShard].Load() > 0
}
