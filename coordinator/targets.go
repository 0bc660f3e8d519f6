package coordinator

// Target is one node a request goes to. A fallback node standing in for an
// unhealthy home replica carries HintFor, the home replica's id (paper
// §4.6): it keeps the write as a hint and hands it over later.
type Target struct {
	Node    string
	HintFor string // "" for a home replica
}

// Targets picks where a request for a key goes, from the key's walk (the
// distinct nodes in preference order: the n home replicas first, then the
// fallbacks) and a health view. It is a pure function (STYLE 3).
//
//   - Every healthy home replica is a target.
//   - Each unhealthy home replica is stood in for by the next healthy
//     fallback of the walk, in order.
//   - A home replica left without a stand-in (fewer healthy nodes than
//     n+1 — a small cluster) is returned in orphans: the coordinator keeps
//     its hint itself (docs/architecture.md §4 step 3).
//
// self is always healthy in its own view.
func Targets(walk []string, n int, self string, alive func(id string) bool) (targets []Target, orphans []string) {
	n = min(n, len(walk))
	healthy := func(id string) bool { return id == self || alive(id) }
	var down []string
	for _, id := range walk[:n] {
		if healthy(id) {
			targets = append(targets, Target{Node: id})
		} else {
			down = append(down, id)
		}
	}
	for _, id := range walk[n:] {
		if len(down) == 0 {
			break
		}
		if healthy(id) {
			targets = append(targets, Target{Node: id, HintFor: down[0]})
			down = down[1:]
		}
	}
	return targets, down
}

// Clamp returns the effective quorum: q (or def when q is 0) limited to the
// number of replicas a key has, which is less than N in a cluster smaller
// than N (docs/architecture.md §2). It is at least 1.
func Clamp(q, def, replicas int) int {
	if q <= 0 {
		q = def
	}
	return max(1, min(q, replicas))
}

// Vote is the state of a quorum: still waiting, reached, or lost.
type Vote int

// The quorum states.
const (
	VotePending Vote = iota
	VoteWon
	VoteLost
)

// Tally counts answers toward a quorum of need out of total requests, the
// way raft's quorum package does for votes: a pure state machine the
// request path feeds replies into.
type Tally struct {
	need, total  int
	acks, failed int
}

// NewTally starts counting toward need of total.
func NewTally(need, total int) Tally { return Tally{need: need, total: total} }

// Ack records a success and returns the new state.
func (t *Tally) Ack() Vote { t.acks++; return t.State() }

// Fail records a failure and returns the new state.
func (t *Tally) Fail() Vote { t.failed++; return t.State() }

// Acks is the number of successes so far.
func (t *Tally) Acks() int { return t.acks }

// State is VoteWon once need successes arrived, VoteLost once so many
// failed that need can no longer be reached, else VotePending.
func (t *Tally) State() Vote {
	switch {
	case t.acks >= t.need:
		return VoteWon
	case t.total-t.failed < t.need:
		return VoteLost
	}
	return VotePending
}
