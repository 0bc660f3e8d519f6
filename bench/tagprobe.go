package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ClusterMaster is a master of a CLUSTER NODES reply as redis-benchmark
// --cluster reads it.
type ClusterMaster struct {
	ID        string
	Addr      string // ip:port, without the @cport suffix
	FirstSlot int    // the first slot listed: redis-benchmark's hash tag comes from it
	Slots     int    // slots owned
}

// ParseClusterNodes returns the masters that own slots, in the order of the
// reply, reading it the way redis-benchmark 7 does: a node is a replica if
// its flags say "slave" or it names a master; "[slot->-id]" entries
// (migrating, importing) are not owned slots.
func ParseClusterNodes(text string) ([]ClusterMaster, error) {
	var ms []ClusterMaster
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 8 {
			return nil, fmt.Errorf("bench: CLUSTER NODES line %q: want at least 8 fields", line)
		}
		if strings.Contains(f[2], "slave") || !strings.HasPrefix(f[3], "-") {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		m := ClusterMaster{ID: f[0], Addr: addr, FirstSlot: -1}
		for _, s := range f[8:] {
			if strings.HasPrefix(s, "[") {
				continue
			}
			lo, hi, isRange := strings.Cut(s, "-")
			a, err1 := strconv.Atoi(lo)
			b, err2 := a, error(nil)
			if isRange {
				b, err2 = strconv.Atoi(hi)
			}
			if err := errors.Join(err1, err2); err != nil || a < 0 || b < a || b > 16383 {
				return nil, fmt.Errorf("bench: CLUSTER NODES line %q: bad slots %q", line, s)
			}
			if m.FirstSlot < 0 {
				m.FirstSlot = a
			}
			m.Slots += b - a + 1
		}
		if m.Slots > 0 {
			ms = append(ms, m)
		}
	}
	return ms, nil
}

// ProbeClusterPrefixes finds the key prefixes redis-benchmark --cluster
// will use against a cluster with these masters: "key:{tag}:", one per
// master, where tag is the entry of redis-benchmark's compiled-in table
// (the shortest string hashing to a slot) for the master's first slot.
//
// The table is not something the harness can reproduce, so it asks
// redis-benchmark itself: it stands up an in-process imitation of the
// cluster on loopback, one listener per master, each owning just that
// master's first slot, runs a few SETs through redis-benchmark --cluster
// against it and reads the keys that arrive. The GET benchmark in cluster
// mode then finds keys that the preload wrote under the same prefixes.
func ProbeClusterPrefixes(ctx context.Context, redisBenchmark string, masters []ClusterMaster, timeout time.Duration) ([]string, error) {
	if len(masters) < 2 {
		return nil, fmt.Errorf("bench: redis-benchmark --cluster needs at least 2 masters, CLUSTER NODES lists %d", len(masters))
	}
	fc, err := startFakeCluster(masters)
	if err != nil {
		return nil, err
	}
	defer fc.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	k := len(masters)
	// redis-benchmark runs one thread per master and stops when -n requests
	// were issued in all: on a busy machine one thread may start late and
	// find none left. Hence a generous -n, and another try while a master
	// has seen no key.
	for try := 0; ; try++ {
		cmd := exec.CommandContext(ctx, redisBenchmark, "--cluster", "-h", "127.0.0.1",
			"-p", strconv.Itoa(fc.ports[0]), "-c", strconv.Itoa(3*k), "-n", strconv.Itoa(1000*k),
			"-r", "1", "-d", "1", "-t", "set")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		cmd.WaitDelay = 2 * time.Second
		out, err := cmd.CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("bench: probing redis-benchmark --cluster's hash tags: %v\n%s", err, indent(strings.TrimSpace(string(out))))
		}
		if fc.allSeen() || try == 2 {
			break
		}
	}
	return fc.Prefixes()
}

// fakeCluster answers just enough of the protocol for redis-benchmark
// --cluster: CLUSTER NODES, CONFIG GET and SET, recording SET's keys.
type fakeCluster struct {
	masters []ClusterMaster
	lns     []net.Listener
	ports   []int
	wg      sync.WaitGroup

	mu    sync.Mutex
	keys  []map[string]bool // per listener: keys received
	conns map[net.Conn]bool // open connections, closed by Close
}

func startFakeCluster(masters []ClusterMaster) (*fakeCluster, error) {
	fc := &fakeCluster{masters: masters, conns: map[net.Conn]bool{}}
	for range masters {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fc.Close()
			return nil, err
		}
		fc.lns = append(fc.lns, ln)
		fc.ports = append(fc.ports, ln.Addr().(*net.TCPAddr).Port)
		fc.keys = append(fc.keys, map[string]bool{})
	}
	for i, ln := range fc.lns {
		fc.wg.Add(1)
		go func() {
			defer fc.wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				fc.mu.Lock()
				fc.conns[c] = true
				fc.mu.Unlock()
				fc.wg.Add(1)
				go func() {
					defer fc.wg.Done()
					fc.serve(i, c)
					fc.mu.Lock()
					delete(fc.conns, c)
					fc.mu.Unlock()
					c.Close()
				}()
			}
		}()
	}
	return fc, nil
}

// nodes is the CLUSTER NODES reply of listener self.
func (fc *fakeCluster) nodes(self int) string {
	var b strings.Builder
	for i, m := range fc.masters {
		flags := "master"
		if i == self {
			flags = "myself,master"
		}
		fmt.Fprintf(&b, "%s 127.0.0.1:%d@%d %s - 0 0 %d connected %d\n", m.ID, fc.ports[i], fc.ports[i], flags, i+1, m.FirstSlot)
	}
	return b.String()
}

func (fc *fakeCluster) serve(self int, c net.Conn) {
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	for {
		args, err := readCommand(r)
		if err != nil {
			return
		}
		// redis-benchmark pipelines nothing here (-P 1), so flush per reply.
		switch cmd := strings.ToUpper(strings.Join(args[:min(2, len(args))], " ")); {
		case cmd == "CLUSTER NODES":
			s := fc.nodes(self)
			fmt.Fprintf(w, "$%d\r\n%s\r\n", len(s), s)
		case cmd == "CONFIG GET" && len(args) == 3:
			fmt.Fprintf(w, "*2\r\n$%d\r\n%s\r\n$0\r\n\r\n", len(args[2]), args[2])
		case strings.HasPrefix(cmd, "SET ") && len(args) >= 3:
			fc.mu.Lock()
			fc.keys[self][args[1]] = true
			fc.mu.Unlock()
			w.WriteString("+OK\r\n")
		default:
			w.WriteString("-ERR not supported by the harness's probe\r\n")
		}
		if err := w.Flush(); err != nil {
			return
		}
	}
}

// readCommand reads one RESP array of bulk strings.
func readCommand(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "*") {
		return nil, fmt.Errorf("bench: probe: want a RESP array, got %q", line)
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 1 || n > 64 {
		return nil, fmt.Errorf("bench: probe: bad array header %q", line)
	}
	args := make([]string, n)
	for i := range args {
		h, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		h = strings.TrimRight(h, "\r\n")
		size, err := strconv.Atoi(strings.TrimPrefix(h, "$"))
		if !strings.HasPrefix(h, "$") || err != nil || size < 0 || size > 1<<20 {
			return nil, fmt.Errorf("bench: probe: bad bulk header %q", h)
		}
		buf := make([]byte, size+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		args[i] = string(buf[:size])
	}
	return args, nil
}

// allSeen reports whether every listener has received a key.
func (fc *fakeCluster) allSeen() bool {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	for _, keys := range fc.keys {
		if len(keys) == 0 {
			return false
		}
	}
	return true
}

// Prefixes returns, per master, the one key prefix its listener received.
func (fc *fakeCluster) Prefixes() ([]string, error) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	prefixes := make([]string, len(fc.masters))
	for i, keys := range fc.keys {
		seen := map[string]bool{}
		for k := range keys {
			p, ok := keyPrefix(k)
			if !ok {
				return nil, fmt.Errorf("bench: probe: unexpected key %q from redis-benchmark", k)
			}
			seen[p] = true
		}
		if len(seen) != 1 {
			return nil, fmt.Errorf("bench: probe: master %d (first slot %d) received %d key prefixes, want 1: %v",
				i, fc.masters[i].FirstSlot, len(seen), seen)
		}
		for p := range seen {
			prefixes[i] = p
		}
	}
	return prefixes, nil
}

// keyPrefix splits "key:{tag}:000000000000" into "key:{tag}:".
func keyPrefix(k string) (string, bool) {
	if len(k) < 13 {
		return "", false
	}
	p, digits := k[:len(k)-12], k[len(k)-12:]
	for _, d := range digits {
		if d < '0' || d > '9' {
			return "", false
		}
	}
	return p, strings.HasPrefix(p, "key:{") && strings.HasSuffix(p, ":")
}

// Close stops the listeners and connections and waits for their goroutines.
func (fc *fakeCluster) Close() {
	for _, ln := range fc.lns {
		ln.Close()
	}
	fc.mu.Lock()
	for c := range fc.conns {
		c.Close()
	}
	fc.mu.Unlock()
	fc.wg.Wait()
}
