package resp

// Real clients against a Server on loopback: go-redis (which parses
// COMMAND for cluster routing and sends HELLO 3 and CLIENT SETINFO on
// connect) and redis-cli (which builds its hints from COMMAND DOCS).

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestGoRedis(t *testing.T) {
	ns := startServer(t)
	rdb := redis.NewClient(&redis.Options{Addr: ns.addr, Protocol: 3, DialTimeout: 5 * time.Second,
		ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	if err := rdb.Set(ctx, "k", "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := rdb.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET: %q %v", v, err)
	}
	if _, err := rdb.Get(ctx, "nope").Result(); err != redis.Nil {
		t.Fatalf("GET missing: %v", err)
	}
	info, err := rdb.Command(ctx).Result()
	if err != nil {
		t.Fatal("COMMAND:", err)
	}
	for name, ro := range map[string]bool{"getctx": true, "siblings": true, "get": true, "set": false, "setctx": false} {
		ci := info[name]
		if ci == nil || ci.ReadOnly != ro || ci.FirstKeyPos != 1 {
			t.Errorf("COMMAND %s: %+v", name, ci)
		}
	}
	res, err := rdb.Do(ctx, "GETCTX", "k").Slice()
	if err != nil || len(res) != 2 {
		t.Fatalf("GETCTX: %v %v", res, err)
	}
	pipe := rdb.Pipeline()
	for i := range 100 {
		pipe.Incr(ctx, "n")
		_ = i
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.Get(ctx, "n").Int(); n != 100 {
		t.Fatalf("INCR pipeline: %d", n)
	}
	if err := rdb.Do(ctx, "SETCTX", "k", "garbage!", "v").Err(); err == nil || err.Error() != "ERR invalid context" {
		t.Fatalf("SETCTX bad context: %v", err)
	}
}

func TestRedisCLI(t *testing.T) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-cli is required in CI (apt-get install redis-tools)")
		}
		t.Skip("redis-cli not installed")
	}
	ns := startServer(t)
	_, port, _ := splitHostPort(ns.addr)
	cli := func(stdin string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "redis-cli", append([]string{"-h", "127.0.0.1", "-p", port}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"PING"}, "PONG"},
		{[]string{"SET", "k", "v"}, "OK"},
		{[]string{"GET", "k"}, "v"},
		{[]string{"--no-raw", "GET", "nope"}, "(nil)"},
		{[]string{"SETCTX", "s", "", "a"}, "OK"},
		{[]string{"SETCTX", "s", "", "b"}, "OK"},
		{[]string{"NOSUCH", "x"}, "ERR unknown command 'NOSUCH', with args beginning with: 'x'"},
	} {
		if got := cli("", tc.args...); got != tc.want {
			t.Errorf("redis-cli %v: %q, want %q", tc.args, got, tc.want)
		}
	}
	got := cli("", "--no-raw", "GETCTX", "s")
	if !strings.HasPrefix(got, `1) "`) || !strings.Contains(got, `1) "a"`) || !strings.Contains(got, `2) "b"`) {
		t.Errorf("GETCTX:\n%s", got)
	}
	// Interactive mode fetches COMMAND DOCS for its hints; it must not
	// choke on dynago's reply.
	if got := cli("PING\nGETCTX k\n"); !strings.Contains(got, "PONG") {
		t.Errorf("interactive redis-cli:\n%s", got)
	}
	if got := cli("", "COMMAND", "DOCS", "setctx"); !strings.Contains(got, "setctx") || !strings.Contains(got, "context") {
		t.Errorf("COMMAND DOCS setctx:\n%s", got)
	}
}
