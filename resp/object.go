package resp

import (
	"context"
	"math/bits"
	"strconv"
	"time"

	"github.com/dynago/dynago/crdt"
	"github.com/dynago/dynago/version"
)

// OBJECT and MEMORY: how a key would be kept by Redis 7.2. dynago stores
// every key as one version.Object, so these answers describe the value,
// not dynago's storage: OBJECT ENCODING applies Redis 7.2's encoding rules
// and default thresholds to the value, MEMORY USAGE estimates what Redis
// would spend on it. IDLETIME and FREQ read the node's access table
// (cache mode, docs/eviction.md) when an LRU or LFU maxmemory policy keeps
// one; without it IDLETIME counts from the key's last write, and FREQ
// answers Redis's error unless an LFU policy is selected.

// Redis 7.2's default thresholds (hash-max-listpack-entries and -value,
// set-max-intset-entries, set-max-listpack-entries and -value,
// zset-max-listpack-entries and -value) and its embedded string limit.
const (
	hashListpackEntries = 512
	listpackEntries     = 128 // sets' and sorted sets'
	listpackValue       = 64
	intsetEntries       = 512
	embstrMax           = 44
)

// encoding is the name Redis 7.2 gives the encoding of kv's value.
func (kv keyValue) encoding() string {
	switch kv.typ {
	case version.TypeString:
		return stringEncoding(kv.str)
	case version.TypeHash:
		for _, e := range kv.els {
			if len(e.Field) > listpackValue || len(e.Value) > listpackValue {
				return "hashtable"
			}
		}
		if len(kv.els) > hashListpackEntries {
			return "hashtable"
		}
		return "listpack"
	case version.TypeSet:
		ints := len(kv.els) <= intsetEntries
		short := true
		for _, e := range kv.els {
			_, isInt := strictInt(e.Field)
			ints = ints && isInt
			short = short && len(e.Field) <= listpackValue
		}
		if ints {
			return "intset"
		}
		if !short {
			return "hashtable"
		}
		return small(len(kv.els), "listpack", "hashtable")
	case version.TypeZSet:
		for _, e := range kv.els {
			if len(e.Field) > listpackValue {
				return "skiplist"
			}
		}
		return small(len(kv.els), "listpack", "skiplist")
	}
	return "unknown"
}

func small(n int, compact, big string) string {
	if n <= listpackEntries {
		return compact
	}
	return big
}

// stringEncoding is Redis's tryObjectEncoding: int for a canonical int64
// of up to 20 bytes, embstr up to 44 bytes, else raw. (A string Redis grew
// with APPEND or SETRANGE is raw there whatever its length; dynago does
// not know how a string was made.)
func stringEncoding(s []byte) string {
	if _, ok := strictInt(s); ok && len(s) <= 20 {
		return "int"
	}
	if len(s) <= embstrMax {
		return "embstr"
	}
	return "raw"
}

// strictInt is Redis's string2ll: a canonical base-10 int64 (no sign on
// zero, no leading zeros, no spaces).
func strictInt(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 20 || (s[0] == '0' && len(s) > 1) || (s[0] == '-' && (len(s) == 1 || s[1] == '0')) {
		return 0, false
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	return n, err == nil && s[0] != '+'
}

// sharedIntegers are the values Redis keeps as shared objects, whose
// REFCOUNT is INT_MAX (OBJ_SHARED_REFCOUNT).
const sharedIntegers = 10000

// refcount is OBJECT REFCOUNT: Redis shares the integers below 10000.
func (kv keyValue) refcount() int64 {
	if kv.typ == version.TypeString {
		if n, ok := strictInt(kv.str); ok && n >= 0 && n < sharedIntegers {
			return 1<<31 - 1
		}
	}
	return 1
}

// objectSub returns the handler of OBJECT ENCODING|IDLETIME|REFCOUNT key:
// nil for a missing key, as in Redis.
func (s *Server) objectSub(answer func(w *Writer, kv keyValue)) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		kv, ok := s.readKeyOrNil(ctx, w, args[2])
		if !ok {
			return
		}
		answer(w, kv)
	}
}

// The errors of OBJECT FREQ and IDLETIME under the wrong kind of policy.
const (
	msgNoLFU = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
	msgLFU   = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
)

// accessSub is OBJECT FREQ (freq) or OBJECT IDLETIME. The access table is
// read before the key, whose quorum read counts as an access.
func (s *Server) accessSub(freq bool) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		lfu := s.mem != nil && s.mem.MaxMemoryPolicy().LFU()
		if freq != lfu {
			w.WriteError(map[bool]string{true: msgNoLFU, false: msgLFU}[freq])
			return
		}
		var idle time.Duration
		var count uint8
		tracked := false
		if s.mem != nil {
			idle, count, tracked = s.mem.KeyAccess(args[2])
		}
		kv, ok := s.readKeyOrNil(ctx, w, args[2])
		switch {
		case !ok:
		case freq && tracked:
			w.WriteInt(int64(count))
		case freq:
			w.WriteInt(0) // LFU selected but no limit: nothing tracked
		case tracked:
			w.WriteInt(int64(idle / time.Second))
		default:
			w.WriteInt(max(0, (s.nowMs()-kv.written)/1000))
		}
	}
}

func (s *Server) objectCommand() *Command {
	sub := func(name, summary string, h HandlerFunc) *Command {
		return &Command{Name: name, Arity: 3, Flags: fl("readonly"), FirstKey: 2, LastKey: 2, Step: 1,
			ACLCategories: fl("@keyspace @read @slow"), Tips: fl("nondeterministic_output"), KeySpecs: []KeySpec{spec(2, "RO")}, Summary: summary, Since: "2.2.3", Group: "generic",
			Complexity: "O(N) where N is the number of elements of the key (read whole)", Arguments: []Arg{keyArg("key")}, Handler: h}
	}
	freq := sub("freq", "Returns the logarithmic access frequency counter of a key, as this node's access table knows it (an LFU maxmemory policy must be selected).",
		s.accessSub(true))
	freq.Since = "4.0.0"
	return &Command{Name: "object", Arity: -2, ACLCategories: fl("@slow"),
		Summary: "A container for object introspection commands.", Since: "2.2.3", Group: "generic", Complexity: "Depends on subcommand.",
		Subcommands: subs(
			sub("encoding", "Returns the internal encoding Redis 7.2 would use for the value.",
				s.objectSub(func(w *Writer, kv keyValue) { w.WriteBulkString(kv.encoding()) })),
			sub("refcount", "Returns the reference count of a value (1; INT_MAX for the integers Redis shares).",
				s.objectSub(func(w *Writer, kv keyValue) { w.WriteInt(kv.refcount()) })),
			sub("idletime", "Returns the seconds since the key was last used on this node (with an LRU maxmemory policy), else since it was last written.",
				s.accessSub(false)),
			freq,
			&Command{Name: "help", Arity: 2, Flags: fl("loading stale"), ACLCategories: fl("@keyspace @slow"), local: true,
				Summary: "Returns helpful text about the different subcommands.", Since: "6.2.0", Group: "generic", Complexity: "O(1)",
				Handler: helpText(objectHelp)},
		)}
}

// objectHelp is Redis's OBJECT HELP.
var objectHelp = []string{
	"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
	"HELP",
	"    Prints this help.",
}

// memoryHelp is Redis's MEMORY HELP, less the subcommands dynago lacks.
var memoryHelp = []string{
	"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"USAGE <key> [SAMPLES <count>]",
	"    Return memory in bytes used by <key> and its value. Nested values are",
	"    sampled up to <count> times (default: 5, 0 means sample all).",
	"HELP",
	"    Prints this help.",
}

// helpText writes lines as status replies, as Redis's addReplyHelp does.
func helpText(lines []string) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		w.WriteArray(len(lines))
		for _, l := range lines {
			w.WriteSimple(l)
		}
	}
}

func (s *Server) memoryCommand() *Command {
	return &Command{Name: "memory", Arity: -2, ACLCategories: fl("@slow"),
		Summary: "A container for memory diagnostics commands.", Since: "4.0.0", Group: "server", Complexity: "Depends on subcommand.",
		Subcommands: subs(
			&Command{Name: "usage", Arity: -3, Flags: fl("readonly"), FirstKey: 2, LastKey: 2, Step: 1, ACLCategories: fl("@read @slow"), KeySpecs: []KeySpec{spec(2, "RO")},
				Summary: "Estimates the memory usage of a key as Redis 7.2 would keep it (every element counted; SAMPLES is accepted).", Since: "4.0.0", Group: "server",
				Complexity: "O(N) where N is the number of elements of the key",
				Arguments:  []Arg{keyArg("key"), optional(named("SAMPLES", "count", "integer"))}, Handler: s.cmdMemoryUsage},
			&Command{Name: "help", Arity: 2, Flags: fl("loading stale"), ACLCategories: fl("@slow"), local: true,
				Summary: "Returns helpful text about the different subcommands.", Since: "4.0.0", Group: "server", Complexity: "O(1)",
				Handler: helpText(memoryHelp)},
		)}
}

// MEMORY USAGE key [SAMPLES count]: nil for a missing key.
func (s *Server) cmdMemoryUsage(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	for i := 3; i < len(args); i += 2 {
		if !eqFold(args[i], "samples") || i+1 == len(args) {
			w.WriteError(msgSyntax)
			return
		}
		n, ok := parseInt64(args[i+1])
		if !ok {
			w.WriteError(msgNotInteger)
			return
		}
		if n < 0 {
			w.WriteError(msgSyntax)
			return
		}
	}
	kv, ok := s.readKeyOrNil(ctx, w, args[2])
	if !ok {
		return
	}
	w.WriteInt(kv.memoryUsage(len(args[2])))
}

// Sizes of Redis's structures on a 64-bit build: a value's robj, a
// dictionary entry, a dict, a skiplist node (with its average 1.33 levels).
const (
	robjSize      = 16
	dictEntrySize = 24
	dictSize      = 56
	zslNodeSize   = 48
)

// sdsSize is the bytes of an sds string of n bytes: header, data and NUL.
func sdsSize(n int) int {
	switch {
	case n < 1<<5:
		return n + 2
	case n < 1<<8:
		return n + 4
	case n < 1<<16:
		return n + 6
	}
	return n + 10
}

// lpEntrySize is the bytes of one listpack entry holding b.
func lpEntrySize(b []byte) int {
	if n, ok := strictInt(b); ok {
		switch {
		case n >= 0 && n < 128:
			return 2
		case n >= -4096 && n < 4096:
			return 3
		case n == int64(int16(n)):
			return 4
		case n == n<<40>>40:
			return 5
		case n == int64(int32(n)):
			return 6
		}
		return 10
	}
	h := 1
	switch {
	case len(b) >= 4096:
		h = 5
	case len(b) >= 64:
		h = 2
	}
	return h + len(b) + backlenBytes(h+len(b))
}

func backlenBytes(n int) int { return 1 + (bits.Len(uint(n))-1)/7 }

// buckets is a dict's bucket array for n entries.
func buckets(n int) int {
	if n <= 4 {
		return 4 * 8
	}
	return 8 << bits.Len(uint(n-1))
}

// memoryUsage estimates what Redis spends on the key: the key's dict entry
// and sds, the value's robj and its encoding's size, rounded up to 8.
func (kv keyValue) memoryUsage(keyLen int) int64 {
	n := dictEntrySize + sdsSize(keyLen) + robjSize
	enc := kv.encoding()
	switch enc {
	case "int":
	case "embstr", "raw":
		n += sdsSize(len(kv.str))
	case "listpack":
		n += 7
		for _, e := range kv.els {
			n += lpEntrySize(e.Field)
			switch kv.typ {
			case version.TypeHash:
				n += lpEntrySize(e.Value)
			case version.TypeZSet:
				n += lpEntrySize(crdt.FormatScore(e.Score))
			}
		}
	case "intset":
		width := 2
		for _, e := range kv.els {
			v, _ := strictInt(e.Field)
			switch {
			case v != int64(int32(v)):
				width = 8
			case v != int64(int16(v)) && width < 4:
				width = 4
			}
		}
		n += 8 + width*len(kv.els)
	default: // hashtable, skiplist
		n += dictSize + buckets(len(kv.els))
		for _, e := range kv.els {
			n += dictEntrySize + sdsSize(len(e.Field))
			switch {
			case kv.typ == version.TypeHash:
				n += sdsSize(len(e.Value))
			case enc == "skiplist":
				n += zslNodeSize
			}
		}
	}
	return int64((n + 7) &^ 7)
}
