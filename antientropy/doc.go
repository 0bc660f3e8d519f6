// Package antientropy implements replica synchronisation with Merkle trees
// (Dynamo §4.7, docs/architecture.md §7): the pure core — trees, the diff between two
// replicas' trees, and the wire and on-disk encodings. It does no I/O; the
// network side and the engine's partition scan wrap it.
//
// # What a tree covers
//
// One Tree covers one partition on one node: every key the node stores for
// that partition, whichever replica role it plays. Two replicas of a
// partition compare their trees to find the keys one holds in a version the
// other lacks.
//
// # Leaves, segments and hashes
//
// The partition's key space is cut into Leaves() segments (default 1024,
// fanout 32: a root over 32 branches over 32 leaves each). A key's segment
// is the top bits of a seeded xxhash of the key alone — not of its
// partition, object or node — so a key lands in the same segment on every
// replica (Tree.Segment; its values are pinned by a test because replicas
// must agree on them).
//
// A leaf's hash is the XOR of version.Hash(key, object) over the keys in
// its segment; version.Hash covers the key and its version vector, which
// stands for the whole object, and is 0 for a missing object. An inner
// node's hash is the XOR of its children's, so every node is the XOR of the
// object hashes beneath it and the root is the XOR of the whole partition.
// This is the "tictac" tree of Riak 3 (kv_tictac_tree), not the paper's
// hash-of-hashes tree.
//
// # Why XOR
//
// XOR is its own inverse and order-free. A write that replaces a key's
// object changes one term: Update(key, old, new) XORs old^new into the
// key's leaf and each node up to the root, O(depth) and without reading
// any other key. A hash-of-hashes tree would have to rehash the whole
// segment (read every key in it) on each write, or be rebuilt periodically
// from a scan, as Riak 2's hashtrees were. The price is weaker integrity:
// differences that XOR to zero cancel. For random 64-bit hashes that is a
// 2^-64 chance per segment and exchange, and the trees are compared only
// between trusted replicas, never as proof against tampering.
//
// # The exchange
//
// Exchange is the initiator's side as a state machine (like raft's
// RawNode: no goroutines, no I/O); the peer answers with Tree.Answer and a
// scan of its keys. Both trees must have the same shape. For depth D:
//
//  1. The initiator asks for the peer's root (LevelRequest{0, nil}). Equal
//     roots end the exchange: one round, 2 bytes out and 9 back.
//  2. At each depth d = 1..D it asks for the children of the nodes that
//     differed at depth d-1 and compares them with its own
//     (Tree.DiffChildren). Branches whose hashes agree are never descended.
//  3. The nodes that differ at depth D are the differing segments. The
//     initiator asks the peer for its (key, hash) list of those segments,
//     lists its own, and KeysDiff splits the keys into only-local,
//     only-remote and differing; the caller then repairs them with the
//     DVV merge (docs/architecture.md §3): the keys one side lacks travel one way, the
//     differing ones both ways.
//
// A difference is never missed (except through the XOR cancellation
// above) and never invented: every differing segment holds a differing
// key. Writes racing with an exchange may make a difference appear or
// vanish; the next exchange settles it.
//
// # Costs
//
// Tree hashes cross the network only along differing paths: at most
// (differing segments) × fanout × depth hashes of 8 bytes, 1 hash for
// equal replicas. The key round sends (key, hash) for every key of each
// differing segment, so its bytes are (differing segments) × (keys per
// segment) × (key length + 9): proportional to the difference, not the
// data, until most segments hold a difference. Exchange.Cost counts the
// bytes in each direction. Measured for a partition of 100k keys
// (TestExchangeCost), bytes moved in all:
//
//	leaves  differing keys  segments  bytes      share of all (key, hash)
//	1024    0.1 %              98      180 KB     10 %
//	1024    1 %               627      1.1 MB     62 %
//	1024    10 %             1024      1.8 MB    100 % (every segment differs)
//	65536   0.1 %             100       43 KB    2.4 %
//	65536   1 %               991      260 KB     15 %
//	65536   10 %             9268      911 KB     52 %
//
// So leaves should grow with the partition: about one leaf per 8–16 keys
// keeps the key round close to the differing keys, at 8 bytes of memory
// per leaf and tree.
//
// Bytes are not the whole cost. Finding a segment's keys needs a scan of
// the partition's keys on disk, O(partition) reads, on both sides, because
// keys are stored in key order, not segment order (docs/architecture.md §6): the scan
// hashes each key and keeps those in the differing segments
// (Tree.SegmentFilter). Rebuilding a tree (Build) is the same scan. Both
// must be rate-limited by the caller (docs/architecture.md §7, paper §6.5).
//
// # Concurrency contract
//
// The engine calls Update on every local write, with the key's lock held
// (so the old hash it passes is the one in the tree), possibly from many
// goroutines at once for different keys of the same partition. Every
// method of Tree is safe for concurrent use: one mutex per tree guards the
// hashes, held for depth+1 XORs in Update and for a copy in Level, Answer,
// Clone and MarshalBinary, so readers always see a consistent tree (every
// node the XOR of its children). Trees of different partitions share
// nothing. Two exceptions: Build installs a tree computed from its
// iterator, so Updates made while it iterates are lost or counted twice
// (build from a snapshot and replay, or hold the partition's writes); and
// UnmarshalBinary must run before the tree is shared.
//
// Why a mutex and not atomics: BenchmarkUpdateParallel compares the two
// with every goroutine updating the same tree (the worst case). On the
// 2-CPU test machine an Update costs 21 ns alone with the mutex and 25 ns
// with a compare-and-swap per node (sync/atomic has no XOR), and 25–100 ns
// against about 68 ns under contention: no clear winner, both far below
// the microseconds of the write itself, and atomics would let a reader see
// a leaf updated before its parent. An Exchange is driven by one goroutine.
//
// # Persistence
//
// MarshalBinary saves a tree (shape, leaf hashes and a checksum; inner
// nodes are recomputed on load), so a node can save its trees on clean
// shutdown and load them at start instead of scanning every partition. A
// saved tree is valid only if no write reached the partition after it was
// saved: the caller deletes the file once loaded, and rebuilds after a
// crash.
//
// # Wire encodings
//
// AppendLevelRequest, AppendHashes, AppendSegments and AppendKeyHashes
// encode the exchange's messages; their decoders take bytes from the
// network and return ErrMalformed for forged input, never a panic or an
// allocation larger than a small multiple of the input (they are fuzzed).
package antientropy
