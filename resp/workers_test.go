package resp

// Tests of the pipeline workers (workers.go): reuse across waves, the idle
// limit by the server's clock, and Shutdown joining them.

import (
	"context"
	"testing"
	"time"
)

func TestWaveWorkers(t *testing.T) {
	var f *inflight
	h := newHookHarness(t, &hookBackend{hook: func(ctx context.Context, _ []byte, write bool) error {
		return f.enter(ctx)
	}})
	tc := newTestConn(t, h.s)
	// wave runs n SETs that all wait until all n are in flight: the
	// connection's goroutine and n-1 helpers, each on a worker.
	wave := func(n int) {
		t.Helper()
		f = newInflight(n)
		var lines []string
		for i := range n {
			lines = append(lines, "SET k"+itoa(i)+" v")
		}
		for _, r := range tc.replies(lines...) {
			if r != "OK" {
				t.Fatalf("wave of %d: %s", n, r)
			}
		}
	}
	wave(4)
	if got := h.s.workers.parked(); got != 3 {
		t.Fatalf("after a wave of 4: %d workers parked, want 3", got)
	}
	wave(4)
	if got := h.s.workers.parked(); got != 3 {
		t.Fatalf("after a second wave of 4: %d workers parked, want the same 3", got)
	}
	// Parked longer than workerIdle: the next hand-off stops them.
	h.clock.advance(workerIdle + time.Second)
	wave(2)
	if got := h.s.workers.parked(); got != 1 {
		t.Fatalf("after idling and a wave of 2: %d workers parked, want 1", got)
	}
	if err := h.s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h.s.workers.parked(); got != 0 {
		t.Fatalf("after Shutdown: %d workers parked", got)
	}
	// goleak (TestMain) checks that Shutdown joined them.
}
