package resp

import (
	"context"
	"time"
)

// HandlerFunc executes one command. args[0] is the command name as the
// client sent it; arity has been checked against the command table before
// the call. The handler writes exactly one reply to w (which may be an
// array). It must not keep args or w after returning.
type HandlerFunc func(ctx context.Context, c *Client, args [][]byte, w *Writer)

// Command is one entry of the command table. The table drives dispatch,
// arity checks, COMMAND / COMMAND INFO / COMMAND DOCS replies and the key
// positions cluster clients use for routing.
type Command struct {
	Name string // lower case, e.g. "set"; subcommands as "client|setname"
	// Arity follows Redis: positive is exact, negative is a minimum,
	// counting the command name.
	Arity int
	// Flags as Redis reports them: "write", "readonly", "denyoom", "admin",
	// "fast", "noscript", "loading", "stale", "no_auth", ...
	Flags []string
	// FirstKey, LastKey, Step: key positions (1-based; LastKey -1 means the
	// last argument). All zero for commands without keys.
	FirstKey, LastKey, Step int
	// ACLCategories as Redis reports them: "@string", "@keyspace", "@read", ...
	ACLCategories []string
	// Docs for COMMAND DOCS.
	Summary    string
	Since      string
	Group      string
	Complexity string
	// Arguments for COMMAND DOCS; optional.
	Arguments []Arg

	Handler HandlerFunc
	// Subcommands, for container commands (CLIENT, COMMAND, CONFIG, CLUSTER,
	// DYNAGO). Keyed by lower-case subcommand name.
	Subcommands map[string]*Command
}

// Arg describes one argument for COMMAND DOCS.
type Arg struct {
	Name  string
	Type  string // "key", "string", "integer", "double", "pattern", "unix-time", "pure-token", "oneof", "block"
	Token string // for pure tokens and named options, e.g. "EX"
	Flags []string
	Args  []Arg // for oneof / block
}

// Client is the per-connection state. Fields are owned by the connection's
// goroutine and by commands run on its behalf, which the server runs one at a
// time per connection unless they touch no connection state.
type Client struct {
	ID       int64
	Addr     string // remote address
	LAddr    string // local address
	Name     string // CLIENT SETNAME
	LibName  string // CLIENT SETINFO LIB-NAME
	LibVer   string // CLIENT SETINFO LIB-VER
	Proto    int    // 2 or 3 (HELLO)
	Authed   bool   // AUTH passed, or no password configured
	User     string // authenticated user ("default")
	DB       int    // always 0
	Created  time.Time
	LastCmd  string
	LastUsed time.Time
	// ReadOnly is set by READONLY (cluster clients); it changes nothing in
	// dynago but is reported back.
	ReadOnly bool
	// closeAfterReply makes the server close the connection once the
	// current reply is written (QUIT, protocol errors).
	closeAfterReply bool
}

// CloseAfterReply asks the server to close the connection after the current
// reply has been written.
func (c *Client) CloseAfterReply() { c.closeAfterReply = true }
