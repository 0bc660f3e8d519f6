package resp

import (
	"context"
	"strings"

	"github.com/dynago/dynago/coordinator"
)

// Handle runs one command for client c and writes its reply to w: the
// dispatcher the connection loop uses, exposed so that handler tests need
// no socket (STYLE 18). args[0] is the command name.
func (s *Server) Handle(c *Client, args [][]byte, w *Writer) { s.dispatch(c, args, w) }

// dispatch looks the command up, checks arity and authentication, derives
// the request context and runs the handler, recording statistics.
//
// Per command it costs two clock reads, a few atomic adds and, for commands
// that reach the backend, one context with a deadline; the name lookup
// lower-cases into the client's scratch array and indexes the table with
// string(bytes), which does not allocate.
func (s *Server) dispatch(c *Client, args [][]byte, w *Writer) {
	if len(args) == 0 {
		return
	}
	cmd := lookup(&c.lower, s.cmds, args[0])
	if cmd == nil {
		if name := lowerName(&c.lower, args[0]); string(name) == "post" || string(name) == "host:" {
			// An HTTP request sent to the RESP port: someone is trying
			// cross-protocol scripting. Close without a word, as Redis does.
			s.log.Warn("possible SECURITY ATTACK detected: POST or Host: sent to the RESP port (cross protocol scripting?); connection aborted",
				"addr", c.addr)
			c.closeAfterReply = true
			return
		}
		s.reject(c, nil, w, unknownCommandMsg(args))
		return
	}
	if cmd.Subcommands != nil && (len(args) >= 2 || cmd.Handler == nil) {
		if len(args) < 2 {
			s.reject(c, cmd, w, "ERR wrong number of arguments for '"+cmd.fullName+"' command")
			return
		}
		sub := lookup(&c.lower, cmd.Subcommands, args[1])
		if sub == nil {
			s.reject(c, cmd, w, "ERR unknown subcommand '"+truncate(args[1], 128)+"'. Try "+strings.ToUpper(cmd.Name)+" HELP.")
			return
		}
		cmd = sub
	}
	if !arityOK(cmd.Arity, len(args)) {
		s.reject(c, cmd, w, "ERR wrong number of arguments for '"+cmd.fullName+"' command")
		return
	}
	if !c.authed && cmd.flags&flagNoAuth == 0 {
		s.reject(c, cmd, w, "NOAUTH Authentication required.")
		return
	}
	c.lastCmd.Store(cmd)

	mark := w.Len()
	start := s.cfg.now()
	if cmd.flags&flagLocal != 0 {
		cmd.Handler(s.baseCtx, c, args, w)
	} else {
		ctx, cancel := context.WithTimeout(s.baseCtx, s.cfg.RequestTimeout)
		cmd.Handler(coordinator.WithConsistency(ctx, c.consistency), c, args, w)
		cancel()
	}
	end := s.cfg.now()
	c.lastUsed.Store(end.UnixNano())

	failed := w.Len() > mark && w.buf[mark] == '-'
	cmd.stats.record(end.Sub(start), failed)
	s.stats.commands.Add(1)
	s.stats.sample(end.UnixNano())
	if failed {
		s.stats.errorReplies.Add(1)
	}
	if c.replyOff || c.replySkip > 0 {
		w.Truncate(mark)
		if c.replySkip > 0 {
			c.replySkip--
		}
	}
}

// reject answers a command that did not run (unknown, wrong arity,
// NOAUTH); cmd is nil for an unknown command.
func (s *Server) reject(c *Client, cmd *Command, w *Writer, msg string) {
	s.stats.errorReplies.Add(1)
	if cmd != nil {
		cmd.stats.rejected.Add(1)
	}
	if c.replyOff || c.replySkip > 0 {
		if c.replySkip > 0 {
			c.replySkip--
		}
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
