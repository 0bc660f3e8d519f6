package coordinator

import (
	"context"
	"time"

	"github.com/dynago/dynago/version"
)

// repairAfterRead finishes a read in the background (paper §5): it waits up
// to ReadRepairWait for the pending replies, merges them in, and sends the
// merged object to every replica that answered with less. Repairs in flight
// are bounded by MaxRepairs; beyond that a repair is skipped and counted,
// and anti-entropy catches up later.
func (c *Coordinator) repairAfterRead(rt route, key []byte, merged version.Object, got []readReply, late <-chan readReply, pending int) {
	if pending == 0 && !diverged(merged, got) {
		return
	}
	select {
	case c.repairs <- struct{}{}:
	default:
		c.stats.RepairsSkipped.Add(1)
		return
	}
	if !c.goBG(func() {
		defer func() { <-c.repairs }()
		c.readRepair(rt, key, merged, got, late, pending)
	}) {
		<-c.repairs
	}
}

// diverged reports whether some successful reply differs from merged.
func diverged(merged version.Object, got []readReply) bool {
	for _, g := range got {
		if g.err == nil && !g.obj.VV.Equal(merged.VV) {
			return true
		}
	}
	return false
}

func (c *Coordinator) readRepair(rt route, key []byte, merged version.Object, got []readReply, late <-chan readReply, pending int) {
	if pending > 0 {
		timer := time.NewTimer(c.cfg.ReadRepairWait)
		defer timer.Stop()
	wait:
		for ; pending > 0; pending-- {
			select {
			case rep := <-late:
				got = append(got, rep)
				if rep.err == nil {
					merged = version.Merge(merged, rep.obj)
				}
			case <-timer.C:
				break wait
			case <-c.bg.Done():
				return
			}
		}
	}
	if merged.IsZero() {
		return
	}
	p := uint16(rt.p)
	dead := merged.Dead(c.nowMs())
	for _, g := range got {
		if g.err != nil || g.obj.VV.Equal(merged.VV) {
			continue
		}
		if dead && g.obj.IsZero() {
			// A replica with nothing has nothing to resurrect, and it may
			// have reaped the key already: no tombstone is copied to it
			// (the rule anti-entropy follows too).
			continue
		}
		if err := c.repairReplica(g.t, p, key, merged); err != nil {
			c.log.Debug("read repair failed", "node", g.t.Node, "err", err)
			continue
		}
		c.stats.ReadRepairs.Add(1)
	}
}

// repairReplica merges obj into target t's copy of key.
func (c *Coordinator) repairReplica(t Target, p uint16, key []byte, obj version.Object) error {
	if t.Node == c.cfg.Self {
		if t.HintFor != "" {
			return c.store.PutHint(t.HintFor, p, key, obj)
		}
		_, _, err := c.store.Merge(p, key, obj)
		return err
	}
	ctx, cancel := context.WithTimeout(c.bg, c.cfg.RequestTimeout)
	defer cancel()
	resp, err := c.tr.Call(ctx, t.Node, &Request{Kind: MsgReplicate, Partition: p, Key: key, Object: obj, HintFor: t.HintFor})
	if err != nil {
		return err
	}
	return resp.Err
}
