package coordinator

import (
	"context"
	"errors"
	"testing"
	"time"
)

// One holder at a time per slot; another slot is independent; a stale
// token releases nothing; a lease frees a lock whose unlock never came.
func TestTxLocks(t *testing.T) {
	var l txLocks
	ctx := context.Background()
	tok, err := l.acquire(ctx, 7, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.acquire(ctx, 8, 0); err != nil {
		t.Fatalf("another slot: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := l.acquire(short, 7, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second holder of slot 7: %v, want a timeout", err)
	}
	l.release(7, tok+100) // not the holder's token
	got := make(chan uint64)
	go func() {
		t2, _ := l.acquire(ctx, 7, 30*time.Millisecond) // leased
		got <- t2
	}()
	select {
	case <-got:
		t.Fatal("slot 7 granted while held")
	case <-time.After(20 * time.Millisecond):
	}
	l.release(7, tok)
	t2 := <-got
	// The lease frees the slot without an unlock.
	t3, err := l.acquire(ctx, 7, 0)
	if err != nil || t3 == t2 {
		t.Fatalf("after the lease: token %d (leased %d), %v", t3, t2, err)
	}
	l.release(7, t2) // the expired lease's token: no effect on t3
	if _, err := l.acquire(short, 7, 0); err == nil {
		t.Fatal("slot 7 free although t3 holds it")
	}
}

// LockSlot from any node takes the one lock the slot's first live home
// replica keeps; a lease frees a lock never unlocked; when the holder is
// down the next home replica keeps the slot's locks (the documented gap:
// nodes that disagree on liveness can each grant one).
func TestLockSlotAcrossNodes(t *testing.T) {
	tc := newTestCluster(t, 3, nil)
	key := []byte("{tx}k")
	h := tc.homes(string(key), 3)
	holder, other, third := tc.nodes[h[0]], tc.nodes[h[1]], tc.nodes[h[2]]
	ctx := context.Background()
	try := func(c *Coordinator, d time.Duration) (func(), error) {
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return c.LockSlot(ctx, key)
	}

	unlock, err := other.LockSlot(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Coordinator{holder, third} {
		if _, err := try(c, 50*time.Millisecond); err == nil {
			t.Fatalf("%s took the slot's lock while %s holds it", c.cfg.Self, other.cfg.Self)
		}
	}
	if _, err := try(holder, 50*time.Millisecond); err == nil {
		t.Fatal("lock granted twice")
	}
	unlock()
	tc.settle()
	u2, err := try(holder, time.Second)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	u2()

	// A holder that never unlocks: its lease (its remaining deadline) ends.
	if _, err := try(third, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	u3, err := try(holder, 2*time.Second)
	if err != nil {
		t.Fatalf("after the lease: %v", err)
	}
	t.Logf("lease freed the slot after %v", time.Since(start))
	// The holder is declared dead: the next home replica keeps the locks,
	// although the old holder's lock is still held.
	tc.stop(h[0])
	u4, err := try(other, time.Second)
	if err != nil {
		t.Fatalf("with the holder down: %v", err)
	}
	u4()
	u3()
}
