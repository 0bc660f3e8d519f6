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
	redisPort := startRedisServer(t)
	p := NewProc(t)
	p.Start()
	cli := RequireTool(t, "redis-cli")
	for _, proto := range []string{"-2", "-3"} {
		run := func(port int, args []string) string {
			out, _ := exec.Command(cli, append([]string{proto, "-h", "127.0.0.1", "-p", fmt.Sprint(port)}, args...)...).CombinedOutput()
			return strings.TrimRight(string(out), "\n")
		}
		for _, port := range []int{redisPort, p.Port} {
			run(port, []string{"DEL", "h", "s", "t", "st", "z", "lex", "u", "cnt", "str"})
		}
		for _, args := range typedSession {
			want, got := run(redisPort, args), run(p.Port, args)
			if unordered[args[0]] {
				want, got = sortedLines(want), sortedLines(got)
			}
			if got != want {
				t.Errorf("redis-cli %s %s:\ndynago:\n%s\nredis-server:\n%s", proto, strings.Join(args, " "), got, want)
			}
		}
	}
}
