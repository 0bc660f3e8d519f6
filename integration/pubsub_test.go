package integration

// Pub/sub against real processes: the replies of a subscribing and a
// publishing connection compared byte for byte (rendered) with a stock
// redis-server's, RESP2 and RESP3; a cluster's broadcast (a subscriber on
// one node receives what is published on the others, in order, with
// patterns and RESP3 pushes); a node killed while messages flow; and the
// expired keyspace event from the sweep.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// rawConn is a RESP connection that renders each reply with its type
// byte, so that a push (>) and an array (*) differ.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dialRaw(t *testing.T, port int) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, r: bufio.NewReader(nc)}
}

func (c *rawConn) send(args ...string) {
	c.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c.nc, b.String()); err != nil {
		c.t.Fatal(err)
	}
}

// read renders the next reply, waiting at most 5 s.
func (c *rawConn) read() string {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	s, err := readRESP(c.r)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return s
}

func readRESP(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("empty line")
	}
	n, _ := strconv.Atoi(line[1:])
	switch line[0] {
	case '$':
		if n < 0 {
			return line, nil
		}
		body := make([]byte, n+2)
		if _, err := io.ReadFull(r, body); err != nil {
			return "", err
		}
		return strconv.Quote(string(body[:n])), nil
	case '*', '>', '~', '%':
		if line[0] == '%' {
			n *= 2
		}
		parts := make([]string, 0, max(n, 0))
		for range n {
			p, err := readRESP(r)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		return line[:1] + "[" + strings.Join(parts, " ") + "]", nil
	}
	return line, nil
}

// pubsubStep is one command of a session: who sends it ('s' the
// subscriber, 'p' the publisher; 'S' reads one message without sending)
// and how many replies to read.
type pubsubStep struct {
	who     byte
	args    []string
	replies int
}

var pubsubSession = []pubsubStep{
	{'s', []string{"SUBSCRIBE", "a", "b"}, 2},
	{'s', []string{"SUBSCRIBE", "a"}, 1},
	{'s', []string{"PSUBSCRIBE", "p*", "b?"}, 2},
	{'s', []string{"SSUBSCRIBE", "s1"}, 1},
	{'s', []string{"GET", "x"}, 1},
	{'s', []string{"PING"}, 1},
	{'s', []string{"PING", "hi"}, 1},
	{'s', []string{"ECHO", "x"}, 1},
	{'p', []string{"PUBLISH", "a", "hello"}, 1},
	{'S', nil, 1},
	{'p', []string{"PUBLISH", "b1", "one pattern"}, 1},
	{'S', nil, 1},
	{'p', []string{"PUBLISH", "bx", "x"}, 1},
	{'S', nil, 1},
	{'p', []string{"PUBLISH", "pb", ""}, 1},
	{'S', nil, 1},
	{'p', []string{"SPUBLISH", "s1", "shard"}, 1},
	{'S', nil, 1},
	{'p', []string{"SPUBLISH", "a", "none"}, 1},
	{'p', []string{"PUBLISH", "nobody", "x"}, 1},
	{'p', []string{"PUBSUB", "CHANNELS"}, 1},
	{'p', []string{"PUBSUB", "CHANNELS", "a*"}, 1},
	{'p', []string{"PUBSUB", "NUMSUB", "a", "b", "zz"}, 1},
	{'p', []string{"PUBSUB", "NUMPAT"}, 1},
	{'p', []string{"PUBSUB", "SHARDCHANNELS"}, 1},
	{'p', []string{"PUBSUB", "SHARDNUMSUB", "s1", "a"}, 1},
	{'p', []string{"PUBSUB", "CHANNELS", "a", "b"}, 1},
	{'p', []string{"PUBSUB", "NOPE"}, 1},
	{'p', []string{"PUBLISH", "a"}, 1},
	{'p', []string{"SUBSCRIBE"}, 1},
	{'s', []string{"UNSUBSCRIBE", "a"}, 1},
	{'s', []string{"UNSUBSCRIBE", "zz"}, 1},
	{'s', []string{"UNSUBSCRIBE"}, 1}, // b is the only one left: one reply
	{'s', []string{"PUNSUBSCRIBE", "p*"}, 1},
	{'s', []string{"PUNSUBSCRIBE"}, 1},
	{'s', []string{"PUNSUBSCRIBE"}, 1},
	{'s', []string{"PING"}, 1}, // still on s1
	{'s', []string{"SUNSUBSCRIBE"}, 1},
	{'s', []string{"SUNSUBSCRIBE"}, 1},
	{'s', []string{"PING"}, 1},
	{'s', []string{"SUBSCRIBE", "c"}, 1},
	{'s', []string{"RESET"}, 1},
	{'s', []string{"PING"}, 1},
	{'p', []string{"PUBLISH", "c", "after reset"}, 1},
	{'p', []string{"CONFIG", "SET", "notify-keyspace-events", "KEA"}, 1},
	{'p', []string{"CONFIG", "GET", "notify-keyspace-events"}, 1},
	{'s', []string{"PSUBSCRIBE", "__key*"}, 1},
	{'p', []string{"SET", "k", "v"}, 1},
	{'S', nil, 2},
	{'p', []string{"EXPIRE", "k", "100"}, 1},
	{'S', nil, 2},
	{'p', []string{"DEL", "k", "missing"}, 1},
	{'S', nil, 2},
	{'p', []string{"CONFIG", "SET", "notify-keyspace-events", ""}, 1},
}

// runPubSubSession plays pubsubSession against the server on port and
// returns the transcript.
func runPubSubSession(t *testing.T, port int, resp3 bool) []string {
	s, p := dialRaw(t, port), dialRaw(t, port)
	if resp3 {
		s.send("HELLO", "3")
		s.read() // the server's description differs; not compared
	}
	var out []string
	for _, st := range pubsubSession {
		c := s
		if st.who == 'p' {
			c = p
		}
		if st.args != nil {
			c.send(st.args...)
		}
		for range st.replies {
			reply := c.read()
			if len(st.args) == 2 && st.args[0] == "PUBSUB" && st.args[1] == "CHANNELS" {
				// The server's own order: compare the names sorted.
				names := strings.Fields(strings.TrimSuffix(reply[2:], "]"))
				slices.Sort(names)
				reply = reply[:2] + strings.Join(names, " ") + "]"
			}
			out = append(out, fmt.Sprintf("%c %s -> %s", st.who, strings.Join(st.args, " "), reply))
		}
	}
	return out
}

func TestPubSubMatchesRedisServer(t *testing.T) {
	redisPort := startRedisServer(t)
	p := NewProc(t)
	p.Start()
	for _, resp3 := range []bool{false, true} {
		want, got := runPubSubSession(t, redisPort, resp3), runPubSubSession(t, p.Port, resp3)
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("RESP3 %v step %d:\ndynago:       %s\nredis-server: %s", resp3, i, got[i], want[i])
			}
		}
	}
}

// receive reads the next message of sub, failing after 10 s.
func receive(t *testing.T, sub *redis.PubSub) *redis.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := sub.ReceiveMessage(ctx)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	return m
}

// TestPubSubClusterBroadcast: subscribers on node 2 (RESP2 and RESP3,
// channel and pattern) receive what is published on nodes 1 and 3; many
// messages of one publisher arrive in order; PUBLISH counts the
// receivers on its own node only.
func TestPubSubClusterBroadcast(t *testing.T) {
	c := NewCluster(t, 3)
	ctx := context.Background()
	n1, n2, n3 := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	sub2 := n2.Client().Subscribe(ctx, "news")
	defer sub2.Close()
	r3 := redis.NewClient(&redis.Options{Addr: n2.Addr(), Protocol: 3})
	defer r3.Close()
	psub := r3.PSubscribe(ctx, "n*")
	defer psub.Close()
	for _, s := range []*redis.PubSub{sub2, psub} {
		if _, err := s.Receive(ctx); err != nil { // the confirmation
			t.Fatal(err)
		}
	}

	// Each message is awaited before the next is published: messages of
	// different nodes have no order between them.
	for _, st := range []struct {
		node *Proc
		want int64 // receivers on the publishing node
	}{{n1, 0}, {n2, 2}, {n3, 0}} {
		payload := "from " + st.node.Addr()
		if n, err := st.node.Client().Publish(ctx, "news", payload).Result(); err != nil || n != st.want {
			t.Fatalf("PUBLISH on %s = %d, %v; want %d (the subscribers on that node)", st.node.Addr(), n, err, st.want)
		}
		if m := receive(t, sub2); m.Channel != "news" || m.Payload != payload {
			t.Fatalf("channel subscriber got %+v, want %q", m, payload)
		}
		if m := receive(t, psub); m.Pattern != "n*" || m.Channel != "news" || m.Payload != payload {
			t.Fatalf("pattern subscriber got %+v, want %q", m, payload)
		}
	}

	// Ordering: one pipelining publisher on node 1, one on node 3.
	start := time.Now()
	const n = 2000
	for _, node := range []*Proc{n1, n3} {
		pipe := node.Client().Pipeline()
		for i := range n {
			pipe.Publish(ctx, "news", fmt.Sprintf("%s:%d", node.Addr(), i))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	next := map[string]int{n1.Addr(): 0, n3.Addr(): 0}
	for range 2 * n {
		m := receive(t, sub2)
		cut := strings.LastIndexByte(m.Payload, ':')
		src, seq := m.Payload[:cut], m.Payload[cut+1:]
		if i, _ := strconv.Atoi(seq); i != next[src] {
			t.Fatalf("from %s got message %d, want %d", src, i, next[src])
		}
		next[src]++
	}
	t.Logf("%d messages from two nodes received in order in %v", 2*n, time.Since(start))
	// Sharded: SPUBLISH on node 3 reaches SSUBSCRIBE on node 2.
	ssub := n2.Client().SSubscribe(ctx, "{s}ch")
	defer ssub.Close()
	if _, err := ssub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	n3.Client().SPublish(ctx, "{s}ch", "sharded")
	if m := receive(t, ssub); m.Channel != "{s}ch" || m.Payload != "sharded" {
		t.Fatalf("shard subscriber got %+v", m)
	}
}

// TestPubSubNodeKilled: a node killed with SIGKILL while a publisher
// floods: the publisher keeps getting replies, the surviving subscriber
// keeps receiving every message in order, and no node crashes.
func TestPubSubNodeKilled(t *testing.T) {
	c := NewCluster(t, 3)
	ctx := context.Background()
	n1, n2, n3 := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	subs := map[*Proc]*redis.PubSub{}
	for _, node := range []*Proc{n2, n3} {
		s := node.Client().Subscribe(ctx, "ch")
		defer s.Close()
		if _, err := s.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		subs[node] = s
	}
	pub := n1.Client()
	const n = 3000
	for i := range n {
		if i == n/3 {
			n3.Kill()
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := pub.Publish(cctx, "ch", strconv.Itoa(i)).Err()
		cancel()
		if err != nil {
			t.Fatalf("PUBLISH %d after the kill: %v", i, err)
		}
	}
	for i := range n {
		if m := receive(t, subs[n2]); m.Payload != strconv.Itoa(i) {
			t.Fatalf("node 2 got %q, want %d", m.Payload, i)
		}
	}
	for _, node := range []*Proc{n1, n2} {
		if !node.Running() {
			t.Fatalf("%s died:\n%s", node.Addr(), c.Logs(30))
		}
		if err := node.Client().Ping(ctx).Err(); err != nil {
			t.Fatalf("%s does not answer: %v", node.Addr(), err)
		}
	}
}

// TestKeyspaceExpiredEvent: the sweep's expiry reaches a subscriber of
// __keyevent@0__:expired on the node that holds the key.
func TestKeyspaceExpiredEvent(t *testing.T) {
	p := NewProc(t, "--sweep-interval", "50ms")
	p.Start()
	ctx := context.Background()
	r := p.Client()
	if err := r.ConfigSet(ctx, "notify-keyspace-events", "Ex").Err(); err != nil {
		t.Fatal(err)
	}
	sub := r.Subscribe(ctx, "__keyevent@0__:expired")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	r.Set(ctx, "short", "v", 100*time.Millisecond)
	r.Set(ctx, "long", "v", time.Hour)
	if m := receive(t, sub); m.Payload != "short" {
		t.Fatalf("expired event for %q, want short", m.Payload)
	}
}
