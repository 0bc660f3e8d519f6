// Package version implements dynago's causal clock: dotted version vector
// sets (DVV sets), the paper's data versioning (Dynamo §4.4) as refined by
// Almeida et al., "Scalable and Accurate Causality Tracking for Eventually
// Consistent Stores" (2014), and used by Riak 2.0 as dvv_enabled.
//
// An Object is what one key holds on one replica: a version vector (VV)
// summarising every write the object has seen, and the siblings — the
// concurrent versions still alive — each stamped with the dot (actor,
// counter) of the write that made it.
//
// Two operations change objects:
//
//   - Put is a client write applied by the coordinator: it mints a new dot
//     for its actor, drops the siblings the client's context covers and keeps
//     the rest. Only coordinators call Put; replicas never mint dots.
//   - Merge is the DVV-set sync used everywhere else (replica writes, read
//     reconciliation, read repair, hinted handoff, anti-entropy). It is
//     commutative, associative and idempotent, so replicas converge whatever
//     order objects travel in.
//
// Typed keys (counters, hashes, sets, sorted sets; package crdt) use the
// same Object: a sibling has a Type, and an element of a collection has a
// Field. One write may stamp several siblings (a header and the elements
// it sets) with its one dot, so siblings are identified and ordered by
// (dot, field), and Merge's rule, applied per element, is an add-wins
// observed-remove set. Winner, Value, Live and Dead look at the key's own
// versions (the siblings without a field); a collection's header counts
// as live only while the object holds one of its elements, and the
// tombstone a removal or delete of a collection leaves yields to elements
// added concurrently.
//
// Invariants of a well-formed Object (checked by Decode and by Validate):
// the VV is sorted by actor with positive counters; siblings are sorted by
// (dot, field), are distinct, and every dot is covered by the VV.
//
// An actor is one incarnation of one node (node id prefix + incarnation
// number created with the data directory), so a node whose disk was wiped
// can never reuse a counter it handed out before (Riak's KV679 bug).
//
// Contexts handed to clients are the VV encoded as an opaque URL-safe token
// (EncodeContext / DecodeContext). The package is a leaf: it imports nothing
// of dynago's.
package version
