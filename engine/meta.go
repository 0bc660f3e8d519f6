package engine

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Node metadata ('m' keyspace): the node's identity and incarnation
// (node/identity.go), later the ring and cluster identity. Values are
// opaque to the engine.

// GetMeta returns the metadata stored under name, and whether there is any.
// The value is a copy.
func (e *Engine) GetMeta(name string) ([]byte, bool, error) {
	if err := e.enter(); err != nil {
		return nil, false, err
	}
	defer e.exit()
	v, closer, err := e.db.Get(metaKey(name))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("engine: read meta %q: %w", name, err)
	}
	defer closer.Close()
	return bytes.Clone(v), true, nil
}

// PutMeta stores v under name and fsyncs it before returning, whatever the
// durability mode: metadata such as the incarnation must never go back in
// time after a crash (docs/architecture.md §3, the KV679 lesson). Concurrent PutMeta
// calls for one name are last-writer-wins.
func (e *Engine) PutMeta(name string, v []byte) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.exit()
	if e.serialises(alwaysSync) {
		e.syncMu.Lock()
		defer e.syncMu.Unlock()
	}
	b := e.db.NewBatch()
	_ = b.Set(metaKey(name), v, nil)
	pd, err := e.apply(b, alwaysSync)
	if err != nil {
		return err
	}
	return e.finish(pd)
}
