package resp

// CLUSTER NODES read the way redis-cli --cluster and redis-benchmark
// --cluster read it (their C parsers, mirrored here), since both tools
// decide from it which nodes are masters and which slots each one serves.

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// cliNode is what redis-cli (clusterManagerNodeLoadInfo) and
// redis-benchmark (fetchClusterConfiguration) take from a CLUSTER NODES
// line.
type cliNode struct {
	name, ip            string
	port                int
	flags               []string
	master              string
	configEpoch         int64
	link                string
	myself, replica     bool
	fail, noaddr        bool
	slots               []bool // by slot
	slotCount           int
	migrating, imported []string
}

// parseClusterNodes mirrors the C parsers: lines end at '\n' (text after
// the last one is ignored, so we demand there is none); the first eight
// fields are split on single spaces and whatever follows the eighth space
// is the slot list; the address is cut at the last '@' and then the last
// ':'; a node is a replica when its flags contain "slave" or its master
// field does not start with '-'.
func parseClusterNodes(text string) ([]cliNode, error) {
	var out []cliNode
	if text != "" && !strings.HasSuffix(text, "\n") {
		return nil, errors.New("last line has no newline; redis-cli would drop it")
	}
	for _, line := range strings.SplitAfter(text, "\n") {
		if line == "" {
			continue
		}
		line = strings.TrimSuffix(line, "\n")
		var f []string
		rest := line
		for len(f) < 8 {
			i := strings.IndexByte(rest, ' ')
			if i < 0 {
				break
			}
			f = append(f, rest[:i])
			rest = rest[i+1:]
		}
		hasSlots := len(f) == 8
		if !hasSlots {
			// The last field has no space after it (a node without slots).
			f = append(f, rest)
		}
		if len(f) < 8 {
			return nil, fmt.Errorf("line %q: %d fields", line, len(f))
		}
		n := cliNode{name: f[0], flags: strings.Split(f[2], ","), master: f[3], link: f[7], slots: make([]bool, 16384)}
		addr := f[1]
		if i := strings.LastIndexByte(addr, '@'); i >= 0 {
			addr = addr[:i]
		}
		i := strings.LastIndexByte(addr, ':')
		if i < 0 {
			return nil, fmt.Errorf("line %q: address without port", line)
		}
		n.ip = addr[:i]
		n.port, _ = strconv.Atoi(addr[i+1:]) // atoi
		n.configEpoch, _ = strconv.ParseInt(f[6], 10, 64)
		n.myself = strings.Contains(f[2], "myself")
		n.replica = strings.Contains(f[2], "slave") || !strings.HasPrefix(n.master, "-")
		n.fail = slices.Contains(n.flags, "fail")
		n.noaddr = slices.Contains(n.flags, "noaddr")
		if hasSlots {
			for _, def := range strings.Split(rest, " ") {
				switch {
				case strings.HasPrefix(def, "[") && strings.Contains(def, "->-"):
					n.migrating = append(n.migrating, def)
				case strings.HasPrefix(def, "["):
					n.imported = append(n.imported, def)
				case strings.Contains(def, "-"):
					a, b, _ := strings.Cut(def, "-")
					lo, _ := strconv.Atoi(a)
					hi, _ := strconv.Atoi(b)
					for s := lo; s <= hi; s++ {
						n.slots[s] = true
						n.slotCount++
					}
				case def != "":
					s, _ := strconv.Atoi(def)
					n.slots[s] = true
					n.slotCount++
				}
			}
		}
		out = append(out, n)
	}
	return out, nil
}

// TestClusterNodesParsed reads a many-range CLUSTER NODES the way
// redis-cli --cluster and redis-benchmark --cluster do: one myself, no
// replicas, every slot served by exactly one master, the master of each
// slot the one CLUSTER SLOTS names.
func TestClusterNodesParsed(t *testing.T) {
	addrs := []string{"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003", "127.0.0.1:7004", "127.0.0.1:7005"}
	nodeIDs := []string{idA, idB, idC, strings.Repeat("d4", 20), strings.Repeat("e5", 20)}
	v := rotatingView(addrs, nodeIDs, 256, 3, 2)
	h, _ := newClusterHarness(t, &fakeCluster{view: v})
	nodes, err := parseClusterNodes(unquote(t, h.do("CLUSTER NODES")))
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != len(addrs) {
		t.Fatalf("%d nodes", len(nodes))
	}
	owner := make([]int, 16384)
	for i := range owner {
		owner[i] = -1
	}
	for i, n := range nodes {
		if n.name != nodeIDs[i] || n.ip+":"+strconv.Itoa(n.port) != addrs[i] || n.replica || n.myself != (i == 2) ||
			n.configEpoch != 5 || n.link != "connected" || len(n.migrating)+len(n.imported) != 0 {
			t.Errorf("node %d: %+v", i, n)
		}
		if want := 256 / len(addrs) * 64; n.slotCount < want || n.slotCount > want+64 {
			t.Errorf("node %d heads %d slots", i, n.slotCount)
		}
		for s, ok := range n.slots {
			if ok {
				if owner[s] >= 0 {
					t.Fatalf("slot %d headed by %d and %d", s, owner[s], i)
				}
				owner[s] = i
			}
		}
	}
	for s, o := range owner {
		if o < 0 {
			t.Fatalf("slot %d has no master", s)
		}
		if want := slices.Index(nodeIDs, v.Ranges[s/64].Replicas[0]); o != want {
			t.Fatalf("slot %d: NODES says %d, the view %d", s, o, want)
		}
	}
}
