package ring

import "slices"

// Repair: the claim's last step, a deterministic local search over swaps.
//
// A swap exchanges the owners of two partitions, so every node keeps its
// count and balance cannot break. The search keeps, incrementally, each
// partition's preference list (the same walk the ring does), how many lists
// name each node, the total excess over the nodes' load bands ("bad") and
// the number of violating pairs ("viol"). A swap is kept when it lowers
// bad, or keeps bad and lowers viol within the move budget. Candidates are
// the partitions where the trouble is; partners are the partitions within a
// short reach of a candidate, and each candidate takes its best partner.
// Every loop runs in a fixed order and ends on a fixed count of
// evaluations, so the result depends only on the inputs.
//
// Re-evaluating a swap recomputes only the walks that can see the two
// partitions: those starting at most maxSpan (the longest walk so far)
// before either of them.

// globalLoadEvals bounds the swaps one global load step may evaluate.
const globalLoadEvals = 4096

// repairSweeps bounds the passes over the candidates; each pass that keeps
// no swap ends the search anyway.
const repairSweeps = 40

// initRepair computes the preference lists, counts, load targets, excess,
// violations and moves of the current owners.
func (c *claimer) initRepair() {
	q := c.q
	owners := 0
	seen := make([]bool, c.s)
	zones := make([]int, c.s) // nodes per zone among the owners
	nz := 0
	for _, x := range c.owner {
		if !seen[x] {
			seen[x] = true
			owners++
			if zones[c.zone[x]] == 0 {
				nz++
			}
			zones[c.zone[x]]++
		}
	}
	// The ring decides zone awareness from the zones of the nodes that own
	// partitions; with Q ≥ S those are all the claimants.
	c.zoneAware = c.n > 1 && nz >= c.n
	c.zw = 0
	if c.zoneAware {
		c.zw = c.n
	}
	c.l = min(c.n, owners)
	c.setTargets(zones)
	c.pref = make([]int32, q*c.l)
	c.span = make([]int32, q)
	c.cnt = make([]int32, c.s)
	for p := range q {
		sp := c.walk(p, c.pref[p*c.l:(p+1)*c.l])
		c.span[p] = int32(sp)
		c.maxSpan = max(c.maxSpan, sp)
		for _, x := range c.pref[p*c.l : (p+1)*c.l] {
			c.cnt[x]++
		}
	}
	c.bad = 0
	for x := range int32(c.s) {
		c.bad += c.excess(x, c.cnt[x])
	}
	c.viol = 0
	w := min(c.window()-1, q/2)
	for p := range q {
		for k := 1; k <= w; k++ {
			if 2*k == q && p >= q/2 {
				continue // the pair at distance Q/2 is met from both ends
			}
			if c.conflicts(c.owner[p], c.owner[(p+k)%q], k) {
				c.viol++
			}
		}
	}
	c.moves = 0
	if c.prev != nil {
		for p, x := range c.owner {
			if x != c.prev[p] {
				c.moves++
			}
		}
	}
}

// setTargets sets each node's fair load, the number of preference lists it
// should appear in, as the fraction tnum/tden. Without zones that is
// L·Q/S for everyone. With zones a list holds at most one node per zone, so
// a zone appears in at most Q lists: the N·Q list places are shared among
// zones in proportion to their nodes, except that a zone whose share would
// pass Q gets Q, and the rest is shared among the others ("water-filling").
// With zones of equal size every node's share is again N·Q/S; with a zone
// of one node among exactly N zones that node's share is all Q lists, as
// the walk must give it.
func (c *claimer) setTargets(zoneNodes []int) {
	c.tnum = make([]int64, c.s)
	c.tden = make([]int64, c.s)
	q := int64(c.q)
	if !c.zoneAware {
		for x := range c.s {
			c.tnum[x], c.tden[x] = int64(c.l)*q, int64(c.s)
		}
		return
	}
	byZone := make([]int32, 0, len(zoneNodes))
	for z, k := range zoneNodes {
		if k > 0 {
			byZone = append(byZone, int32(z))
		}
	}
	slices.SortStableFunc(byZone, func(a, b int32) int { return zoneNodes[b] - zoneNodes[a] })
	places, nodes := int64(c.n)*q, int64(c.s)
	full := make([]bool, len(zoneNodes))
	for _, z := range byZone {
		k := int64(zoneNodes[z])
		if k*places < q*nodes {
			break // this zone's share stays under Q, and so do the smaller ones'
		}
		full[z] = true
		places -= q
		nodes -= k
	}
	for x := range c.s {
		z := c.zone[x]
		if full[z] {
			c.tnum[x], c.tden[x] = q, int64(zoneNodes[z])
		} else {
			c.tnum[x], c.tden[x] = places, nodes
		}
	}
}

// walk writes the preference list of p into dst (len l) and returns how
// many partitions it visited: owners of p, p+1, … skipping a node already
// listed and, zone-aware, a node whose zone is already listed.
func (c *claimer) walk(p int, dst []int32) int {
	k, steps := 0, 0
	for steps < c.q && k < len(dst) {
		x := c.owner[(p+steps)%c.q]
		steps++
		dup := false
		for _, y := range dst[:k] {
			if y == x || c.zoneAware && c.zone[y] == c.zone[x] {
				dup = true
				break
			}
		}
		if !dup {
			dst[k] = x
			k++
		}
	}
	return steps
}

// excess is how far node x, named in cnt preference lists, lies outside its
// load band |cnt - fair| ≤ max(fair/10, 2) (docs/architecture.md §2), in units of
// 1/(10·S) lists; the arithmetic stays in integers so that every CPU gets
// the same claim.
func (c *claimer) excess(x int32, cnt int32) int64 {
	if c.q < c.s {
		return 0 // some nodes own nothing; no band to keep
	}
	a, b := c.tnum[x], c.tden[x]
	dev := 10*b*int64(cnt) - 10*a
	if dev < 0 {
		dev = -dev
	}
	e := max(0, dev-max(a, 20*b))
	return (e*int64(c.s) + b - 1) / b // rounded up: outside stays > 0
}

// pairAt is 1 when partitions i and j conflict with each other.
func (c *claimer) pairAt(i, j int) int {
	k := (j - i + c.q) % c.q
	k = min(k, c.q-k)
	if k < c.window() && c.conflicts(c.owner[i], c.owner[j], k) {
		return 1
	}
	return 0
}

// repairBuf holds the undo information of one tentative swap.
type repairBuf struct {
	stamp    []uint32 // per partition: == gen when in the affected set
	gen      uint32
	affected []int
	oldPref  []int32
	oldSpan  []int32
	nstamp   []uint32 // per node: == gen when its count changed
	changed  []int32
	oldCnt   []int32
}

// repair improves the claim in place: load first, then spread (see the
// top of this file). With previous owners, swaps that only improve spread
// must keep the moves within max(N, moves/2) of what balance needed.
func (c *claimer) repair() {
	c.initRepair()
	if c.bad == 0 && c.viol == 0 {
		return
	}
	budget := -1 // no limit on a fresh claim
	if c.prev != nil {
		budget = c.moves + max(c.n, c.moves/2)
	}
	b := &repairBuf{stamp: make([]uint32, c.q), nstamp: make([]uint32, c.s)}
	// A bound on the work, for rings where load cannot be met (zones whose
	// shares no arrangement achieves) or spread keeps improving slowly.
	evals, maxEvals := 0, 200*c.q+50_000
	// Load first: it is the rule the claim is held to. When few
	// partitions are in question take the globally best swap each time
	// (least excess, then fewest moves, then fewest violations), which
	// spends the fewest moves; when many are, sweep them, keeping each
	// one's best swap, which costs far fewer evaluations per swap kept.
	for c.bad > 0 && evals <= maxEvals {
		cands := c.candidates(true)
		if len(cands)*c.reach() <= globalLoadEvals {
			bi, bj, bestKey := -1, -1, [3]int64{}
			for _, i := range cands {
				if j, key, ok := c.bestSwap(i, budget, true, b, &evals); ok &&
					(bi < 0 || slices.Compare(key[:], bestKey[:]) < 0) {
					bi, bj, bestKey = i, j, key
				}
			}
			if bi < 0 {
				break
			}
			c.applySwap(bi, bj, b)
			continue
		}
		kept := false
		for _, i := range cands {
			if j, _, ok := c.bestSwap(i, budget, true, b, &evals); ok {
				c.applySwap(i, j, b)
				kept = true
			}
			if c.bad == 0 || evals > maxEvals {
				break
			}
		}
		if !kept {
			break
		}
	}
	// Then spread, within the move budget, without losing load.
	for range repairSweeps {
		if c.viol == 0 || evals > maxEvals {
			return
		}
		kept := false
		for _, i := range c.candidates(false) {
			if j, _, ok := c.bestSwap(i, budget, false, b, &evals); ok {
				c.applySwap(i, j, b)
				kept = true
			}
			if evals > maxEvals {
				return
			}
		}
		if !kept {
			return
		}
	}
}

// candidates lists the partitions where a swap may help: for load, the
// partitions whose lists name a node outside the band (or that it owns);
// for spread, the partitions in a violation.
func (c *claimer) candidates(load bool) []int {
	var out []int
	if load {
		off := make([]bool, c.s)
		for x := range c.s {
			off[x] = c.excess(int32(x), c.cnt[x]) > 0
		}
		for p := range c.q {
			hit := off[c.owner[p]]
			for _, x := range c.pref[p*c.l : (p+1)*c.l] {
				hit = hit || off[x]
			}
			if hit {
				out = append(out, p)
			}
		}
		return out
	}
	for p := range c.q {
		if c.conflictsAt(p, c.owner[p]) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// reach is how far from a candidate the search looks for a partner: far
// enough to meet every node (about S partitions) plus the windows on both
// sides and the longest walk.
func (c *claimer) reach() int { return min(c.q/2, c.s+2*c.window()+c.maxSpan) }

// partners calls f with every partition within reach of i, nearest first.
func (c *claimer) partners(i int, f func(j int)) {
	reach := c.reach()
	for k := 1; k <= reach; k++ {
		f((i + k) % c.q)
		if 2*k != c.q {
			f((i - k + c.q) % c.q)
		}
	}
}

// bestSwap finds the best improving swap of i with a partner within reach.
// For load the key is (excess, moves, violations): of the swaps that lower
// the excess most, the cheapest; for spread it is (excess, violations,
// moves).
func (c *claimer) bestSwap(i, budget int, load bool, b *repairBuf, evals *int) (int, [3]int64, bool) {
	best, bestKey := -1, [3]int64{}
	c.partners(i, func(j int) {
		key, ok := c.evalSwap(i, j, budget, b, evals)
		if !ok || load && key[0] >= c.bad {
			return
		}
		if load {
			key[1], key[2] = key[2], key[1]
		}
		if best < 0 || slices.Compare(key[:], bestKey[:]) < 0 {
			best, bestKey = j, key
		}
	})
	return best, bestKey, best >= 0
}

// moveDelta is the change in moves if i and j swapped owners.
func (c *claimer) moveDelta(i, j int) int {
	if c.prev == nil {
		return 0
	}
	x, y := c.owner[i], c.owner[j]
	return b2i(y != c.prev[i]) + b2i(x != c.prev[j]) - b2i(x != c.prev[i]) - b2i(y != c.prev[j])
}

// evalSwap returns the (excess, violations, moves delta) after swapping i
// and j, and whether the swap is worth considering: it must lower the
// excess, or keep it and lower the violations within the budget. The claim
// is left as it was.
func (c *claimer) evalSwap(i, j, budget int, b *repairBuf, evals *int) ([3]int64, bool) {
	x, y := c.owner[i], c.owner[j]
	if x == y {
		return [3]int64{}, false
	}
	*evals++
	dm := c.moveDelta(i, j)
	inBudget := budget < 0 || c.moves+dm <= budget
	before := c.conflictsAt(i, x) + c.conflictsAt(j, y) - c.pairAt(i, j)
	c.owner[i], c.owner[j] = y, x
	after := c.conflictsAt(i, y) + c.conflictsAt(j, x) - c.pairAt(i, j)
	viol := c.viol + after - before
	if c.bad == 0 && (viol >= c.viol || !inBudget) {
		c.owner[i], c.owner[j] = x, y
		return [3]int64{}, false
	}
	bad := c.reload(i, j, b)
	c.undo(b)
	c.owner[i], c.owner[j] = x, y
	ok := bad < c.bad || bad == c.bad && viol < c.viol && inBudget
	return [3]int64{bad, int64(viol), int64(dm)}, ok
}

// applySwap swaps i and j for good.
func (c *claimer) applySwap(i, j int, b *repairBuf) {
	x, y := c.owner[i], c.owner[j]
	dm := c.moveDelta(i, j)
	before := c.conflictsAt(i, x) + c.conflictsAt(j, y) - c.pairAt(i, j)
	c.owner[i], c.owner[j] = y, x
	after := c.conflictsAt(i, y) + c.conflictsAt(j, x) - c.pairAt(i, j)
	c.viol += after - before
	c.moves += dm
	c.bad = c.reload(i, j, b)
	for _, p := range b.affected {
		c.maxSpan = max(c.maxSpan, int(c.span[p]))
	}
}

// reload recomputes the preference lists that a change at i and j can
// touch, saving the old ones in b, and returns the new excess. A walk from
// p visits at most maxSpan partitions, so only walks starting within
// maxSpan before i or j can see them.
func (c *claimer) reload(i, j int, b *repairBuf) int64 {
	b.gen++
	b.affected, b.oldPref, b.oldSpan = b.affected[:0], b.oldPref[:0], b.oldSpan[:0]
	b.changed, b.oldCnt = b.changed[:0], b.oldCnt[:0]
	reach := min(c.maxSpan, c.q)
	for _, e := range [2]int{i, j} {
		for k := range reach {
			p := (e - k + c.q) % c.q
			if b.stamp[p] != b.gen {
				b.stamp[p] = b.gen
				b.affected = append(b.affected, p)
			}
		}
	}
	bad := c.bad
	touch := func(x int32) {
		if b.nstamp[x] != b.gen {
			b.nstamp[x] = b.gen
			b.changed = append(b.changed, x)
			b.oldCnt = append(b.oldCnt, c.cnt[x])
			bad -= c.excess(x, c.cnt[x])
		}
	}
	for _, p := range b.affected {
		list := c.pref[p*c.l : (p+1)*c.l]
		b.oldPref = append(b.oldPref, list...)
		b.oldSpan = append(b.oldSpan, c.span[p])
		for _, x := range list {
			touch(x)
			c.cnt[x]--
		}
		c.span[p] = int32(c.walk(p, list))
		for _, x := range list {
			touch(x)
			c.cnt[x]++
		}
	}
	for _, x := range b.changed {
		bad += c.excess(x, c.cnt[x])
	}
	return bad
}

// undo restores what reload changed.
func (c *claimer) undo(b *repairBuf) {
	for k, p := range b.affected {
		copy(c.pref[p*c.l:(p+1)*c.l], b.oldPref[k*c.l:(k+1)*c.l])
		c.span[p] = b.oldSpan[k]
	}
	for k, x := range b.changed {
		c.cnt[x] = b.oldCnt[k]
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
