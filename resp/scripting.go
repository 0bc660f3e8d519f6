package resp

import "context"

// scriptingMsg answers every scripting command: dynago does not run Lua
// scripts or functions (a script would need the keys it touches on one
// coordinator, atomically, which the store does not offer; see the
// README's not-supported table).
const scriptingMsg = "ERR dynago does not run scripts: EVAL, EVALSHA, SCRIPT, FUNCTION and FCALL are not supported"

// scriptingCommands answer scriptingMsg, so that a client sees why rather
// than "unknown command".
func (s *Server) scriptingCommands() []*Command {
	refuse := func(ctx context.Context, c *Client, args [][]byte, w *Writer) { w.WriteError(scriptingMsg) }
	cmd := func(name string, arity int, summary string) *Command {
		return &Command{Name: name, Arity: arity, Flags: fl("noscript stale"), ACLCategories: fl("@slow @scripting"), local: true,
			Summary: summary + " Not supported by dynago.", Since: "2.6.0", Group: "scripting", Complexity: "O(1)", Handler: refuse}
	}
	return []*Command{
		cmd("eval", -3, "Executes a server-side Lua script."),
		cmd("evalsha", -3, "Executes a server-side Lua script by SHA1 digest."),
		cmd("eval_ro", -3, "Executes a read-only server-side Lua script."),
		cmd("evalsha_ro", -3, "Executes a read-only server-side Lua script by SHA1 digest."),
		cmd("script", -2, "Manages the server-side Lua script cache."),
		cmd("function", -2, "Manages server-side functions."),
		cmd("fcall", -3, "Invokes a function."),
		cmd("fcall_ro", -3, "Invokes a read-only function."),
	}
}
