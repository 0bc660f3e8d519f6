// Package integration tests dynago as its users run it: the real binary in
// real processes on loopback (or in network namespaces cut apart by real
// network partitions, netns.go), driven by go-redis, redis-cli and
// redis-benchmark, killed with SIGKILL, paused with SIGSTOP and restarted
// (docs/architecture.md §10). This file is the harness; the tests are in _test.go files.
package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Binary builds cmd/dynago once per test binary and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dynago-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtPath = filepath.Join(dir, "dynago")
		cmd := exec.Command("go", "build", "-race", "-o", builtPath, "github.com/dynago/dynago/cmd/dynago")
		if os.Getenv("DYNAGO_NO_RACE") != "" {
			cmd = exec.Command("go", "build", "-o", builtPath, "github.com/dynago/dynago/cmd/dynago")
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtPath
}

var (
	buildOnce sync.Once
	builtPath string
	buildErr  error
)

// FreePort returns a loopback TCP port that was free a moment ago, such
// that port+10000 (the default cluster port) was free too.
func FreePort(t testing.TB) int {
	t.Helper()
	for i := 0; i < 100; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		if port+10000 > 65535 {
			ln.Close()
			continue
		}
		ln2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
		ln.Close()
		if err != nil {
			continue
		}
		ln2.Close()
		return port
	}
	t.Fatal("no free port pair found")
	return 0
}

// Proc is one dynago process started by a test.
type Proc struct {
	t       testing.TB
	Bin     string
	Host    string // the client address's host: "" is 127.0.0.1 (Net.Place sets another)
	Port    int
	DataDir string
	Args    []string // extra flags
	Wrap    []string // a command line the binary runs under (ip netns exec NS), if any

	mu     sync.Mutex
	cmd    *exec.Cmd
	waited chan struct{}
	exit   error
	out    *syncWriter // everything the process wrote, across restarts
}

// NewProc prepares (but does not start) a node on a free port with its own
// data directory under the test's temp dir.
func NewProc(t testing.TB, args ...string) *Proc {
	t.Helper()
	p := &Proc{t: t, Bin: Binary(t), Port: FreePort(t), DataDir: t.TempDir(), Args: args}
	t.Cleanup(func() {
		p.Kill()
		if races := RaceReports(p.Log()); races != "" {
			t.Errorf("the race detector reported a data race in dynago on %s:\n%s", p.Addr(), races)
		}
	})
	return p
}

// Addr is the node's client address.
func (p *Proc) Addr() string {
	host := p.Host
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(p.Port))
}

// Start starts the process and waits until it answers PING.
func (p *Proc) Start() {
	p.t.Helper()
	p.Launch()
	p.WaitReady(30 * time.Second)
}

// Launch starts the process without waiting for it to answer, so that
// several nodes can start side by side; WaitReady then waits for each.
func (p *Proc) Launch() {
	p.t.Helper()
	p.mu.Lock()
	argv := append(append(slices.Clone(p.Wrap), p.Bin, "--addr", p.Addr(), "--data-dir", p.DataDir, "--log-level", "debug"), p.Args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	if p.out == nil {
		p.out = &syncWriter{}
	}
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		p.t.Fatal(err)
	}
	p.cmd = cmd
	p.waited = make(chan struct{})
	waited := p.waited
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.exit = err
		p.mu.Unlock()
		close(waited)
	}()
}

// WaitReady waits until the node answers PING.
func (p *Proc) WaitReady(timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	p.mu.Lock()
	waited := p.waited
	p.mu.Unlock()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		select {
		case <-waited:
			p.mu.Lock()
			exit := p.exit
			p.mu.Unlock()
			p.t.Fatalf("dynago exited during start: %v\n%s", exit, p.Log())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("dynago on %s not ready after %v: %v\n%s", p.Addr(), timeout, err, p.Log())
		}
		time.Sleep(50 * time.Millisecond) // polling a real process; nothing to wait on
	}
}

// Running reports whether the process was started and has not been
// waited for since (a SIGSTOPped process is running).
func (p *Proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil
}

// Signal sends sig to the process if it is running.
func (p *Proc) Signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

// Stop sends SIGTERM and waits for the process to exit; it returns the
// exit error (nil for exit code 0).
func (p *Proc) Stop() error {
	p.Signal(syscall.SIGTERM)
	return p.Wait(60 * time.Second)
}

// Kill sends SIGKILL and waits for the process to exit.
func (p *Proc) Kill() {
	p.Signal(syscall.SIGCONT) // a stopped process must run to die promptly
	p.Signal(syscall.SIGKILL)
	_ = p.Wait(30 * time.Second)
}

// Wait waits up to timeout for the process to exit.
func (p *Proc) Wait(timeout time.Duration) error {
	p.mu.Lock()
	waited := p.waited
	p.mu.Unlock()
	if waited == nil {
		return nil
	}
	select {
	case <-waited:
		p.mu.Lock()
		defer p.mu.Unlock()
		p.cmd, p.waited = nil, nil
		return p.exit
	case <-time.After(timeout):
		return errors.New("process did not exit in time")
	}
}

// Log returns everything the process wrote so far.
func (p *Proc) Log() string {
	p.mu.Lock()
	out := p.out
	p.mu.Unlock()
	if out == nil {
		return ""
	}
	out.mu.Lock()
	defer out.mu.Unlock()
	return out.buf.String()
}

// Client returns a go-redis client for the node, closed at test end.
func (p *Proc) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1})
	p.t.Cleanup(func() { c.Close() })
	return c
}

// RaceReports returns the race detector's reports in a process's output
// (each from its WARNING: DATA RACE line to its closing line of '='), or ""
// when there is none.
func RaceReports(log string) string {
	var out []string
	for {
		i := strings.Index(log, "WARNING: DATA RACE")
		if i < 0 {
			return strings.Join(out, "\n")
		}
		log = log[i:]
		end := strings.Index(log, "\n==================")
		if end < 0 {
			end = len(log)
		}
		out = append(out, log[:end])
		log = log[end:]
		if len(log) > 0 {
			log = log[1:]
		}
	}
}

type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(b)
}

// RequireTool returns the path of an external tool, or skips the test when
// it is missing and the CI environment variable is unset (in CI a missing
// tool is a failure: .ci/run installs them).
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed (CI must install it: see .ci/run)", name)
	}
	t.Skipf("%s is not installed", name)
	return ""
}
