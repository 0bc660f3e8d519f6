package resp

import (
	"context"

	"github.com/dynago/dynago/version"
)

// ClusterBackend is what the cluster commands (CLUSTER …, DYNAGO …,
// READONLY, READWRITE) need from the node, beside Backend. The node
// implements it; handler tests use a fake. Every method must be safe for
// concurrent use and honour ctx.
type ClusterBackend interface {
	// View is the node's current view of the cluster, for CLUSTER INFO,
	// NODES, SLOTS, SHARDS and MYID, and DYNAGO RING.
	View(ctx context.Context) ClusterView
	// Meet adds the node whose client address is host:port (cluster port
	// cport; 0 means port+10000) to the cluster, as CLUSTER MEET does.
	Meet(ctx context.Context, host string, port, cport int) error
	// Remove takes a node out of the ring (CLUSTER FORGET, DYNAGO REMOVE):
	// its partitions are reassigned and rebuilt from the other replicas.
	Remove(ctx context.Context, id string) error
	// Leave makes node id (this node when id is "") hand its partitions
	// to their new owners and leave the ring (DYNAGO LEAVE).
	Leave(ctx context.Context, id string) error
	// Local is this node's own stored copy of key, hints it holds for the
	// key included separately, without touching other nodes (DYNAGO LOCAL).
	// key points into a connection buffer and is valid only during the
	// call, as for Backend.Get.
	Local(ctx context.Context, key []byte) (LocalCopy, error)
	// Report returns operator tables for DYNAGO HINTS / AE / TRANSFERS as
	// sections of key-value lines (name is "hints", "ae" or "transfers").
	Report(ctx context.Context, name string) ([]InfoSection, error)
}

// LocalCopy is one node's own stored state of a key.
type LocalCopy struct {
	Partition int
	// Replica says whether this node is one of the key's home replicas in
	// its ring view.
	Replica bool
	// Object is the stored object (zero when the node holds none).
	Object version.Object
	// Hints are the hinted objects this node holds for the key, by the home
	// replica they wait for.
	Hints map[string]version.Object
}

// ClusterView is a snapshot of the cluster as one node sees it.
type ClusterView struct {
	// MyID is this node's 40-hex id.
	MyID string
	// Epoch is the ring's epoch (CLUSTER INFO cluster_current_epoch and
	// every node's config-epoch).
	Epoch uint64
	// OK is false when some slot has no live home replica
	// (cluster_state:fail).
	OK bool
	// N, R, W are the replication settings (INFO and CLUSTER INFO extras).
	N, R, W int
	// Partitions is Q.
	Partitions int
	// Nodes are every ring member, sorted by id.
	Nodes []ClusterNode
	// Ranges cover slots 0..16383 in order: maximal runs of slots whose
	// home replicas are the same, listed with the first live home replica
	// first (the "master" Redis clients route to, docs/architecture.md §5) and the rest
	// after it.
	Ranges []SlotRange
}

// ClusterNode is one ring member.
type ClusterNode struct {
	ID   string
	Name string
	// Host and Port are the client address others should dial (the
	// announce address); CPort is the cluster port.
	Host        string
	Port, CPort int
	Zone        string
	// Alive is the failure detector's view; Myself marks this node.
	Alive, Myself bool
	// State is the membership state: "joining", "valid", "leaving".
	State string
	// Owned is the number of partitions the node owns.
	Owned int
}

// SlotRange is a run of slots with the same replicas.
type SlotRange struct {
	Start, End uint16
	// Replicas are node ids: Replicas[0] is the master clients use.
	Replicas []string
}
