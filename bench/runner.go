package bench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Endpoint is where redis-benchmark connects.
type Endpoint struct {
	Addr string // host:port
	// Cluster runs redis-benchmark --cluster: it reads CLUSTER NODES from
	// Addr and spreads its connections over the masters, each connection
	// sending only keys whose hash tag maps to its node's first slot.
	Cluster bool
}

// Runner runs redis-benchmark with issue 5's fixed parameters.
type Runner struct {
	Path     string // redis-benchmark binary
	Clients  int    // -c
	DataSize int    // -d, value bytes
	Keyspace int    // -r of SET, GET, INCR
	// CollectionKeys is -r of HSET, SADD and ZADD: keys and members are
	// each drawn from that many values (see Workload.Command).
	CollectionKeys int
	Timeout        time.Duration // per invocation; the run is killed after it
}

// Args returns the arguments of one invocation. SET, GET and INCR keys are
// drawn uniformly from key:000000000000 .. key:<Keyspace-1> (counter:… for
// INCR; 12-digit zero padding; with --cluster, key:{tag}:000000000000 …);
// HSET, SADD and ZADD send Workload.Command with -r CollectionKeys.
func (r Runner) Args(ep Endpoint, w Workload, requests int64) []string {
	host, port, err := net.SplitHostPort(ep.Addr)
	if err != nil {
		host, port = ep.Addr, "6379"
	}
	command := w.Command(ep.Cluster, r.DataSize)
	keyspace := r.Keyspace
	if command != nil {
		keyspace = r.CollectionKeys
	}
	args := []string{"-h", host, "-p", port,
		"-c", strconv.Itoa(r.Clients),
		"-n", strconv.FormatInt(requests, 10),
		"-d", strconv.Itoa(r.DataSize),
		"-r", strconv.Itoa(keyspace),
		"-P", strconv.Itoa(w.Pipeline)}
	if command == nil {
		args = append(args, "-t", w.Test)
	}
	if ep.Cluster {
		args = append(args, "--cluster")
	}
	return append(args, command...)
}

// Run runs one workload and parses its result. A run that fails, replies
// with an error (redis-benchmark 7 then exits 1), or outlives the timeout
// is an error that quotes the end of redis-benchmark's output.
func (r Runner) Run(ctx context.Context, ep Endpoint, w Workload, requests int64) (Result, error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(parent, r.Timeout)
	defer cancel()
	args := r.Args(ep, w, requests)
	cmd := exec.CommandContext(ctx, r.Path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Own process group: a terminal Ctrl-C goes to the harness alone, which
	// cancels ctx and so kills this run itself.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	line := "redis-benchmark " + strings.Join(args, " ")
	if parent.Err() != nil {
		return Result{}, fmt.Errorf("%s: %w", line, context.Cause(parent))
	}
	if ctx.Err() != nil {
		return Result{}, fmt.Errorf("%s: killed after the run timeout of %v%s", line, r.Timeout, outputTail(&stdout, &stderr))
	}
	if err != nil {
		return Result{}, fmt.Errorf("%s: %v%s", line, err, outputTail(&stdout, &stderr))
	}
	rs, err := ParseOutput(stdout.String())
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w%s", line, err, outputTail(&stdout, &stderr))
	}
	// A command's section is titled with the command line, a test's with
	// its name.
	title := strings.ToUpper(w.Test)
	if c := w.Command(ep.Cluster, r.DataSize); c != nil {
		title = strings.Join(c, " ")
	}
	if len(rs) != 1 || rs[0].Test != title {
		return Result{}, fmt.Errorf("%s: want one %q result, got %d", line, title, len(rs))
	}
	if ep.Cluster && rs[0].Masters == 0 {
		return Result{}, fmt.Errorf("%s: not run in cluster mode", line)
	}
	return rs[0], nil
}

// UnknownCommand reports whether a failed run's error (from Run, which
// quotes redis-benchmark's stderr) says the server does not have the
// command at all: a stable answer, so the cell's other runs are skipped.
func UnknownCommand(err error) bool {
	return err != nil && strings.Contains(err.Error(), "Error from server: ERR unknown command")
}

// outputTail quotes the last lines of a failed run's output, without the
// progress lines redis-benchmark rewrites in place.
func outputTail(stdout, stderr *bytes.Buffer) string {
	var lines []string
	for _, b := range []*bytes.Buffer{stdout, stderr} {
		for _, l := range strings.Split(strings.ReplaceAll(b.String(), "\r", "\n"), "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.Contains(l, " rps=") {
				continue
			}
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return " (no output)"
	}
	if len(lines) > 6 {
		lines = lines[len(lines)-6:]
	}
	return ":\n    " + strings.Join(lines, "\n    ")
}
