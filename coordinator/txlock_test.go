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
