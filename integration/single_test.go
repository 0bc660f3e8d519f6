package integration

// Single-node tests of issue 2: the real binary, driven by go-redis,
// redis-cli and redis-benchmark; killed with SIGKILL and restarted, every
// acknowledged write must still be there.

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ackedWrites records what the store acknowledged, so the test can demand
// exactly that back after a crash.
type ackedWrites struct {
	values map[string]string // key -> value read back with GET
}

func TestSingleNodeKill9KeepsAcknowledgedWrites(t *testing.T) {
	p := NewProc(t)
	p.Start()
	ctx := context.Background()
	c := p.Client()
	acked := ackedWrites{values: map[string]string{}}

	// Plain SETs, one round trip each.
	for i := 0; i < 300; i++ {
		k, v := fmt.Sprintf("plain:%d", i), fmt.Sprintf("value-%d", i)
		if err := c.Set(ctx, k, v, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
		acked.values[k] = v
	}
	// Pipelined SETs: every reply OK means every write is durable.
	pipe := c.Pipeline()
	cmds := map[string]*redis.StatusCmd{}
	for i := 0; i < 2000; i++ {
		k := fmt.Sprintf("pipe:%d", i)
		cmds[k] = pipe.Set(ctx, k, strings.Repeat("x", i%200), 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	for k, cmd := range cmds {
		if cmd.Err() == nil {
			acked.values[k] = cmd.Args()[2].(string)
		}
	}
	// Read-modify-write commands.
	for i := 0; i < 50; i++ {
		if err := c.Incr(ctx, "counter").Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.Append(ctx, "log", "ab").Err(); err != nil {
			t.Fatal(err)
		}
	}
	acked.values["counter"] = "50"
	acked.values["log"] = strings.Repeat("ab", 50)
	if err := c.Set(ctx, "ttl", "lives", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	acked.values["ttl"] = "lives"
	if err := c.Del(ctx, "plain:0").Err(); err != nil {
		t.Fatal(err)
	}
	delete(acked.values, "plain:0")
	// Binary-safe key and value.
	bin := "k\x00\r\n\xff"
	if err := c.Set(ctx, bin, "v\x00\r\n\xfe", 0).Err(); err != nil {
		t.Fatal(err)
	}
	acked.values[bin] = "v\x00\r\n\xfe"

	p.Kill() // SIGKILL: no chance to flush anything
	p.Start()

	check := p.Client()
	for k, want := range acked.values {
		got, err := check.Get(ctx, k).Result()
		if err != nil || got != want {
			t.Fatalf("after kill -9: GET %q = %q, %v; want %q", k, got, err, want)
		}
	}
	if n, err := check.Exists(ctx, "plain:0").Result(); err != nil || n != 0 {
		t.Fatalf("deleted key came back: exists=%d err=%v", n, err)
	}
	ttl, err := check.TTL(ctx, "ttl").Result()
	if err != nil || ttl <= 0 || ttl > time.Hour {
		t.Fatalf("TTL after restart = %v, %v", ttl, err)
	}
	if n, err := check.DBSize(ctx).Result(); err != nil || n != int64(len(acked.values)) {
		t.Fatalf("DBSIZE = %d, %v; want %d", n, err, len(acked.values))
	}
}

func TestSingleNodeSIGTERMIsGraceful(t *testing.T) {
	p := NewProc(t)
	p.Start()
	ctx := context.Background()
	c := p.Client()
	// Keep writers busy while the signal arrives: every write that was
	// acknowledged must survive, and the process must exit 0.
	type ack struct{ k, v string }
	acks := make(chan ack, 100000)
	done := make(chan struct{})
	for w := 0; w < 4; w++ {
		go func(w int) {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 100000; i++ {
				k, v := fmt.Sprintf("w%d:%d", w, i), fmt.Sprint(i)
				if err := c.Set(ctx, k, v, 0).Err(); err != nil {
					return // the server went away: this write is indeterminate
				}
				acks <- ack{k, v}
			}
		}(w)
	}
	time.Sleep(300 * time.Millisecond) // let some writes land before the signal
	if err := p.Stop(); err != nil {
		t.Fatalf("SIGTERM: exit %v\n%s", err, p.Log())
	}
	for w := 0; w < 4; w++ {
		<-done
	}
	close(acks)
	if !strings.Contains(p.Log(), "dynago node stopped") {
		t.Fatalf("no clean-stop log line:\n%s", p.Log())
	}
	p.Start()
	check := p.Client()
	n := 0
	for a := range acks {
		got, err := check.Get(ctx, a.k).Result()
		if err != nil || got != a.v {
			t.Fatalf("after SIGTERM: GET %s = %q, %v; want %q", a.k, got, err, a.v)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no write was acknowledged before the signal")
	}
	t.Logf("%d acknowledged writes checked after a graceful restart", n)
}

// redisCli runs redis-cli against p and returns its trimmed output.
func redisCli(t *testing.T, p *Proc, args ...string) string {
	t.Helper()
	cli := RequireTool(t, "redis-cli")
	full := append([]string{"-h", "127.0.0.1", "-p", fmt.Sprint(p.Port)}, args...)
	out, err := exec.Command(cli, full...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
	}
	return strings.TrimRight(string(out), "\n")
}

// The sibling scenario of issue 2, typed into redis-cli.
func TestSiblingsWithRedisCli(t *testing.T) {
	p := NewProc(t)
	p.Start()
	if out := redisCli(t, p, "SETCTX", "cart", "", "a"); out != "OK" {
		t.Fatalf("SETCTX a: %q", out)
	}
	if out := redisCli(t, p, "SETCTX", "cart", "", "b"); out != "OK" {
		t.Fatalf("SETCTX b: %q", out)
	}
	sib := redisCli(t, p, "SIBLINGS", "cart")
	if strings.Count(sib, "dot") != 2 {
		t.Fatalf("SIBLINGS shows not two siblings:\n%s", sib)
	}
	// GETCTX: first line the context, then the two values.
	lines := strings.Split(redisCli(t, p, "--no-raw", "GETCTX", "cart"), "\n")
	if len(lines) != 3 {
		t.Fatalf("GETCTX: %q", lines)
	}
	ctxTok := strings.Trim(strings.TrimPrefix(strings.TrimSpace(lines[0]), "1)"), ` "`)
	if ctxTok == "" {
		t.Fatalf("GETCTX gave an empty context: %q", lines)
	}
	if out := redisCli(t, p, "SETCTX", "cart", ctxTok, "ab"); out != "OK" {
		t.Fatalf("merge write: %q", out)
	}
	if sib := redisCli(t, p, "SIBLINGS", "cart"); strings.Count(sib, "dot") != 1 || !strings.Contains(sib, "ab") {
		t.Fatalf("after the merge write SIBLINGS is:\n%s", sib)
	}
	if out := redisCli(t, p, "GET", "cart"); out != "ab" {
		t.Fatalf("GET cart = %q", out)
	}
	// Bad contexts are clear errors and write nothing.
	if out := redisCli(t, p, "SETCTX", "cart", "not-a-context!", "zz"); !strings.Contains(out, "ERR") {
		t.Fatalf("bad context accepted: %q", out)
	}
	if out := redisCli(t, p, "GET", "cart"); out != "ab" {
		t.Fatalf("bad context changed the value: %q", out)
	}
}

func TestRedisBenchmarkNoErrors(t *testing.T) {
	bench := RequireTool(t, "redis-benchmark")
	p := NewProc(t)
	p.Start()
	cmd := exec.Command(bench, "-h", "127.0.0.1", "-p", fmt.Sprint(p.Port),
		"-t", "set,get,incr,mset", "-n", "20000", "-P", "16", "-q")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redis-benchmark: %v\n%s", err, out)
	}
	text := string(out)
	for _, bad := range []string{"ERR", "Error", "error"} {
		if strings.Contains(text, bad) {
			t.Fatalf("redis-benchmark reported an error:\n%s", text)
		}
	}
	for _, test := range []string{"SET", "GET", "INCR", "MSET"} {
		if !strings.Contains(text, test+":") && !strings.Contains(text, test+" (") {
			t.Fatalf("redis-benchmark did not complete %s:\n%s", test, text)
		}
	}
	t.Logf("\n%s", text)
	// The server is still healthy and consistent afterwards.
	c := p.Client()
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	p.Signal(syscall.SIGTERM)
	if err := p.Wait(30 * time.Second); err != nil {
		t.Fatalf("exit after benchmark: %v", err)
	}
}
