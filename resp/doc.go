// Package resp is the RESP front end of one dynago node: the Redis
// protocol door to the Dynamo request path. It implements the paper's
// client interface (§4.1: get(key) returns the object or the conflicting
// versions with a context; put(key, context, object)) as Redis commands,
// with the meanings docs/architecture.md §3 ("What each command means") gives them,
// and the safety limits of docs/architecture.md §9.
//
// # Usage
//
//	srv, err := resp.New(resp.DefaultConfig(), backend) // backend: the coordinator
//	srv.EnableCluster(clusterBackend)                    // optional: CLUSTER …, DYNAGO …
//	go srv.Serve(ln)                                     // returns nil after Shutdown
//	...
//	err = srv.Shutdown(ctx)                              // drain, then close
//
// Handlers are tested without sockets through Server.Handle with a Writer
// (STYLE 18). Later packages add command families with Server.Register
// before Serve (it panics on duplicates, like redcon's ServeMux).
//
// The cluster family (CLUSTER …, READONLY, READWRITE, ASKING, DYNAGO …) is
// in the table from New on; EnableCluster, called before Serve like
// Register, gives it the node's ClusterBackend. Until then it answers as a
// non-cluster Redis 7 ("ERR This instance has cluster support disabled"),
// except DYNAGO CONSISTENCY, the per-connection R/W override, which needs
// no cluster.
//
// # Files
//
//   - config.go: Config, DefaultConfig, Validate and the limits.
//   - server.go: Server, New, Register, the accept loop (max clients,
//     protected mode) and Shutdown.
//   - conn.go: one connection's goroutine: read a batch, run it, flush.
//   - wave.go: runBatch: a batch's waves, run concurrently when it pays,
//     replies stitched back in order. workers.go: the goroutines concurrent
//     waves borrow, parked between waves.
//   - parse.go, inline.go: the streaming request parser (RESP multibulk and
//     Redis's inline syntax) with Redis's limits and error texts.
//   - dispatch.go: command lookup, arity, NOAUTH, request context, stats.
//   - errors.go: the one table that maps backend errors to replies.
//   - writer.go: RESP2/RESP3 reply Writer. args.go: argument helpers.
//   - Command families: connection.go (PING ECHO QUIT HELLO AUTH SELECT
//     RESET),
//     client.go (CLIENT …), strings.go (GET SET SETNX SETEX PSETEX GETSET
//     GETDEL GETEX MGET MSET MSETNX), incr.go (INCR… APPEND SETRANGE
//     GETRANGE STRLEN), keys.go (DEL UNLINK EXISTS TOUCH TYPE SCAN KEYS
//     RANDOMKEY), keyvalue.go (a key's whole value, any type, read and
//     stored), rename.go (RENAME RENAMENX COPY), dump.go (DUMP RESTORE,
//     with package rdb), sort.go (SORT SORT_RO), object.go (OBJECT MEMORY),
//     expire.go (EXPIRE… TTL… PERSIST), dynamo.go (GETCTX SETCTX SIBLINGS
//     DELCTX), server_cmds.go (DBSIZE TIME CONFIG FLUSHALL FLUSHDB WAIT
//     LASTSAVE),
//     info.go (INFO), cmdinfo.go (COMMAND …), cluster.go (CLUSTER …,
//     READONLY, READWRITE, ASKING, EnableCluster), dynago.go (DYNAGO
//     CONSISTENCY, LOCAL, RING, HINTS, AE, TRANSFERS, LEAVE, REMOVE),
//     pubsub.go ((P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH,
//     PUBSUB, Deliver, the Publisher seam), table.go (the table).
//   - outbox.go: a subscribed connection's writer goroutine, message
//     ordering and the pubsub output limits. notify.go: keyspace
//     notifications (notify-keyspace-events). docs/pubsub.md describes
//     both for users.
//   - glob.go: KEYS/SCAN MATCH patterns. stats.go: counters and latency
//     histograms. backend.go, command.go: the Backend seam and table types;
//     cluster_backend.go: the ClusterBackend seam.
//
// # Parsing and limits
//
// The parser is our own rather than redcon's Reader. redcon's Reader has
// no limits (a declared length is trusted until memory runs out), rescans
// an incomplete command from its start on every read (quadratic on a
// trickled command), copies every command, rejects "*0"/"*-10" that Redis
// ignores, and its inline quoting and several error texts differ from
// Redis. A screening layer in front of it would have had to follow the
// same framing anyway, so one incremental parser does both: it keeps its
// position across reads (O(n) however the input is split; a fuzz target
// checks that the result does not depend on the split), grows its buffer
// only as bytes arrive (never from a declared length), and hands out
// commands as redcon.Command values whose arguments point into its buffer
// (no copy, no allocation per command). redcon.Parse serves as a cross-check
// in the fuzz target.
//
// Limits (Config), with Redis's error replies; a protocol error writes
// "-ERR Protocol error: …" after the replies of the commands before it and
// closes only that connection:
//
//   - bulk length ≤ MaxBulkBytes (proto-max-bulk-len; by default 64 KiB over
//     MaxValueBytes, so a value slightly too large still gets the clear "value
//     too large" reply): "invalid bulk length", after which the rest of the
//     request is read and dropped (not buffered) before the connection is
//     closed, so that a client still sending it reads the error instead of
//     a reset;
//   - arguments ≤ MaxArgs (1 Mi): "invalid multibulk length";
//   - inline line and length lines ≤ MaxInlineBytes (64 KiB): "too big
//     inline request", "too big mbulk count string", "too big bulk count
//     string"; "unbalanced quotes in request"; "expected '$', got 'x'";
//   - unparsed input ≤ MaxQueryBytes (256 MiB): the connection is closed;
//   - before AUTH (with a password): ≤ 10 arguments, ≤ 16 KiB per bulk, ≤ 1
//     MiB buffered, one command per batch (CVE-2021-32675), and the
//     connection must complete a command within AuthTimeout (10 s);
//   - IdleTimeout (default off, like Redis's timeout 0);
//   - a reply larger than MaxOutputBytes (256 MiB) closes the client;
//     otherwise replies are written as they pass 64 KiB, and a client that
//     does not read blocks only its own goroutine (TCP backpressure);
//   - MaxClients (10000): "-ERR max number of clients reached";
//   - ProtectedMode: without a password only loopback clients (-DENIED);
//   - a first word of POST or Host: (an HTTP request: cross-protocol
//     scripting) closes the connection silently and is logged.
//
// Deviations from Redis in the parser, all stricter: the bytes after a
// bulk payload and after a length line's '\r' must be "\r\n" (Redis skips
// them unchecked, which lets a wrong length desynchronise the stream), and
// a missing '$' is reported as soon as its byte arrives.
//
// # Concurrency
//
// One goroutine per connection, started by Serve and tracked by a
// WaitGroup, plus, once a connection subscribes to a channel, a writer
// goroutine it owns (outbox.go): messages arrive from other goroutines
// while the connection's goroutine blocks reading, so from then on the
// writer writes both replies and messages, and the connection's goroutine
// joins it when it ends. The connection goroutine owns its parser, Writer and Client;
// other goroutines only touch a Client's mutex-guarded and atomic fields
// (CLIENT LIST/KILL) and the net.Conn's deadline and Close. Each read
// yields a batch: every command it made complete (a pipeline), whose
// replies go out in one write, in command order.
//
// runBatch cuts the batch into waves (wave.go): runs of consecutive
// single-key commands marked Parallel in the table, on distinct keys. A
// wave of two or more that holds a write, or of reads when the Backend
// says reads are remote (the optional ParallelReads), runs concurrently:
// the connection goroutine and helpers it hands commands to as they block
// (parked workers the Server owns and Shutdown joins), at most maxWave
// (32) in flight, all joined before the next command runs; each reply
// goes to a pooled Writer and is appended in order. Every other command
// runs alone, in order, so HELLO, AUTH, CLIENT REPLY and DYNAGO
// CONSISTENCY take effect exactly at their place. A client sees what
// sequential execution gives; other clients may see two writes of
// different keys from one pipeline in either order (as with Redis Cluster
// across shards).
//
// Each command that reaches the backend gets a context with the
// RequestTimeout deadline, the connection's consistency override
// (coordinator.WithConsistency) and a parent the server cancels when
// Shutdown gives up waiting. The commands of a connection share one such
// context while at least 99 % of its timeout is left (requestCtx): a
// fresh context per command cost more than a pipelined GET itself.
//
// Shutdown closes the listeners, wakes every connection from its read
// (a past read deadline, ordered against the goroutine's own deadline
// changes by a per-connection mutex), lets each finish the batch it is
// running (concurrent waves included) and flush the replies, and waits for
// every connection goroutine.
// If its ctx ends first it cancels the in-flight commands, closes the
// connections and still waits. It is idempotent.
//
// # Commands
//
// Each command behaves like its Redis 7 namesake (reply types, error
// texts) unless docs/architecture.md says otherwise; the deviations are documented on
// the handlers: pipelined writes of different keys may become visible to
// other clients in either order (wave.go), MSET/MSETNX are not atomic
// across keys, INCR-style commands are evaluated on a quorum read and are
// not linearizable, GET returns the newest sibling, DEL writes tombstones,
// HELLO reports server "dynago", INFO includes latency percentiles by
// default, CONFIG GET never shows requirepass, FLUSHALL needs
// --enable-flushall, and KEYS/SCAN MATCH use a linear matcher with a step
// budget (glob.go).
//
// Cluster commands (docs/architecture.md §5) describe, per slot range, the first live
// home replica as "master" and the other home replicas as its replicas: a
// routing hint, since every node serves every key, so MOVED and ASK are
// never sent. Deviations: CLUSTER NODES lists every node as a master (of
// the ranges it heads, perhaps none; a dynago node is master and replica
// at once, which that format cannot say), CLUSTER SHARDS makes a shard of
// each replica list (a node is in several), CLUSTER FORGET removes a node
// from the ring for good, the slot-management subcommands (ADDSLOTS,
// SETSLOT, FAILOVER, RESET, COUNTKEYSINSLOT, …) answer "not supported by
// dynago" with the reason, and CLUSTER MEET takes host names as well as IPs.
package resp
