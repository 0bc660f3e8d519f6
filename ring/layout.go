package ring

import "slices"

// The fresh claim: a layout of the claimants in blocks (see claim.go).

// blockOrder is the order claimants take within a block: by ID, or, with
// zones, spread so that each zone's nodes lie as evenly over the block as
// its size allows (zones of sizes 2, 1, 1 come out as A B A C, not the
// A B C A of a plain round robin, which would put A twice in a row across
// the block boundary).
func (c *claimer) blockOrder() []int32 {
	order := make([]int32, 0, c.s)
	if !c.zoneAware {
		for i := range c.s {
			order = append(order, int32(i))
		}
		return order
	}
	byZone := c.byZone(nil)
	sizes := make([]int, len(byZone))
	for z, nodes := range byZone {
		sizes[z] = len(nodes)
	}
	next := make([]int, len(byZone))
	for _, z := range evenly(sizes, c.s) {
		order = append(order, byZone[z][next[z]])
		next[z]++
	}
	return order
}

// byZone groups the claimants by zone, in the order given (nil: by ID).
func (c *claimer) byZone(order []int32) [][]int32 {
	groups := make([][]int32, c.zones)
	if order == nil {
		for i := range c.s {
			groups[c.zone[i]] = append(groups[c.zone[i]], int32(i))
		}
		return groups
	}
	for _, x := range order {
		groups[c.zone[x]] = append(groups[c.zone[x]], x)
	}
	return groups
}

// evenly returns a sequence of total slots in which group g fills quota[g]
// slots (Σ quota = total), each group's slots as evenly spaced as the others
// allow. It is earliest-deadline-first: the j-th slot of a group with k
// slots is released at j·total/k and due at (j+1)·total/k, and each slot
// goes to the released group due first (ties: the larger quota, then the
// lower group number). Integer cross-multiplication keeps it exact.
func evenly(quota []int, total int) []int32 {
	seq := make([]int32, 0, total)
	next := make([]int, len(quota)) // slots each group has had
	for slot := range total {
		best := -1
		for g, k := range quota {
			j := next[g]
			if j == k || j*total > slot*k { // done, or not released yet
				continue
			}
			if best < 0 {
				best = g
				continue
			}
			kb, jb := quota[best], next[best]
			if d := (j+1)*kb - (jb+1)*k; d < 0 || d == 0 && k > kb {
				best = g
			}
		}
		if best < 0 {
			// Unreachable: slot < total slots are placed, so some group is
			// behind its schedule (j·total ≤ slot·k). Take any unfinished
			// group rather than trust that with a panic.
			for g, k := range quota {
				if next[g] < k {
					best = g
					break
				}
			}
		}
		seq = append(seq, int32(best))
		next[best]++
	}
	return seq
}

// layout makes a fresh claim out of blocks, each block the claimants in
// blockOrder. With Q = K·S + r, r > 0, there are two ways to share out the
// remainder, and variant picks one (and rotates the order):
//
//   - omit: K+1 blocks with S-r single omissions spread over them. A node in
//     two consecutive blocks is S minus the omissions between its two
//     places apart, so spacing holds when that stays ≥ N; it suits S > N.
//   - insert: K blocks, r of them carrying one node twice, once in its place
//     and once h places later. With few extra nodes and S close to N (S = N
//     = 3, Q = 256) that costs one violating pair where omissions cost four.
//
// Variants beyond the first exist because the repair that follows is local:
// the fresh claim tries them in turn and keeps the best (see claim).
func (c *claimer) layout(variant int) {
	if variant%4 == 3 {
		c.spread()
		return
	}
	order := c.blockOrder()
	s, q := c.s, c.q
	rot := (variant / 4) * s / 2 % s
	order = slices.Concat(order[rot:], order[:rot])
	if q <= s {
		copy(c.owner, order[:q])
		return
	}
	k, r := q/s, q%s
	if r == 0 {
		for p := range q {
			c.owner[p] = order[p%s]
		}
		return
	}
	p := 0
	put := func(x int32) { c.owner[p] = x; p++ }
	if variant%4 == 0 {
		blocks, omit := k+1, s-r
		// The omitted nodes, as places in order, spread evenly over it.
		list := make([]int, omit)
		for i := range omit {
			list[i] = i * s / omit
		}
		next := 0
		for b := range blocks {
			m := (b+1)*omit/blocks - b*omit/blocks
			skip := list[next : next+m]
			next += m
			for j, x := range order {
				if !slices.Contains(skip, j) {
					put(x)
				}
			}
		}
		return
	}
	// Insert: the i-th extra node is order[i·S/r], carried by block i·K/r
	// a second time, h places after its own (at the block's end for the
	// second mode, half a block on for the third). With more extras than
	// blocks a block carries several.
	h := s - 1
	if variant%4 == 2 {
		h = (s - 1) / 2
	}
	next := 0
	var extras []int
	for b := range k {
		extras = extras[:0]
		for next < r && next*k/r == b {
			extras = append(extras, next*s/r)
			next++
		}
		for j, x := range order {
			put(x)
			for _, e := range extras {
				if j == min(e+h, s-1) {
					put(order[e])
				}
			}
		}
	}
}

// spread is the fourth layout, for zones: it lays out the zone sequence
// over all Q partitions at once, each zone as evenly as its share allows
// (evenly, over the ring rather than a block), then deals each zone's
// partitions to its nodes in turn. With N equal zones and N ∤ Q the zones
// then clash once, where blocks of nodes clash at every omission. The
// Q mod S extra partitions go to the first nodes of blockOrder, so they are
// spread over the zones too.
func (c *claimer) spread() {
	s, q := c.s, c.q
	order := c.blockOrder()
	quota := make([]int, s)
	for i, x := range order {
		quota[x] = q / s
		if i < q%s {
			quota[x]++
		}
	}
	members := c.byZone(order)
	zq := make([]int, c.zones)
	for _, x := range order {
		zq[c.zone[x]] += quota[x]
	}
	deal := make([]int, c.zones) // turn within each zone's members
	got := make([]int, s)
	for p, z := range evenly(zq, q) {
		ms := members[z]
		for got[ms[deal[z]%len(ms)]] == quota[ms[deal[z]%len(ms)]] {
			deal[z]++
		}
		x := ms[deal[z]%len(ms)]
		deal[z]++
		got[x]++
		c.owner[p] = x
	}
}
