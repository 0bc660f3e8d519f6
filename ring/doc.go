// Package ring places keys on nodes: Dynamo's partitioning (§4.2) and
// replication (§4.3) with fixed, equal partitions (§6.2, strategy 3), and
// the membership state that gossip carries (§4.8) and that adding and
// removing nodes changes (§4.9). See docs/architecture.md §2 (from a key to its replicas)
// and §5 (membership and the ring).
//
// It is pure: no goroutines, no I/O, no clock. Gossip (hashicorp/memberlist),
// handoff and the request path live in other packages and use a *Ring as a
// value.
//
// # From a key to its replicas
//
//	key ──Slot──▶ slot ──PartitionOf──▶ partition ──PreferenceList──▶ N node IDs
//
// Step by step:
//
//   - Slot is Redis Cluster's CRC16-XMODEM of the key mod 16384, honouring
//     {hash tags}, so cluster-aware Redis clients compute the slot we do.
//   - The 16384 slots are cut into Q equal partitions, Q a power of two
//     fixed at cluster creation (default 256): partition = slot / (16384/Q).
//     This is the paper's strategy 3: partitions are the unit of ownership,
//     transfer and anti-entropy, and their boundaries never move.
//   - The Ring maps each partition to one owner. A partition's preference
//     list walks partitions p, p+1, … collecting owners, skipping a node
//     already listed and, when the owners span at least N zones, a node whose
//     zone is already listed, until it holds min(N, owners) nodes: the key's
//     home replicas. Walk continues past them with every other owner in order
//     of first appearance, the fallbacks a sloppy quorum uses (§4.6).
//
// Both are precomputed for every partition when a ring is built (New,
// Decode, every With… change), so PreferenceList and Walk cost a slice
// expression and no allocation on the request path. The table holds Q ×
// owners strings (1 MiB at Q = 4096 with 16 nodes), capped at 2^20 entries,
// and is built in O(Q × owners) time.
//
// # The claim
//
// Which node owns which partition is decided by the claim (claim.go; its
// header explains the algorithm). With S nodes that may own partitions
// (state Valid or Joining) it guarantees that:
//
//   - every such node owns floor(Q/S) or ceil(Q/S) partitions;
//   - every preference list holds min(N, S) distinct nodes, in distinct
//     zones when the owners span at least N zones (by the walk itself);
//   - each node appears in about N·Q/S preference lists, within 10 % or 2
//     lists, whichever is looser (with zones of unequal size: its zone's fair
//     share, see claim.go), checked for S 1..16, N 1..5, Q 64..4096;
//   - a node's partitions lie at least N apart, and a zone's too, wherever
//     the numbers allow (S = N = 3 with Q = 256 does not; the claim then
//     keeps the violations few), and except where the load rule above needs
//     a near pair (Q = 64 with 9 to 15 nodes);
//   - adding a node moves about Q/(S+1) partitions and removing one about
//     the partitions it owned: each change starts from the current owners;
//   - the same inputs give the same ring on every node.
//
// # Membership and versions
//
// A Ring is immutable and safe for concurrent use. Each change (WithMember,
// WithoutMember, WithZone, WithState) returns a new ring with Epoch+1 and,
// when who claims or where changed, a new claim. Membership changes only by
// operator action (§4.8): a node that failure detection marks dead keeps its
// partitions. Removed members stay as tombstones so that a stale gossip
// message cannot bring them back.
//
// Moving a partition without losing writes (§4.9, docs/architecture.md §5) uses the
// pending owner: Stage puts a new claim onto the current ring as pending
// owners (the old owner keeps serving; writes go to both), and Commit makes
// a pending owner the owner once it holds the data.
//
// Rings travel in gossip as Encode's compact, versioned, canonical bytes;
// Decode validates every bound before it allocates. Merge picks between two
// versions deterministically (higher epoch, then a hash of the encoding,
// then the bytes), so every node converges on the same ring whatever order
// gossip delivers them in.
//
// # Usage
//
//	r, err := ring.New(256, 3, []ring.Member{
//		{ID: ring.MemberID("a"), Name: "a", ClientAddr: "10.0.0.1:6379", ClusterAddr: "10.0.0.1:7379"},
//		…
//	})
//	p := r.PartitionOf(key)
//	replicas := r.PreferenceList(p) // home replicas; writes go to the first healthy one
//	r2, err := r.WithMember(newNode)  // epoch+1, about Q/(S+1) partitions move
//	moved := r.Diff(r2)
package ring
