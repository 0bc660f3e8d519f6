// Package node assembles one dynago node: the storage engine, the node's
// identity, the coordinator and the RESP front end, and owns their
// lifetimes. cmd/dynago turns flags into a Config and runs a Node; tests
// start Nodes in-process the same way.
//
// docs/architecture.md §1 has no such package: the wiring lives here rather than in
// cmd/dynago so that tests and benchmarks can start real nodes without a
// subprocess.
//
// Identity (docs/architecture.md §3): a node's id is derived from its name, so a node that
// comes back with the same name — even on a wiped disk — is the same ring
// member. Its incarnation is created with the data directory and renewed
// after every unclean shutdown, so the actor that names its writes' dots can
// never reuse a counter a crash may have lost (Riak's KV679).
package node
