package resp

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynago/dynago/coordinator"
)

// HandlerFunc executes one command. args[0] is the command name as the
// client sent it (args[1] the subcommand, for container commands); arity
// and authentication have been checked before the call. The handler writes
// exactly one reply to w (which may be an array). It must not keep args or
// w after returning: args point into the connection's read buffer.
//
// ctx carries the request deadline, is cancelled when the server gives up
// draining at shutdown, and carries the connection's consistency override
// (coordinator.WithConsistency).
type HandlerFunc func(ctx context.Context, c *Client, args [][]byte, w *Writer)

// Command is one entry of the command table. The table drives dispatch,
// arity checks, COMMAND / COMMAND INFO / COMMAND DOCS replies and the key
// positions cluster clients use for routing.
type Command struct {
	Name string // lower case, e.g. "set"; for subcommands just "setname"
	// Arity follows Redis: positive is exact, negative is a minimum,
	// counting the command name (and the subcommand name).
	Arity int
	// Flags as Redis reports them: "write", "readonly", "denyoom", "admin",
	// "fast", "noscript", "loading", "stale", "no_auth", ... "no_auth"
	// lets the command run before AUTH.
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
	// Tips are COMMAND INFO's tips ("nondeterministic_output",
	// "request_policy:all_shards", ...); optional.
	Tips []string
	// KeySpecs, when set, are COMMAND INFO's key specifications instead of
	// the one FirstKey..LastKey implies: for commands whose keys differ in
	// access (RENAME's source and destination) or come from patterns
	// (SORT's BY and GET).
	KeySpecs []KeySpec

	// Handler runs the command; nil for a container whose subcommands do
	// all the work.
	Handler HandlerFunc
	// Subcommands, for container commands (CLIENT, COMMAND, CONFIG,
	// CLUSTER, DYNAGO), keyed by lower-case subcommand name.
	Subcommands map[string]*Command

	// Parallel marks a keyed data command that runBatch may run
	// concurrently with its neighbours in a pipeline (see wave.go) when it
	// names exactly one key (FirstKey..LastKey): its effects are confined
	// to that key in the backend, so commands on distinct keys commute for
	// the client that sent them. Its handler must touch nothing of the
	// Client but what exec does (atomics), must not call dropClient, and
	// must not depend on the replies buffered before its own (its Writer
	// starts empty). Register refuses it on a command without a key or
	// handler.
	Parallel bool

	// local marks built-in commands that never reach the backend, so they
	// get no request context.
	local bool

	// Filled by Register.
	fullName string // "set", "client|setname"
	flags    cmdFlags
	stats    *cmdStats
}

// cmdFlags are the Flags the dispatcher consults, decoded once.
type cmdFlags uint8

const (
	flagWrite cmdFlags = 1 << iota
	flagNoAuth
	flagLocal
	flagParallel
	flagPubSubOK // allowed on a subscribed RESP2 connection
	flagDenyOOM
)

// KeySpec is one Redis 7 key specification.
type KeySpec struct {
	Notes string
	Flags []string // as Redis writes them: "RO", "RW", "OW", "access", "update", "insert", "delete"
	// Index is begin_search's index; 0 means unknown (begin_search and
	// find_keys are then "unknown").
	Index int
	// LastKey and KeyStep are find_keys' range, relative to Index.
	LastKey, KeyStep int
}

// Arg describes one argument for COMMAND DOCS.
type Arg struct {
	Name  string
	Type  string // "key", "string", "integer", "double", "pattern", "unix-time", "pure-token", "oneof", "block"
	Token string // for pure tokens and named options, e.g. "EX"
	Flags []string
	Args  []Arg // for oneof / block
}

// Client is one connection's state. The connection's goroutine owns it:
// commands of one connection run one at a time, so handlers may read and
// change the unguarded fields freely. Other connections only read what
// CLIENT LIST / INFO / KILL show, through mu and atomics.
type Client struct {
	id           int64
	addr, laddr  string
	created      time.Time
	requiresAuth bool

	// Owned by the connection goroutine.
	proto           int // 2 or 3 (HELLO)
	authed          bool
	user            string
	consistency     coordinator.Consistency
	replyOff        bool // CLIENT REPLY OFF
	replySkip       int  // CLIENT REPLY SKIP: replies still to drop (2 → the SKIP's own and the next)
	closeAfterReply bool
	dropConn        bool     // close at once without writing pending replies (output limit)
	lower           [32]byte // scratch for the lower-cased command name
	req             reqCtx   // the shared request context (Server.requestCtx)
	tx              txState  // MULTI … EXEC, WATCH (multi.go)
	subs            *clientSubs
	// out carries replies and pub/sub messages once the client has
	// subscribed (outbox.go); set before the registry can see the client,
	// so publishers read it under the registry's lock.
	out *outbox

	// Read by publishers and CLIENT LIST.
	pushProto atomic.Int32    // proto, for messages encoded on other goroutines
	subN      [3]atomic.Int32 // subscriptions per kind (sub, psub, ssub)

	// Read by other connections.
	lastCmd  atomic.Pointer[Command]
	lastUsed atomic.Int64 // unix nanoseconds
	mu       struct {
		sync.Mutex
		name, libName, libVer string
		noEvict, noTouch      bool
		readOnly              bool   // READONLY (cluster clients), the "r" flag
		user                  string // copy of user, for CLIENT LIST
		proto                 int    // copy of proto, for CLIENT LIST
	}
	conn *conn // nil for clients driven through Server.Handle
}

// reqCtx is a client's current request context, which the commands that
// start while it is fresh share (Server.requestCtx).
type reqCtx struct {
	ctx    context.Context
	cancel context.CancelFunc
	cons   coordinator.Consistency // the override ctx carries
	watch  bool                    // ctx carries the client's txState (watchBackend)
}

// ID is the connection's id (CLIENT ID), unique within the server.
func (c *Client) ID() int64 { return c.id }

// Addr is the remote address, "ip:port".
func (c *Client) Addr() string { return c.addr }

// Proto is the protocol version replies use: 2, or 3 after HELLO 3.
func (c *Client) Proto() int { return c.proto }

// Authenticated reports whether the client may run every command.
func (c *Client) Authenticated() bool { return c.authed }

// Name is the name set by CLIENT SETNAME or HELLO SETNAME.
func (c *Client) Name() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.name
}

// Consistency is the connection's R/W override (zero: node defaults).
func (c *Client) Consistency() coordinator.Consistency { return c.consistency }

// SetConsistency sets the connection's R/W override, which every later
// command of the connection carries in its context (docs/architecture.md §4 step 7; the
// DYNAGO CONSISTENCY command of the cluster issue calls it).
func (c *Client) SetConsistency(cons coordinator.Consistency) { c.consistency = cons }

// CloseAfterReply asks the server to close the connection once the
// current reply has been written (QUIT).
func (c *Client) CloseAfterReply() { c.closeAfterReply = true }
