package coordinator

import (
	"fmt"
	"testing"
	"time"
)

// pubReceived returns how many messages node i was handed.
func (tc *testCluster) pubReceived(i int) []PubMessage {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return append([]PubMessage(nil), tc.pub[i]...)
}

// waitPub waits until node i was handed n messages.
func (tc *testCluster) waitPub(i, n int) []PubMessage {
	tc.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := tc.pubReceived(i)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			tc.t.Fatalf("node %d got %d of %d messages", i, len(got), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPublishBroadcast: every other node receives every message once, in
// the order it was published; the publisher's node gets none back.
func TestPublishBroadcast(t *testing.T) {
	tc := newTestCluster(t, 3, nil)
	const n = 3000
	for i := range n {
		tc.nodes[0].Publish(i%2 == 0, []byte("ch"), []byte(fmt.Sprint(i)))
	}
	for _, node := range []int{1, 2} {
		got := tc.waitPub(node, n)
		if len(got) != n {
			t.Fatalf("node %d got %d messages, want %d", node, len(got), n)
		}
		for i, m := range got {
			if string(m.Message) != fmt.Sprint(i) || string(m.Channel) != "ch" || m.Shard != (i%2 == 0) {
				t.Fatalf("node %d message %d: %+v", node, i, m)
			}
		}
	}
	tc.settle()
	if got := tc.pubReceived(0); len(got) != 0 {
		t.Errorf("the publishing node was handed %d of its own messages", len(got))
	}
	if s := tc.nodes[0].Stats(); s.PubSent.Load() != 2*n || s.PubDropped.Load() != 0 {
		t.Errorf("PubSent %d PubDropped %d, want %d, 0", s.PubSent.Load(), s.PubDropped.Load(), 2*n)
	}
}

// TestPublishPeerDown: messages for a dead or unanswering peer are
// dropped without holding up the publisher or the other peers.
func TestPublishPeerDown(t *testing.T) {
	tc := newTestCluster(t, 3, func(c *Config) { c.RequestTimeout = 200 * time.Millisecond })
	tc.net.Blackhole(tc.ids[0], tc.ids[2]) // node 2 looks alive but never answers
	start := time.Now()
	for i := range 100 {
		tc.nodes[0].Publish(false, []byte("ch"), []byte(fmt.Sprint(i)))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Publish blocked %v on an unanswering peer", d)
	}
	if got := tc.waitPub(1, 100); len(got) != 100 {
		t.Fatalf("node 1 got %d messages", len(got))
	}
	tc.stop(2) // now the failure detector says so too
	for i := range 10 {
		tc.nodes[0].Publish(false, []byte("ch"), []byte(fmt.Sprint(100+i)))
	}
	tc.waitPub(1, 110)
	deadline := time.Now().Add(10 * time.Second)
	for tc.nodes[0].Stats().PubDropped.Load() < 110 {
		if time.Now().After(deadline) {
			t.Fatalf("PubDropped = %d, want 110 (every message for node 2)", tc.nodes[0].Stats().PubDropped.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
