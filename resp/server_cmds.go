package resp

import (
	"context"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/dynago/dynago/coordinator"
)

// Server commands: DBSIZE, TIME, CONFIG GET/SET/RESETSTAT, FLUSHALL,
// FLUSHDB, WAIT, LASTSAVE.

func (s *Server) cmdDBSize(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	n, err := s.b.DBSize(ctx)
	if err != nil {
		s.writeErr(w, err, false)
		return
	}
	w.WriteInt(n)
}

func (s *Server) cmdTime(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	now := s.cfg.now().UnixMicro()
	w.WriteArray(2)
	w.WriteBulkString(strconv.FormatInt(now/1e6, 10))
	w.WriteBulkString(strconv.FormatInt(now%1e6, 10))
}

// FLUSHALL [ASYNC|SYNC] and FLUSHDB [ASYNC|SYNC]: refused unless the node
// was started with --enable-flushall (TESTING.md, security baseline).
func (s *Server) cmdFlushAll(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if len(args) > 2 || (len(args) == 2 && !eqFold(args[1], "async") && !eqFold(args[1], "sync")) {
		w.WriteError(msgSyntax)
		return
	}
	if !s.cfg.EnableFlushAll {
		w.WriteError("ERR " + strings.ToUpper(string(args[0])) + " is disabled; start dynago with --enable-flushall")
		return
	}
	if err := s.b.FlushAll(ctx); err != nil {
		s.writeErr(w, err, true)
		return
	}
	w.WriteOK()
}

// configParam is one parameter CONFIG GET reports. set is nil for the
// immutable ones; otherwise it applies a value and returns an error
// reason, or "".
type configParam struct {
	name string
	get  func(s *Server) string
	set  func(s *Server, v []byte) string
}

func constParam(v string) func(*Server) string { return func(*Server) string { return v } }

func intParam(f func(s *Server) int64) func(*Server) string {
	return func(s *Server) string { return strconv.FormatInt(f(s), 10) }
}

// configParams are the parameters clients and tools probe. requirepass is
// deliberately absent: CONFIG GET never reveals the password.
var configParams = [...]configParam{
	{"appendonly", constParam("no"), nil},
	{"bind", func(s *Server) string { h, _, _ := net.SplitHostPort(s.cfg.Addr); return h }, nil},
	{"client-output-buffer-limit", func(s *Server) string {
		return "normal 0 0 0 slave 268435456 67108864 60 pubsub " + strconv.FormatInt(s.psHard.Load(), 10) + " " +
			strconv.FormatInt(s.psSoft.Load(), 10) + " " + strconv.FormatInt(s.psSoftSecs.Load(), 10)
	}, (*Server).setOutputLimits},
	{"client-query-buffer-limit", intParam(func(s *Server) int64 { return int64(s.cfg.MaxQueryBytes) }), nil},
	{"cluster-enabled", constParam("no"), nil},
	{"databases", constParam("1"), nil},
	{"dynago-max-value-bytes", intParam(func(s *Server) int64 { return int64(s.cfg.MaxValueBytes) }), nil},
	{"dynago-request-timeout-ms", intParam(func(s *Server) int64 { return s.cfg.RequestTimeout.Milliseconds() }), nil},
	{"maxclients", intParam(func(s *Server) int64 { return s.maxClients.Load() }), func(s *Server, v []byte) string {
		n, ok := parseInt64(v)
		if !ok || n < 1 {
			return "argument must be a positive integer"
		}
		s.maxClients.Store(n)
		return ""
	}},
	{"maxmemory", getMaxMemory, setMaxMemory},
	{"maxmemory-policy", getMaxMemoryPolicy, setMaxMemoryPolicy},
	{"maxmemory-samples", getMaxMemorySamples, setMaxMemorySamples},
	{"notify-keyspace-events", func(s *Server) string { return formatNotifyFlags(s.notifyFlags.Load()) }, (*Server).setNotifyFlags},
	{"port", func(s *Server) string { _, p, _ := net.SplitHostPort(s.cfg.Addr); return p }, nil},
	{"proto-max-bulk-len", intParam(func(s *Server) int64 { return s.maxBulk.Load() }), func(s *Server, v []byte) string {
		// Redis's floor is 1 MiB; a bulk longer than the query buffer
		// limit could never be buffered whole.
		n, ok := ParseMemory(v)
		if !ok {
			return "argument must be a memory value"
		}
		if lo, hi := int64(1<<20), int64(s.cfg.MaxQueryBytes); n < lo || n > hi {
			return "argument must be between " + strconv.FormatInt(lo, 10) + " and " + strconv.FormatInt(hi, 10) + " inclusive"
		}
		s.maxBulk.Store(n)
		return ""
	}},
	{"protected-mode", func(s *Server) string { return yesNo(s.cfg.ProtectedMode) }, nil},
	{"replica-read-only", constParam("yes"), nil},
	// save is accepted and ignored so that test setups sending
	// CONFIG SET save "" work: durability is --durability's business.
	{"save", constParam(""), func(*Server, []byte) string { return "" }},
	{"slave-read-only", constParam("yes"), nil},
	{"timeout", intParam(func(s *Server) int64 { return s.idleTimeout.Load() / int64(time.Second) }), func(s *Server, v []byte) string {
		n, ok := parseInt64(v)
		if !ok || n < 0 || n > 1<<31 {
			return "argument couldn't be parsed into an integer"
		}
		s.idleTimeout.Store(n * int64(time.Second))
		return ""
	}},
}

// ParseMemory parses a memory value as Redis's memtoull does: a
// non-negative integer with an optional unit, b, k (1000), kb (1024), m,
// mb, g or gb, in any case (CONFIG SET, --maxmemory).
func ParseMemory(v []byte) (int64, bool) {
	units := []struct {
		suffix string
		mul    int64
	}{{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"b", 1}, {"k", 1e3}, {"m", 1e6}, {"g", 1e9}}
	mul := int64(1)
	for _, u := range units {
		if n := len(v) - len(u.suffix); n > 0 && eqFold(v[n:], u.suffix) {
			v, mul = v[:n], u.mul
			break
		}
	}
	n, ok := parseInt64(v)
	if !ok || n < 0 || n > math.MaxInt64/mul {
		return 0, false
	}
	return n * mul, true
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// CONFIG GET parameter [parameter ...]: patterns match case-insensitively.
func (s *Server) cmdConfigGet(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	var out []string
	for i := range configParams {
		p := &configParams[i]
		for _, pat := range args[2:] {
			if globMatch(pat, []byte(p.name), true) {
				out = append(out, p.name, p.get(s))
				break
			}
		}
	}
	w.WriteMap(len(out) / 2)
	for _, v := range out {
		w.WriteBulkString(v)
	}
}

// CONFIG SET parameter value [parameter value ...]
func (s *Server) cmdConfigSet(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if len(args)%2 != 0 {
		w.WriteError("ERR wrong number of arguments for 'config|set' command")
		return
	}
	// Check every pair before applying any, as Redis does.
	sets := make([]*configParam, 0, (len(args)-2)/2)
	for i := 2; i < len(args); i += 2 {
		p := findParam(args[i])
		switch {
		case p == nil:
			w.WriteError("ERR Unknown option or number of arguments for CONFIG SET - '" + string(args[i]) + "'")
			return
		case p.set == nil:
			w.WriteError("ERR CONFIG SET failed (possibly related to argument '" + string(args[i]) + "') - can't set immutable config")
			return
		}
		sets = append(sets, p)
	}
	for i, p := range sets {
		if msg := p.set(s, args[3+2*i]); msg != "" {
			w.WriteError("ERR CONFIG SET failed (possibly related to argument '" + p.name + "') - " + msg)
			return
		}
	}
	w.WriteOK()
}

func findParam(name []byte) *configParam {
	for i := range configParams {
		if eqFold(name, configParams[i].name) {
			return &configParams[i]
		}
	}
	return nil
}

// CONFIG RESETSTAT clears the statistics INFO reports.
func (s *Server) cmdConfigResetStat(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	s.stats.reset()
	s.eachCommand(func(cmd *Command) { cmd.stats.reset() })
	w.WriteOK()
}

// WAIT numreplicas timeout answers how many replicas acknowledged this
// connection's writes: every write was acknowledged by W replicas (the
// connection's override of W, or the node's) before its reply, so WAIT
// answers W at once, never blocking; a single node has no replicas and
// answers 0.
func (s *Server) cmdWait(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if _, ok := parseInt64(args[1]); !ok {
		w.WriteError(msgNotInteger)
		return
	}
	t, ok := parseInt64(args[2])
	if !ok {
		w.WriteError("ERR timeout is not an integer or out of range")
		return
	}
	if t < 0 {
		w.WriteError("ERR timeout is negative")
		return
	}
	if s.cluster == nil {
		w.WriteInt(0)
		return
	}
	v := s.cluster.View(ctx)
	w.WriteInt(int64(coordinator.Clamp(c.consistency.W, v.W, min(v.N, len(v.Nodes)))))
}

// LASTSAVE: now, as a unix time. Every acknowledged write is already on
// disk (docs/architecture.md §6), so the data was last saved just now; a
// tool that waits for LASTSAVE to change after BGSAVE sees it change.
func (s *Server) cmdLastSave(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	w.WriteInt(s.cfg.now().Unix())
}
