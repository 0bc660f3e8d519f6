// Package crdt gives dynago Redis's counters, hashes, sets and sorted sets
// as convergent replicated data types (paper §4.4's reconciliation, done
// by the store instead of the application).
//
// A typed key lives in the same version.Object as a string key: the DVV
// set's merge (version.Merge) is the only merge there is. What makes a type
// convergent is how its state is spread over siblings:
//
//   - The key's header is a sibling without a field. It names the type and
//     carries the key's expiry; for a counter it also holds the counter's
//     state. The newest header (version.Object.Winner) decides what the key
//     is, as the newest value does for a string.
//   - Each element of a collection (a hash field, a set member, a sorted
//     set member) is a sibling whose Field names it, stamped with the dot
//     of the write that added or last set it. A set member's dots are an
//     add-wins observed-remove set without tombstones (ORSWOT): removing a
//     member drops the dots the remover has seen, and the merge drops a dot
//     that one side holds and the other has seen but no longer holds. A
//     concurrent add carries a dot the remover never saw, so it survives.
//     A removal that empties the collection writes a tombstone of the
//     collection's type, which yields to elements added concurrently; a
//     collection whose elements are all gone reads as missing.
//   - A hash field's or a score's concurrent values are concurrent siblings
//     of that field: the newest timestamp is read, and the next write of the
//     field replaces them all. HINCRBY, HINCRBYFLOAT and ZINCRBY make the
//     value a counter, whose concurrent versions join instead.
//   - Removing the last element, or deleting the key, writes a tombstone of
//     the collection's type. It drops the elements its writer had seen and
//     yields to elements added concurrently, so a delete is observed-remove
//     too.
//   - A counter is a PN-counter: per actor (node incarnation) the sum of its
//     increments and of its decrements, plus the base a string held when it
//     was converted. Its join takes each actor's maximum, so increments made
//     through any nodes, on both sides of a partition, add up exactly.
//
// Apply is the coordinator's side: a pure function from the key's object
// and an Op to the next object (no I/O, no clock but the time it is given).
// The read functions (StringValue, Hash, Set, ZSet, …) interpret an object
// for the RESP layer. Nothing here has goroutines or I/O.
package crdt
