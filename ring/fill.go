package ring

import "slices"

// Rebalancing from previous owners: targets, orphans, then transfers from
// the nodes above target (see claim.go).

// fill rebalances from the previous owners: it sets targets, hands out the
// orphans, then moves partitions from nodes above target to nodes below.
func (c *claimer) fill() {
	q, s := c.q, c.s
	cur := make([]int, s)
	for _, x := range c.owner {
		if x >= 0 {
			cur[x]++
		}
	}
	// Targets: everyone gets floor(Q/S); the Q mod S extra slots go to the
	// nodes owning most already (ties by ID), which minimises moves.
	target := make([]int, s)
	byCur := make([]int, s)
	for i := range s {
		target[i] = q / s
		byCur[i] = i
	}
	slices.SortStableFunc(byCur, func(a, b int) int { return cur[b] - cur[a] })
	for _, i := range byCur[:q%s] {
		target[i]++
	}
	need := make([]int, s)  // partitions still to take
	spare := make([]int, s) // partitions still to give
	for i := range s {
		need[i] = max(0, target[i]-cur[i])
		spare[i] = max(0, cur[i]-target[i])
	}

	// Orphans first, in ring order: each goes to the node with room that
	// conflicts least there, then lies farthest from its own partitions
	// (spread), then needs most, then comes first.
	for p := range q {
		if c.owner[p] >= 0 {
			continue
		}
		best, bestKey := int32(-1), [3]int{}
		for t := range int32(s) {
			if need[t] == 0 {
				continue
			}
			key := [3]int{c.conflictsAt(p, t), -c.ownDistance(p, t, q/target[t]), -need[t]}
			if best < 0 || slices.Compare(key[:], bestKey[:]) < 0 {
				best, bestKey = t, key
			}
		}
		c.owner[p] = best
		need[best]--
	}

	// Then the nodes still short take from nodes above target, the most
	// needy first.
	for {
		t := int32(-1)
		for i := range int32(s) {
			if need[i] > 0 && (t < 0 || need[i] > need[t]) {
				t = i
			}
		}
		if t < 0 {
			break
		}
		if c.countOf(t) == 0 { // a joiner no orphan went to
			c.takeGrid(t, need, spare)
		} else {
			for need[t] > 0 {
				c.takeBest(t, need, spare)
			}
		}
	}
}

// takeGrid gives a node that owned nothing its partitions on an even grid:
// the k-th lands near offset + k·Q/need, on the partition there that
// conflicts least, belonging to the donor with most to spare (so donors run
// out evenly), nearest the grid point. The offset comes from the node's ID
// so that successive joiners do not all start at partition 0.
func (c *claimer) takeGrid(t int32, need, spare []int) {
	q := c.q
	total := need[t]
	off := int(c.seed[t] % uint64(q))
	half := q / total / 2
	for k := range total {
		g := off + k*q/total
		best, bestKey := -1, [5]int{}
		consider := func(p int, dist int) {
			x := c.owner[p]
			if x == t || spare[x] == 0 {
				return
			}
			key := [5]int{c.conflictsAt(p, t), -c.conflictsAt(p, x), -spare[x], dist, p}
			if best < 0 || slices.Compare(key[:], bestKey[:]) < 0 {
				best, bestKey = p, key
			}
		}
		for dd := 0; dd <= half; dd++ {
			consider((g+dd)%q, dd)
			if dd > 0 {
				consider((g-dd+q)%q, dd)
			}
		}
		if best < 0 {
			for dd := half + 1; dd <= q/2 && best < 0; dd++ {
				consider((g+dd)%q, dd)
				consider((g-dd+q)%q, dd)
			}
		}
		spare[c.owner[best]]--
		c.owner[best] = t
		need[t]--
	}
}

// takeBest gives node t one partition from a donor: the one that conflicts
// least, lies farthest from t's own partitions (capped at the spacing t
// would have if evenly spread), and whose donor has most to spare.
func (c *claimer) takeBest(t int32, need, spare []int) {
	q := c.q
	limit := max(1, q/(need[t]+c.countOf(t)))
	best, bestKey := -1, [4]int{}
	for p := range q {
		x := c.owner[p]
		if x == t || spare[x] == 0 {
			continue
		}
		key := [4]int{c.conflictsAt(p, t), -c.ownDistance(p, t, limit), -c.conflictsAt(p, x), -spare[x]}
		if best < 0 || slices.Compare(key[:], bestKey[:]) < 0 {
			best, bestKey = p, key
		}
	}
	spare[c.owner[best]]--
	c.owner[best] = t
	need[t]--
}

func (c *claimer) countOf(t int32) int {
	n := 0
	for _, x := range c.owner {
		if x == t {
			n++
		}
	}
	return n
}
