package resp

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Pub/sub handlers, driven through Handle (replies and, through the
// client's outbox, the messages it received) and over loopback sockets
// (ordering, RESP2 restrictions, the output limit). Expected replies are
// redis-server 7's.

// renderAll renders every reply in b, one per line.
func renderAll(t *testing.T, b []byte) string {
	t.Helper()
	var out []string
	for len(b) > 0 {
		s, rest, err := render(b)
		if err != nil {
			t.Fatalf("malformed %q: %v", b, err)
		}
		out = append(out, s)
		b = rest
	}
	return strings.Join(out, "\n")
}

// doAll runs one command line and renders all its replies.
func (h *harness) doAll(c *Client, line string) string {
	h.t.Helper()
	w := NewWriter(c.proto)
	h.s.Handle(c, split(line), w)
	return renderAll(h.t, w.Bytes())
}

// messages returns what client c received since the last call.
func messages(t *testing.T, c *Client) string {
	t.Helper()
	if c.out == nil {
		return ""
	}
	return renderAll(t, c.out.take())
}

func TestPubSubReplies(t *testing.T) {
	h := newHarness(t)
	sub, pub := h.s.NewClient(), h.s.NewClient()
	for _, st := range []struct {
		c         *Client
		cmd, want string
	}{
		{sub, "SUBSCRIBE a b", `["subscribe", "a", (integer) 1]` + "\n" + `["subscribe", "b", (integer) 2]`},
		{sub, "SUBSCRIBE a", `["subscribe", "a", (integer) 2]`},
		{sub, "GET x", `(error) ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`},
		{sub, "CLIENT LIST", `(error) ERR Can't execute 'client|list': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`},
		{sub, "PING", `["pong", ""]`},
		{sub, "PING hi", `["pong", "hi"]`},
		{sub, "PSUBSCRIBE p*", `["psubscribe", "p*", (integer) 3]`},
		{sub, "SSUBSCRIBE s1", `["ssubscribe", "s1", (integer) 1]`},
		{pub, "PUBLISH a hello", `(integer) 1`},
		{pub, "PUBLISH pa x", `(integer) 1`},
		{pub, "PUBLISH nobody x", `(integer) 0`},
		{pub, "SPUBLISH s1 y", `(integer) 1`},
		{pub, "SPUBLISH a y", `(integer) 0`}, // shard channels are their own namespace
		{pub, "PUBSUB CHANNELS", `["a", "b"]`},
		{pub, "PUBSUB CHANNELS b*", `["b"]`},
		{pub, "PUBSUB NUMSUB a zz", `["a", (integer) 1, "zz", (integer) 0]`},
		{pub, "PUBSUB NUMPAT", `(integer) 1`},
		{pub, "PUBSUB SHARDCHANNELS", `["s1"]`},
		{pub, "PUBSUB SHARDNUMSUB s1", `["s1", (integer) 1]`},
		{pub, "PUBSUB CHANNELS a b", `(error) ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.`},
		{pub, "PUBSUB FOO", `(error) ERR unknown subcommand 'FOO'. Try PUBSUB HELP.`},
		{pub, "PUBLISH a", `(error) ERR wrong number of arguments for 'publish' command`},
		{pub, "SUBSCRIBE", `(error) ERR wrong number of arguments for 'subscribe' command`},
		{sub, "UNSUBSCRIBE", `["unsubscribe", "a", (integer) 2]` + "\n" + `["unsubscribe", "b", (integer) 1]`},
		{sub, "PUNSUBSCRIBE", `["punsubscribe", "p*", (integer) 0]`},
		{sub, "UNSUBSCRIBE", `["unsubscribe", (nil), (integer) 0]`},
		{sub, "UNSUBSCRIBE x", `["unsubscribe", "x", (integer) 0]`},
		{sub, "PING", `["pong", ""]`}, // still subscribed to a shard channel
		{sub, "SUNSUBSCRIBE", `["sunsubscribe", "s1", (integer) 0]`},
		{sub, "SUNSUBSCRIBE", `["sunsubscribe", (nil), (integer) 0]`},
		{sub, "PING", `PONG`},
		{pub, "PUBSUB CHANNELS", `[]`},
		{pub, "PUBSUB NUMPAT", `(integer) 0`},
	} {
		if got := h.doAll(st.c, st.cmd); got != st.want {
			t.Errorf("%s\n got: %s\nwant: %s", st.cmd, got, st.want)
		}
	}
	want := `["message", "a", "hello"]` + "\n" + `["pmessage", "p*", "pa", "x"]` + "\n" + `["smessage", "s1", "y"]`
	if got := messages(t, sub); got != want {
		t.Errorf("messages\n got: %s\nwant: %s", got, want)
	}
}

// TestPubSubResp3: confirmations and messages are pushes, and every
// command is allowed while subscribed.
func TestPubSubResp3(t *testing.T) {
	h := newHarness(t)
	sub, pub := h.s.NewClient(), h.s.NewClient()
	h.doAll(sub, "HELLO 3")
	for _, st := range []struct {
		c         *Client
		cmd, want string
	}{
		{sub, "SUBSCRIBE ch", `>["subscribe", "ch", (integer) 1]`},
		{sub, "PSUBSCRIBE c*", `>["psubscribe", "c*", (integer) 2]`},
		{sub, "GET x", `(nil)`},
		{sub, "PING", `PONG`},
		{pub, "PUBLISH ch m", `(integer) 2`}, // the channel and the pattern
		{sub, "UNSUBSCRIBE ch", `>["unsubscribe", "ch", (integer) 1]`},
	} {
		if got := h.doAll(st.c, st.cmd); got != st.want {
			t.Errorf("%s\n got: %s\nwant: %s", st.cmd, got, st.want)
		}
	}
	want := `>["message", "ch", "m"]` + "\n" + `>["pmessage", "c*", "ch", "m"]`
	if got := messages(t, sub); got != want {
		t.Errorf("messages\n got: %s\nwant: %s", got, want)
	}
}

// TestReset: RESET drops the subscriptions and the connection's state.
func TestReset(t *testing.T) {
	h := newHarness(t)
	c, pub := h.s.NewClient(), h.s.NewClient()
	for _, st := range []struct{ cmd, want string }{
		{"CLIENT SETNAME n1", "OK"},
		{"SUBSCRIBE a", `["subscribe", "a", (integer) 1]`},
		{"PSUBSCRIBE *", `["psubscribe", "*", (integer) 2]`},
		{"RESET", "RESET"},
		{"PING", "PONG"},
		{"CLIENT GETNAME", "(nil)"},
		{"RESET x", `(error) ERR wrong number of arguments for 'reset' command`},
	} {
		if got := h.doAll(c, st.cmd); got != st.want {
			t.Errorf("%s\n got: %s\nwant: %s", st.cmd, got, st.want)
		}
	}
	if got := h.doAll(pub, "PUBLISH a x"); got != "(integer) 0" {
		t.Errorf("PUBLISH after RESET: %s", got)
	}
	if got := h.doAll(pub, "PUBSUB NUMPAT"); got != "(integer) 0" {
		t.Errorf("NUMPAT after RESET: %s", got)
	}
}

// TestKeyspaceNotifications: CONFIG SET notify-keyspace-events with
// Redis's letters, and the events of SET, EXPIRE, DEL and expiry.
func TestKeyspaceNotifications(t *testing.T) {
	h := newHarness(t)
	c, sub := h.s.NewClient(), h.s.NewClient()
	for _, st := range []struct{ set, get string }{
		{"", ""}, {"K", "K"}, {"Kg", "gK"}, {"KEA", "AKE"}, {"Ax", "A"}, {"Kx", "xK"},
		{"KEg$lshzxe", "g$lshzxeKE"}, {"Kn", "nK"}, {"KEAmn", "AKEm"}, {"KEl", "lKE"},
	} {
		if got := h.doAll(c, "CONFIG SET notify-keyspace-events '"+st.set+"'"); got != "OK" {
			t.Fatalf("CONFIG SET %q: %s", st.set, got)
		}
		if got := h.doAll(c, "CONFIG GET notify-keyspace-events"); got != fmt.Sprintf(`["notify-keyspace-events", %q]`, st.get) {
			t.Errorf("CONFIG GET after %q: %s, want %q", st.set, got, st.get)
		}
	}
	if got := h.doAll(c, "CONFIG SET notify-keyspace-events Q"); got != "(error) ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'." {
		t.Errorf("bad letter: %s", got)
	}

	h.doAll(c, "CONFIG SET notify-keyspace-events KEg$x")
	h.doAll(sub, "PSUBSCRIBE __key*")
	h.doAll(c, "SET k v")
	h.doAll(c, "EXPIRE k 100")
	h.doAll(c, "DEL k missing")
	h.s.NotifyExpired([]byte("gone"))
	h.s.NotifyEvicted([]byte("not-selected")) // e is off
	want := strings.Join([]string{
		`["pmessage", "__key*", "__keyspace@0__:k", "set"]`,
		`["pmessage", "__key*", "__keyevent@0__:set", "k"]`,
		`["pmessage", "__key*", "__keyspace@0__:k", "expire"]`,
		`["pmessage", "__key*", "__keyevent@0__:expire", "k"]`,
		`["pmessage", "__key*", "__keyspace@0__:k", "del"]`,
		`["pmessage", "__key*", "__keyevent@0__:del", "k"]`,
		`["pmessage", "__key*", "__keyspace@0__:gone", "expired"]`,
		`["pmessage", "__key*", "__keyevent@0__:expired", "gone"]`,
	}, "\n")
	if got := messages(t, sub); got != want {
		t.Errorf("events\n got: %s\nwant: %s", got, want)
	}
	h.doAll(c, "CONFIG SET notify-keyspace-events E$")
	h.doAll(c, "DEL k2")   // g is off
	h.doAll(c, "SET k2 v") // only the keyevent channel
	if got, want := messages(t, sub), `["pmessage", "__key*", "__keyevent@0__:set", "k2"]`; got != want {
		t.Errorf("E$ events\n got: %s\nwant: %s", got, want)
	}
}

// TestOutputBufferLimits: CONFIG GET/SET client-output-buffer-limit as
// Redis answers them.
func TestOutputBufferLimits(t *testing.T) {
	h := newHarness(t)
	c := h.s.NewClient()
	for _, st := range []struct{ cmd, want string }{
		{"CONFIG GET client-output-buffer-limit", `["client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"]`},
		{"CONFIG SET client-output-buffer-limit 'pubsub 1mb 512kb 5'", "OK"},
		{"CONFIG GET client-output-buffer-limit", `["client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 5"]`},
		{"CONFIG SET client-output-buffer-limit 'foo 1 1 1'", "(error) ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Invalid client class specified in buffer limit configuration."},
		{"CONFIG SET client-output-buffer-limit 'pubsub 1 1'", "(error) ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration."},
		{"CONFIG SET client-output-buffer-limit 'pubsub x 1 1'", "(error) ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Error in hard, soft or soft_seconds setting in buffer limit configuration."},
	} {
		if got := h.doAll(c, st.cmd); got != st.want {
			t.Errorf("%s\n got: %s\nwant: %s", st.cmd, got, st.want)
		}
	}
}

// TestPubSubSocketOrder: over a socket, the SUBSCRIBE confirmation comes
// before the messages, many messages from one publisher arrive in order,
// and the subscriber's pipelined PINGs interleave with them correctly.
func TestPubSubSocketOrder(t *testing.T) {
	ns := startServer(t)
	sub, pub := ns.dial(t), ns.dial(t)
	sub.send("SUBSCRIBE ch\r\n")
	if got := sub.reply(); got != `["subscribe", "ch", (integer) 1]` {
		t.Fatalf("subscribe: %s", got)
	}
	const n = 2000
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "PUBLISH ch m%d\r\n", i)
	}
	pub.send(b.String())
	for i := range n {
		if got := pub.reply(); got != "(integer) 1" {
			t.Fatalf("publish %d: %s", i, got)
		}
	}
	for i := range n {
		if got, want := sub.reply(), fmt.Sprintf(`["message", "ch", "m%d"]`, i); got != want {
			t.Fatalf("message %d: %s, want %s", i, got, want)
		}
	}
	sub.send("PING\r\nGET k\r\n")
	if got := sub.reply(); got != `["pong", ""]` {
		t.Errorf("PING: %s", got)
	}
	if got := sub.reply(); !strings.HasPrefix(got, "(error) ERR Can't execute 'get'") {
		t.Errorf("GET: %s", got)
	}
	sub.send("CLIENT ID\r\n") // refused, and CLIENT LIST of another shows it subscribed
	sub.reply()
	if got := pub.cmd("CLIENT", "LIST", "TYPE", "pubsub"); !strings.Contains(got, "flags=P ") || !strings.Contains(got, "sub=1 psub=0 ssub=0") {
		t.Errorf("CLIENT LIST TYPE pubsub: %s", got)
	}
}

// TestPubSubSlowSubscriber: a subscriber that does not read is
// disconnected once its pending messages pass the hard limit; publishing
// goes on unharmed and memory stays bounded.
func TestPubSubSlowSubscriber(t *testing.T) {
	ns := startServer(t, func(c *Config) { c.PubSubHardBytes = 1 << 20 })
	sub, pub := ns.dial(t), ns.dial(t)
	sub.send("SUBSCRIBE ch\r\n")
	sub.reply()
	payload := strings.Repeat("x", 64<<10)
	deadline := time.Now().Add(10 * time.Second)
	for ns.s.stats.outputLimitKills.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the slow subscriber was never disconnected")
		}
		pub.cmd("PUBLISH", "ch", payload) // 1 until the kill, then 0
	}
	if got := pub.cmd("PUBLISH", "ch", "after"); got != "(integer) 0" {
		t.Errorf("PUBLISH after the kill: %s", got)
	}
	if !sub.closed() {
		t.Error("the subscriber's connection stayed open")
	}
}

// TestPubSubSoftLimit: a subscriber over the soft limit is dropped only
// once it has stayed over it for the soft time; the hard limit drops at
// once.
func TestPubSubSoftLimit(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.PubSubHardBytes, c.PubSubSoftBytes, c.PubSubSoftTime = 1000, 100, 10*time.Second
	})
	sub, pub := h.s.NewClient(), h.s.NewClient()
	h.doAll(sub, "SUBSCRIBE ch")
	msg := strings.Repeat("x", 60)
	for i, want := range []string{"1", "1"} { // the second passes the soft limit
		if got := h.doAll(pub, "PUBLISH ch "+msg); got != "(integer) "+want {
			t.Fatalf("PUBLISH %d: %s", i, got)
		}
	}
	h.clock.advance(9 * time.Second)
	if got := h.doAll(pub, "PUBLISH ch "+msg); got != "(integer) 1" {
		t.Fatalf("PUBLISH within the soft time: %s", got)
	}
	h.clock.advance(time.Second)
	if got := h.doAll(pub, "PUBLISH ch "+msg); got != "(integer) 1" {
		t.Fatalf("PUBLISH after the soft time: %s (counted, then dropped)", got)
	}
	if got := h.doAll(pub, "PUBLISH ch "+msg); got != "(integer) 0" {
		t.Fatalf("PUBLISH to the dropped subscriber: %s", got)
	}
	if n := h.s.stats.outputLimitKills.Load(); n != 1 {
		t.Errorf("outputLimitKills = %d, want 1", n)
	}

	big := h.s.NewClient()
	h.doAll(big, "SUBSCRIBE big")
	h.doAll(pub, "PUBLISH big "+strings.Repeat("y", 1000))
	if got := h.doAll(pub, "PUBLISH big x"); got != "(integer) 0" {
		t.Errorf("PUBLISH after passing the hard limit: %s", got)
	}
	if n := h.s.stats.outputLimitKills.Load(); n != 2 {
		t.Errorf("outputLimitKills = %d, want 2", n)
	}
}
