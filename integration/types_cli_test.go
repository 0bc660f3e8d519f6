package integration

// The convergent types' replies compared with a stock redis-server's, both
// driven by redis-cli, in RESP2 and RESP3: every line of output must match.
// The commands avoid what may legitimately differ: random picks and float
// results beyond a double's precision. Replies whose order is the
// server's own (a set's members, a scan's) are compared as multisets.

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var typedSession = [][]string{
	{"HSET", "h", "a", "1", "b", "2", "c", "3"},
	{"HSET", "h", "a", "9", "d", "4"},
	{"HSETNX", "h", "a", "5"},
	{"HGET", "h", "a"}, {"HMGET", "h", "a", "zz", "b"}, {"HGETALL", "h"},
	{"HDEL", "h", "b", "zz"}, {"HEXISTS", "h", "b"}, {"HLEN", "h"}, {"HKEYS", "h"}, {"HVALS", "h"},
	{"HSTRLEN", "h", "a"}, {"HINCRBY", "h", "n", "5"}, {"HINCRBY", "h", "a", "x"},
	{"HINCRBYFLOAT", "h", "f", "1.5"}, {"HINCRBY", "h", "c", "-10"}, {"HSCAN", "h", "0"},
	{"HGETALL", "nokey"}, {"HSET", "h"}, {"TYPE", "h"},
	{"SADD", "s", "a", "b", "c", "d"}, {"SADD", "t", "c", "d", "e"}, {"SREM", "s", "a", "zz"},
	{"SMEMBERS", "s"}, {"SISMEMBER", "s", "b"}, {"SMISMEMBER", "s", "a", "b"}, {"SCARD", "s"},
	{"SINTER", "s", "t"}, {"SUNION", "s", "t"}, {"SDIFF", "s", "t"}, {"SINTERCARD", "2", "s", "t"},
	{"SINTERSTORE", "st", "s", "t"}, {"SMEMBERS", "st"}, {"SMOVE", "s", "t", "b"}, {"SMEMBERS", "t"},
	{"SSCAN", "s", "0"}, {"TYPE", "s"}, {"SADD", "h", "x"}, {"SPOP", "s", "-1"},
	{"ZADD", "z", "1", "a", "2", "b", "3", "c"}, {"ZADD", "z", "XX", "CH", "5", "a", "1", "zz"},
	{"ZADD", "z", "NX", "XX", "1", "a"}, {"ZADD", "z", "INCR", "2", "b"}, {"ZINCRBY", "z", "1.5", "c"},
	{"ZSCORE", "z", "c"}, {"ZMSCORE", "z", "a", "zz"}, {"ZCARD", "z"}, {"ZCOUNT", "z", "(1", "+inf"},
	{"ZRANK", "z", "c"}, {"ZREVRANK", "z", "c"}, {"ZRANGE", "z", "0", "-1", "WITHSCORES"},
	{"ZRANGE", "z", "(2", "+inf", "BYSCORE", "LIMIT", "0", "1"}, {"ZRANGE", "z", "0", "-1", "REV"},
	{"ZRANGEBYSCORE", "z", "-inf", "4", "WITHSCORES"}, {"ZREVRANGEBYSCORE", "z", "+inf", "-inf"},
	{"ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d"}, {"ZRANGEBYLEX", "lex", "[b", "(d"},
	{"ZLEXCOUNT", "lex", "-", "+"}, {"ZREMRANGEBYLEX", "lex", "-", "[a"}, {"ZPOPMIN", "z"},
	{"ZPOPMAX", "z", "2"}, {"ZUNIONSTORE", "u", "2", "lex", "t", "WEIGHTS", "2", "3"},
	{"ZRANGE", "u", "0", "-1", "WITHSCORES"}, {"ZREMRANGEBYRANK", "u", "0", "1"}, {"ZSCAN", "u", "0"},
	{"ZADD", "z", "x", "a"}, {"ZRANGE", "z", "0", "1", "BYLEX"}, {"TYPE", "u"},
	{"INCR", "cnt"}, {"INCRBY", "cnt", "41"}, {"GET", "cnt"}, {"INCRBYFLOAT", "cnt", "0.5"}, {"INCR", "cnt"},
	{"SET", "str", "v"}, {"HGET", "str", "a"}, {"GET", "h"}, {"INCR", "h"}, {"SCAN", "0", "TYPE", "zset"},
	{"DEL", "h", "s", "t", "z"}, {"EXISTS", "h", "s", "t", "z"},
	// Edge cases and error texts.
	{"ZADD", "e", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"},
	{"ZADD", "e", "GT", "CH", "0", "a", "9", "b"}, {"ZADD", "e", "LT", "CH", "0", "a", "10", "c"},
	{"ZADD", "e", "GT", "LT", "1", "a"}, {"ZADD", "e", "NX", "GT", "1", "a"}, {"ZADD", "e", "1"},
	{"ZADD", "e", "nan", "a"}, {"ZADD", "e", "abc", "a"}, {"ZADD", "e", "INCR", "1", "a", "2", "b"},
	{"ZADD", "e", "NX", "INCR", "1", "a"}, {"ZINCRBY", "e", "x", "a"},
	{"ZRANGE", "e", "(1", "(9", "BYSCORE", "REV"}, {"ZRANGE", "e", "(9", "(1", "BYSCORE", "REV", "LIMIT", "1", "2"},
	{"ZRANGE", "e", "0", "-1", "LIMIT", "0", "1"}, {"ZRANGE", "e", "[a", "[c", "BYLEX", "WITHSCORES"},
	{"ZRANGE", "e", "-2", "-1", "WITHSCORES"}, {"ZRANGE", "e", "5", "1"}, {"ZRANGE", "e", "a", "b"},
	{"ZRANGEBYSCORE", "e", "(0", "9", "LIMIT", "1", "-1"}, {"ZRANGEBYSCORE", "e", "x", "9"},
	{"ZREVRANGEBYLEX", "e", "+", "-", "LIMIT", "0", "2"}, {"ZRANGEBYLEX", "e", "a", "c"},
	{"ZRANGESTORE", "dst", "e", "0", "2"}, {"ZRANGE", "dst", "0", "-1", "WITHSCORES"},
	{"ZRANGESTORE", "dst", "e", "10", "20"}, {"EXISTS", "dst"},
	{"ZADD", "f", "1", "a", "5", "b"}, {"ZINTERSTORE", "i", "2", "e", "f", "AGGREGATE", "MAX"},
	{"ZRANGE", "i", "0", "-1", "WITHSCORES"}, {"ZUNIONSTORE", "i", "2", "e", "f", "AGGREGATE", "MIN", "WEIGHTS", "1", "-1"},
	{"ZRANGE", "i", "0", "-1", "WITHSCORES"}, {"ZUNIONSTORE", "i", "0", "e"}, {"ZUNIONSTORE", "i", "3", "e", "f"},
	{"ZINTERSTORE", "i", "2", "e", "f", "WEIGHTS", "1"}, {"ZINTERSTORE", "i", "2", "e", "f", "AGGREGATE", "AVG"},
	{"ZREMRANGEBYSCORE", "e", "(1", "3"}, {"ZREMRANGEBYRANK", "e", "-1", "-1"}, {"ZRANGE", "e", "0", "-1"},
	{"ZPOPMIN", "e", "0"}, {"ZPOPMIN", "e", "-1"}, {"ZPOPMAX", "nokey"}, {"ZPOPMIN", "nokey", "3"},
	{"ZRANDMEMBER", "nokey"}, {"ZRANDMEMBER", "e", "0"}, {"ZRANDMEMBER", "e", "1", "WITHSCORES", "x"},
	{"ZSCORE", "e", "nope"}, {"ZMSCORE", "nokey", "a"}, {"ZRANK", "e", "nope"}, {"ZCOUNT", "e", "x", "1"},
	{"ZLEXCOUNT", "e", "a", "b"}, {"ZCARD", "nokey"}, {"ZREM", "nokey", "a"},
	{"SADD", "u1", "a", "b"}, {"SMOVE", "u1", "u1", "a"}, {"SMOVE", "u1", "u1", "z"}, {"SMOVE", "nokey", "u1", "a"},
	{"SPOP", "u1", "0"}, {"SRANDMEMBER", "u1", "0"}, {"SRANDMEMBER", "nokey"}, {"SRANDMEMBER", "nokey", "2"},
	{"SINTERCARD", "2", "u1", "nokey"}, {"SINTERCARD", "1", "u1", "LIMIT", "1"}, {"SINTERCARD", "0", "u1"},
	{"SINTERCARD", "3", "u1"}, {"SINTERCARD", "1", "u1", "LIMIT", "-1"}, {"SDIFFSTORE", "d", "u1", "u1"},
	{"EXISTS", "d"}, {"SUNIONSTORE", "d", "u1", "nokey"}, {"SCARD", "d"}, {"SMISMEMBER", "nokey", "a"},
	{"SISMEMBER", "nokey", "a"}, {"SREM", "u1"}, {"SADD", "u1"},
	{"HRANDFIELD", "nokey", "0"}, {"HSETNX", "h2", "f"}, {"HINCRBYFLOAT", "h2", "f", "inf"},
	{"HINCRBY", "h2", "f", "9223372036854775807"}, {"HINCRBY", "h2", "f", "1"},
	{"HGETALL", "h2"}, {"HDEL", "h2", "f"}, {"EXISTS", "h2"},
	{"INCRBY", "ctr", "9223372036854775807"}, {"INCR", "ctr"}, {"DECRBY", "ctr2", "-9223372036854775808"},
	{"INCRBYFLOAT", "ctr3", "inf"}, {"SET", "ctr4", ""}, {"INCR", "ctr4"},
	{"SET", "ctr5", "10"}, {"EXPIRE", "ctr5", "100"}, {"INCR", "ctr5"}, {"TTL", "ctr5"},
	{"HSET", "ttl", "a", "1"}, {"EXPIRE", "ttl", "100"}, {"HSET", "ttl", "b", "2"}, {"TTL", "ttl"},
	{"HDEL", "ttl", "a", "b"}, {"TTL", "ttl"},
}

// unordered are the commands whose replies come in the server's own order.
var unordered = map[string]bool{"SMEMBERS": true, "SINTER": true, "SUNION": true, "SDIFF": true,
	"SSCAN": true, "HSCAN": true, "SCAN": true}

func sortedLines(s string) string {
	lines := strings.Split(s, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// startRedisServer starts a stock redis-server on a free port and returns
// the port; it is stopped with the test.
func startRedisServer(t *testing.T) int {
	t.Helper()
	bin := RequireTool(t, "redis-server")
	port := FreePort(t)
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--logfile", filepath.Join(t.TempDir(), "redis.log"))
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return port
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not listen on %d: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond) // polling a port that is not open yet
	}
}

func TestTypedRepliesMatchRedisServer(t *testing.T) {
	p := NewProc(t, "--enable-flushall")
	p.Start()
	compareSession(t, typedSession, startRedisServer(t), p.Port)
}

// The same session through node 1 of a 3-node cluster: most keys are
// coordinated by another node, so the writes and their errors are
// forwarded, and the multi-key commands read keys held elsewhere.
func TestTypedRepliesMatchRedisServerInACluster(t *testing.T) {
	c := NewCluster(t, 3, "--enable-flushall")
	compareSession(t, typedSession, startRedisServer(t), c.Nodes[0].Port)
}

// compareSession runs session through redis-cli against the redis-server
// on redisPort and dynago on port, RESP2 then RESP3, each from an empty
// store, and reports every reply that differs. One redis-cli per server
// and protocol reads the whole session from stdin, an ECHO of a marker
// between commands to cut its output into replies: a redis-cli per
// command cost about 50 ms each.
func compareSession(t *testing.T, session [][]string, redisPort, port int) {
	t.Helper()
	cli := RequireTool(t, "redis-cli")
	const marker = "@@reply@@"
	var in strings.Builder
	in.WriteString("FLUSHALL\n")
	for _, args := range session {
		in.WriteString("ECHO " + marker + "\n")
		for i, a := range args {
			if i > 0 {
				in.WriteByte(' ')
			}
			in.WriteString(cliQuote(a))
		}
		in.WriteByte('\n')
	}
	for _, proto := range []string{"-2", "-3"} {
		run := func(port int) []string {
			cmd := exec.Command(cli, proto, "-h", "127.0.0.1", "-p", fmt.Sprint(port))
			cmd.Stdin = strings.NewReader(in.String())
			out, err := cmd.CombinedOutput()
			replies := strings.Split(string(out), marker+"\n")
			if err != nil || len(replies) != len(session)+1 {
				t.Fatalf("redis-cli %s on port %d: %v, %d replies for %d commands:\n%s", proto, port, err, len(replies)-1, len(session), out)
			}
			for i := range replies {
				replies[i] = strings.TrimRight(replies[i], "\n")
			}
			return replies[1:]
		}
		wants, gots := run(redisPort), run(port)
		for i, args := range session {
			want, got := wants[i], gots[i]
			if unordered[args[0]] {
				want, got = sortedLines(want), sortedLines(got)
			}
			if got != want {
				t.Errorf("redis-cli %s %s:\ndynago:\n%s\nredis-server:\n%s", proto, strings.Join(args, " "), got, want)
			}
		}
	}
}

// cliQuote quotes an argument for redis-cli's stdin (sdssplitargs): in
// double quotes, with backslash escapes for quotes, backslashes and bytes
// outside printable ASCII.
func cliQuote(a string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(a); i++ {
		switch c := a[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			fmt.Fprintf(&b, "\\x%02x", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
