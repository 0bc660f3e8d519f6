// Package coordinator is the Dynamo request path (paper §4.5 execution of
// get and put, §4.6 sloppy quorum and hinted handoff, §5 read repair;
// docs/architecture.md §4).
//
// Any node accepts any request. For a key it computes the partition and
// the walk of the ring (Placement.Walk: the N home replicas, then the
// fallbacks) and picks the request's targets (Targets): the healthy home
// replicas, plus for each unhealthy one the next healthy fallback, which
// receives the data as a hint for the replica it stands in for.
//
// Writes (put.go). A healthy home replica coordinates; another node
// forwards the write to the first healthy home replica, once. The
// coordinator reads its local object (after a quorum read for writes that
// depend on the current value: Op.NeedsRead), applies the op with Apply —
// a pure function that mints the write's dot with the coordinator's actor —
// stores the result durably and sends the resulting object to the other
// targets, which merge it (version.Merge). So every copy of one write
// carries the same dot and replicas converge (docs/architecture.md §3). The client is
// answered after W durable copies; replica writes still in flight carry on
// in the background on the coordinator's own context (never cancelled with
// the request), and one that fails becomes a hint kept by the coordinator.
// A failed write says whether it may have been applied (errors.go).
//
// Counters, hashes, sets and sorted sets (OpTyped, and the INCR family)
// are applied by crdt.Apply in the same way. Those that only add or
// increment apply to the local object without a quorum read; removals and
// conditional writes read a quorum first (crdt.Op.NeedsRead).
//
// Reads (get.go) may be coordinated by any node: the targets are read in
// parallel, the first R answers merged and returned, and a read repair
// (readrepair.go) waits briefly for the rest and sends the merged object to
// every replica that answered with less.
//
// Hinted handoff (handoff.go): hints are stored in the engine's hint
// keyspace, delivered when membership reports the home replica alive (and
// every HintInterval), paced to HintRate, and deleted only after the home
// replica acknowledged them.
//
// Pub/sub (pubsub.go) is not data: Publish queues a message for every
// other live node, and a sender per peer carries batches (MsgPublish) in
// order, at most once, never making the publisher wait; Deps.Deliver hands
// a peer's messages to this node's subscribers.
//
// The replica side of every internode request is HandleRPC (handlers.go).
// The internode transport is a seam (Transport): RPC (rpc.go) over TCP on
// the cluster port, pipelined and multiplexed per peer; MemNetwork
// (memtransport.go) in memory, with partitions, blackholes, drops and
// delays, for the in-process cluster tests.
//
// Goroutines: the coordinator owns the handoff loop, one pub/sub sender
// per peer it has published to, and every piece of
// request work that outlives its request (replica writes after the answer,
// read repairs), bounded by RequestTimeout; Close drains them and stops.
// The pure parts — Apply, Targets, Clamp, Tally — have no I/O.
//
// A single node is a ring of one: every request is served from the local
// store with no network round trip and no goroutine.
package coordinator
