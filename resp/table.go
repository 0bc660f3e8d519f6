package resp

import "strings"

// The built-in command table. Flags, key positions and ACL categories are
// Redis 7's for the namesakes, so COMMAND describes dynago as cluster
// clients and redis-cli expect; the handlers live in the family files.
//
// Parallel marks the keyed data commands a pipeline may run concurrently
// on distinct keys (wave.go): GET, the SET family, GETSET, GETDEL, GETEX,
// APPEND, STRLEN, GETRANGE/SUBSTR, SETRANGE, the INCR family, SETBIT,
// GETBIT, BITCOUNT, BITPOS, BITFIELD, BITFIELD_RO, DEL, UNLINK,
// EXISTS (with one key), TYPE, the EXPIRE and TTL families, PERSIST, and
// GETCTX, SETCTX, SIBLINGS, DELCTX. Each is one backend call (or a read
// and a write) on its key and reads no connection state. MGET, MSET and
// MSETNX stay out: they are multi-key by nature and cut their own work
// into chunks against the output limit; BITOP and LCS read several keys.
// So do SCAN and KEYS (whole keyspace), DBSIZE, FLUSHALL, and every
// connection, server and cluster command.

// fl splits a space-separated list (flags, categories).
func fl(s string) []string { return strings.Fields(s) }

// Argument constructors for COMMAND DOCS.
func keyArg(name string) Arg { return Arg{Name: name, Type: "key"} }
func strArg(name string) Arg { return Arg{Name: name, Type: "string"} }
func intArg(name string) Arg { return Arg{Name: name, Type: "integer"} }
func tok(t string) Arg       { return Arg{Name: strings.ToLower(t), Type: "pure-token", Token: t} }
func named(t, name, typ string) Arg {
	return Arg{Name: name, Type: typ, Token: t}
}
func optional(a Arg) Arg { a.Flags = append(a.Flags, "optional"); return a }
func multiple(a Arg) Arg { a.Flags = append(a.Flags, "multiple"); return a }
func oneof(name string, alts ...Arg) Arg {
	return Arg{Name: name, Type: "oneof", Args: alts}
}
func block(name string, parts ...Arg) Arg {
	return Arg{Name: name, Type: "block", Args: parts}
}

// expiryArgs is SETCTX's (and part of SET's) expiration choice.
func expiryArgs() []Arg {
	return []Arg{named("EX", "seconds", "integer"), named("PX", "milliseconds", "integer"),
		named("EXAT", "unix-time-seconds", "unix-time"), named("PXAT", "unix-time-milliseconds", "unix-time")}
}

// bitFieldGet and bitFieldWrite are BITFIELD's subcommand blocks.
func bitFieldGet() Arg {
	return Arg{Name: "get-block", Type: "block", Token: "GET", Args: []Arg{strArg("encoding"), intArg("offset")}}
}
func bitFieldWrite(t, name, value string) Arg {
	return Arg{Name: name, Type: "block", Token: t, Args: []Arg{strArg("encoding"), intArg("offset"), intArg(value)}}
}

// subs builds a subcommand map.
func subs(cmds ...*Command) map[string]*Command {
	m := make(map[string]*Command, len(cmds))
	for _, c := range cmds {
		m[c.Name] = c
	}
	return m
}

func (s *Server) builtinCommands() []*Command {
	cmds := append(s.coreCommands(), s.hashCommands()...)
	cmds = append(cmds, s.setCommands()...)
	cmds = append(cmds, s.keyCommands()...)
	cmds = append(cmds, s.scriptingCommands()...)
	cmds = append(cmds, s.pubsubCommands()...)
	return append(cmds, s.zsetCommands()...)
}

// spec is a key specification at index i of one key.
func spec(i int, flags string) KeySpec { return KeySpec{Flags: fl(flags), Index: i, KeyStep: 1} }

// keyCommands are the commands that move, copy, serialize, sort or
// describe whole keys (rename.go, dump.go, sort.go, object.go) and WAIT,
// LASTSAVE, TOUCH, RANDOMKEY.
func (s *Server) keyCommands() []*Command {
	sortNotes := "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"
	storeNotes := "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array"
	sortArgs := func(store bool) []Arg {
		a := []Arg{keyArg("key"), optional(named("BY", "pattern", "pattern")),
			optional(block("limit", tok("LIMIT"), intArg("offset"), intArg("count"))),
			optional(multiple(named("GET", "pattern", "pattern"))),
			optional(oneof("order", tok("ASC"), tok("DESC"))), optional(Arg{Name: "sorting", Type: "pure-token", Token: "ALPHA"})}
		if store {
			a = append(a, optional(named("STORE", "destination", "key")))
		}
		return a
	}
	return []*Command{
		{Name: "rename", Arity: 3, Flags: fl("write"), FirstKey: 1, LastKey: 2, Step: 1, ACLCategories: fl("@keyspace @write @slow"),
			KeySpecs: []KeySpec{spec(1, "RW access delete"), spec(2, "OW update")},
			Summary:  "Renames a key and overwrites the destination (the source read, the destination written, then what was read deleted: not atomic across keys in a cluster).",
			Since:    "1.0.0", Group: "generic", Complexity: "O(1) for a string, O(N) for a collection of N elements",
			Arguments: []Arg{keyArg("key"), keyArg("newkey")}, Handler: s.renameHandler(false)},
		{Name: "renamenx", Arity: 3, Flags: fl("write fast"), FirstKey: 1, LastKey: 2, Step: 1, ACLCategories: fl("@keyspace @write @fast"),
			KeySpecs: []KeySpec{spec(1, "RW access delete"), spec(2, "OW insert")},
			Summary:  "Renames a key only when the target key name doesn't exist (not atomic across keys in a cluster).",
			Since:    "1.0.0", Group: "generic", Complexity: "O(1) for a string, O(N) for a collection of N elements",
			Arguments: []Arg{keyArg("key"), keyArg("newkey")}, Handler: s.renameHandler(true)},
		{Name: "copy", Arity: -3, Flags: fl("write denyoom"), FirstKey: 1, LastKey: 2, Step: 1, ACLCategories: fl("@keyspace @write @slow"),
			KeySpecs: []KeySpec{spec(1, "RO access"), spec(2, "OW update")},
			Summary:  "Copies the value of a key to a new key (dynago has database 0 only).",
			Since:    "6.2.0", Group: "generic", Complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
			Arguments: []Arg{keyArg("source"), keyArg("destination"), optional(named("DB", "destination-db", "integer")), optional(tok("REPLACE"))},
			Handler:   s.cmdCopy},
		{Name: "touch", Arity: -2, Flags: fl("readonly fast"), FirstKey: 1, LastKey: -1, Step: 1, ACLCategories: fl("@keyspace @read @fast"),
			KeySpecs: []KeySpec{{Flags: fl("RO"), Index: 1, LastKey: -1, KeyStep: 1}}, Tips: fl("request_policy:multi_shard response_policy:agg_sum"),
			Summary: "Returns the number of existing keys out of those specified (dynago keeps no access time to update).",
			Since:   "3.2.1", Group: "generic", Complexity: "O(N) where N is the number of keys that will be touched.",
			Arguments: []Arg{multiple(keyArg("key"))}, Handler: s.cmdExists},
		{Name: "randomkey", Arity: 1, Flags: fl("readonly"), ACLCategories: fl("@keyspace @read @slow"), Tips: fl("request_policy:all_shards nondeterministic_output"),
			Summary: "Returns a random key name among the first ones a scan visits.", Since: "1.0.0", Group: "generic", Complexity: "O(1)",
			Handler: s.cmdRandomKey},
		{Name: "dump", Arity: 2, Flags: fl("readonly"), FirstKey: 1, LastKey: 1, Step: 1, ACLCategories: fl("@keyspace @read @slow"), Tips: fl("nondeterministic_output"),
			Summary: "Returns a serialized representation of the value stored at a key (Redis's format, RDB version 10).", Since: "2.6.0", Group: "generic",
			Complexity: "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size.",
			Arguments:  []Arg{keyArg("key")}, Handler: s.cmdDump},
		{Name: "restore", Arity: -4, Flags: fl("write denyoom"), FirstKey: 1, LastKey: 1, Step: 1, ACLCategories: fl("@keyspace @write @slow @dangerous"),
			KeySpecs: []KeySpec{spec(1, "OW update")},
			Summary:  "Creates a key from the serialized representation of a value (IDLETIME and FREQ are accepted and ignored).", Since: "2.6.0", Group: "generic",
			Complexity: "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value.",
			Arguments: []Arg{keyArg("key"), intArg("ttl"), strArg("serialized-value"), optional(tok("REPLACE")), optional(tok("ABSTTL")),
				optional(named("IDLETIME", "seconds", "integer")), optional(named("FREQ", "frequency", "integer"))},
			Handler: s.cmdRestore},
		{Name: "sort", Arity: -2, Flags: fl("write denyoom movablekeys"), FirstKey: 1, LastKey: 1, Step: 1,
			ACLCategories: fl("@write @set @sortedset @list @slow @dangerous"),
			KeySpecs:      []KeySpec{spec(1, "RO access"), {Notes: sortNotes, Flags: fl("RO access")}, {Notes: storeNotes, Flags: fl("OW update")}},
			Summary:       "Sorts the elements in a set or sorted set (STORE, which makes a list, is refused until dynago has lists).",
			Since:         "1.0.0", Group: "generic",
			Complexity: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).",
			Arguments:  sortArgs(true), Handler: s.sortHandler(false)},
		{Name: "sort_ro", Arity: -2, Flags: fl("readonly movablekeys"), FirstKey: 1, LastKey: 1, Step: 1,
			ACLCategories: fl("@read @set @sortedset @list @slow @dangerous"),
			KeySpecs:      []KeySpec{spec(1, "RO access"), {Notes: sortNotes, Flags: fl("RO access")}},
			Summary:       "Returns the sorted elements of a set or sorted set.",
			Since:         "7.0.0", Group: "generic",
			Complexity: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).",
			Arguments:  sortArgs(false), Handler: s.sortHandler(true)},
		s.objectCommand(),
		s.memoryCommand(),
		{Name: "wait", Arity: 3, Flags: fl("noscript"), ACLCategories: fl("@slow @connection"), Tips: fl("request_policy:all_shards response_policy:agg_min"),
			Summary: "Returns the number of replicas that acknowledged each write (W; 0 on a single node), without blocking.", Since: "3.0.0", Group: "generic",
			Complexity: "O(1)", Arguments: []Arg{intArg("numreplicas"), intArg("timeout")}, Handler: s.cmdWait},
		{Name: "lastsave", Arity: 1, Flags: fl("loading stale fast"), ACLCategories: fl("@admin @fast @dangerous"), local: true, Tips: fl("nondeterministic_output"),
			Summary: "Returns the Unix timestamp of the last save: now, every acknowledged write being on disk.", Since: "1.0.0", Group: "server",
			Complexity: "O(1)", Handler: s.cmdLastSave},
	}
}

func (s *Server) coreCommands() []*Command {
	expireCond := optional(oneof("condition", tok("NX"), tok("XX"), tok("GT"), tok("LT")))
	return []*Command{
		// Connection.
		{Name: "ping", Arity: -1, Flags: fl("fast sentinel"), ACLCategories: fl("@fast @connection"), local: true,
			Summary: "Returns the server's liveliness response.", Since: "1.0.0", Group: "connection", Complexity: "O(1)",
			Arguments: []Arg{optional(strArg("message"))}, Handler: s.cmdPing},
		{Name: "echo", Arity: 2, Flags: fl("fast"), ACLCategories: fl("@fast @connection"), local: true,
			Summary: "Returns the given string.", Since: "1.0.0", Group: "connection", Complexity: "O(1)",
			Arguments: []Arg{strArg("message")}, Handler: s.cmdEcho},
		{Name: "quit", Arity: -1, Flags: fl("allow_busy noscript loading stale fast no_auth allow_busy"), ACLCategories: fl("@fast @connection"), local: true,
			Summary: "Closes the connection.", Since: "1.0.0", Group: "connection", Complexity: "O(1)", Handler: s.cmdQuit},
		{Name: "auth", Arity: -2, Flags: fl("noscript loading stale fast no_auth allow_busy"), ACLCategories: fl("@fast @connection"), local: true,
			Summary: "Authenticates the connection.", Since: "1.0.0", Group: "connection", Complexity: "O(N) where N is the number of passwords defined for the user",
			Arguments: []Arg{optional(strArg("username")), strArg("password")}, Handler: s.cmdAuth},
		{Name: "hello", Arity: -1, Flags: fl("noscript loading stale fast no_auth allow_busy"), ACLCategories: fl("@fast @connection"), local: true,
			Summary: "Handshakes with the server.", Since: "6.0.0", Group: "connection", Complexity: "O(1)",
			Arguments: []Arg{optional(block("arguments", intArg("protover"),
				optional(block("auth", tok("AUTH"), strArg("username"), strArg("password"))),
				optional(named("SETNAME", "clientname", "string"))))}, Handler: s.cmdHello},
		{Name: "select", Arity: 2, Flags: fl("loading stale fast"), ACLCategories: fl("@fast @connection"), local: true,
			Summary: "Changes the selected database (dynago has only database 0).", Since: "1.0.0", Group: "connection", Complexity: "O(1)",
			Arguments: []Arg{intArg("index")}, Handler: s.cmdSelect},
		s.clientCommand(),

		// Transactions (multi.go).
		{Name: "multi", Arity: 1, Flags: fl("noscript loading stale fast allow_busy"), ACLCategories: fl("@fast @transaction"), local: true,
			Summary: "Starts a transaction.", Since: "1.2.0", Group: "transactions", Complexity: "O(1)", Handler: s.cmdMulti},
		{Name: "exec", Arity: 1, Flags: fl("noscript loading stale skip_slowlog"), ACLCategories: fl("@slow @transaction"),
			Summary: "Executes all commands in a transaction, under its hash slot's transaction lock.", Since: "1.2.0", Group: "transactions", Complexity: "Depends on commands in the transaction",
			Handler: s.cmdExec},
		{Name: "discard", Arity: 1, Flags: fl("noscript loading stale fast allow_busy"), ACLCategories: fl("@fast @transaction"), local: true,
			Summary: "Discards a transaction.", Since: "2.0.0", Group: "transactions", Complexity: "O(N), when N is the number of queued commands", Handler: s.cmdDiscard},
		{Name: "watch", Arity: -2, Flags: fl("noscript loading stale fast allow_busy"), FirstKey: 1, LastKey: -1, Step: 1, ACLCategories: fl("@fast @transaction"),
			Summary: "Monitors changes to keys (their version vectors) to determine the execution of a transaction.", Since: "2.2.0", Group: "transactions", Complexity: "O(1) for every key.",
			Arguments: []Arg{multiple(keyArg("key"))}, Handler: s.cmdWatch},
		{Name: "unwatch", Arity: 1, Flags: fl("noscript loading stale fast allow_busy"), ACLCategories: fl("@fast @transaction"), local: true,
			Summary: "Forgets about watched keys of a transaction.", Since: "2.2.0", Group: "transactions", Complexity: "O(1)", Handler: s.cmdUnwatch},

		// Strings.
		{Name: "get", Arity: 2, Flags: fl("readonly fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@read @string @fast"),
			Summary: "Returns the string value of a key (the newest sibling).", Since: "1.0.0", Group: "string", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key")}, Handler: s.cmdGet},
		{Name: "set", Arity: -3, Flags: fl("write denyoom"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@write @string @slow"),
			Summary: "Sets the string value of a key, superseding every version this node has seen.", Since: "1.0.0", Group: "string", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key"), strArg("value"), optional(oneof("condition", tok("NX"), tok("XX"))), optional(tok("GET")),
				optional(oneof("expiration", append(expiryArgs(), tok("KEEPTTL"))...))}, Handler: s.cmdSet},
		{Name: "setnx", Arity: 3, Flags: fl("write denyoom fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@write @string @fast"),
			Summary: "Sets the value of a key only when the key doesn't exist.", Since: "1.0.0", Group: "string", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key"), strArg("value")}, Handler: s.cmdSetNX},
		{Name: "setex", Arity: 4, Flags: fl("write denyoom"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@write @string @slow"),
			Summary: "Sets the value and expiration time of a key.", Since: "2.0.0", Group: "string", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key"), intArg("seconds"), strArg("value")}, Handler: s.cmdSetEx},
		{Name: "psetex", Arity: 4, Flags: fl("write denyoom"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@write @string @slow"),
			Summary: "Sets the value and expiration time in milliseconds of a key.", Since: "2.6.0", Group: "string", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key"), intArg("milliseconds"), strArg("value")}, Handler: s.cmdSetEx},
		{Name: "getset", Arity: 3, Flags: fl("write denyoom fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@write @string @fast"),
			Summary: "Returns the previous value of a key after setting it to a new value.", Since: "1.0.0", Group: "string", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key"), strArg("value")}, Handler: s.cmdGetSet},
		{Name: "getdel", Arity: 2, Flags: fl("write fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@write @string @fast"),
			Summary: "Returns the value of a key after deleting the key.", Since: "6.2.0", Group: "string", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key")}, Handler: s.cmdGetDel},
		{Name: "getex", Arity: -2, Flags: fl("write fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@write @string @fast"),
			Summary: "Returns the value of a key after setting its expiration time.", Since: "6.2.0", Group: "string", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key"), optional(oneof("expiration", append(expiryArgs(), tok("PERSIST"))...))}, Handler: s.cmdGetEx},
		{Name: "mget", Arity: -2, Flags: fl("readonly fast"), FirstKey: 1, LastKey: -1, Step: 1, ACLCategories: fl("@read @string @fast"),
			Summary: "Atomically returns the string values of one or more keys.", Since: "1.0.0", Group: "string", Complexity: "O(N) where N is the number of keys to retrieve.",
			Arguments: []Arg{multiple(keyArg("key"))}, Handler: s.cmdMGet},
		{Name: "mset", Arity: -3, Flags: fl("write denyoom"), FirstKey: 1, LastKey: -1, Step: 2, ACLCategories: fl("@write @string @slow"),
			Summary: "Sets the string values of one or more keys (each key on its own, not atomically).", Since: "1.0.1", Group: "string", Complexity: "O(N) where N is the number of keys to set.",
			Arguments: []Arg{multiple(block("data", keyArg("key"), strArg("value")))}, Handler: s.cmdMSet},
		{Name: "msetnx", Arity: -3, Flags: fl("write denyoom"), FirstKey: 1, LastKey: -1, Step: 2, ACLCategories: fl("@write @string @slow"),
			Summary: "Sets the values of keys only when none of them exists (checked first, not atomic).", Since: "1.0.1", Group: "string", Complexity: "O(N) where N is the number of keys to set.",
			Arguments: []Arg{multiple(block("data", keyArg("key"), strArg("value")))}, Handler: s.cmdMSetNX},
		{Name: "append", Arity: 3, Flags: fl("write denyoom fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@write @string @fast"),
			Summary: "Appends a string to the value of a key. Creates the key if it doesn't exist.", Since: "2.0.0", Group: "string", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key"), strArg("value")}, Handler: s.cmdAppend},
		{Name: "strlen", Arity: 2, Flags: fl("readonly fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@read @string @fast"),
			Summary: "Returns the length of a string value.", Since: "2.2.0", Group: "string", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key")}, Handler: s.cmdStrlen},
		{Name: "incr", Arity: 2, Flags: fl("write denyoom fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@write @string @fast"),
			Summary: "Increments the integer value of a key by one (not linearizable, docs/architecture.md §3).", Since: "1.0.0", Group: "string", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key")}, Handler: s.incrHandler(1, false)},
		{Name: "decr", Arity: 2, Flags: fl("write denyoom fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@write @string @fast"),
			Summary: "Decrements the integer value of a key by one.", Since: "1.0.0", Group: "string", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key")}, Handler: s.incrHandler(-1, false)},
		{Name: "incrby", Arity: 3, Flags: fl("write denyoom fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@write @string @fast"),
			Summary: "Increments the integer value of a key by a number.", Since: "1.0.0", Group: "string", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key"), intArg("increment")}, Handler: s.incrHandler(0, false)},
		{Name: "decrby", Arity: 3, Flags: fl("write denyoom fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@write @string @fast"),
			Summary: "Decrements a number from the integer value of a key.", Since: "1.0.0", Group: "string", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key"), intArg("decrement")}, Handler: s.incrHandler(0, true)},
		{Name: "incrbyfloat", Arity: 3, Flags: fl("write denyoom fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@write @string @fast"),
			Summary: "Increment the floating point value of a key by a number.", Since: "2.6.0", Group: "string", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key"), Arg{Name: "increment", Type: "double"}}, Handler: s.cmdIncrByFloat},
		{Name: "getrange", Arity: 4, Flags: fl("readonly"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@read @string @slow"),
			Summary: "Returns a substring of the string stored at a key.", Since: "2.4.0", Group: "string", Complexity: "O(N) where N is the length of the returned string.",
			Arguments: []Arg{keyArg("key"), intArg("start"), intArg("end")}, Handler: s.cmdGetRange},
		{Name: "substr", Arity: 4, Flags: fl("readonly"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@read @string @slow"),
			Summary: "Returns a substring from a string value.", Since: "1.0.0", Group: "string", Complexity: "O(N) where N is the length of the returned string.",
			Arguments: []Arg{keyArg("key"), intArg("start"), intArg("end")}, Handler: s.cmdGetRange},
		{Name: "setrange", Arity: 4, Flags: fl("write denyoom"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@write @string @slow"),
			Summary: "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", Since: "2.2.0", Group: "string", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key"), intArg("offset"), strArg("value")}, Handler: s.cmdSetRange},
		{Name: "lcs", Arity: -3, Flags: fl("readonly"), FirstKey: 1, LastKey: 2, Step: 1, ACLCategories: fl("@read @string @slow"),
			Summary: "Finds the longest common substring.", Since: "7.0.0", Group: "string", Complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively",
			Arguments: []Arg{keyArg("key1"), keyArg("key2"), optional(tok("LEN")), optional(tok("IDX")),
				optional(named("MINMATCHLEN", "min-match-len", "integer")), optional(tok("WITHMATCHLEN"))}, Handler: s.cmdLCS},

		// Bitmaps (strings addressed by bit).
		{Name: "setbit", Arity: 4, Flags: fl("write denyoom"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@write @bitmap @slow"),
			KeySpecs: []KeySpec{{Flags: fl("RW access update"), Index: 1, KeyStep: 1}},
			Summary:  "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.", Since: "2.2.0", Group: "bitmap", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key"), intArg("offset"), intArg("value")}, Handler: s.cmdSetBit},
		{Name: "getbit", Arity: 3, Flags: fl("readonly fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@read @bitmap @fast"),
			Summary: "Returns a bit value by offset.", Since: "2.2.0", Group: "bitmap", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key"), intArg("offset")}, Handler: s.cmdGetBit},
		{Name: "bitcount", Arity: -2, Flags: fl("readonly"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@read @bitmap @slow"),
			Summary: "Counts the number of set bits (population counting) in a string.", Since: "2.6.0", Group: "bitmap", Complexity: "O(N)",
			Arguments: []Arg{keyArg("key"), optional(block("range", intArg("start"), intArg("end"),
				optional(oneof("unit", tok("BYTE"), tok("BIT")))))}, Handler: s.cmdBitCount},
		{Name: "bitpos", Arity: -3, Flags: fl("readonly"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@read @bitmap @slow"),
			Summary: "Finds the first set (1) or clear (0) bit in a string.", Since: "2.8.7", Group: "bitmap", Complexity: "O(N)",
			Arguments: []Arg{keyArg("key"), intArg("bit"), optional(block("range", intArg("start"), optional(block("end-unit-block",
				intArg("end"), optional(oneof("unit", tok("BYTE"), tok("BIT")))))))}, Handler: s.cmdBitPos},
		{Name: "bitop", Arity: -4, Flags: fl("write denyoom"), FirstKey: 2, LastKey: -1, Step: 1, ACLCategories: fl("@write @bitmap @slow"),
			KeySpecs: []KeySpec{{Flags: fl("OW update"), Index: 2, KeyStep: 1}, {Flags: fl("RO access"), Index: 3, LastKey: -1, KeyStep: 1}},
			Summary:  "Performs bitwise operations on multiple strings, and stores the result (reads the sources, then writes destkey: not atomic).", Since: "2.6.0", Group: "bitmap", Complexity: "O(N)",
			Arguments: []Arg{oneof("operation", tok("AND"), tok("OR"), tok("XOR"), tok("NOT")), keyArg("destkey"), multiple(keyArg("key"))}, Handler: s.cmdBitOp},
		{Name: "bitfield", Arity: -2, Flags: fl("write denyoom"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@write @bitmap @slow"),
			KeySpecs: []KeySpec{{Flags: fl("RW access update variable_flags"), Index: 1, KeyStep: 1}},
			Summary:  "Performs arbitrary bitfield integer operations on strings.", Since: "3.2.0", Group: "bitmap", Complexity: "O(1) for each subcommand specified",
			Arguments: []Arg{keyArg("key"), optional(multiple(oneof("operation",
				bitFieldGet(),
				block("write", optional(Arg{Name: "overflow-block", Type: "oneof", Token: "OVERFLOW", Args: []Arg{tok("WRAP"), tok("SAT"), tok("FAIL")}}),
					oneof("write-operation", bitFieldWrite("SET", "set-block", "value"), bitFieldWrite("INCRBY", "incrby-block", "increment"))))))}, Handler: s.cmdBitField},
		{Name: "bitfield_ro", Arity: -2, Flags: fl("readonly fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@read @bitmap @fast"),
			Summary: "Performs arbitrary read-only bitfield integer operations on strings.", Since: "6.0.0", Group: "bitmap", Complexity: "O(1) for each subcommand specified",
			Arguments: []Arg{keyArg("key"), optional(multiple(bitFieldGet()))}, Handler: s.cmdBitFieldRO},

		// Keyspace.
		{Name: "del", Arity: -2, Flags: fl("write"), FirstKey: 1, LastKey: -1, Step: 1, Parallel: true, ACLCategories: fl("@keyspace @write @slow"),
			Summary: "Deletes one or more keys (a tombstone each, docs/architecture.md §3).", Since: "1.0.0", Group: "generic", Complexity: "O(N) where N is the number of keys that will be removed.",
			Arguments: []Arg{multiple(keyArg("key"))}, Handler: s.cmdDel},
		{Name: "unlink", Arity: -2, Flags: fl("write fast"), FirstKey: 1, LastKey: -1, Step: 1, Parallel: true, ACLCategories: fl("@keyspace @write @fast"),
			Summary: "Deletes one or more keys (the same as DEL in dynago).", Since: "4.0.0", Group: "generic", Complexity: "O(N) where N is the number of keys that will be removed.",
			Arguments: []Arg{multiple(keyArg("key"))}, Handler: s.cmdDel},
		{Name: "exists", Arity: -2, Flags: fl("readonly fast"), FirstKey: 1, LastKey: -1, Step: 1, Parallel: true, ACLCategories: fl("@keyspace @read @fast"),
			Summary: "Determines whether one or more keys exist.", Since: "1.0.0", Group: "generic", Complexity: "O(N) where N is the number of keys to check.",
			Arguments: []Arg{multiple(keyArg("key"))}, Handler: s.cmdExists},
		{Name: "type", Arity: 2, Flags: fl("readonly fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@keyspace @read @fast"),
			Summary: "Determines the type of value stored at a key.", Since: "1.0.0", Group: "generic", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key")}, Handler: s.cmdType},
		{Name: "scan", Arity: -2, Flags: fl("readonly"), ACLCategories: fl("@keyspace @read @slow"),
			Summary: "Iterates over the key names in the database.", Since: "2.8.0", Group: "generic", Complexity: "O(1) for every call. O(N) for a complete iteration.",
			Arguments: []Arg{intArg("cursor"), optional(named("MATCH", "pattern", "pattern")), optional(named("COUNT", "count", "integer")), optional(named("TYPE", "type", "string"))},
			Handler:   s.cmdScan},
		{Name: "keys", Arity: 2, Flags: fl("readonly"), ACLCategories: fl("@keyspace @read @slow @dangerous"),
			Summary: "Returns all key names that match a pattern.", Since: "1.0.0", Group: "generic", Complexity: "O(N) with N being the number of keys in the database",
			Arguments: []Arg{{Name: "pattern", Type: "pattern"}}, Handler: s.cmdKeys},
		{Name: "expire", Arity: -3, Flags: fl("write fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@keyspace @write @fast"),
			Summary: "Sets the expiration time of a key in seconds.", Since: "1.0.0", Group: "generic", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key"), intArg("seconds"), expireCond}, Handler: s.expireHandler(expireCmd{"expire", true, true})},
		{Name: "pexpire", Arity: -3, Flags: fl("write fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@keyspace @write @fast"),
			Summary: "Sets the expiration time of a key in milliseconds.", Since: "2.6.0", Group: "generic", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key"), intArg("milliseconds"), expireCond}, Handler: s.expireHandler(expireCmd{"pexpire", false, true})},
		{Name: "expireat", Arity: -3, Flags: fl("write fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@keyspace @write @fast"),
			Summary: "Sets the expiration time of a key to a Unix timestamp.", Since: "1.2.0", Group: "generic", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key"), {Name: "unix-time-seconds", Type: "unix-time"}, expireCond}, Handler: s.expireHandler(expireCmd{"expireat", true, false})},
		{Name: "pexpireat", Arity: -3, Flags: fl("write fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@keyspace @write @fast"),
			Summary: "Sets the expiration time of a key to a Unix milliseconds timestamp.", Since: "2.6.0", Group: "generic", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key"), {Name: "unix-time-milliseconds", Type: "unix-time"}, expireCond}, Handler: s.expireHandler(expireCmd{"pexpireat", false, false})},
		{Name: "ttl", Arity: 2, Flags: fl("readonly fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@keyspace @read @fast"),
			Summary: "Returns the expiration time in seconds of a key.", Since: "1.0.0", Group: "generic", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key")}, Handler: s.ttlHandler(ttlCmd{})},
		{Name: "pttl", Arity: 2, Flags: fl("readonly fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@keyspace @read @fast"),
			Summary: "Returns the expiration time in milliseconds of a key.", Since: "2.6.0", Group: "generic", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key")}, Handler: s.ttlHandler(ttlCmd{ms: true})},
		{Name: "expiretime", Arity: 2, Flags: fl("readonly fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@keyspace @read @fast"),
			Summary: "Returns the expiration time of a key as a Unix timestamp.", Since: "7.0.0", Group: "generic", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key")}, Handler: s.ttlHandler(ttlCmd{absolute: true})},
		{Name: "pexpiretime", Arity: 2, Flags: fl("readonly fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@keyspace @read @fast"),
			Summary: "Returns the expiration time of a key as a Unix milliseconds timestamp.", Since: "7.0.0", Group: "generic", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key")}, Handler: s.ttlHandler(ttlCmd{ms: true, absolute: true})},
		{Name: "persist", Arity: 2, Flags: fl("write fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@keyspace @write @fast"),
			Summary: "Removes the expiration time of a key.", Since: "2.2.0", Group: "generic", Complexity: "O(1)",
			Arguments: []Arg{keyArg("key")}, Handler: s.cmdPersist},

		// Dynamo (docs/architecture.md §3).
		{Name: "getctx", Arity: 2, Flags: fl("readonly fast"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@read @string @fast"),
			Summary: "Returns the key's context token and every concurrent value (siblings).", Since: "7.2.0", Group: "string", Complexity: "O(S) where S is the number of siblings",
			Arguments: []Arg{keyArg("key")}, Handler: s.cmdGetCtx},
		{Name: "setctx", Arity: -4, Flags: fl("write denyoom"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@write @string @slow"),
			Summary: "Writes a value that replaces the versions a context covers (\"\" keeps them all as siblings).", Since: "7.2.0", Group: "string", Complexity: "O(S) where S is the number of siblings",
			Arguments: []Arg{keyArg("key"), strArg("context"), strArg("value"), optional(oneof("expiration", expiryArgs()...))}, Handler: s.cmdSetCtx},
		{Name: "siblings", Arity: 2, Flags: fl("readonly"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@read @string @slow"),
			Summary: "Returns every sibling of a key: value, dot, timestamp, tombstone flag and expiry.", Since: "7.2.0", Group: "string", Complexity: "O(S) where S is the number of siblings",
			Arguments: []Arg{keyArg("key")}, Handler: s.cmdSiblings},
		{Name: "delctx", Arity: 3, Flags: fl("write"), FirstKey: 1, LastKey: 1, Step: 1, Parallel: true, ACLCategories: fl("@keyspace @write @fast"),
			Summary: "Deletes the versions a context covers (a tombstone with that context).", Since: "7.2.0", Group: "generic", Complexity: "O(S) where S is the number of siblings",
			Arguments: []Arg{keyArg("key"), strArg("context")}, Handler: s.cmdDelCtx},

		// Cluster (docs/architecture.md §5): the Redis Cluster face and dynago's operator
		// commands; without EnableCluster they answer as a non-cluster Redis.
		s.clusterCommand(),
		{Name: "readonly", Arity: 1, Flags: fl("loading stale fast"), ACLCategories: fl("@fast @connection"), local: true,
			Summary: "Enables read queries for a connection to a cluster replica node (every dynago node serves reads).", Since: "3.0.0", Group: "cluster", Complexity: "O(1)",
			Handler: s.needCluster(s.readOnlyHandler(true))},
		{Name: "readwrite", Arity: 1, Flags: fl("loading stale fast"), ACLCategories: fl("@fast @connection"), local: true,
			Summary: "Enables read-write queries for a connection to a cluster replica node.", Since: "3.0.0", Group: "cluster", Complexity: "O(1)",
			Handler: s.needCluster(s.readOnlyHandler(false))},
		{Name: "asking", Arity: 1, Flags: fl("fast"), ACLCategories: fl("@fast @connection"), local: true,
			Summary: "Signals that a cluster client is following an -ASK redirect (dynago never sends one).", Since: "3.0.0", Group: "cluster", Complexity: "O(1)",
			Handler: s.needCluster(s.cmdAsking)},
		s.dynagoCommand(),

		// Server.
		{Name: "dbsize", Arity: 1, Flags: fl("readonly fast"), ACLCategories: fl("@keyspace @read @fast"),
			Summary: "Returns the number of keys in the database.", Since: "1.0.0", Group: "server", Complexity: "O(1)", Handler: s.cmdDBSize},
		{Name: "time", Arity: 1, Flags: fl("loading stale fast"), ACLCategories: fl("@fast"), local: true,
			Summary: "Returns the server time.", Since: "2.6.0", Group: "server", Complexity: "O(1)", Handler: s.cmdTime},
		{Name: "info", Arity: -1, Flags: fl("loading stale sentinel"), ACLCategories: fl("@slow @dangerous"),
			Summary: "Returns information and statistics about the server.", Since: "1.0.0", Group: "server", Complexity: "O(1)",
			Arguments: []Arg{optional(multiple(strArg("section")))}, Handler: s.cmdInfo},
		{Name: "flushall", Arity: -1, Flags: fl("write"), ACLCategories: fl("@keyspace @write @slow @dangerous"),
			Summary: "Removes all keys (only with --enable-flushall).", Since: "1.0.0", Group: "server", Complexity: "O(N) where N is the total number of keys",
			Arguments: []Arg{optional(oneof("flush-type", tok("ASYNC"), tok("SYNC")))}, Handler: s.cmdFlushAll},
		{Name: "flushdb", Arity: -1, Flags: fl("write"), ACLCategories: fl("@keyspace @write @slow @dangerous"),
			Summary: "Removes all keys (only with --enable-flushall).", Since: "1.0.0", Group: "server", Complexity: "O(N) where N is the number of keys",
			Arguments: []Arg{optional(oneof("flush-type", tok("ASYNC"), tok("SYNC")))}, Handler: s.cmdFlushAll},
		s.configCommand(),
		s.commandCommand(),
	}
}

func (s *Server) clientCommand() *Command {
	adm := fl("@admin @slow @dangerous @connection")
	conn := fl("@slow @connection")
	return &Command{Name: "client", Arity: -2, ACLCategories: fl("@slow"), local: true,
		Summary: "A container for client connection commands.", Since: "2.4.0", Group: "connection", Complexity: "Depends on subcommand.",
		Subcommands: subs(
			&Command{Name: "id", Arity: 2, Flags: fl("noscript loading stale"), ACLCategories: conn, local: true,
				Summary: "Returns the unique client ID of the connection.", Since: "5.0.0", Group: "connection", Complexity: "O(1)", Handler: s.cmdClientID},
			&Command{Name: "setname", Arity: 3, Flags: fl("noscript loading stale"), ACLCategories: conn, local: true,
				Summary: "Sets the connection name.", Since: "2.6.9", Group: "connection", Complexity: "O(1)",
				Arguments: []Arg{strArg("connection-name")}, Handler: s.cmdClientSetName},
			&Command{Name: "getname", Arity: 2, Flags: fl("noscript loading stale"), ACLCategories: conn, local: true,
				Summary: "Returns the name of the connection.", Since: "2.6.9", Group: "connection", Complexity: "O(1)", Handler: s.cmdClientGetName},
			&Command{Name: "setinfo", Arity: 4, Flags: fl("noscript loading stale"), ACLCategories: conn, local: true,
				Summary: "Sets information specific to the client or connection.", Since: "7.2.0", Group: "connection", Complexity: "O(1)",
				Arguments: []Arg{oneof("attr", named("LIB-NAME", "libname", "string"), named("LIB-VER", "libver", "string"))}, Handler: s.cmdClientSetInfo},
			&Command{Name: "no-evict", Arity: 3, Flags: fl("admin noscript loading stale"), ACLCategories: adm, local: true,
				Summary: "Accepted for compatibility; dynago does not evict.", Since: "7.0.0", Group: "connection", Complexity: "O(1)",
				Arguments: []Arg{oneof("enabled", tok("ON"), tok("OFF"))}, Handler: s.onOff(func(c *Client, on bool) { c.mu.noEvict = on })},
			&Command{Name: "no-touch", Arity: 3, Flags: fl("noscript loading stale"), ACLCategories: conn, local: true,
				Summary: "Accepted for compatibility; dynago keeps no LRU.", Since: "7.2.0", Group: "connection", Complexity: "O(1)",
				Arguments: []Arg{oneof("enabled", tok("ON"), tok("OFF"))}, Handler: s.onOff(func(c *Client, on bool) { c.mu.noTouch = on })},
			&Command{Name: "reply", Arity: 3, Flags: fl("noscript loading stale"), ACLCategories: conn, local: true,
				Summary: "Instructs the server whether to reply to commands.", Since: "3.2.0", Group: "connection", Complexity: "O(1)",
				Arguments: []Arg{oneof("action", tok("ON"), tok("OFF"), tok("SKIP"))}, Handler: s.cmdClientReply},
			&Command{Name: "info", Arity: 2, Flags: fl("noscript loading stale"), ACLCategories: conn, local: true,
				Summary: "Returns information about the connection.", Since: "6.2.0", Group: "connection", Complexity: "O(1)", Handler: s.cmdClientInfo},
			&Command{Name: "list", Arity: -2, Flags: fl("admin noscript loading stale"), ACLCategories: adm, local: true,
				Summary: "Lists open connections.", Since: "2.4.0", Group: "connection", Complexity: "O(N) where N is the number of client connections",
				Arguments: []Arg{optional(named("TYPE", "client-type", "string")), optional(multiple(named("ID", "client-id", "integer")))}, Handler: s.cmdClientList},
			&Command{Name: "kill", Arity: -3, Flags: fl("admin noscript loading stale"), ACLCategories: adm, local: true,
				Summary: "Terminates open connections.", Since: "2.4.0", Group: "connection", Complexity: "O(N) where N is the number of client connections",
				Arguments: []Arg{oneof("filter", strArg("ip:port"), multiple(oneof("new-format",
					named("ID", "client-id", "integer"), named("ADDR", "ip:port", "string"), named("LADDR", "ip:port", "string"),
					named("USER", "username", "string"), named("SKIPME", "yes/no", "string"))))}, Handler: s.cmdClientKill},
			&Command{Name: "help", Arity: 2, Flags: fl("loading stale"), ACLCategories: conn, local: true,
				Summary: "Returns helpful text about the different subcommands.", Since: "5.0.0", Group: "connection", Complexity: "O(1)", Handler: s.helpHandler("client")},
		)}
}

func (s *Server) configCommand() *Command {
	adm := fl("@admin @slow @dangerous")
	return &Command{Name: "config", Arity: -2, ACLCategories: fl("@slow"), local: true,
		Summary: "A container for server configuration commands.", Since: "2.0.0", Group: "server", Complexity: "Depends on subcommand.",
		Subcommands: subs(
			&Command{Name: "get", Arity: -3, Flags: fl("admin noscript loading stale"), ACLCategories: adm, local: true,
				Summary: "Returns the effective values of configuration parameters.", Since: "2.0.0", Group: "server", Complexity: "O(N) when N is the number of configuration parameters provided",
				Arguments: []Arg{multiple(strArg("parameter"))}, Handler: s.cmdConfigGet},
			&Command{Name: "set", Arity: -4, Flags: fl("admin noscript loading stale"), ACLCategories: adm, local: true,
				Summary: "Sets configuration parameters (timeout, maxclients; save is accepted and ignored).", Since: "2.0.0", Group: "server", Complexity: "O(N) when N is the number of configuration parameters provided",
				Arguments: []Arg{multiple(block("data", strArg("parameter"), strArg("value")))}, Handler: s.cmdConfigSet},
			&Command{Name: "resetstat", Arity: 2, Flags: fl("admin noscript loading stale"), ACLCategories: adm, local: true,
				Summary: "Resets the server's statistics.", Since: "2.0.0", Group: "server", Complexity: "O(1)", Handler: s.cmdConfigResetStat},
			&Command{Name: "help", Arity: 2, Flags: fl("loading stale"), ACLCategories: fl("@slow"), local: true,
				Summary: "Returns helpful text about the different subcommands.", Since: "5.0.0", Group: "server", Complexity: "O(1)", Handler: s.helpHandler("config")},
		)}
}

func (s *Server) commandCommand() *Command {
	cn := fl("@slow @connection")
	return &Command{Name: "command", Arity: -1, Flags: fl("loading stale"), ACLCategories: cn, local: true,
		Summary: "Returns detailed information about all commands.", Since: "2.8.13", Group: "server", Complexity: "O(N) where N is the total number of commands",
		Handler: s.cmdCommand,
		Subcommands: subs(
			&Command{Name: "count", Arity: 2, Flags: fl("loading stale"), ACLCategories: cn, local: true,
				Summary: "Returns a count of commands.", Since: "2.8.13", Group: "server", Complexity: "O(1)", Handler: s.cmdCommandCount},
			&Command{Name: "info", Arity: -2, Flags: fl("loading stale"), ACLCategories: cn, local: true,
				Summary: "Returns information about one, multiple or all commands.", Since: "2.8.13", Group: "server", Complexity: "O(N) where N is the number of commands to look up",
				Arguments: []Arg{optional(multiple(strArg("command-name")))}, Handler: s.cmdCommandInfo},
			&Command{Name: "docs", Arity: -2, Flags: fl("loading stale"), ACLCategories: cn, local: true,
				Summary: "Returns documentary information about one, multiple or all commands.", Since: "7.0.0", Group: "server", Complexity: "O(N) where N is the number of commands to look up",
				Arguments: []Arg{optional(multiple(strArg("command-name")))}, Handler: s.cmdCommandDocs},
			&Command{Name: "list", Arity: -2, Flags: fl("loading stale"), ACLCategories: cn, local: true,
				Summary: "Returns a list of command names.", Since: "7.0.0", Group: "server", Complexity: "O(N) where N is the total number of commands",
				Arguments: []Arg{optional(oneof("filterby", named("MODULE", "module-name", "string"), named("ACLCAT", "category", "string"), named("PATTERN", "pattern", "pattern")))}, Handler: s.cmdCommandList},
			&Command{Name: "getkeys", Arity: -4, Flags: fl("loading stale"), ACLCategories: cn, local: true,
				Summary: "Extracts the key names from an arbitrary command.", Since: "2.8.13", Group: "server", Complexity: "O(N) where N is the number of arguments to the command",
				Arguments: []Arg{strArg("command"), optional(multiple(strArg("arg")))}, Handler: s.cmdCommandGetKeys},
			&Command{Name: "help", Arity: 2, Flags: fl("loading stale"), ACLCategories: cn, local: true,
				Summary: "Returns helpful text about the different subcommands.", Since: "5.0.0", Group: "server", Complexity: "O(1)", Handler: s.helpHandler("command")},
		)}
}

func (s *Server) clusterCommand() *Command {
	adm := fl("@admin @slow @dangerous")
	slow := fl("@slow")
	sub := func(c *Command) *Command {
		c.Group = "cluster"
		c.Handler = s.needCluster(c.Handler)
		return c
	}
	cmds := []*Command{
		sub(&Command{Name: "info", Arity: 2, Flags: fl("stale"), ACLCategories: slow,
			Summary: "Returns information about the state of a node.", Since: "3.0.0", Complexity: "O(1)", Handler: s.cmdClusterInfo}),
		sub(&Command{Name: "myid", Arity: 2, Flags: fl("stale"), ACLCategories: slow,
			Summary: "Returns the ID of a node.", Since: "3.0.0", Complexity: "O(1)", Handler: s.cmdClusterMyID}),
		sub(&Command{Name: "myshardid", Arity: 2, Flags: fl("stale"), ACLCategories: slow,
			Summary: "Returns the shard ID of a node (each dynago node is its own).", Since: "7.2.0", Complexity: "O(1)", Handler: s.cmdClusterMyShardID}),
		sub(&Command{Name: "nodes", Arity: 2, Flags: fl("stale"), ACLCategories: slow,
			Summary: "Returns the cluster configuration for a node: every node as a master of the slot ranges it heads.", Since: "3.0.0", Complexity: "O(N) where N is the total number of Cluster nodes", Handler: s.cmdClusterNodes}),
		sub(&Command{Name: "slots", Arity: 2, Flags: fl("loading stale"), ACLCategories: slow,
			Summary: "Returns the mapping of slot ranges to nodes: the first live home replica, then the others.", Since: "3.0.0", Complexity: "O(N) where N is the total number of Cluster nodes", Handler: s.cmdClusterSlots}),
		sub(&Command{Name: "shards", Arity: 2, Flags: fl("loading stale"), ACLCategories: slow,
			Summary: "Returns the mapping of cluster slots to shards (one shard per replica set).", Since: "7.0.0", Complexity: "O(N) where N is the total number of cluster nodes", Handler: s.cmdClusterShards}),
		sub(&Command{Name: "keyslot", Arity: 3, Flags: fl("stale"), ACLCategories: slow, local: true,
			Summary: "Returns the hash slot for a key.", Since: "3.0.0", Complexity: "O(N) where N is the number of bytes in the key",
			Arguments: []Arg{strArg("key")}, Handler: s.cmdClusterKeySlot}),
		sub(&Command{Name: "meet", Arity: -4, Flags: fl("admin stale"), ACLCategories: adm,
			Summary: "Joins the node at host:port to the cluster.", Since: "3.0.0", Complexity: "O(1)",
			Arguments: []Arg{strArg("ip"), intArg("port"), optional(intArg("cluster-bus-port"))}, Handler: s.cmdClusterMeet}),
		sub(&Command{Name: "forget", Arity: 3, Flags: fl("admin stale"), ACLCategories: adm,
			Summary: "Removes a node from the ring for good; its partitions are rebuilt elsewhere (as DYNAGO REMOVE).", Since: "3.0.0", Complexity: "O(1)",
			Arguments: []Arg{strArg("node-id")}, Handler: s.cmdClusterForget}),
		sub(&Command{Name: "help", Arity: 2, Flags: fl("loading stale"), ACLCategories: slow, local: true,
			Summary: "Returns helpful text about the different subcommands.", Since: "5.0.0", Complexity: "O(1)", Handler: s.helpHandler("cluster")}),
	}
	for _, u := range unsupportedClusterSubs {
		// Refused outright, so neither admin nor dangerous.
		cmds = append(cmds, sub(&Command{Name: u.name, Arity: -2, Flags: fl("stale"), ACLCategories: slow, local: true,
			Summary: u.summary, Since: "3.0.0", Complexity: "O(1)", Handler: s.unsupportedCluster(u.why)}))
	}
	return &Command{Name: "cluster", Arity: -2, ACLCategories: slow,
		Summary: "A container for Redis Cluster commands.", Since: "3.0.0", Group: "cluster", Complexity: "Depends on subcommand.",
		Subcommands: subs(cmds...)}
}

func (s *Server) dynagoCommand() *Command {
	adm := fl("@admin @slow @dangerous")
	slow := fl("@slow")
	return &Command{Name: "dynago", Arity: -2, ACLCategories: slow, local: true,
		Summary: "A container for dynago's cluster and consistency commands.", Since: "7.2.0", Group: "cluster", Complexity: "Depends on subcommand.",
		Subcommands: subs(
			&Command{Name: "consistency", Arity: -2, Flags: fl("loading stale fast"), ACLCategories: fl("@fast @connection"), local: true,
				Summary: "Sets (R W), resets (DEFAULT) or shows this connection's read and write quorums.", Since: "7.2.0", Group: "connection", Complexity: "O(1)",
				Arguments: []Arg{optional(oneof("quorums", block("override", intArg("r"), intArg("w")), tok("DEFAULT")))}, Handler: s.cmdDynagoConsistency},
			// LOCAL reports its key like OBJECT's subcommands do: position 2
			// counts the container, so COMMAND GETKEYS and cluster clients
			// that read subcommand key specs find it. (go-redis routes a
			// container by its top-level entry, which has no key, so it
			// sends DYNAGO LOCAL to any node; LOCAL is about one node's copy
			// anyway, so ask the node you mean with a plain client.)
			&Command{Name: "local", Arity: 3, Flags: fl("readonly"), FirstKey: 2, LastKey: 2, Step: 1, ACLCategories: fl("@read @slow"),
				Summary: "Returns this node's own stored copy of a key (context, siblings, hints) without asking other nodes.", Since: "7.2.0", Group: "cluster", Complexity: "O(S) where S is the number of siblings",
				Arguments: []Arg{keyArg("key")}, Handler: s.needCluster(s.cmdDynagoLocal)},
			&Command{Name: "ring", Arity: 2, Flags: fl("loading stale"), ACLCategories: slow,
				Summary: "Returns the ring as this node sees it: epoch, N/R/W, members and slot ranges with their replicas.", Since: "7.2.0", Group: "cluster", Complexity: "O(N+R) where N is the number of nodes and R of slot ranges",
				Handler: s.needCluster(s.cmdDynagoRing)},
			&Command{Name: "hints", Arity: 2, Flags: fl("loading stale"), ACLCategories: slow,
				Summary: "Returns the hinted-handoff queues this node holds, per home replica.", Since: "7.2.0", Group: "cluster", Complexity: "O(N) where N is the number of nodes",
				Handler: s.needCluster(s.reportHandler("hints"))},
			&Command{Name: "ae", Arity: 2, Flags: fl("loading stale"), ACLCategories: slow,
				Summary: "Returns the anti-entropy state per partition.", Since: "7.2.0", Group: "cluster", Complexity: "O(P) where P is the number of partitions",
				Handler: s.needCluster(s.reportHandler("ae"))},
			&Command{Name: "transfers", Arity: 2, Flags: fl("loading stale"), ACLCategories: slow,
				Summary: "Returns the partition transfers in flight and the bytes left.", Since: "7.2.0", Group: "cluster", Complexity: "O(T) where T is the number of transfers",
				Handler: s.needCluster(s.reportHandler("transfers"))},
			&Command{Name: "leave", Arity: -2, Flags: fl("admin stale"), ACLCategories: adm,
				Summary: "Makes a node (this one by default) hand its partitions to their new owners and leave the ring.", Since: "7.2.0", Group: "cluster", Complexity: "O(P) where P is the number of partitions moved",
				Arguments: []Arg{optional(strArg("node"))}, Handler: s.needCluster(s.cmdDynagoLeave)},
			&Command{Name: "remove", Arity: 3, Flags: fl("admin stale"), ACLCategories: adm,
				Summary: "Takes a dead node out of the ring; its partitions are reassigned and rebuilt from the other replicas.", Since: "7.2.0", Group: "cluster", Complexity: "O(P) where P is the number of partitions reassigned",
				Arguments: []Arg{strArg("node")}, Handler: s.needCluster(s.cmdDynagoRemove)},
			&Command{Name: "help", Arity: 2, Flags: fl("loading stale"), ACLCategories: slow, local: true,
				Summary: "Returns helpful text about the different subcommands.", Since: "7.2.0", Group: "cluster", Complexity: "O(1)", Handler: s.helpHandler("dynago")},
		)}
}

func (s *Server) pubsubCommands() []*Command {
	sub := fl("pubsub noscript loading stale")
	slow := fl("@pubsub @slow")
	ps := fl("pubsub loading stale")
	return []*Command{
		{Name: "subscribe", Arity: -2, Flags: sub, ACLCategories: slow, local: true,
			Summary: "Listens for messages published to channels (on any node of the cluster).", Since: "2.0.0", Group: "pubsub", Complexity: "O(N) where N is the number of channels to subscribe to.",
			Arguments: []Arg{multiple(strArg("channel"))}, Handler: s.subscribeHandler(subChannel)},
		{Name: "unsubscribe", Arity: -1, Flags: sub, ACLCategories: slow, local: true,
			Summary: "Stops listening to messages posted to channels.", Since: "2.0.0", Group: "pubsub", Complexity: "O(N) where N is the number of channels to unsubscribe.",
			Arguments: []Arg{optional(multiple(strArg("channel")))}, Handler: s.unsubscribeHandler(subChannel)},
		{Name: "psubscribe", Arity: -2, Flags: sub, ACLCategories: slow, local: true,
			Summary: "Listens for messages published to channels that match one or more patterns.", Since: "2.0.0", Group: "pubsub", Complexity: "O(N) where N is the number of patterns to subscribe to.",
			Arguments: []Arg{multiple(Arg{Name: "pattern", Type: "pattern"})}, Handler: s.subscribeHandler(subPattern)},
		{Name: "punsubscribe", Arity: -1, Flags: sub, ACLCategories: slow, local: true,
			Summary: "Stops listening to messages published to channels that match one or more patterns.", Since: "2.0.0", Group: "pubsub", Complexity: "O(N) where N is the number of patterns to unsubscribe.",
			Arguments: []Arg{optional(multiple(Arg{Name: "pattern", Type: "pattern"}))}, Handler: s.unsubscribeHandler(subPattern)},
		{Name: "ssubscribe", Arity: -2, Flags: sub, FirstKey: 1, LastKey: -1, Step: 1, ACLCategories: slow, local: true,
			Summary: "Listens for messages published to shard channels.", Since: "7.0.0", Group: "pubsub", Complexity: "O(N) where N is the number of shard channels to subscribe to.",
			Arguments: []Arg{multiple(keyArg("shardchannel"))}, Handler: s.subscribeHandler(subShard)},
		{Name: "sunsubscribe", Arity: -1, Flags: sub, FirstKey: 1, LastKey: -1, Step: 1, ACLCategories: slow, local: true,
			Summary: "Stops listening to messages posted to shard channels.", Since: "7.0.0", Group: "pubsub", Complexity: "O(N) where N is the number of shard channels to unsubscribe.",
			Arguments: []Arg{optional(multiple(keyArg("shardchannel")))}, Handler: s.unsubscribeHandler(subShard)},
		{Name: "publish", Arity: 3, Flags: fl("pubsub loading stale fast"), ACLCategories: fl("@pubsub @fast"), local: true,
			Summary: "Posts a message to a channel; every node's subscribers receive it, and the reply counts this node's.", Since: "2.0.0", Group: "pubsub", Complexity: "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
			Arguments: []Arg{strArg("channel"), strArg("message")}, Handler: s.publishHandler(false)},
		{Name: "spublish", Arity: 3, Flags: fl("pubsub loading stale fast"), FirstKey: 1, LastKey: 1, Step: 1, ACLCategories: fl("@pubsub @fast"), local: true,
			Summary: "Post a message to a shard channel; every node's subscribers receive it, and the reply counts this node's.", Since: "7.0.0", Group: "pubsub", Complexity: "O(N) where N is the number of clients subscribed to the receiving shard channel.",
			Arguments: []Arg{keyArg("shardchannel"), strArg("message")}, Handler: s.publishHandler(true)},
		{Name: "pubsub", Arity: -2, ACLCategories: fl("@slow"), local: true,
			Summary: "A container for Pub/Sub commands.", Since: "2.8.0", Group: "pubsub", Complexity: "Depends on subcommand.",
			Subcommands: subs(
				&Command{Name: "channels", Arity: -2, Flags: ps, ACLCategories: slow, local: true,
					Summary: "Returns the active channels (with subscribers on this node).", Since: "2.8.0", Group: "pubsub", Complexity: "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
					Arguments: []Arg{optional(Arg{Name: "pattern", Type: "pattern"})}, Handler: s.pubsubChannels(false)},
				&Command{Name: "numsub", Arity: -2, Flags: ps, ACLCategories: slow, local: true,
					Summary: "Returns a count of subscribers to channels (on this node).", Since: "2.8.0", Group: "pubsub", Complexity: "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
					Arguments: []Arg{optional(multiple(strArg("channel")))}, Handler: s.pubsubNumSub(false)},
				&Command{Name: "numpat", Arity: 2, Flags: ps, ACLCategories: slow, local: true,
					Summary: "Returns a count of unique pattern subscriptions (on this node).", Since: "2.8.0", Group: "pubsub", Complexity: "O(1)", Handler: s.cmdPubSubNumPat},
				&Command{Name: "shardchannels", Arity: -2, Flags: ps, ACLCategories: slow, local: true,
					Summary: "Returns the active shard channels (with subscribers on this node).", Since: "7.0.0", Group: "pubsub", Complexity: "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
					Arguments: []Arg{optional(Arg{Name: "pattern", Type: "pattern"})}, Handler: s.pubsubChannels(true)},
				&Command{Name: "shardnumsub", Arity: -2, Flags: ps, ACLCategories: slow, local: true,
					Summary: "Returns the count of subscribers of shard channels (on this node).", Since: "7.0.0", Group: "pubsub", Complexity: "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
					Arguments: []Arg{optional(multiple(strArg("shardchannel")))}, Handler: s.pubsubNumSub(true)},
				&Command{Name: "help", Arity: 2, Flags: fl("loading stale"), ACLCategories: fl("@slow"), local: true,
					Summary: "Returns helpful text about the different subcommands.", Since: "6.2.0", Group: "pubsub", Complexity: "O(1)", Handler: s.helpHandler("pubsub")},
			)},
		{Name: "reset", Arity: 1, Flags: fl("noscript loading stale fast no_auth allow_busy"), ACLCategories: fl("@fast @connection"), local: true,
			Summary: "Resets the connection.", Since: "6.2.0", Group: "connection", Complexity: "O(1)", Handler: s.cmdReset},
	}
}
