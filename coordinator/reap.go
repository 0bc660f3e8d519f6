package coordinator

import (
	"context"
	"slices"

	"github.com/dynago/dynago/version"
)

// MayReap decides whether this node may delete a dead object (every
// sibling a tombstone or expired) whose grace period has passed; the
// engine's sweep asks it (engine.Config.MayReap). The rule (docs/architecture.md §6):
// a tombstone is reaped only when every other home replica of the key —
// current and incoming — is alive and answers with a version that has seen
// the tombstone (its version vector descends ours) or with nothing at all,
// and this node holds no hint for the key. A replica that still holds an
// older version could otherwise bring the key back after the tombstone is
// gone; a replica that is away simply delays the reap until it returns and
// receives the tombstone (by hint, read repair or anti-entropy). A node
// that is not a home replica never reaps here: handing its data off
// deletes it.
//
// A fallback that holds an old hint for the key and stays away longer than
// the grace period is the one case this cannot see; the grace period
// (--tombstone-grace, default 1 h) must exceed the longest outage of a node
// holding hints.
func (c *Coordinator) MayReap(p uint16, key []byte, o version.Object) bool {
	pl := c.placement()
	walk := pl.Walk(int(p))
	homes := append(slices.Clone(walk[:min(c.cfg.N, len(walk))]), pl.Incoming(int(p))...)
	if !slices.Contains(homes, c.cfg.Self) {
		return false
	}
	for target := range c.store.HintCounts() {
		if _, ok, err := c.store.GetHint(target, p, key); err != nil || ok {
			return false
		}
	}
	ctx, cancel := context.WithTimeout(c.bg, c.cfg.RequestTimeout)
	defer cancel()
	for _, h := range homes {
		if h == c.cfg.Self {
			continue
		}
		if !c.alive(h) {
			return false
		}
		resp, err := c.tr.Call(ctx, h, &Request{Kind: MsgRead, Partition: p, Key: key})
		if err != nil || resp.Err != nil {
			return false
		}
		if !resp.Object.IsZero() && !resp.Object.VV.Descends(o.VV) {
			return false
		}
	}
	return true
}

// InFlight is the number of client requests this node is coordinating or
// forwarding right now: the foreground load background work yields to
// (paper §6.5).
func (c *Coordinator) InFlight() int64 { return c.inflightReqs.Load() }
