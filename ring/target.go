package ring

// Target returns the ring as it will be once every pending handoff is
// committed: the same members and epoch, each partition owned by its
// pending owner where it has one. It is r itself when nothing is pending.
//
// During a handoff (docs/architecture.md §5) reads use r's preference lists and writes go
// to the union of r's and Target's, so a node that is about to become a
// home replica receives every write while it streams the partition.
func (r *Ring) Target() *Ring {
	if r.pending == nil {
		return r
	}
	r.targetOnce.Do(func() {
		owners := r.Owners()
		for p := range owners {
			if id := r.Pending(p); id != "" {
				owners[p] = id
			}
		}
		t, err := assemble(r.q, r.n, r.epoch, r.members, owners, nil)
		if err != nil {
			// Every pending owner is a member (assemble checked it when r
			// was built), so this cannot fail; keep r rather than panic.
			t = r
		}
		r.target = t
	})
	return r.target
}

// HasPending reports whether any partition is being handed off.
func (r *Ring) HasPending() bool {
	for p := range r.q {
		if r.Pending(p) != "" {
			return true
		}
	}
	return false
}

// CommitTo commits, in one change (Epoch+1), every partition pending to
// node id, keeping only those for which held(p) is true. It returns r
// itself when there is nothing to commit.
func (r *Ring) CommitTo(id string, held func(p int) bool) (*Ring, error) {
	if r.pending == nil {
		return r, nil
	}
	owners := r.Owners()
	pending := make([]string, r.q)
	moved := false
	for p := range r.q {
		pend := r.Pending(p)
		if pend == id && held(p) {
			owners[p] = id
			moved = true
			continue
		}
		pending[p] = pend
	}
	if !moved {
		return r, nil
	}
	return assemble(r.q, r.n, r.epoch+1, r.members, owners, pending)
}
