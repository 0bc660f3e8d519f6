package pace

import (
	"context"
	"time"
)

// Pacer lets items through at a rate per second. It is owned by one
// goroutine.
type Pacer struct {
	interval time.Duration
	next     time.Time
}

// New returns a pacer for rate items per second (rate > 0).
func New(rate int) *Pacer {
	return &Pacer{interval: time.Second / time.Duration(rate), next: time.Now()}
}

// Wait blocks until n more items may proceed, or ctx ends.
func (p *Pacer) Wait(ctx context.Context, n int) error {
	now := time.Now()
	if p.next.Before(now.Add(-time.Second)) {
		p.next = now // no banked burst after idling
	}
	p.next = p.next.Add(time.Duration(n) * p.interval)
	return Sleep(ctx, p.next.Sub(now))
}

// Sleep waits for d or until ctx ends, whichever is first.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
