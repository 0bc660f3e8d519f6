package ring

// Membership over real sockets on loopback (paper §4.8): nodes that name
// each other as seeds converge on one ring; a node the failure detector
// declares dead stays in the ring; rings survive restarts; another cluster
// secret keeps a node out.

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

type memMeta struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memMeta) GetMeta(name string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[name]
	return b, ok, nil
}

func (s *memMeta) PutMeta(name string, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[name] = append([]byte(nil), v...)
	return nil
}

type testMember struct {
	mem   *Membership
	port  *ClusterPort
	meta  *memMeta
	self  Member
	rings chan *Ring
}

// startTestMember starts a membership on a free loopback port.
func startTestMember(t *testing.T, name, secret string, meta *memMeta, seeds ...string) *testMember {
	t.Helper()
	if meta == nil {
		meta = &memMeta{m: map[string][]byte{}}
	}
	port, err := ListenCluster(ClusterPortConfig{
		Addr:     "127.0.0.1:0",
		IsRPC:    func(byte) bool { return false },
		ServeRPC: func(c net.Conn) { c.Close() },
	})
	if err != nil {
		t.Fatal(err)
	}
	tm := &testMember{port: port, meta: meta, rings: make(chan *Ring, 100)}
	tm.self = Member{ID: MemberID(name), Name: name, ClientAddr: "127.0.0.1:1", ClusterAddr: port.AdvertiseAddr(), State: Valid}
	tm.mem, err = StartMembership(MembershipConfig{
		Self: tm.self, Q: 64, N: 3, Seeds: seeds, Secret: secret, Port: port, Store: meta,
		OnRing: func(old, cur *Ring) {
			select {
			case tm.rings <- cur:
			default:
			}
		},
		ProbeInterval: 100 * time.Millisecond, ProbeTimeout: 50 * time.Millisecond,
		GossipInterval: 20 * time.Millisecond, PushPullInterval: 300 * time.Millisecond,
		SuspicionMult: 2, BootstrapAfter: 300 * time.Millisecond,
	})
	if err != nil {
		port.Shutdown()
		t.Fatal(err)
	}
	t.Cleanup(func() { tm.mem.Shutdown() })
	return tm
}

// eventually polls cond until it holds or the deadline passes: the
// processes under test converge over real sockets and timers, so there is
// nothing to wait on but their state.
func eventually(t *testing.T, d time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v: %v", what, d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sameRing(ms ...*testMember) error {
	r0 := ms[0].mem.Ring()
	if r0 == nil {
		return fmt.Errorf("node 0 has no ring")
	}
	for i, m := range ms[1:] {
		r := m.mem.Ring()
		if r == nil || !r.Equal(r0) {
			return fmt.Errorf("node %d's ring differs from node 0's", i+1)
		}
	}
	return nil
}

func TestMembershipConvergesOnOneRing(t *testing.T) {
	a := startTestMember(t, "a", "s", nil)
	b := startTestMember(t, "b", "s", nil, a.port.AdvertiseAddr())
	c := startTestMember(t, "c", "s", nil, b.port.AdvertiseAddr())
	eventually(t, 10*time.Second, "three nodes in one ring", func() error {
		if err := sameRing(a, b, c); err != nil {
			return err
		}
		if n := len(a.mem.Ring().Members()); n != 3 {
			return fmt.Errorf("%d members", n)
		}
		// The ring may reach a node (gossiped by b) before memberlist's
		// alive message about c does: liveness converges too.
		for _, m := range []*testMember{a, b, c} {
			for _, o := range []*testMember{a, b, c} {
				if !m.mem.Alive(o.self.ID) {
					return fmt.Errorf("%s does not see %s alive", m.self.Name, o.self.Name)
				}
			}
		}
		return nil
	})
	// A node the failure detector declares dead stays in the ring.
	c.mem.Shutdown()
	eventually(t, 10*time.Second, "c seen dead", func() error {
		if a.mem.Alive(c.self.ID) || b.mem.Alive(c.self.ID) {
			return fmt.Errorf("still alive")
		}
		return nil
	})
	if _, ok := a.mem.Ring().Member(c.self.ID); !ok {
		t.Fatal("a dead node left the ring")
	}
}

func TestMembershipNodesStartedTogetherBootstrapOneRing(t *testing.T) {
	// Every node names the others as seeds and none has a ring: after the
	// bootstrap wait one ring wins and the others join it.
	ports := make([]*ClusterPort, 0, 3)
	for range 3 {
		p, err := ListenCluster(ClusterPortConfig{Addr: "127.0.0.1:0", IsRPC: func(byte) bool { return false }, ServeRPC: func(c net.Conn) { c.Close() }})
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, p)
	}
	addrs := []string{ports[0].AdvertiseAddr(), ports[1].AdvertiseAddr(), ports[2].AdvertiseAddr()}
	for _, p := range ports {
		p.Shutdown() // free the ports for the members to bind
	}
	var ms []*testMember
	for i := range 3 {
		ms = append(ms, startTestMemberAt(t, fmt.Sprintf("n%d", i), addrs[i], addrs))
	}
	eventually(t, 15*time.Second, "one ring of three", func() error {
		if err := sameRing(ms...); err != nil {
			return err
		}
		if n := len(ms[0].mem.Ring().Members()); n != 3 {
			return fmt.Errorf("%d members", n)
		}
		return nil
	})
}

func startTestMemberAt(t *testing.T, name, addr string, seeds []string) *testMember {
	t.Helper()
	port, err := ListenCluster(ClusterPortConfig{Addr: addr, IsRPC: func(byte) bool { return false }, ServeRPC: func(c net.Conn) { c.Close() }})
	if err != nil {
		t.Skipf("port %s taken again: %v", addr, err)
	}
	tm := &testMember{port: port, meta: &memMeta{m: map[string][]byte{}}, rings: make(chan *Ring, 100)}
	tm.self = Member{ID: MemberID(name), Name: name, ClientAddr: "127.0.0.1:1", ClusterAddr: addr, State: Valid}
	var others []string
	for _, s := range seeds {
		if s != addr {
			others = append(others, s)
		}
	}
	tm.mem, err = StartMembership(MembershipConfig{
		Self: tm.self, Q: 64, N: 3, Seeds: others, Secret: "s", Port: port, Store: tm.meta,
		ProbeInterval: 100 * time.Millisecond, ProbeTimeout: 50 * time.Millisecond,
		GossipInterval: 20 * time.Millisecond, PushPullInterval: 300 * time.Millisecond,
		SuspicionMult: 2, BootstrapAfter: 500 * time.Millisecond,
	})
	if err != nil {
		port.Shutdown()
		t.Fatal(err)
	}
	t.Cleanup(func() { tm.mem.Shutdown() })
	return tm
}

func TestMembershipRingSurvivesRestart(t *testing.T) {
	a := startTestMember(t, "a", "s", nil)
	b := startTestMember(t, "b", "s", nil, a.port.AdvertiseAddr())
	eventually(t, 10*time.Second, "two nodes", func() error {
		if err := sameRing(a, b); err != nil {
			return err
		}
		if n := len(a.mem.Ring().Members()); n != 2 {
			return fmt.Errorf("%d members", n)
		}
		return nil
	})
	epoch := b.mem.Ring().Epoch()
	b.mem.Shutdown()
	// b restarts with no seeds: it keeps its stored ring, not a new one.
	b2 := startTestMember(t, "b", "s", b.meta)
	if r := b2.mem.Ring(); r == nil || r.Epoch() < epoch || len(r.Members()) != 2 {
		t.Fatalf("restarted node's ring: %v", r)
	}
}

func TestMembershipOtherSecretStaysOut(t *testing.T) {
	a := startTestMember(t, "a", "one", nil)
	x := startTestMember(t, "x", "two", nil, a.port.AdvertiseAddr())
	// x never joins a's ring: it bootstraps its own after the wait.
	eventually(t, 5*time.Second, "x makes its own ring", func() error {
		if x.mem.Ring() == nil {
			return fmt.Errorf("no ring yet")
		}
		return nil
	})
	time.Sleep(time.Second) // give gossip a chance to (wrongly) mix them
	if _, ok := a.mem.Ring().Member(x.self.ID); ok {
		t.Fatal("a node with another secret entered the ring")
	}
	if a.mem.Alive(x.self.ID) {
		t.Fatal("a node with another secret is seen alive")
	}
}
