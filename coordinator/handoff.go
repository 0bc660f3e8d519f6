package coordinator

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/dynago/dynago/internal/pace"
	"github.com/dynago/dynago/version"
)

// Hinted handoff (paper §4.6; docs/architecture.md §4 step 6). Hints live in the store's
// own keyspace, so they survive restarts of the node that holds them; a
// hint is deleted only after its home replica acknowledged it, and only if
// it did not change while it was being delivered (Store.DeleteHint). The
// loop below runs every HintInterval and whenever membership reports a
// node alive; deliveries are paced to HintRate per second so that a
// returning node is not flooded (paper §6.5).

// handoffBackoff bounds how long delivery to a target that failed waits
// before the next attempt (unless membership reports it alive again).
const handoffBackoff = 30 * time.Second

// hintBatch is how many hints one delivery round reads for a target before
// sending them; the round repeats until the target has none or fails.
const hintBatch = 256

// handoffState is the delivery loop's memory of failing targets.
type handoffState struct {
	mu    sync.Mutex
	retry map[string]handoffRetry // target -> when to try again
}

type handoffRetry struct {
	at      time.Time
	backoff time.Duration
}

// NodeAlive tells the coordinator that the failure detector sees node id
// alive (it joined or came back): hints for it are delivered right away.
func (c *Coordinator) NodeAlive(id string) {
	c.handoff.mu.Lock()
	delete(c.handoff.retry, id)
	c.handoff.mu.Unlock()
	c.kickHandoff()
}

func (c *Coordinator) kickHandoff() {
	select {
	case c.hintKick <- struct{}{}:
	default:
	}
}

func (c *Coordinator) handoffLoop() {
	t := time.NewTicker(c.cfg.HintInterval)
	defer t.Stop()
	for {
		select {
		case <-c.bg.Done():
			return
		case <-t.C:
		case <-c.hintKick:
		}
		if _, err := c.DeliverHints(c.bg); err != nil && c.bg.Err() == nil {
			c.log.Debug("hinted handoff", "err", err)
		}
	}
}

// DeliverHints runs one handoff pass: for every target with pending hints
// that is alive and not backing off, it delivers all of them. It returns
// how many were delivered. Tests call it directly instead of waiting for
// the loop.
func (c *Coordinator) DeliverHints(ctx context.Context) (int, error) {
	members := map[string]bool{}
	for _, id := range c.placement().Nodes() {
		members[id] = true
	}
	var errs []error
	total := 0
	for target, n := range c.store.HintCounts() {
		if n == 0 || !c.mayDeliver(target, members) {
			continue
		}
		k, err := c.deliverTo(ctx, target, members[target])
		total += k
		c.handoff.mu.Lock()
		if err != nil {
			r := c.handoff.retry[target]
			r.backoff = min(max(2*r.backoff, c.cfg.HintInterval), handoffBackoff)
			r.at = c.cfg.Now().Add(r.backoff)
			c.handoff.retry[target] = r
			errs = append(errs, err)
		} else {
			delete(c.handoff.retry, target)
		}
		c.handoff.mu.Unlock()
	}
	return total, errors.Join(errs...)
}

// mayDeliver reports whether hints for target should be tried now.
func (c *Coordinator) mayDeliver(target string, members map[string]bool) bool {
	if members[target] && !c.alive(target) {
		return false
	}
	c.handoff.mu.Lock()
	defer c.handoff.mu.Unlock()
	r, ok := c.handoff.retry[target]
	return !ok || !c.cfg.Now().Before(r.at)
}

type hint struct {
	p   uint16
	key []byte
	obj version.Object
}

// deliverTo hands target's hints over, a batch at a time. A target that is
// no longer a member (it was removed from the ring) cannot take them: they
// go to the key's current home replicas instead.
func (c *Coordinator) deliverTo(ctx context.Context, target string, member bool) (int, error) {
	pacer := pace.New(c.cfg.HintRate)
	delivered := 0
	for {
		var batch []hint
		err := c.store.ScanHints(target, func(p uint16, key []byte, o version.Object) bool {
			batch = append(batch, hint{p: p, key: append([]byte(nil), key...), obj: o})
			return len(batch) < hintBatch
		})
		if err != nil || len(batch) == 0 {
			return delivered, err
		}
		for _, h := range batch {
			if err := pacer.Wait(ctx, 1); err != nil {
				return delivered, err
			}
			if err := c.handOver(ctx, target, member, h); err != nil {
				return delivered, err
			}
			if _, err := c.store.DeleteHint(target, h.p, h.key, h.obj); err != nil {
				return delivered, err
			}
			delivered++
			c.stats.HintsDelivered.Add(1)
		}
	}
}

// handOver delivers one hint to its home replica, or, for a target that
// left the ring, to every current home replica of the key.
func (c *Coordinator) handOver(ctx context.Context, target string, member bool, h hint) error {
	req := &Request{Kind: MsgReplicate, Partition: h.p, Key: h.key, Object: h.obj}
	call := func(node string) error {
		if node == c.cfg.Self {
			_, _, err := c.store.Merge(h.p, h.key, h.obj)
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
		defer cancel()
		resp, err := c.tr.Call(cctx, node, req)
		if err != nil {
			return err
		}
		return resp.Err
	}
	if member {
		return call(target)
	}
	walk := c.placement().Walk(int(h.p))
	for _, node := range walk[:min(c.cfg.N, len(walk))] {
		if err := call(node); err != nil {
			return err
		}
	}
	return nil
}
