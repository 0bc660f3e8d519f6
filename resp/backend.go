package resp

import (
	"context"

	"github.com/dynago/dynago/coordinator"
	"github.com/dynago/dynago/version"
)

// Backend is what the RESP front end needs from the store. The coordinator
// implements it; handler tests use an in-memory fake. Every method must be
// safe for concurrent use and must honour ctx (the request deadline, and
// cancellation on server shutdown).
//
// Memory ownership: the keys and values passed to Write and WriteMany are
// copies the server never touches again, so a backend may keep them (e.g.
// to finish replicating after it answered). The keys passed to Get,
// GetMany and Scan's callback point into connection buffers and are valid
// only during the call. Returned objects are only read by the server.
type Backend interface {
	// Get returns the key's object merged from a read quorum. A missing key
	// is the zero Object, not an error.
	Get(ctx context.Context, key []byte) (version.Object, error)
	// GetMany is Get for several keys (MGET, EXISTS); results are in the
	// order of keys. The backend may group keys by coordinator.
	GetMany(ctx context.Context, keys [][]byte) ([]version.Object, error)
	// Write applies op to key through the key's coordinator.
	Write(ctx context.Context, key []byte, op coordinator.Op) (coordinator.Result, error)
	// WriteMany applies ops[i] to keys[i] (MSET, DEL k1 k2 …). Each key
	// succeeds or fails on its own; errs[i] is nil on success.
	WriteMany(ctx context.Context, keys [][]byte, ops []coordinator.Op) (results []coordinator.Result, errs []error)
	// Scan walks the keys that hold a live value, starting at cursor (0
	// begins a new walk), calling fn for each until it has visited about
	// count keys. It returns the cursor to continue from, 0 when the walk is
	// complete. Keys added or removed during a walk may or may not be seen,
	// as in Redis; every key present for the whole walk is seen at least once.
	Scan(ctx context.Context, cursor uint64, count int, fn func(key []byte)) (next uint64, err error)
	// DBSize counts keys holding a live value (an estimate in a cluster).
	DBSize(ctx context.Context) (int64, error)
	// FlushAll deletes every key.
	FlushAll(ctx context.Context) error
	// Info returns the backend's INFO sections (keyspace, persistence,
	// cluster, replication, hints, ...) in display order.
	Info(ctx context.Context) []InfoSection
}

// ParallelReads is an optional interface of a Backend. runBatch runs the
// independent commands of a pipeline concurrently when that pays (wave.go):
// always for waves with a write (writes wait on an fsync that concurrent
// writes can share), but for reads only when ParallelReads reports true,
// meaning a read waits on other nodes (a cluster of more than one node).
// A local read is a map or cache lookup of a microsecond, which a
// goroutine hand-off would only slow down. A Backend without the method
// is treated as local. ParallelReads is called once per wave of reads, so
// the answer may change as the cluster grows or shrinks; it must be cheap
// and safe for concurrent use.
type ParallelReads interface {
	ParallelReads() bool
}

// InfoSection is one "# Name" block of INFO.
type InfoSection struct {
	Name   string // e.g. "Keyspace"; matched case-insensitively by INFO <section>
	Fields []InfoField
}

// InfoField is one "key:value" line of INFO.
type InfoField struct {
	Key, Value string
}
