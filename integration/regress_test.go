package integration

// Reproductions of product bugs the integration tests found. Each test
// states what it expects; the bug is described in the report to the lead.

import (
	"strings"
	"testing"
	"time"
)

// A node restarted with a stored ring must rejoin the cluster it was in,
// even when it has no --join (the seed that created the ring) or its seeds
// are down: its stored ring names every member and its cluster address.
//
// Today the restarted seed only contacts its --join seeds (none), and the
// others never contact a node they saw die once gossip about the death has
// died down, so the cluster stays split in two failure-detector views:
// the seed sees the others dead, they see it dead, each side keeps hints
// for the other and nothing is delivered.
func TestClusterRestartedSeedRejoins(t *testing.T) {
	c := NewCluster(t, 3)
	seed := c.Nodes[0] // started without --join
	seed.Kill()
	c.WaitAlive(15*time.Second, seed, false, c.Others(seed)...)
	// The outage lasts a few seconds, as a crash and a restart by hand
	// would: by then the gossip about the death has died down, and only
	// the restarted node can make contact.
	time.Sleep(3 * time.Second)
	seed.Start()
	c.WaitRing(15 * time.Second)
}

// A node that cannot start (here: its client port is taken) must exit with
// a clear error, not a nil-pointer panic in its cleanup.
func TestStartFailureIsACleanError(t *testing.T) {
	first := NewProc(t)
	first.Start()
	second := NewProc(t)
	second.Port = first.Port
	second.Launch()
	err := second.Wait(30 * time.Second)
	if err == nil {
		t.Fatalf("a second node on the port of the first exited 0:\n%s", second.Log())
	}
	log := second.Log()
	if strings.Contains(log, "panic:") || !strings.Contains(log, "address already in use") {
		t.Fatalf("a node whose port is taken exited with %v; want a clear error, got:\n%s", err, log)
	}
}
