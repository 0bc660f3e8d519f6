package resp

import (
	"context"
	"strings"
	"time"

	"github.com/dynago/dynago/coordinator"
)

// Handle runs one command for client c and writes its reply to w: the
// dispatcher the connection loop uses, exposed so that handler tests need
// no socket (STYLE 18). args[0] is the command name. Each call gets a
// request context of its own, released when it returns. A connection's
// runBatch does the same in two steps, resolve then dispatchResolved, so
// that it can gather waves.
//
// Per command it costs two clock reads, a few atomic adds and, for commands
// that reach the backend, a clock read to check the shared request
// context (requestCtx); the name lookup lower-cases into the client's
// scratch array and indexes the table with string(bytes), which does not
// allocate.
func (s *Server) Handle(c *Client, args [][]byte, w *Writer) {
	if len(args) > 0 {
		cmd, msg := s.resolve(c, args)
		s.dispatchResolved(c, cmd, msg, args, w)
	}
	c.releaseCtx()
}

// resolve finds the command to run for args (the subcommand, for a
// container) and checks its arity and the client's authentication. It
// returns the command and "" when it may run; otherwise the reply that
// rejects it, with the command when one was found. (nil, "") means args
// is an HTTP request (see dispatchResolved). It changes nothing but the
// client's name scratch, so runBatch may resolve a command before the
// ones ahead of it in a wave have run: none of those changes what resolve
// reads (authentication), except the memory a wave's writes free or use,
// which only shifts a command across the OOM limit earlier or later, as
// concurrent clients do.
func (s *Server) resolve(c *Client, args [][]byte) (*Command, string) {
	cmd := lookup(&c.lower, s.cmds, args[0])
	if cmd == nil {
		if name := lowerName(&c.lower, args[0]); string(name) == "post" || string(name) == "host:" {
			return nil, ""
		}
		return nil, unknownCommandMsg(args)
	}
	if cmd.Subcommands != nil && (len(args) >= 2 || cmd.Handler == nil) {
		if len(args) < 2 {
			return cmd, "ERR wrong number of arguments for '" + cmd.fullName + "' command"
		}
		sub := lookup(&c.lower, cmd.Subcommands, args[1])
		if sub == nil {
			return cmd, "ERR unknown subcommand '" + truncate(args[1], 128) + "'. Try " + strings.ToUpper(cmd.Name) + " HELP."
		}
		cmd = sub
	}
	if !arityOK(cmd.Arity, len(args)) {
		return cmd, "ERR wrong number of arguments for '" + cmd.fullName + "' command"
	}
	if !c.authed && cmd.flags&flagNoAuth == 0 {
		return cmd, "NOAUTH Authentication required."
	}
	if c.proto == 2 && cmd.flags&flagPubSubOK == 0 && c.subscribed() {
		return cmd, subscribedOnly(cmd)
	}
	if cmd.flags&flagDenyOOM != 0 && s.mem != nil && s.mem.MemoryFull() {
		return cmd, oomMsg
	}
	return cmd, ""
}

// dispatchResolved answers what resolve found: a rejection, the
// cross-protocol close, or the command run in order.
func (s *Server) dispatchResolved(c *Client, cmd *Command, msg string, args [][]byte, w *Writer) {
	switch {
	case c.tx.multi && (msg != "" || cmd != nil && !noQueue(cmd)):
		// Queued, or rejected and the transaction aborted.
		s.queue(c, cmd, msg, args, w)
	case msg != "":
		s.reject(c, cmd, w, msg)
	case cmd == nil:
		// An HTTP request sent to the RESP port: someone is trying
		// cross-protocol scripting. Close without a word, as Redis does.
		s.log.Warn("possible SECURITY ATTACK detected: POST or Host: sent to the RESP port (cross protocol scripting?); connection aborted",
			"addr", c.addr)
		c.closeAfterReply = true
	default:
		s.run(c, cmd, args, w)
	}
}

// run runs a resolved command on the connection's goroutine, in order:
// its reply goes to w unless CLIENT REPLY drops it.
func (s *Server) run(c *Client, cmd *Command, args [][]byte, w *Writer) {
	c.lastCmd.Store(cmd)
	ctx := s.baseCtx
	if cmd.flags&flagLocal == 0 {
		ctx = s.requestCtx(c)
	}
	mark := w.Len()
	s.exec(ctx, c, cmd, args, w)
	if c.swallowReply() {
		w.Truncate(mark)
	}
}

// exec runs cmd's handler and records its statistics. It touches only
// atomics of c, so runWave calls it concurrently for the commands of a
// wave, each with a Writer of its own.
func (s *Server) exec(ctx context.Context, c *Client, cmd *Command, args [][]byte, w *Writer) {
	mark := w.Len()
	start := s.cfg.now()
	cmd.Handler(ctx, c, args, w)
	end := s.cfg.now()
	c.lastUsed.Store(end.UnixNano())

	failed := w.Len() > mark && w.buf[mark] == '-'
	cmd.stats.record(end.Sub(start), failed)
	s.stats.commands.Add(1)
	s.stats.sample(end.UnixNano())
	if failed {
		s.stats.errorReplies.Add(1)
	}
}

// swallowReply reports whether CLIENT REPLY OFF or SKIP drops the reply of
// the command that just ran, counting it against a SKIP. Callers ask in
// command order.
func (c *Client) swallowReply() bool {
	if c.replySkip > 0 {
		c.replySkip--
		return true
	}
	return c.replyOff
}

// requestCtx returns the context for a command that reaches the backend:
// the RequestTimeout deadline, a parent that Shutdown cancels when it
// gives up draining, and the connection's consistency override.
//
// A fresh context.WithTimeout per command was about 60 % of a pipelined
// GET (a timer, three allocations, and the base context's mutex twice,
// shared by every connection), so the commands of a connection share one
// while it is fresh: it is reused while at least RequestTimeout minus
// ctxSlack of it remains and the override has not changed. Every command
// thus gets between 99 % and 100 % of the timeout, and a wave's commands,
// which start together, get the same deadline. The context is released
// when the connection closes (or after each Handle call), or replaced when
// stale; a backend must not rely on it being cancelled as soon as its call
// returns (it never could: the call returns first).
func (s *Server) requestCtx(c *Client) context.Context {
	r := &c.req
	watch := len(c.tx.watched) > 0
	if r.ctx != nil && r.cons == c.consistency && r.watch == watch {
		if dl, _ := r.ctx.Deadline(); time.Until(dl) >= s.cfg.RequestTimeout-s.ctxSlack() {
			return r.ctx
		}
	}
	c.releaseCtx()
	ctx, cancel := context.WithTimeout(s.baseCtx, s.cfg.RequestTimeout)
	ctx = coordinator.WithConsistency(ctx, c.consistency)
	if watch {
		ctx = context.WithValue(ctx, watchCtxKey{}, &c.tx)
	}
	r.ctx, r.cancel, r.cons, r.watch = ctx, cancel, c.consistency, watch
	return r.ctx
}

// ctxSlack is how much of the request timeout a shared request context may
// have used up and still be handed to a new command.
func (s *Server) ctxSlack() time.Duration { return s.cfg.RequestTimeout / 100 }

// releaseCtx cancels the client's shared request context, if any.
func (c *Client) releaseCtx() {
	if c.req.cancel != nil {
		c.req.cancel()
	}
	c.req = reqCtx{}
}

// reject answers a command that did not run (unknown, wrong arity,
// NOAUTH); cmd is nil for an unknown command.
func (s *Server) reject(c *Client, cmd *Command, w *Writer, msg string) {
	s.stats.errorReplies.Add(1)
	if cmd != nil {
		cmd.stats.rejected.Add(1)
	}
	if c.swallowReply() {
		return
	}
	w.WriteError(msg)
}

// lookup finds name in table case-insensitively without allocating.
func lookup(scratch *[32]byte, table map[string]*Command, name []byte) *Command {
	if len(name) > len(scratch) {
		return nil
	}
	return table[string(lowerName(scratch, name))]
}

// lowerName lower-cases an ASCII command name into scratch (nil if it
// does not fit). Indexing a map with string(result) does not allocate.
func lowerName(scratch *[32]byte, name []byte) []byte {
	if len(name) > len(scratch) {
		return nil
	}
	b := scratch[:len(name)]
	for i, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		b[i] = ch
	}
	return b
}

// arityOK applies Redis's arity rule: positive is exact, negative a minimum.
func arityOK(arity, n int) bool {
	if arity >= 0 {
		return n == arity
	}
	return n >= -arity
}

// unknownCommandMsg is Redis 7's reply to an unknown command: the name and
// the first arguments, 128 bytes of each at most.
func unknownCommandMsg(args [][]byte) string {
	var b strings.Builder
	b.WriteString("ERR unknown command '")
	b.WriteString(truncate(args[0], 128))
	b.WriteString("', with args beginning with: ")
	n := 0
	for _, a := range args[1:] {
		if n >= 128 {
			break
		}
		t := truncate(a, 128-n)
		b.WriteString("'" + t + "' ")
		n += len(t) + 3
	}
	return b.String()
}

// truncate returns at most n bytes of b as a string.
func truncate(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}
