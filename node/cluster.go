package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/dynago/dynago/antientropy"
	"github.com/dynago/dynago/coordinator"
	"github.com/dynago/dynago/resp"
	"github.com/dynago/dynago/ring"
	"github.com/dynago/dynago/version"
)

// ClusterConfig is how a node takes part in a cluster (docs/architecture.md §5).
type ClusterConfig struct {
	// Addr is the cluster port's listen address (gossip and internode
	// RPC); empty means the client host with port+10000.
	Addr string
	// Announce is the client address other nodes and cluster-aware
	// clients dial; empty means the client listen address. The cluster
	// address announced uses its host with Addr's port.
	Announce string
	// Join lists client addresses (host:port) of nodes to join; their
	// cluster ports are port+10000.
	Join []string
	// Secret encrypts gossip and authenticates the internode RPC; nodes
	// with another secret are refused.
	Secret string
	// Zone places the node for zone-aware preference lists.
	Zone string
	// Gossip timing; zero values take the defaults (memberlist's LAN
	// settings). Tests shorten them.
	ProbeInterval, ProbeTimeout, GossipInterval, PushPullInterval, BootstrapAfter time.Duration
	// Transfers configures ownership transfer.
	Transfers coordinator.TransferConfig
}

// clusterAddrs returns the cluster listen address and the addresses the
// node announces for clients and for the cluster port.
func (c ClusterConfig) clusterAddrs(clientAddr string) (listen, announceClient, announceCluster string, err error) {
	listen = c.Addr
	if listen == "" {
		if listen, err = ring.ClusterAddrFor(clientAddr); err != nil {
			return "", "", "", err
		}
	}
	announceClient = c.Announce
	if announceClient == "" {
		announceClient = clientAddr
	}
	ahost, _, err := net.SplitHostPort(announceClient)
	if err != nil {
		return "", "", "", fmt.Errorf("node: announce address %q: %w", announceClient, err)
	}
	_, lport, err := net.SplitHostPort(listen)
	if err != nil {
		return "", "", "", fmt.Errorf("node: cluster address %q: %w", listen, err)
	}
	return listen, announceClient, net.JoinHostPort(ahost, lport), nil
}

// seedAddrs turns --join client addresses into cluster addresses.
func seedAddrs(join []string) ([]string, error) {
	var out []string
	for _, a := range join {
		ca, err := ring.ClusterAddrFor(a)
		if err != nil {
			return nil, err
		}
		out = append(out, ca)
	}
	return out, nil
}

// placement is the coordinator's view of the ring: the membership's ring,
// or, while a new node still waits for one, a ring of itself alone.
func (n *Node) placement() coordinator.Placement {
	if pl := n.pl.Load(); pl != nil {
		return pl
	}
	return singlePlacement{q: n.cfg.Partitions, self: n.id.ID}
}

// onRing runs on the membership's event goroutine after every ring change.
func (n *Node) onRing(old, cur *ring.Ring) {
	n.pl.Store(coordinator.NewRingPlacement(cur))
	if t := n.transfers.Load(); t != nil {
		t.Kick()
	}
}

// onAlive runs when gossip sees a node come (back) alive.
func (n *Node) onAlive(id string) {
	if c := n.coord; c != nil {
		c.NodeAlive(id)
	}
	n.ae.NodeAlive(id)
	if t := n.transfers.Load(); t != nil {
		t.Kick()
	}
}

// resolve maps a node id to its cluster address for the RPC.
func (n *Node) resolve(id string) (string, bool) {
	if r := n.ring(); r != nil {
		if m, ok := r.Member(id); ok && m.ClusterAddr != "" {
			return m.ClusterAddr, true
		}
	}
	if m, ok := n.mship.Announced(id); ok {
		return m.ClusterAddr, true
	}
	return "", false
}

// isPeer accepts internode connections from ring members (any state but
// removed) and from nodes gossip knows (they joined with our secret).
func (n *Node) isPeer(id string) bool {
	if r := n.mship.Ring(); r != nil {
		if m, ok := r.Member(id); ok {
			return m.State != ring.Removed
		}
	}
	_, ok := n.mship.Announced(id)
	return ok
}

// clusterBackend implements resp.ClusterBackend over the node.
type clusterBackend struct{ n *Node }

var _ resp.ClusterBackend = clusterBackend{}

// View describes the ring for CLUSTER INFO/NODES/SLOTS/SHARDS.
func (cb clusterBackend) View(ctx context.Context) resp.ClusterView {
	n := cb.n
	cfg := n.coord.Config()
	v := resp.ClusterView{MyID: n.id.ID, N: cfg.N, R: cfg.R, W: cfg.W, Partitions: n.cfg.Partitions, OK: true}
	r := n.mship.Ring()
	if r == nil {
		// Still joining: a cluster of this node alone.
		host, port := splitHostPort(n.announce)
		_, cport := splitHostPort(n.announceCluster)
		v.Nodes = []resp.ClusterNode{{ID: n.id.ID, Name: n.id.Name, Host: host, Port: port, CPort: cport, Alive: true, Myself: true, State: "joining", Owned: n.cfg.Partitions}}
		v.Ranges = []resp.SlotRange{{Start: 0, End: ring.Slots - 1, Replicas: []string{n.id.ID}}}
		return v
	}
	v.Epoch = r.Epoch()
	owned := map[string]int{}
	for p := range r.Q() {
		owned[r.Owner(p)]++
	}
	for _, m := range r.Members() {
		if m.State == ring.Removed {
			continue
		}
		host, port := splitHostPort(m.ClientAddr)
		_, cport := splitHostPort(m.ClusterAddr)
		v.Nodes = append(v.Nodes, resp.ClusterNode{
			ID: m.ID, Name: m.Name, Host: host, Port: port, CPort: cport, Zone: m.Zone,
			Alive: m.ID == n.id.ID || n.mship.Alive(m.ID), Myself: m.ID == n.id.ID,
			State: m.State.String(), Owned: owned[m.ID],
		})
	}
	for p := range r.Q() {
		reps := slices.Clone(r.PreferenceList(p))
		// The first live home replica is the "master" clients route to.
		for i, id := range reps {
			if id == n.id.ID || n.mship.Alive(id) {
				reps[0], reps[i] = reps[i], reps[0]
				if i > 1 {
					// Keep the others in preference order after it.
					slices.SortStableFunc(reps[1:], func(a, b string) int {
						return slices.Index(r.PreferenceList(p), a) - slices.Index(r.PreferenceList(p), b)
					})
				}
				break
			}
			if i == len(reps)-1 {
				v.OK = false // no live home replica
			}
		}
		first, last := ring.PartitionRange(p, r.Q())
		if k := len(v.Ranges) - 1; k >= 0 && slices.Equal(v.Ranges[k].Replicas, reps) {
			v.Ranges[k].End = last
			continue
		}
		v.Ranges = append(v.Ranges, resp.SlotRange{Start: first, End: last, Replicas: reps})
	}
	return v
}

func splitHostPort(addr string) (string, int) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 0
	}
	p, _ := strconv.Atoi(port)
	return host, p
}

// Meet joins the node at host:port (cluster port cport, or port+10000).
func (cb clusterBackend) Meet(ctx context.Context, host string, port, cport int) error {
	if cport == 0 {
		cport = port + 10000
	}
	if cport < 1 || cport > 65535 {
		return fmt.Errorf("invalid cluster port %d", cport)
	}
	return cb.n.mship.Join([]string{net.JoinHostPort(host, strconv.Itoa(cport))})
}

// errSelf refuses to forget this node, as Redis does.
var errSelf = errors.New("I tried hard but I can't forget myself")

// Remove takes a (dead) node out of the ring: its partitions are claimed
// by the others, who rebuild them from the surviving replicas.
func (cb clusterBackend) Remove(ctx context.Context, id string) error {
	if id == cb.n.id.ID {
		return errSelf
	}
	_, err := cb.n.mship.Propose(func(r *ring.Ring) (*ring.Ring, error) {
		m, ok := r.Member(id)
		if !ok {
			return nil, fmt.Errorf("unknown node %s", id)
		}
		if m.State == ring.Removed {
			return nil, nil
		}
		return r.WithoutMember(id)
	})
	return err
}

// Leave stages node id (this node when "") leaving: its partitions are
// handed to their new owners, then it leaves the ring.
func (cb clusterBackend) Leave(ctx context.Context, id string) error {
	if id == "" {
		id = cb.n.id.ID
	}
	_, err := cb.n.mship.Propose(func(r *ring.Ring) (*ring.Ring, error) {
		m, ok := r.Member(id)
		if !ok {
			return nil, fmt.Errorf("unknown node %s", id)
		}
		if m.State == ring.Leaving || m.State == ring.Removed {
			return nil, nil
		}
		target, err := r.WithState(id, ring.Leaving)
		if err != nil {
			return nil, err
		}
		return r.Stage(target)
	})
	return err
}

// Local is this node's own copy of key and the hints it holds for it.
func (cb clusterBackend) Local(ctx context.Context, key []byte) (resp.LocalCopy, error) {
	n := cb.n
	pl := n.placement()
	p := coordinator.Partition(pl, key)
	walk := pl.Walk(p)
	lc := resp.LocalCopy{Partition: p, Replica: slices.Contains(walk[:min(n.coord.Config().N, len(walk))], n.id.ID)}
	obj, err := n.eng.Get(uint16(p), key)
	if err != nil {
		return lc, err
	}
	lc.Object = obj
	for target := range n.eng.HintCounts() {
		h, ok, err := n.eng.GetHint(target, uint16(p), key)
		if err != nil {
			return lc, err
		}
		if ok {
			if lc.Hints == nil {
				lc.Hints = map[string]version.Object{}
			}
			lc.Hints[target] = h
		}
	}
	return lc, nil
}

// Report renders DYNAGO HINTS / TRANSFERS / AE.
func (cb clusterBackend) Report(ctx context.Context, name string) ([]resp.InfoSection, error) {
	n := cb.n
	switch name {
	case "hints":
		return []resp.InfoSection{{Name: "Hints", Fields: hintFields(n.eng)}}, nil
	case "transfers":
		return []resp.InfoSection{{Name: "Transfers", Fields: n.transferFields()}}, nil
	case "ae":
		return []resp.InfoSection{{Name: "Antientropy", Fields: n.aePartitions()}}, nil
	}
	return nil, fmt.Errorf("unknown report %q", name)
}

// clusterFields is INFO cluster.
func (n *Node) clusterFields() []resp.InfoField {
	cfg := n.coord.Config()
	out := []resp.InfoField{
		field("cluster_enabled", int64(1)),
		field("node_id", n.id.ID),
		field("node_name", n.id.Name),
		field("incarnation", int64(n.id.Incarnation)),
		field("n", int64(cfg.N)),
		field("r", int64(cfg.R)),
		field("w", int64(cfg.W)),
		field("partitions", int64(n.cfg.Partitions)),
	}
	r := n.mship.Ring()
	if r == nil {
		return append(out, field("ring_epoch", int64(0)), field("ring_state", "joining"))
	}
	pending := 0
	owned := map[string]int{}
	for p := range r.Q() {
		owned[r.Owner(p)]++
		if r.Pending(p) != "" {
			pending++
		}
	}
	members := 0
	for _, m := range r.Members() {
		if m.State != ring.Removed {
			members++
		}
	}
	// N, R and W are clamped to the replicas a key has (docs/architecture.md §2).
	replicas := min(cfg.N, len(r.PreferenceList(0)))
	out = append(out,
		field("ring_epoch", int64(r.Epoch())),
		field("ring_members", int64(members)),
		field("replicas_per_key", int64(replicas)),
		field("effective_r", int64(coordinator.Clamp(0, cfg.R, replicas))),
		field("effective_w", int64(coordinator.Clamp(0, cfg.W, replicas))),
		field("partitions_owned", int64(owned[n.id.ID])),
		field("partitions_pending", int64(pending)),
	)
	for i, m := range r.Members() {
		alive := m.ID == n.id.ID || n.mship.Alive(m.ID)
		out = append(out, field("member"+strconv.Itoa(i), fmt.Sprintf("id=%s,name=%s,addr=%s,cluster_addr=%s,zone=%s,state=%s,alive=%d,owned=%d",
			m.ID, m.Name, m.ClientAddr, m.ClusterAddr, m.Zone, m.State, b2i(alive), owned[m.ID])))
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// transferFields is INFO transfers.
func (n *Node) transferFields() []resp.InfoField {
	t := n.transfers.Load()
	if t == nil {
		return nil
	}
	s := t.Stats()
	return []resp.InfoField{
		field("partitions_to_sync", s.ToSync.Load()),
		field("partitions_to_hand_off", s.ToHandOff.Load()),
		field("keys_to_hand_off", s.KeysToHandOff.Load()),
		field("bytes_left_estimate", s.BytesLeft()),
		field("partition_streaming", s.InFlightPartition.Load()),
		field("partitions_synced", s.PartitionsSynced.Load()),
		field("partitions_handed_off", s.PartitionsHanded.Load()),
		field("keys_streamed_in", s.KeysIn.Load()),
		field("bytes_streamed_in", s.BytesIn.Load()),
		field("keys_handed_off", s.KeysOut.Load()),
		field("bytes_handed_off", s.BytesOut.Load()),
		field("commits", s.Commits.Load()),
		field("sync_failures", s.SyncFailures.Load()),
	}
}

// ring is the membership's ring (nil while joining or before it starts).
func (n *Node) ring() *ring.Ring {
	if n.mship == nil {
		return nil
	}
	return n.mship.Ring()
}

// peerOf gives anti-entropy the coordinator's transport, which exists only
// after the syncer is built.
type peerOf struct{ n *Node }

func (p peerOf) Hashes(ctx context.Context, node string, part int, req antientropy.LevelRequest) ([]uint64, error) {
	return p.n.coord.AEPeer().Hashes(ctx, node, part, req)
}
func (p peerOf) KeyHashes(ctx context.Context, node string, part int, segs []int) ([]antientropy.KeyHash, error) {
	return p.n.coord.AEPeer().KeyHashes(ctx, node, part, segs)
}
func (p peerOf) Fetch(ctx context.Context, node string, part int, keys [][]byte) ([]version.Object, error) {
	return p.n.coord.AEPeer().Fetch(ctx, node, part, keys)
}
func (p peerOf) Push(ctx context.Context, node string, part int, keys [][]byte, objs []version.Object) error {
	return p.n.coord.AEPeer().Push(ctx, node, part, keys, objs)
}

// aeFields is INFO antientropy.
func (n *Node) aeFields() []resp.InfoField {
	s := n.ae.Stats()
	return []resp.InfoField{
		field("trees_ready", n.ae.Ready()),
		field("trees_built", s.TreesBuilt.Load()),
		field("rounds", s.Rounds.Load()),
		field("exchanges", s.Exchanges.Load()),
		field("exchanges_equal", s.ExchangesEqual.Load()),
		field("exchange_errors", s.ExchangeErrors.Load()),
		field("keys_repaired", s.KeysRepaired.Load()),
		field("dead_keys_not_copied", s.KeysSkippedDead.Load()),
		field("leaves_healed", s.LeavesHealed.Load()),
		field("bytes_sent", s.BytesSent.Load()),
		field("bytes_received", s.BytesReceived.Load()),
	}
}

// aePartitions is DYNAGO AE: per partition this node replicates, the last
// exchange and the tree root.
func (n *Node) aePartitions() []resp.InfoField {
	out := n.aeFields()
	r := n.ring()
	if r == nil {
		return out
	}
	now := time.Now()
	for p := range r.Q() {
		if !slices.Contains(r.PreferenceList(p), n.id.ID) {
			continue
		}
		st := n.ae.Partition(p)
		ago := "never"
		if !st.LastExchange.IsZero() {
			ago = now.Sub(st.LastExchange).Round(time.Millisecond).String()
		}
		peer := st.LastPeer
		if len(peer) > 8 {
			peer = peer[:8]
		}
		out = append(out, field("p"+strconv.Itoa(p), fmt.Sprintf("root=%016x,last_exchange=%s,peer=%s,repaired=%d", st.Root, ago, peer, st.LastRepaired)))
	}
	return out
}
