package coordinator

import (
	"slices"

	"github.com/dynago/dynago/ring"
)

// RingPlacement is the Placement of a ring (node builds one per ring
// change). Reads and quorums use the ring's committed owners; while
// partitions are handed off (docs/architecture.md §5) the nodes about to become home
// replicas are Incoming: they receive every write, uncounted toward W, so
// they miss nothing while they stream the partition.
type RingPlacement struct {
	r        *ring.Ring
	incoming [][]string // per partition: Target's home replicas not home in r
	nodes    []string   // members that are not removed
}

// NewRingPlacement precomputes the placement of r.
func NewRingPlacement(r *ring.Ring) *RingPlacement {
	pl := &RingPlacement{r: r}
	for _, m := range r.Members() {
		if m.State != ring.Removed {
			pl.nodes = append(pl.nodes, m.ID)
		}
	}
	t := r.Target()
	if t == r {
		return pl
	}
	pl.incoming = make([][]string, r.Q())
	for p := range r.Q() {
		home := r.PreferenceList(p)
		for _, id := range t.PreferenceList(p) {
			if !slices.Contains(home, id) {
				pl.incoming[p] = append(pl.incoming[p], id)
			}
		}
	}
	return pl
}

// Ring is the ring the placement was built from.
func (pl *RingPlacement) Ring() *ring.Ring { return pl.r }

// Q implements Placement.
func (pl *RingPlacement) Q() int { return pl.r.Q() }

// Walk implements Placement.
func (pl *RingPlacement) Walk(p int) []string { return pl.r.Walk(p) }

// Nodes implements Placement.
func (pl *RingPlacement) Nodes() []string { return pl.nodes }

// Incoming implements Placement.
func (pl *RingPlacement) Incoming(p int) []string {
	if pl.incoming == nil {
		return nil
	}
	return pl.incoming[p]
}
