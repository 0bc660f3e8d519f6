package pace

import (
	"context"
	"testing"
	"time"
)

func TestPacerSpacesItemsOut(t *testing.T) {
	p := New(1000) // 1 ms an item
	start := time.Now()
	for range 5 {
		if err := p.Wait(context.Background(), 10); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 50*time.Millisecond {
		t.Fatalf("50 items at 1000/s took %v, want at least 50ms", el)
	}
}

func TestPacerStopsWithItsContext(t *testing.T) {
	p := New(1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Wait(ctx, 100); err == nil {
		t.Fatal("Wait on a cancelled context returned nil")
	}
}

func TestPacerBanksNoBurstAfterIdling(t *testing.T) {
	p := New(100) // 10 ms an item
	p.next = time.Now().Add(-time.Hour)
	start := time.Now()
	if err := p.Wait(context.Background(), 5); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 40*time.Millisecond {
		t.Fatalf("5 items after an idle hour took %v: the idle time was banked", el)
	}
}
