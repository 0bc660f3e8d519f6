package resp

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/dynago/dynago/coordinator"
	"github.com/dynago/dynago/version"
)

// DYNAGO: the operator and per-connection extension commands (docs/architecture.md §4
// step 7, §5, §8).
//
//	DYNAGO CONSISTENCY [R W | DEFAULT] → this connection's R/W override
//	DYNAGO LOCAL key                   → this node's own copy of key
//	DYNAGO RING                        → the ring as this node sees it
//	DYNAGO HINTS | AE | TRANSFERS      → operator tables, INFO-style text
//	DYNAGO LEAVE [node]                → hand a node's partitions away
//	DYNAGO REMOVE node                 → take a dead node out of the ring
//
// CONSISTENCY and HELP work on every server; the others need a
// ClusterBackend (EnableCluster) and otherwise answer like the CLUSTER
// commands of a non-cluster Redis.

// maxQuorum bounds DYNAGO CONSISTENCY's R and W: no deployment replicates
// more than 16 ways, and a larger number is surely a typo.
const maxQuorum = 16

const msgBadQuorum = "ERR invalid R or W"

// DYNAGO CONSISTENCY R W sets the connection's read and write quorums,
// which every later command of the connection carries to the coordinator
// (like Cassandra's per-query consistency; the coordinator clamps them to
// the replicas there are). With no argument it answers the current values
// as a map {r, w}, 0 meaning the node's default; DEFAULT clears the
// override. A client with a connection pool sets it on each connection it
// opens (go-redis: Options.OnConnect), since the override is per
// connection.
func (s *Server) cmdDynagoConsistency(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	switch len(args) {
	case 2:
		cons := c.Consistency()
		w.WriteMap(2)
		w.writeFields(intField("r", int64(cons.R)), intField("w", int64(cons.W)))
	case 3:
		if !eqFold(args[2], "default") {
			w.WriteError(msgSyntax)
			return
		}
		c.SetConsistency(coordinator.Consistency{})
		w.WriteOK()
	case 4:
		r, okR := parseInt64(args[2])
		wq, okW := parseInt64(args[3])
		if !okR || !okW || r < 1 || r > maxQuorum || wq < 1 || wq > maxQuorum {
			w.WriteError(msgBadQuorum)
			return
		}
		c.SetConsistency(coordinator.Consistency{R: int(r), W: int(wq)})
		w.WriteOK()
	default:
		w.WriteError(msgSyntax)
	}
}

// DYNAGO LOCAL key: this node's own stored copy, without asking any other
// node (for checking handoff, read repair and anti-entropy by hand). The
// reply is a map of partition, replica (1 when this node is one of the
// key's home replicas), context (the copy's version vector as GETCTX
// gives it), siblings (as SIBLINGS lists them, tombstones included) and
// hints (per home replica this node holds a hint for: that hint's
// siblings).
func (s *Server) cmdDynagoLocal(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	lc, err := s.cluster.Local(ctx, args[2])
	if err != nil {
		s.writeErr(w, err, false)
		return
	}
	w.WriteMap(5)
	w.writeFields(intField("partition", int64(lc.Partition)), intField("replica", boolInt(lc.Replica)),
		strField("context", version.EncodeContext(lc.Object.VV)))
	w.WriteBulkString("siblings")
	writeSiblings(w, lc.Object)
	w.WriteBulkString("hints")
	targets := make([]string, 0, len(lc.Hints))
	for t := range lc.Hints {
		targets = append(targets, t)
	}
	slices.Sort(targets)
	w.WriteMap(len(targets))
	for _, t := range targets {
		w.WriteBulkString(t)
		writeSiblings(w, lc.Hints[t])
	}
}

// DYNAGO RING: the view behind CLUSTER NODES/SLOTS in readable form: a map
// of myid, epoch, state (ok|fail), partitions, n, r, w, nodes (each a map
// of id, name, addr, cport, zone, state, alive, owned, myself) and ranges
// (each a map of start, end and replicas, first the routing master).
func (s *Server) cmdDynagoRing(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	v := s.cluster.View(ctx)
	state := "ok"
	if !v.OK {
		state = "fail"
	}
	w.WriteMap(9)
	w.writeFields(strField("myid", v.MyID), intField("epoch", int64(v.Epoch)), strField("state", state),
		intField("partitions", int64(v.Partitions)), intField("n", int64(v.N)), intField("r", int64(v.R)), intField("w", int64(v.W)))
	w.WriteBulkString("nodes")
	w.WriteArray(len(v.Nodes))
	for _, n := range v.Nodes {
		w.WriteMap(9)
		w.writeFields(strField("id", n.ID), strField("name", n.Name), strField("addr", net.JoinHostPort(n.Host, strconv.Itoa(n.Port))),
			intField("cport", int64(n.CPort)), strField("zone", n.Zone), strField("state", n.State),
			intField("alive", boolInt(n.Alive)), intField("owned", int64(n.Owned)), intField("myself", boolInt(n.Myself)))
	}
	w.WriteBulkString("ranges")
	w.WriteArray(len(v.Ranges))
	for _, r := range v.Ranges {
		w.WriteMap(3)
		w.writeFields(intField("start", int64(r.Start)), intField("end", int64(r.End)))
		w.WriteBulkString("replicas")
		w.WriteArray(len(r.Replicas))
		for _, id := range r.Replicas {
			w.WriteBulkString(id)
		}
	}
}

// reportHandler serves DYNAGO HINTS / AE / TRANSFERS: the backend's
// Report(name) as INFO-style text ("# Section" and "key:value" lines).
func (s *Server) reportHandler(name string) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		secs, err := s.cluster.Report(ctx, name)
		if err != nil {
			s.writeErr(w, err, false)
			return
		}
		w.WriteVerbatim(renderInfo(secs))
	}
}

// DYNAGO LEAVE [node]: this node (or the node named, by id or name) hands
// its partitions to their new owners and then leaves the ring (paper
// §4.8: an explicit, operator-issued change).
func (s *Server) cmdDynagoLeave(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	id := ""
	if len(args) > 3 {
		w.WriteError(msgSyntax)
		return
	}
	if len(args) == 3 {
		n, ok := s.resolveNode(ctx, w, args[2])
		if !ok {
			return
		}
		if !n.Myself {
			id = n.ID
		}
	}
	if err := s.cluster.Leave(ctx, id); err != nil {
		s.writeErr(w, err, true)
		return
	}
	w.WriteOK()
}

// DYNAGO REMOVE node: take a node (by id or name) out of the ring without
// its help, for a node that is dead for good; its partitions are
// reassigned and rebuilt from the other replicas. This node cannot remove
// itself: DYNAGO LEAVE hands its data away first.
func (s *Server) cmdDynagoRemove(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	n, ok := s.resolveNode(ctx, w, args[2])
	if !ok {
		return
	}
	if n.Myself {
		w.WriteError("ERR a node cannot remove itself: use DYNAGO LEAVE")
		return
	}
	if err := s.cluster.Remove(ctx, n.ID); err != nil {
		s.writeErr(w, err, true)
		return
	}
	w.WriteOK()
}

// resolveNode finds a ring member by id, or else by name; it writes the
// error reply when there is none.
func (s *Server) resolveNode(ctx context.Context, w *Writer, arg []byte) (ClusterNode, bool) {
	v := s.cluster.View(ctx)
	want := string(arg)
	if i := slices.IndexFunc(v.Nodes, func(n ClusterNode) bool { return n.ID == want }); i >= 0 {
		return v.Nodes[i], true
	}
	if i := slices.IndexFunc(v.Nodes, func(n ClusterNode) bool { return n.Name != "" && strings.EqualFold(n.Name, want) }); i >= 0 {
		return v.Nodes[i], true
	}
	w.WriteError("ERR Unknown node " + want)
	return ClusterNode{}, false
}
