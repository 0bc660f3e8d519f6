package resp

import (
	"context"
	"crypto/subtle"

	"github.com/dynago/dynago/coordinator"
)

// Connection commands: PING, ECHO, QUIT, HELLO, AUTH, SELECT.

// PING [message]
func (s *Server) cmdPing(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if c.proto == 2 && c.subscribed() && len(args) <= 2 {
		// A subscribed RESP2 connection reads only arrays (Redis 7).
		w.WriteArray(2)
		w.WriteBulkString("pong")
		if len(args) == 2 {
			w.WriteBulk(args[1])
		} else {
			w.WriteBulkString("")
		}
		return
	}
	switch len(args) {
	case 1:
		w.WriteSimple("PONG")
	case 2:
		w.WriteBulk(args[1])
	default:
		w.WriteError("ERR wrong number of arguments for 'ping' command")
	}
}

// ECHO message
func (s *Server) cmdEcho(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	w.WriteBulk(args[1])
}

// QUIT: +OK, then the connection closes.
func (s *Server) cmdQuit(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	w.WriteOK()
	c.CloseAfterReply()
}

const (
	msgWrongPass = "WRONGPASS invalid username-password pair or user is disabled."
	msgNoPass    = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
)

// AUTH [username] password. Only the "default" user exists (ACL users
// come later, docs/architecture.md §9). With no password configured the default user
// accepts any password, as Redis's "nopass" default user does, except that
// the one-argument form is an error there too.
func (s *Server) cmdAuth(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if len(args) > 3 {
		w.WriteError(msgSyntax)
		return
	}
	if len(args) == 2 && s.cfg.RequirePass == "" {
		w.WriteError(msgNoPass)
		return
	}
	user, pass := []byte("default"), args[1]
	if len(args) == 3 {
		user, pass = args[1], args[2]
	}
	if msg := s.authenticate(c, user, pass); msg != "" {
		w.WriteError(msg)
		return
	}
	w.WriteOK()
}

// authenticate checks a user and password, in constant time for the
// password, and marks the client authenticated. It returns the error reply
// on failure.
func (s *Server) authenticate(c *Client, user, pass []byte) string {
	ok := string(user) == "default" &&
		(s.cfg.RequirePass == "" || subtle.ConstantTimeCompare(pass, []byte(s.cfg.RequirePass)) == 1)
	if !ok {
		s.stats.authFailures.Add(1)
		return msgWrongPass
	}
	c.authed, c.user = true, "default"
	c.mu.Lock()
	c.mu.user = c.user
	c.mu.Unlock()
	return ""
}

// HELLO [protover [AUTH username password] [SETNAME clientname]]: switch
// protocol, optionally authenticating and naming the connection, and
// describe the server. The map keeps Redis's fields (clients read version,
// proto, mode and role); server is "dynago".
func (s *Server) cmdHello(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	ver := int64(c.proto)
	if len(args) >= 2 {
		var ok bool
		if ver, ok = parseInt64(args[1]); !ok {
			w.WriteError("ERR Protocol version is not an integer or out of range")
			return
		}
		if ver < 2 || ver > 3 {
			w.WriteError("NOPROTO unsupported protocol version")
			return
		}
	}
	var user, pass, name []byte
	setName := false
	for j := 2; j < len(args); j++ {
		more := len(args) - j - 1
		switch {
		case eqFold(args[j], "auth") && more >= 2:
			user, pass = args[j+1], args[j+2]
			j += 2
		case eqFold(args[j], "setname") && more >= 1:
			name, setName = args[j+1], true
			if !validClientName(name) {
				w.WriteError(msgBadClientName)
				return
			}
			j++
		default:
			w.WriteError("ERR Syntax error in HELLO option '" + string(args[j]) + "'")
			return
		}
	}
	if user != nil {
		if msg := s.authenticate(c, user, pass); msg != "" {
			w.WriteError(msg)
			return
		}
	}
	if !c.authed {
		w.WriteError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	c.proto = int(ver)
	c.mu.Lock()
	if setName {
		c.mu.name = string(name)
	}
	c.mu.proto = c.proto
	c.mu.Unlock()
	c.pushProto.Store(int32(c.proto))
	w.SetProto(c.proto)
	w.WriteMap(7)
	w.WriteBulkString("server")
	w.WriteBulkString("dynago")
	w.WriteBulkString("version")
	w.WriteBulkString(redisVersion)
	w.WriteBulkString("proto")
	w.WriteInt(ver)
	w.WriteBulkString("id")
	w.WriteInt(c.id)
	w.WriteBulkString("mode")
	w.WriteBulkString(s.redisMode())
	w.WriteBulkString("role")
	w.WriteBulkString("master")
	w.WriteBulkString("modules")
	w.WriteArray(0)
}

// redisVersion is the Redis version dynago reports where clients look for
// one (HELLO, INFO redis_version): the Redis 7.2 command set and replies.
const redisVersion = "7.2.0"

// SELECT index: dynago has one database.
func (s *Server) cmdSelect(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	n, ok := parseInt64(args[1])
	switch {
	case !ok:
		w.WriteError(msgNotInteger)
	case n != 0:
		w.WriteError("ERR DB index is out of range")
	default:
		w.WriteOK()
	}
}

// RESET: back to a new connection's state, as Redis 7 does: every
// subscription dropped (silently), RESP2, CLIENT REPLY ON, no name,
// READWRITE, the node's default quorums, and the default user,
// unauthenticated again when a password is set. NO-EVICT and NO-TOUCH
// stay, as in Redis.
func (s *Server) cmdReset(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.unsubscribeAll(c)
	c.replyOff, c.replySkip = false, 0
	c.consistency = coordinator.Consistency{}
	c.proto, c.user = 2, "default"
	c.authed = !c.requiresAuth
	c.pushProto.Store(2)
	c.mu.Lock()
	c.mu.name, c.mu.readOnly, c.mu.proto, c.mu.user = "", false, 2, c.user
	c.mu.Unlock()
	w.SetProto(2)
	w.WriteSimple("RESET")
}
