package resp

import (
	"context"
	"slices"
	"strings"
)

// COMMAND, COMMAND COUNT|INFO|DOCS|LIST|GETKEYS: the table described to
// clients. go-redis's ClusterClient reads COMMAND for key positions and
// the readonly flag (docs/architecture.md §5: GETCTX and SIBLINGS are read-only);
// redis-cli builds its hints from COMMAND DOCS.

// COMMAND with no subcommand: every command's info.
func (s *Server) cmdCommand(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.writeAllInfo(w)
}

func (s *Server) writeAllInfo(w *Writer) {
	var cmds []*Command
	s.eachTop(func(cmd *Command) { cmds = append(cmds, cmd) })
	w.WriteArray(len(cmds))
	for _, cmd := range cmds {
		writeCommandInfo(w, cmd)
	}
}

// eachTop calls fn for every top-level command, sorted by name.
func (s *Server) eachTop(fn func(*Command)) {
	s.eachCommand(func(cmd *Command) {
		if !strings.Contains(cmd.fullName, "|") {
			fn(cmd)
		}
	})
}

func (s *Server) cmdCommandCount(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	w.WriteInt(int64(len(s.cmds)))
}

// findCommand resolves "name" or "container|sub".
func (s *Server) findCommand(name string) *Command {
	name = strings.ToLower(name)
	top, sub, hasSub := strings.Cut(name, "|")
	cmd := s.cmds[top]
	if cmd == nil || !hasSub {
		return cmd
	}
	return cmd.Subcommands[sub]
}

// COMMAND INFO [name ...]: all commands without names; null for unknown.
func (s *Server) cmdCommandInfo(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if len(args) == 2 {
		s.writeAllInfo(w)
		return
	}
	w.WriteArray(len(args) - 2)
	for _, a := range args[2:] {
		if cmd := s.findCommand(string(a)); cmd != nil {
			writeCommandInfo(w, cmd)
		} else {
			w.WriteNullArray()
		}
	}
}

// writeCommandInfo writes Redis 7's ten-element command description.
func writeCommandInfo(w *Writer, cmd *Command) {
	w.WriteArray(10)
	w.WriteBulkString(cmd.fullName)
	w.WriteInt(int64(cmd.Arity))
	w.WriteSet(len(cmd.Flags))
	for _, f := range cmd.Flags {
		w.WriteSimple(f)
	}
	w.WriteInt(int64(cmd.FirstKey))
	w.WriteInt(int64(cmd.LastKey))
	w.WriteInt(int64(cmd.Step))
	w.WriteSet(len(cmd.ACLCategories))
	for _, a := range cmd.ACLCategories {
		w.WriteSimple(a)
	}
	w.WriteArray(len(cmd.Tips))
	for _, t := range cmd.Tips {
		w.WriteSimple(t)
	}
	writeKeySpecs(w, cmd)
	subs := sortedSubs(cmd)
	w.WriteArray(len(subs))
	for _, sub := range subs {
		writeCommandInfo(w, sub)
	}
}

// writeKeySpecs writes cmd's KeySpecs, or the one Redis 7 key
// specification its key positions imply: an index to begin at and a range
// to the last key.
func writeKeySpecs(w *Writer, cmd *Command) {
	specs := cmd.KeySpecs
	if specs == nil && cmd.FirstKey != 0 {
		flags := []string{"RO", "access"}
		switch {
		case slices.Contains(cmd.Flags, "pubsub"):
			flags = []string{"not_key"} // shard channels: routed like keys, not keys
		case cmd.flags&flagWrite != 0:
			flags = []string{"RW", "update"}
		}
		last := cmd.LastKey
		if last > 0 {
			last -= cmd.FirstKey
		}
		specs = []KeySpec{{Flags: flags, Index: cmd.FirstKey, LastKey: last, KeyStep: cmd.Step}}
	}
	w.WriteArray(len(specs))
	for _, ks := range specs {
		writeKeySpec(w, ks)
	}
}

func writeKeySpec(w *Writer, ks KeySpec) {
	if ks.Notes != "" {
		w.WriteMap(4)
		w.WriteBulkString("notes")
		w.WriteBulkString(ks.Notes)
	} else {
		w.WriteMap(3)
	}
	w.WriteBulkString("flags")
	w.WriteSet(len(ks.Flags))
	for _, f := range ks.Flags {
		w.WriteSimple(f)
	}
	unknown := func(name string) {
		w.WriteBulkString(name)
		w.WriteMap(2)
		w.WriteBulkString("type")
		w.WriteBulkString("unknown")
		w.WriteBulkString("spec")
		w.WriteMap(0)
	}
	if ks.Index == 0 {
		unknown("begin_search")
		unknown("find_keys")
		return
	}
	w.WriteBulkString("begin_search")
	w.WriteMap(2)
	w.WriteBulkString("type")
	w.WriteBulkString("index")
	w.WriteBulkString("spec")
	w.WriteMap(1)
	w.WriteBulkString("index")
	w.WriteInt(int64(ks.Index))
	w.WriteBulkString("find_keys")
	w.WriteMap(2)
	w.WriteBulkString("type")
	w.WriteBulkString("range")
	w.WriteBulkString("spec")
	w.WriteMap(3)
	w.WriteBulkString("lastkey")
	w.WriteInt(int64(ks.LastKey))
	w.WriteBulkString("keystep")
	w.WriteInt(int64(ks.KeyStep))
	w.WriteBulkString("limit")
	w.WriteInt(0)
}

func sortedSubs(cmd *Command) []*Command {
	var out []*Command
	for _, sub := range cmd.Subcommands {
		out = append(out, sub)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Name < out[j-1].Name; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// COMMAND DOCS [name ...]: a map from name to its documentation.
func (s *Server) cmdCommandDocs(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	var cmds []*Command
	if len(args) == 2 {
		s.eachTop(func(cmd *Command) { cmds = append(cmds, cmd) })
	} else {
		for _, a := range args[2:] {
			if cmd := s.findCommand(string(a)); cmd != nil {
				cmds = append(cmds, cmd)
			}
		}
	}
	w.WriteMap(len(cmds))
	for _, cmd := range cmds {
		w.WriteBulkString(cmd.fullName)
		writeCommandDoc(w, cmd)
	}
}

func writeCommandDoc(w *Writer, cmd *Command) {
	n := 4
	if len(cmd.Arguments) > 0 {
		n++
	}
	subs := sortedSubs(cmd)
	if len(subs) > 0 {
		n++
	}
	w.WriteMap(n)
	for _, kv := range [...][2]string{{"summary", cmd.Summary}, {"since", cmd.Since}, {"group", cmd.Group}, {"complexity", cmd.Complexity}} {
		w.WriteBulkString(kv[0])
		w.WriteBulkString(kv[1])
	}
	if len(cmd.Arguments) > 0 {
		w.WriteBulkString("arguments")
		writeArgDocs(w, cmd.Arguments)
	}
	if len(subs) > 0 {
		w.WriteBulkString("subcommands")
		w.WriteMap(len(subs))
		for _, sub := range subs {
			w.WriteBulkString(sub.fullName)
			writeCommandDoc(w, sub)
		}
	}
}

func writeArgDocs(w *Writer, args []Arg) {
	w.WriteArray(len(args))
	for _, a := range args {
		n := 3 // name, type, display_text
		if a.Token != "" {
			n++
		}
		if len(a.Flags) > 0 {
			n++
		}
		if len(a.Args) > 0 {
			n++
		}
		w.WriteMap(n)
		w.WriteBulkString("name")
		w.WriteBulkString(a.Name)
		w.WriteBulkString("type")
		w.WriteBulkString(a.Type)
		w.WriteBulkString("display_text")
		w.WriteBulkString(a.Name)
		if a.Token != "" {
			w.WriteBulkString("token")
			w.WriteBulkString(a.Token)
		}
		if len(a.Flags) > 0 {
			w.WriteBulkString("flags")
			w.WriteArray(len(a.Flags))
			for _, f := range a.Flags {
				w.WriteSimple(f)
			}
		}
		if len(a.Args) > 0 {
			w.WriteBulkString("arguments")
			writeArgDocs(w, a.Args)
		}
	}
}

// COMMAND LIST [FILTERBY MODULE name|ACLCAT category|PATTERN pattern]
func (s *Server) cmdCommandList(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	keep := func(*Command) bool { return true }
	switch {
	case len(args) == 2:
	case len(args) == 5 && eqFold(args[2], "filterby"):
		v := args[4]
		switch {
		case eqFold(args[3], "module"):
			keep = func(*Command) bool { return false }
		case eqFold(args[3], "aclcat"):
			cat := "@" + strings.ToLower(string(v))
			keep = func(cmd *Command) bool {
				for _, a := range cmd.ACLCategories {
					if a == cat {
						return true
					}
				}
				return false
			}
		case eqFold(args[3], "pattern"):
			keep = func(cmd *Command) bool { return globMatch(v, []byte(cmd.fullName), true) }
		default:
			w.WriteError(msgSyntax)
			return
		}
	default:
		w.WriteError(msgSyntax)
		return
	}
	var names []string
	add := func(cmd *Command) {
		if keep(cmd) {
			names = append(names, cmd.fullName)
		}
	}
	s.eachCommand(add)
	w.WriteArray(len(names))
	for _, n := range names {
		w.WriteBulkString(n)
	}
}

// COMMAND GETKEYS command [arg ...]: the keys the table's positions name.
func (s *Server) cmdCommandGetKeys(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	cargs := args[2:]
	cmd := lookup(&c.lower, s.cmds, cargs[0])
	if cmd != nil && cmd.Subcommands != nil && len(cargs) > 1 {
		if sub := lookup(&c.lower, cmd.Subcommands, cargs[1]); sub != nil {
			cmd = sub
		}
	}
	switch {
	case cmd == nil:
		w.WriteError("ERR Invalid command specified")
		return
	case !arityOK(cmd.Arity, len(cargs)):
		w.WriteError("ERR Invalid number of arguments specified for command")
		return
	case cmd.FirstKey == 0:
		w.WriteError("ERR The command has no key arguments")
		return
	}
	keys := keyPositions(cmd, len(cargs))
	w.WriteArray(len(keys))
	for _, i := range keys {
		w.WriteBulk(cargs[i])
	}
}

// keyPositions lists the indexes of the keys in a command of n arguments.
func keyPositions(cmd *Command, n int) []int {
	last := cmd.LastKey
	if last < 0 {
		last = n + last
	}
	step := max(cmd.Step, 1)
	var out []int
	for i := cmd.FirstKey; i <= last && i < n; i += step {
		out = append(out, i)
	}
	return out
}

// helpHandler answers CONTAINER HELP with one line per subcommand.
func (s *Server) helpHandler(container string) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		cmd := s.cmds[container]
		subs := sortedSubs(cmd)
		up := strings.ToUpper(container)
		w.WriteArray(1 + len(subs))
		w.WriteSimple(up + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
		for _, sub := range subs {
			w.WriteSimple(strings.ToUpper(sub.Name) + ": " + sub.Summary)
		}
	}
}
