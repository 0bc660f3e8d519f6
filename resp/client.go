package resp

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CLIENT subcommands: the ones clients send on connect (SETNAME, SETINFO,
// NO-EVICT, NO-TOUCH), and the ones operators use (ID, GETNAME, INFO,
// LIST, KILL, REPLY).

const msgBadClientName = "ERR Client names cannot contain spaces, newlines or special characters."

// validClientName is Redis's rule for names and library attributes:
// printable ASCII without spaces.
func validClientName(b []byte) bool {
	for _, ch := range b {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

func (s *Server) cmdClientID(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	w.WriteInt(c.id)
}

func (s *Server) cmdClientSetName(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if !validClientName(args[2]) {
		w.WriteError(msgBadClientName)
		return
	}
	c.mu.Lock()
	c.mu.name = string(args[2])
	c.mu.Unlock()
	w.WriteOK()
}

func (s *Server) cmdClientGetName(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if name := c.Name(); name != "" {
		w.WriteBulkString(name)
	} else {
		w.WriteNull()
	}
}

// CLIENT SETINFO LIB-NAME|LIB-VER value (go-redis and redis-py send it on
// connect and ignore errors).
func (s *Server) cmdClientSetInfo(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	attr, val := args[2], args[3]
	lib := eqFold(attr, "lib-name")
	if !lib && !eqFold(attr, "lib-ver") {
		w.WriteError("ERR Unrecognized option '" + string(attr) + "'")
		return
	}
	if !validClientName(val) {
		w.WriteError("ERR " + string(attr) + " cannot contain spaces, newlines or special characters.")
		return
	}
	c.mu.Lock()
	if lib {
		c.mu.libName = string(val)
	} else {
		c.mu.libVer = string(val)
	}
	c.mu.Unlock()
	w.WriteOK()
}

// onOff handles CLIENT NO-EVICT / NO-TOUCH on|off: accepted and reported;
// dynago has no eviction or LRU to change.
func (s *Server) onOff(set func(c *Client, on bool)) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		on := eqFold(args[2], "on")
		if !on && !eqFold(args[2], "off") {
			w.WriteError(msgSyntax)
			return
		}
		c.mu.Lock()
		set(c, on)
		c.mu.Unlock()
		w.WriteOK()
	}
}

// CLIENT REPLY ON|OFF|SKIP. The dispatcher drops the replies (OFF's and
// SKIP's own included, as in Redis).
func (s *Server) cmdClientReply(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	switch {
	case eqFold(args[2], "on"):
		c.replyOff, c.replySkip = false, 0
		w.WriteOK()
	case eqFold(args[2], "off"):
		c.replyOff = true
	case eqFold(args[2], "skip"):
		if !c.replyOff {
			c.replySkip = 2
		}
	default:
		w.WriteError(msgSyntax)
	}
}

// CLIENT INFO: this connection's CLIENT LIST line.
func (s *Server) cmdClientInfo(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	w.WriteVerbatim(s.clientLine(c) + "\n")
}

// CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id [id ...]]
func (s *Server) cmdClientList(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	var ids []int64
	keep := func(*Client) bool { return true }
	switch {
	case len(args) == 2:
	case len(args) == 4 && eqFold(args[2], "type"):
		t := strings.ToLower(string(args[3]))
		switch t {
		case "normal":
			keep = func(cl *Client) bool { return !cl.isPubSub() }
		case "pubsub":
			keep = (*Client).isPubSub
		case "master", "replica", "slave":
			keep = func(*Client) bool { return false }
		default:
			w.WriteError("ERR Unknown client type '" + string(args[3]) + "'")
			return
		}
	case len(args) >= 4 && eqFold(args[2], "id"):
		for _, a := range args[3:] {
			id, ok := parseInt64(a)
			if !ok || id <= 0 {
				w.WriteError("ERR Invalid client ID")
				return
			}
			ids = append(ids, id)
		}
	default:
		w.WriteError(msgSyntax)
		return
	}
	var b strings.Builder
	for _, cl := range s.clients() {
		if (ids == nil || slices.Contains(ids, cl.id)) && keep(cl) {
			b.WriteString(s.clientLine(cl))
			b.WriteByte('\n')
		}
	}
	w.WriteVerbatim(b.String())
}

// clients returns the connected clients in id order.
func (s *Server) clients() []*Client {
	s.mu.Lock()
	out := make([]*Client, 0, len(s.mu.conns))
	for _, cn := range s.mu.conns {
		out = append(out, cn.client)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b *Client) int { return int(a.id - b.id) })
	return out
}

// clientLine renders one client as Redis 7.2's CLIENT LIST does. Fields
// dynago does not track are reported as Redis reports an idle client.
func (s *Server) clientLine(c *Client) string {
	now := s.cfg.now()
	c.mu.Lock()
	name, libName, libVer, user, proto := c.mu.name, c.mu.libName, c.mu.libVer, c.mu.user, c.mu.proto
	// Redis's letters, in its order; N when none applies.
	flags := ""
	if c.isPubSub() {
		flags += "P"
	}
	if c.mu.readOnly {
		flags += "r"
	}
	if c.mu.noEvict {
		flags += "e"
	}
	if c.mu.noTouch {
		flags += "T"
	}
	if flags == "" {
		flags = "N"
	}
	c.mu.Unlock()
	cmd := "NULL"
	if lc := c.lastCmd.Load(); lc != nil {
		cmd = lc.fullName
	}
	idle := now.Sub(time.Unix(0, c.lastUsed.Load()))
	f := []string{
		"id=" + strconv.FormatInt(c.id, 10),
		"addr=" + c.addr,
		"laddr=" + c.laddr,
		"fd=-1",
		"name=" + name,
		"age=" + strconv.FormatInt(int64(now.Sub(c.created)/time.Second), 10),
		"idle=" + strconv.FormatInt(int64(max(idle, 0)/time.Second), 10),
		"flags=" + flags,
		"db=0",
		"sub=" + strconv.Itoa(int(c.subN[subChannel].Load())),
		"psub=" + strconv.Itoa(int(c.subN[subPattern].Load())),
		"ssub=" + strconv.Itoa(int(c.subN[subShard].Load())),
		"multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r",
		"cmd=" + cmd,
		"user=" + user,
		"redir=-1",
		"resp=" + strconv.Itoa(proto),
		"lib-name=" + libName,
		"lib-ver=" + libVer,
	}
	return strings.Join(f, " ")
}

// CLIENT KILL addr:port, or CLIENT KILL [ID id] [ADDR ip:port]
// [LADDR ip:port] [USER name] [SKIPME yes|no] … (filters combine).
func (s *Server) cmdClientKill(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if len(args) == 3 {
		// The old form: one address, OK or an error.
		if s.killClients(c, func(o *Client) bool { return o.addr == string(args[2]) }, false) == 0 {
			w.WriteError("ERR No such client")
			return
		}
		w.WriteOK()
		return
	}
	if len(args)%2 != 0 {
		w.WriteError(msgSyntax)
		return
	}
	var filters []func(*Client) bool
	skipMe := true
	for i := 2; i < len(args); i += 2 {
		v := string(args[i+1])
		switch {
		case eqFold(args[i], "id"):
			id, ok := parseInt64(args[i+1])
			if !ok || id <= 0 {
				w.WriteError("ERR client-id should be greater than 0")
				return
			}
			filters = append(filters, func(o *Client) bool { return o.id == id })
		case eqFold(args[i], "addr"):
			filters = append(filters, func(o *Client) bool { return o.addr == v })
		case eqFold(args[i], "laddr"):
			filters = append(filters, func(o *Client) bool { return o.laddr == v })
		case eqFold(args[i], "user"):
			filters = append(filters, func(o *Client) bool {
				o.mu.Lock()
				defer o.mu.Unlock()
				return o.mu.user == v
			})
		case eqFold(args[i], "skipme"):
			switch {
			case eqFold(args[i+1], "yes"):
				skipMe = true
			case eqFold(args[i+1], "no"):
				skipMe = false
			default:
				w.WriteError(msgSyntax)
				return
			}
		default:
			w.WriteError(msgSyntax)
			return
		}
	}
	n := s.killClients(c, func(o *Client) bool {
		for _, f := range filters {
			if !f(o) {
				return false
			}
		}
		return true
	}, skipMe)
	w.WriteInt(int64(n))
}

// killClients closes every client match selects. The calling client, if
// selected (and not skipped), is closed after its reply.
func (s *Server) killClients(self *Client, match func(*Client) bool, skipMe bool) int {
	n := 0
	for _, o := range s.clients() {
		if !match(o) {
			continue
		}
		if o == self {
			if skipMe {
				continue
			}
			self.CloseAfterReply()
		} else {
			o.conn.kill()
		}
		n++
	}
	return n
}
