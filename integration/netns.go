package integration

// Real network partitions between real dynago processes, with Linux network
// namespaces (needs root and iproute2's `ip`; tests skip without them).
//
// The network of one Net:
//
//	host namespace (the test process)
//	  dgt<id>  10.213.X.1/24 ──┐ veth
//	router namespace <prefix>-r │
//	  br0 (bridge) ── host ─────┘
//	         ├── n0 ── veth ── eth0 10.213.X.10/24  namespace <prefix>-n0 (node 0)
//	         ├── n1 ── veth ── eth0 10.213.X.11/24  namespace <prefix>-n1 (node 1)
//	         └── …
//
// Each node runs in its own namespace (`ip netns exec`) and binds its
// client and cluster ports to its namespace's address; nothing else is
// there (loopback aside), so a node can only reach the other nodes and the
// test. The bridge lives in a namespace of its own, not on the host.
//
// The test process stays in the host namespace and reaches every node's
// client port through one veth into the bridge, with an address of the
// subnet: plain go-redis clients (and the whole Cluster harness) work
// unchanged, which setns-ing goroutines (LockOSThread) would not give.
// This veth and its connected route for 10.213.X.0/24 are the only things
// added to the host, and X is chosen so that the host had no route or
// address overlapping it. A partition only cuts node-to-node routes
// (blackhole routes for the other side's /32 inside each node namespace),
// so the test always reaches every node.
//
// Every name carries a prefix unique to one Net ("dynago-t<pid>-<random>"
// for namespaces, "dgt<random>" for the host's veth), so parallel runs do
// not collide; namespaces a run left behind (its process is gone and no
// process is inside) are removed when the next Net is created. Deleting
// the router namespace also deletes the host's veth (its peer is there).

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// netnsPrefix starts every namespace a Net creates; the creating process's
// pid follows it.
const netnsPrefix = "dynago-t"

// Net is a private network of node namespaces joined by a bridge, with
// routes a test cuts and heals. Node i of a cluster made by n.NewCluster or
// n.PrepareCluster runs in namespace i (Cut, Partition and Exec take these
// indexes, which are those of Cluster.Nodes). Create it with NewNet; t's
// cleanup tears it down after the test's processes were killed.
type Net struct {
	t      testing.TB
	prefix string // of every namespace: dynago-t<pid>-<random>
	hostIf string // the host end of the veth into the bridge
	subnet string // "10.213.X."
	router string
	nodes  []string // namespace of each node
	cut    map[[2]int]bool
}

// NewNet creates the router namespace with its bridge, the host's veth
// into it and one namespace per node. It skips the test when not run as
// root or when `ip netns` cannot be used.
func NewNet(t testing.TB, nodes int) *Net {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root (ip netns add); run the partition tests as root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("network namespaces need iproute2's ip, which is not installed")
	}
	if out, err := exec.Command("ip", "netns", "list").CombinedOutput(); err != nil {
		t.Skipf("ip netns is unavailable: %v: %s", err, bytes.TrimSpace(out))
	}
	removeStaleNamespaces(t)

	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	id := hex.EncodeToString(rnd[:])
	n := &Net{t: t, prefix: fmt.Sprintf("%s%d-%s", netnsPrefix, os.Getpid(), id), hostIf: "dgt" + id, cut: map[[2]int]bool{}}
	n.router = n.prefix + "-r"
	// Registered before anything exists, so that a failure half way
	// through still removes what was made.
	t.Cleanup(n.teardown)

	if _, err := ipCmd("netns", "add", n.router); err != nil {
		t.Skipf("cannot create a network namespace: %v", err)
	}
	n.mustIP("-n", n.router, "link", "set", "lo", "up")
	n.mustIP("-n", n.router, "link", "add", "br0", "type", "bridge")
	n.mustIP("-n", n.router, "link", "set", "br0", "up")
	n.mustIP("link", "add", n.hostIf, "type", "veth", "peer", "name", "host", "netns", n.router)
	n.mustIP("-n", n.router, "link", "set", "host", "master", "br0", "up")
	n.mustIP("link", "set", n.hostIf, "up") // before its address, or the address gets no route
	n.subnet = n.claimSubnet()
	for i := 0; i < nodes; i++ {
		ns, port := n.prefix+"-n"+strconv.Itoa(i), "n"+strconv.Itoa(i)
		n.mustIP("netns", "add", ns)
		n.nodes = append(n.nodes, ns)
		n.mustIP("-n", ns, "link", "set", "lo", "up")
		n.mustIP("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", n.router)
		n.mustIP("-n", n.router, "link", "set", port, "master", "br0", "up")
		n.mustIP("-n", ns, "addr", "add", n.IP(i)+"/24", "dev", "eth0")
		n.mustIP("-n", ns, "link", "set", "eth0", "up")
	}
	t.Logf("network %s: host %s1 on %s, %d node namespaces", n.prefix, n.subnet, n.hostIf, nodes)
	return n
}

// claimSubnet gives the host's veth the address .1 of a 10.213.X.0/24
// that no route or address of the host overlaps, and checks afterwards
// that its route is the only one (another run may have picked the same X
// at the same moment); it returns "10.213.X.".
func (n *Net) claimSubnet() string {
	n.t.Helper()
	var rnd [1]byte
	for try := 0; try < 20; try++ {
		if _, err := rand.Read(rnd[:]); err != nil {
			n.t.Fatal(err)
		}
		subnet := fmt.Sprintf("10.213.%d.", 1+int(rnd[0])%254)
		_, want, _ := net.ParseCIDR(subnet + "0/24")
		if n.hostRoutes(want)+hostAddrs(n.t, want) != 0 {
			continue
		}
		n.mustIP("addr", "add", subnet+"1/24", "dev", n.hostIf)
		if n.hostRoutes(want) == 1 {
			return subnet
		}
		n.mustIP("addr", "del", subnet+"1/24", "dev", n.hostIf)
	}
	n.t.Fatal("no free 10.213.X.0/24 subnet on the host")
	return ""
}

// hostRoutes counts the host's routes (main table, the default route
// aside) that overlap want.
func (n *Net) hostRoutes(want *net.IPNet) int {
	n.t.Helper()
	count := 0
	for _, line := range strings.Split(n.mustIP("-4", "route", "show"), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] == "default" {
			continue
		}
		dst := f[0]
		if !strings.Contains(dst, "/") {
			dst += "/32"
		}
		if _, got, err := net.ParseCIDR(dst); err == nil && (got.Contains(want.IP) || want.Contains(got.IP)) {
			count++
		}
	}
	return count
}

// hostAddrs counts the host's interface addresses inside want.
func hostAddrs(t testing.TB, want *net.IPNet) int {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && want.Contains(ipn.IP) {
			count++
		}
	}
	return count
}

// IP is node i's address.
func (n *Net) IP(i int) string { return n.subnet + strconv.Itoa(10+i) }

// Size is the number of node namespaces.
func (n *Net) Size() int { return len(n.nodes) }

// NS is node i's namespace.
func (n *Net) NS(i int) string {
	n.t.Helper()
	if i < 0 || i >= len(n.nodes) {
		n.t.Fatalf("network %s has no node %d (it has %d)", n.prefix, i, len(n.nodes))
	}
	return n.nodes[i]
}

// Command prepares name args… to run inside node i's namespace.
func (n *Net) Command(i int, name string, args ...string) *exec.Cmd {
	n.t.Helper()
	return exec.Command("ip", append([]string{"netns", "exec", n.NS(i), name}, args...)...)
}

// Exec runs name args… inside node i's namespace and returns its combined
// output.
func (n *Net) Exec(i int, name string, args ...string) (string, error) {
	n.t.Helper()
	out, err := n.Command(i, name, args...).CombinedOutput()
	return string(out), err
}

// Place puts a prepared (not started) process in node i's namespace: it
// will run under `ip netns exec` with its client and cluster ports on the
// namespace's address.
func (n *Net) Place(p *Proc, i int) {
	n.t.Helper()
	p.Host, p.Wrap = n.IP(i), []string{"ip", "netns", "exec", n.NS(i)}
}

// PrepareCluster is the package's PrepareCluster with node i in namespace
// i (a node Add prepares later takes the next namespace). The nodes accept
// clients from the test's address (--protected-mode=false).
func (n *Net) PrepareCluster(size int, args ...string) *Cluster {
	n.t.Helper()
	return prepareCluster(n.t, size, n.Place, append([]string{"--protected-mode=false"}, args...))
}

// NewCluster is the package's NewCluster with node i in namespace i.
func (n *Net) NewCluster(size int, args ...string) *Cluster {
	n.t.Helper()
	c := n.PrepareCluster(size, args...)
	c.Start()
	return c
}

// Cut stops all traffic between nodes a and b, both ways: each gets a
// blackhole route for the other's address (new connections fail, packets
// of established ones are dropped). Cutting a cut pair does nothing.
func (n *Net) Cut(a, b int) {
	n.t.Helper()
	k := pairKey(a, b)
	if a == b || n.cut[k] {
		return
	}
	n.mustIP("-n", n.NS(a), "route", "add", "blackhole", n.IP(b)+"/32")
	n.mustIP("-n", n.NS(b), "route", "add", "blackhole", n.IP(a)+"/32")
	n.cut[k] = true
}

// Heal restores traffic between nodes a and b. Healing a pair that is not
// cut does nothing.
func (n *Net) Heal(a, b int) {
	n.t.Helper()
	k := pairKey(a, b)
	if !n.cut[k] {
		return
	}
	n.mustIP("-n", n.NS(a), "route", "del", "blackhole", n.IP(b)+"/32")
	n.mustIP("-n", n.NS(b), "route", "del", "blackhole", n.IP(a)+"/32")
	delete(n.cut, k)
}

func pairKey(a, b int) [2]int { return [2]int{min(a, b), max(a, b)} }

// Partition makes the network exactly groups: nodes of one group reach
// each other, nodes of different groups do not. The nodes no group names
// form one more group, so Partition([]int{0}) isolates node 0.
func (n *Net) Partition(groups ...[]int) {
	n.t.Helper()
	group := map[int]int{}
	for g, nodes := range groups {
		for _, i := range nodes {
			n.NS(i)
			if _, dup := group[i]; dup {
				n.t.Fatalf("Partition: node %d is in two groups", i)
			}
			group[i] = g
		}
	}
	side := func(i int) int {
		if g, ok := group[i]; ok {
			return g
		}
		return len(groups)
	}
	for a := range n.nodes {
		for b := a + 1; b < len(n.nodes); b++ {
			if side(a) == side(b) {
				n.Heal(a, b)
			} else {
				n.Cut(a, b)
			}
		}
	}
	n.t.Logf("network %s: partitioned into %v (others: one more group)", n.prefix, groups)
}

// HealAll removes every cut.
func (n *Net) HealAll() {
	n.t.Helper()
	for k := range n.cut {
		n.Heal(k[0], k[1])
	}
	n.t.Logf("network %s: healed", n.prefix)
}

// teardown kills what still runs in the node namespaces (the test's own
// processes, normally killed already by their cleanups), then deletes the
// node namespaces, the host's veth and the router namespace, in reverse
// order of creation; what does not exist is skipped.
func (n *Net) teardown() {
	for i := len(n.nodes) - 1; i >= 0; i-- {
		killNamespace(n.nodes[i])
		if _, err := ipCmd("netns", "del", n.nodes[i]); err != nil && !notFound(err) {
			n.t.Errorf("network teardown: %v", err)
		}
	}
	if _, err := ipCmd("link", "del", n.hostIf); err != nil && !notFound(err) {
		n.t.Errorf("network teardown: %v", err)
	}
	if _, err := ipCmd("netns", "del", n.router); err != nil && !notFound(err) {
		n.t.Errorf("network teardown: %v", err)
	}
}

// killNamespace sends SIGKILL to every process in namespace ns and waits
// (a few seconds at most) until none is left.
func killNamespace(ns string) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		pids := namespacePids(ns)
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond) // the killed processes' parents reap them
	}
}

func namespacePids(ns string) []int {
	out, err := ipCmd("netns", "pids", ns)
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// removeStaleNamespaces deletes the namespaces of earlier Nets whose
// process is gone and in which no process runs (a run that was killed
// before its cleanup). The host's veth of such a run goes with its router
// namespace.
func removeStaleNamespaces(t testing.TB) {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), netnsPrefix)
		if !ok {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() || syscall.Kill(pid, 0) == nil || len(namespacePids(e.Name())) > 0 {
			continue
		}
		if _, err := ipCmd("netns", "del", e.Name()); err == nil {
			t.Logf("removed the stale network namespace %s", e.Name())
		}
	}
}

// mustIP runs ip args… and fails the test on error.
func (n *Net) mustIP(args ...string) string {
	n.t.Helper()
	out, err := ipCmd(args...)
	if err != nil {
		n.t.Fatalf("network %s: %v", n.prefix, err)
	}
	return out
}

func ipCmd(args ...string) (string, error) {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// notFound reports whether an ip command failed because what it was to
// delete does not exist.
func notFound(err error) bool {
	s := err.Error()
	return strings.Contains(s, "No such file") || strings.Contains(s, "Cannot find device") || strings.Contains(s, "does not exist")
}
