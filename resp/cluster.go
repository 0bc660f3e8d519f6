package resp

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	"github.com/dynago/dynago/ring"
)

// The Redis Cluster face (docs/architecture.md §5): CLUSTER INFO, MYID, MYSHARDID, NODES,
// SLOTS, SHARDS, KEYSLOT, MEET, FORGET, and READONLY, READWRITE, ASKING.
//
// Every node can coordinate every key, so what these commands describe is
// a routing hint, not ownership: for each run of slots the first live home
// replica is the "master" and the other home replicas its "replicas"
// (ClusterView.Ranges). A cluster client that follows the hint sends each
// request straight to a coordinator (the paper's client-driven
// coordination, §6.4); one that does not is still served, so MOVED and ASK
// are never sent. Every node is listed as a master (of the ranges it
// heads, possibly none), because in dynago every node is at once the
// master of some ranges and a replica of others, which CLUSTER NODES
// cannot say: its "slave" flag would make redis-cli and redis-benchmark
// skip the node's own ranges.
//
// Without a ClusterBackend (EnableCluster not called) every command of the
// family answers as a non-cluster Redis 7 does.

// msgClusterDisabled is Redis's reply to cluster commands on a server that
// is not a cluster node.
const msgClusterDisabled = "ERR This instance has cluster support disabled"

// EnableCluster makes the server a cluster node: the CLUSTER commands,
// READONLY, READWRITE, ASKING and the DYNAGO operator commands are served
// from cb. The family is in the command table from New on (COMMAND lists
// it, as a non-cluster Redis lists CLUSTER), answering "cluster support
// disabled" until this is called. Like Register it must be called before
// Serve, and it panics on a nil backend, a second call, or after Serve.
func (s *Server) EnableCluster(cb ClusterBackend) {
	switch {
	case s.serving.Load():
		panic("resp: EnableCluster called after Serve")
	case cb == nil:
		panic("resp: nil ClusterBackend")
	case s.cluster != nil:
		panic("resp: EnableCluster called twice")
	}
	s.cluster = cb
}

// needCluster wraps a handler of the family so that it answers like a
// non-cluster Redis while no ClusterBackend is set. s.cluster is written
// before Serve starts the connection goroutines and never again, so the
// unguarded read is ordered by the goroutine start.
func (s *Server) needCluster(h HandlerFunc) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		if s.cluster == nil {
			w.WriteError(msgClusterDisabled)
			return
		}
		h(ctx, c, args, w)
	}
}

// CLUSTER INFO: Redis 7's fields, then dynago's (partitions and N/R/W).
// cluster_slots_fail counts the slots none of whose home replicas is
// alive (the view then heads the range with a dead node).
func (s *Server) cmdClusterInfo(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	v := s.cluster.View(ctx)
	nodes := nodesByID(v)
	var assigned, failed int
	masters := map[string]bool{}
	for _, r := range v.Ranges {
		n := int(r.End) - int(r.Start) + 1
		assigned += n
		if len(r.Replicas) == 0 {
			failed += n
			continue
		}
		m := nodes[r.Replicas[0]]
		if m != nil {
			masters[m.ID] = true
		}
		if m == nil || !m.Alive && !m.Myself {
			failed += n
		}
	}
	state := "ok"
	if !v.OK {
		state = "fail"
	}
	i := strconv.Itoa
	epoch := strconv.FormatUint(v.Epoch, 10)
	fields := []InfoField{
		{"cluster_state", state},
		{"cluster_slots_assigned", i(assigned)},
		{"cluster_slots_ok", i(assigned - failed)},
		{"cluster_slots_pfail", "0"},
		{"cluster_slots_fail", i(failed)},
		{"cluster_known_nodes", i(len(v.Nodes))},
		{"cluster_size", i(len(masters))},
		{"cluster_current_epoch", epoch},
		{"cluster_my_epoch", epoch},
		{"cluster_stats_messages_sent", "0"},
		{"cluster_stats_messages_received", "0"},
		{"total_cluster_links_buffer_limit_exceeded", "0"},
		{"cluster_partitions", i(v.Partitions)},
		{"cluster_n", i(v.N)},
		{"cluster_r", i(v.R)},
		{"cluster_w", i(v.W)},
	}
	var b strings.Builder
	writeInfoFields(&b, fields)
	w.WriteVerbatim(b.String())
}

// CLUSTER MYID: this node's 40-hex id.
func (s *Server) cmdClusterMyID(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	w.WriteBulkString(s.cluster.View(ctx).MyID)
}

// CLUSTER MYSHARDID: a stable 40-hex id derived from the node id. dynago
// has no shards in Redis's sense (a node is in many replica sets), so each
// node is its own shard for this command's purpose.
func (s *Server) cmdClusterMyShardID(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	sum := sha1.Sum([]byte("dynago-shard:" + s.cluster.View(ctx).MyID))
	w.WriteBulkString(hex.EncodeToString(sum[:]))
}

// CLUSTER NODES: one line per node in Redis's format
//
//	<id> <ip:port@cport> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot> …
//
// with "\n" after every line (redis-cli and redis-benchmark drop a last
// line without one). Flags are "myself,master", "master", plus "fail" for
// a node the failure detector holds dead and "noaddr" for one without an
// address; the master field is always "-"; the slots are the node's
// ranges as master, contiguous ones merged, as Redis prints its bitmap.
func (s *Server) cmdClusterNodes(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	w.WriteVerbatim(clusterNodesText(s.cluster.View(ctx)))
}

func clusterNodesText(v ClusterView) string {
	heads := masterSlots(v)
	var b strings.Builder
	epoch := strconv.FormatUint(v.Epoch, 10)
	for _, n := range v.Nodes {
		b.WriteString(n.ID)
		b.WriteString(" " + n.Host + ":" + strconv.Itoa(n.Port) + "@" + strconv.Itoa(n.CPort) + " ")
		if n.Myself {
			b.WriteString("myself,")
		}
		b.WriteString("master")
		if !n.Alive && !n.Myself {
			b.WriteString(",fail")
		}
		if n.Host == "" {
			b.WriteString(",noaddr")
		}
		link := "connected"
		if !n.Alive && !n.Myself {
			link = "disconnected"
		}
		b.WriteString(" - 0 0 " + epoch + " " + link)
		for _, r := range heads[n.ID] {
			b.WriteString(" " + strconv.Itoa(int(r.Start)))
			if r.End != r.Start {
				b.WriteString("-" + strconv.Itoa(int(r.End)))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// masterSlots returns, per node id, the slot runs it heads, merging
// adjacent ranges with the same master.
func masterSlots(v ClusterView) map[string][]SlotRange {
	out := map[string][]SlotRange{}
	for _, r := range v.Ranges {
		if len(r.Replicas) == 0 {
			continue
		}
		id := r.Replicas[0]
		runs := out[id]
		if k := len(runs) - 1; k >= 0 && int(runs[k].End)+1 == int(r.Start) {
			runs[k].End = r.End
			continue
		}
		out[id] = append(runs, SlotRange{Start: r.Start, End: r.End})
	}
	return out
}

// nodesByID indexes the view's nodes.
func nodesByID(v ClusterView) map[string]*ClusterNode {
	m := make(map[string]*ClusterNode, len(v.Nodes))
	for i := range v.Nodes {
		m[v.Nodes[i].ID] = &v.Nodes[i]
	}
	return m
}

// CLUSTER SLOTS: per SlotRange [start, end, master, replica…], each node
// as Redis 7 gives it: [ip, port, id, {}] (the empty map is where Redis
// puts a hostname; go-redis reads 2 to 4 elements, redis-benchmark needs
// the id). As in Redis, replicas the failure detector holds dead are left
// out, so read-only clients do not pick them; the master is always there.
// Ranges with no known node (a view referring to a node it does not list,
// which a correct backend never produces) are skipped rather than shown
// without an address.
func (s *Server) cmdClusterSlots(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	v := s.cluster.View(ctx)
	nodes := nodesByID(v)
	type entry struct {
		r     SlotRange
		nodes []*ClusterNode
	}
	var entries []entry
	for _, r := range v.Ranges {
		e := entry{r: r}
		for i, id := range r.Replicas {
			n := nodes[id]
			if n == nil || i > 0 && !n.Alive && !n.Myself {
				continue
			}
			e.nodes = append(e.nodes, n)
		}
		if len(e.nodes) > 0 {
			entries = append(entries, e)
		}
	}
	w.WriteArray(len(entries))
	for _, e := range entries {
		w.WriteArray(2 + len(e.nodes))
		w.WriteInt(int64(e.r.Start))
		w.WriteInt(int64(e.r.End))
		for _, n := range e.nodes {
			w.WriteArray(4)
			w.WriteBulkString(n.Host)
			w.WriteInt(int64(n.Port))
			w.WriteBulkString(n.ID)
			w.WriteMap(0)
		}
	}
}

// CLUSTER SHARDS: Redis 7's shape, one map per shard with "slots" (flat
// start/end pairs) and "nodes" (maps of id, port, ip, endpoint, role,
// replication-offset, health). A shard is the set of ranges with the same
// replica list, in order of first slot; a node heading no range and
// replicating none (one that owns nothing yet) gets a shard of its own
// with no slots, as an empty Redis master does. Unlike Redis, a node
// appears in several shards.
func (s *Server) cmdClusterShards(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	v := s.cluster.View(ctx)
	nodes := nodesByID(v)
	type shard struct {
		slots    []SlotRange
		replicas []string
	}
	var shards []*shard
	byList := map[string]*shard{}
	seen := map[string]bool{}
	for _, r := range v.Ranges {
		key := strings.Join(r.Replicas, ",")
		sh := byList[key]
		if sh == nil {
			sh = &shard{replicas: r.Replicas}
			byList[key] = sh
			shards = append(shards, sh)
		}
		sh.slots = append(sh.slots, r)
		for _, id := range r.Replicas {
			seen[id] = true
		}
	}
	for _, n := range v.Nodes {
		if !seen[n.ID] {
			shards = append(shards, &shard{replicas: []string{n.ID}})
		}
	}
	w.WriteArray(len(shards))
	for _, sh := range shards {
		w.WriteMap(2)
		w.WriteBulkString("slots")
		w.WriteArray(2 * len(sh.slots))
		for _, r := range sh.slots {
			w.WriteInt(int64(r.Start))
			w.WriteInt(int64(r.End))
		}
		w.WriteBulkString("nodes")
		known := slices.DeleteFunc(slices.Clone(sh.replicas), func(id string) bool { return nodes[id] == nil })
		w.WriteArray(len(known))
		for i, id := range known {
			writeShardNode(w, nodes[id], i == 0)
		}
	}
}

func writeShardNode(w *Writer, n *ClusterNode, master bool) {
	role, health := "replica", "online"
	if master {
		role = "master"
	}
	if !n.Alive && !n.Myself {
		health = "failed"
	}
	w.WriteMap(7)
	w.writeFields(strField("id", n.ID), intField("port", int64(n.Port)), strField("ip", n.Host), strField("endpoint", n.Host),
		strField("role", role), intField("replication-offset", 0), strField("health", health))
}

// CLUSTER KEYSLOT key: Redis Cluster's slot (CRC16 with hash tags), the
// same function that places keys on the ring (docs/architecture.md §2).
func (s *Server) cmdClusterKeySlot(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	w.WriteInt(int64(ring.Slot(args[2])))
}

// CLUSTER MEET host port [cport]: join the node at host:port to the
// cluster (port+10000 when cport is absent, as the backend decides). Port
// errors use Redis's texts; dynago also takes a host name where Redis
// takes only an IP. A membership change that timed out may still happen,
// so the error says so (STYLE 12).
func (s *Server) cmdClusterMeet(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if len(args) > 5 {
		w.WriteError(msgSyntax)
		return
	}
	host := string(args[2])
	port, ok := parseInt64(args[3])
	if !ok {
		w.WriteError("ERR Invalid TCP base port specified: " + string(args[3]))
		return
	}
	var cport int64
	if len(args) == 5 {
		if cport, ok = parseInt64(args[4]); !ok {
			w.WriteError("ERR Invalid TCP bus port specified: " + string(args[4]))
			return
		}
	}
	if host == "" || port < 1 || port > 65535 || cport < 0 || cport > 65535 || len(args) == 5 && cport == 0 {
		w.WriteError("ERR Invalid node address specified: " + host + ":" + string(args[3]))
		return
	}
	if err := s.cluster.Meet(ctx, host, int(port), int(cport)); err != nil {
		s.writeErr(w, err, true)
		return
	}
	w.WriteOK()
}

// CLUSTER FORGET id: remove a node from the ring for good (DYNAGO REMOVE
// is the same): its partitions are reassigned and rebuilt from the other
// replicas. Unlike Redis's, the effect is cluster-wide and permanent, not
// a 60-second ban on one node; Redis's errors for an unknown node and for
// this node itself are kept.
func (s *Server) cmdClusterForget(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	id := string(args[2])
	v := s.cluster.View(ctx)
	switch n := nodesByID(v)[id]; {
	case n == nil:
		w.WriteError("ERR Unknown node " + id)
		return
	case n.Myself:
		w.WriteError("ERR I tried hard but I can't forget myself...")
		return
	}
	if err := s.cluster.Remove(ctx, id); err != nil {
		s.writeErr(w, err, true)
		return
	}
	w.WriteOK()
}

// unsupportedCluster answers the Redis Cluster commands that manage slots,
// failover and replication by hand: in dynago the ring assigns partitions
// and every home replica takes writes, so there is nothing to move or
// promote. COUNTKEYSINSLOT and GETKEYSINSLOT are refused too: keys are
// stored by partition and found by SCAN, and counting one slot would scan
// the whole partition on every replica.
func (s *Server) unsupportedCluster(why string) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		w.WriteError("ERR CLUSTER " + strings.ToUpper(string(args[1])) + " is not supported by dynago: " + why)
	}
}

// Reasons for the unsupported CLUSTER subcommands.
const (
	whyRing  = "slots are assigned by the ring"
	whyNoIdx = "keys are not indexed by slot; use SCAN"
	whyNoRep = "every node is a master; the replicas of a range are in CLUSTER SLOTS"
)

// unsupportedClusterSubs are the CLUSTER subcommands dynago refuses, with
// the reason; a static table.
var unsupportedClusterSubs = [...]struct{ name, why, summary string }{
	{"addslots", whyRing, "Not supported: assigns slots to a node."},
	{"addslotsrange", whyRing, "Not supported: assigns slot ranges to a node."},
	{"delslots", whyRing, "Not supported: unassigns slots."},
	{"delslotsrange", whyRing, "Not supported: unassigns slot ranges."},
	{"flushslots", whyRing, "Not supported: unassigns all slots of a node."},
	{"setslot", whyRing, "Not supported: migrates a slot."},
	{"bumpepoch", whyRing, "Not supported: advances the cluster config epoch."},
	{"set-config-epoch", whyRing, "Not supported: sets a new node's config epoch."},
	{"saveconfig", whyRing, "Not supported: the ring is persisted on every change."},
	{"reset", whyRing, "Not supported: use DYNAGO LEAVE to take a node out."},
	{"failover", whyNoRep, "Not supported: every home replica takes writes."},
	{"replicate", whyNoRep, "Not supported: replicas follow from the ring."},
	{"replicas", whyNoRep, "Not supported: lists a master's replicas."},
	{"slaves", whyNoRep, "Not supported: lists a master's replicas."},
	{"count-failure-reports", whyRing, "Not supported: failure detection is gossip (SWIM)."},
	{"links", whyRing, "Not supported: internode links are not Redis cluster-bus links."},
	{"countkeysinslot", whyNoIdx, "Not supported: counts the keys in a slot."},
	{"getkeysinslot", whyNoIdx, "Not supported: returns key names in a slot."},
}

// READONLY, READWRITE: accepted; every node serves reads and writes for
// every key, so the mode changes no routing. It is kept on the Client and
// shown as the "r" flag of CLIENT LIST / INFO, as Redis shows it.
func (s *Server) readOnlyHandler(on bool) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		c.mu.Lock()
		c.mu.readOnly = on
		c.mu.Unlock()
		w.WriteOK()
	}
}

// ASKING: accepted. dynago never answers ASK, so the flag would never be
// consulted.
func (s *Server) cmdAsking(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	w.WriteOK()
}
