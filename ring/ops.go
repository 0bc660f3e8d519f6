package ring

import (
	"fmt"
	"slices"
)

// Membership changes (§4.8, §4.9). Each returns a new ring with Epoch+1;
// the receiver is unchanged. A change that alters who claims partitions or
// where they stand (a member added, removed or leaving, a zone changed)
// re-runs the claim from the current assignment, so only the partitions that
// must move do; one that alters only a name or an address keeps the owners.
// The result owns its partitions at once: to move data first, Stage the
// result onto the current ring and Commit partition by partition.

// WithMember adds m, or replaces the member with m's ID (a new address,
// zone or state). A removed ID cannot come back: ErrRemoved. To remove a
// member use WithoutMember.
func (r *Ring) WithMember(m Member) (*Ring, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	if m.State == Removed {
		return nil, fmt.Errorf("%w: use WithoutMember to remove %s", ErrMember, m.ID)
	}
	ms := slices.Clone(r.members)
	if x, ok := r.index[m.ID]; ok {
		if ms[x].State == Removed {
			return nil, fmt.Errorf("%w: %s", ErrRemoved, m.ID)
		}
		ms[x] = m
	} else {
		if len(ms) >= MaxMembers {
			return nil, fmt.Errorf("%w: %d", ErrTooManyMembers, len(ms)+1)
		}
		ms = append(ms, m)
	}
	return r.next(ms)
}

// WithoutMember removes the member (the operator's "forget", §4.8): it is
// kept as a tombstone, owns nothing, and its partitions are claimed by the
// others and rebuilt from the remaining replicas.
func (r *Ring) WithoutMember(id string) (*Ring, error) {
	return r.update(id, func(m *Member) { m.State = Removed })
}

// WithZone moves a member to another zone.
func (r *Ring) WithZone(id, zone string) (*Ring, error) {
	return r.update(id, func(m *Member) { m.Zone = zone })
}

// WithState sets a member's state: Joining → Valid once it holds its data,
// Leaving to hand its partitions to the others. Removed is WithoutMember.
func (r *Ring) WithState(id string, s MemberState) (*Ring, error) {
	if s == Removed {
		return r.WithoutMember(id)
	}
	return r.update(id, func(m *Member) { m.State = s })
}

// update applies f to a live member's copy.
func (r *Ring) update(id string, f func(*Member)) (*Ring, error) {
	x, ok := r.index[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownMember, id)
	}
	if r.members[x].State == Removed {
		return nil, fmt.Errorf("%w: %s", ErrRemoved, id)
	}
	ms := slices.Clone(r.members)
	f(&ms[x])
	if err := ms[x].check(); err != nil {
		return nil, err
	}
	return r.next(ms)
}

// next returns the ring with members ms and Epoch+1, claiming again when
// the claim's inputs changed.
func (r *Ring) next(ms []Member) (*Ring, error) {
	slices.SortFunc(ms, func(a, b Member) int { return cmpString(a.ID, b.ID) })
	if !claimInputsChanged(r.members, ms) && !r.ownsRemoved(ms) {
		var pend []string
		if r.pending != nil {
			pend = make([]string, r.q)
			for p := range pend {
				pend[p] = r.Pending(p)
			}
		}
		return assemble(r.q, r.n, r.epoch+1, ms, r.Owners(), pend)
	}
	// Claim from where the partitions are going: a pending owner counts as
	// the owner, so a change during a handoff does not undo it.
	prev := r.Owners()
	for p := range prev {
		if id := r.Pending(p); id != "" {
			prev[p] = id
		}
	}
	owners, err := Rebalance(r.q, r.n, prev, ms)
	if err != nil {
		return nil, err
	}
	return assemble(r.q, r.n, r.epoch+1, ms, owners, nil)
}

// ownsRemoved reports whether a partition's owner or pending owner is
// removed in ms (a leaving node forgotten mid-handoff).
func (r *Ring) ownsRemoved(ms []Member) bool {
	gone := func(id string) bool {
		i, ok := slices.BinarySearchFunc(ms, id, func(m Member, id string) int { return cmpString(m.ID, id) })
		return ok && ms[i].State == Removed
	}
	for p := range r.q {
		if gone(r.Owner(p)) || r.Pending(p) != "" && gone(r.Pending(p)) {
			return true
		}
	}
	return false
}

// claimInputsChanged reports whether the claimants or their zones differ.
func claimInputsChanged(a, b []Member) bool {
	a, b = claimants(a), claimants(b)
	return !slices.EqualFunc(a, b, func(x, y Member) bool { return x.ID == y.ID && x.Zone == y.Zone })
}

// Stage returns the current ring on its way to target (§4.9, docs/architecture.md §5):
// target's members, owners as in r, and each partition whose owner differs
// in target pending to target's owner. Old owners keep serving until Commit.
// A partition whose owner target has removed cannot be handed off by it,
// so it goes to target's owner at once (to be rebuilt from the replicas).
// The epoch is one above the higher of the two.
func (r *Ring) Stage(target *Ring) (*Ring, error) {
	if target.q != r.q || target.n != r.n {
		return nil, ErrMismatch
	}
	owners := make([]string, r.q)
	pending := make([]string, r.q)
	for p := range owners {
		cur, next := r.Owner(p), target.Owner(p)
		if m, ok := target.Member(cur); !ok || m.State == Removed {
			cur = next
		}
		owners[p] = cur
		if cur != next {
			pending[p] = next
		}
	}
	return assemble(r.q, r.n, max(r.epoch, target.epoch)+1, target.members, owners, pending)
}

// Commit makes partition p's pending owner its owner, once that node holds
// the partition's data.
func (r *Ring) Commit(p int) (*Ring, error) {
	if p < 0 || p >= r.q {
		return nil, fmt.Errorf("%w: partition %d of %d", ErrOwners, p, r.q)
	}
	next := r.Pending(p)
	if next == "" {
		return nil, fmt.Errorf("%w: partition %d", ErrNoPending, p)
	}
	owners := r.Owners()
	owners[p] = next
	pending := make([]string, r.q)
	for i := range pending {
		if i != p {
			pending[i] = r.Pending(i)
		}
	}
	return assemble(r.q, r.n, r.epoch+1, r.members, owners, pending)
}
