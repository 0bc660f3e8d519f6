package resp

import (
	"context"

	"github.com/dynago/dynago/coordinator"
	"github.com/dynago/dynago/crdt"
	"github.com/dynago/dynago/version"
)

// A key's whole value, whatever its type, for the commands that move or
// describe keys: RENAME, RENAMENX, COPY, DUMP, RESTORE, OBJECT, MEMORY.
// Each type has one case in readKey and storeKey; a new type (lists) adds
// its case there.

// keyValue is one key's live value as read through a quorum.
type keyValue struct {
	typ     version.Type   // TypeString (a counter too), TypeHash, TypeSet, TypeZSet
	counter bool           // typ is TypeString read from a counter
	str     []byte         // a string's value (a counter's number)
	els     []crdt.Element // a collection's elements, sorted by field
	expiry  int64          // unix ms; 0 for none
	written int64          // the live version's timestamp (unix ms)
	vv      version.VV     // the context of what was read
}

// readKey reads key's live value; found is false for a missing key.
func (s *Server) readKey(ctx context.Context, key []byte) (kv keyValue, found bool, err error) {
	o, err := s.b.Get(ctx, key)
	if err != nil {
		return kv, false, err
	}
	now := s.nowMs()
	live, ok := o.Value(now)
	s.stats.hit(ok)
	if !ok {
		return kv, false, nil
	}
	kv = keyValue{typ: live.Type, expiry: live.Expiry, written: live.Timestamp, vv: o.VV}
	switch live.Type {
	case version.TypeString, version.TypeCounter:
		kv.typ, kv.counter = version.TypeString, live.Type == version.TypeCounter
		kv.str, _, _, err = crdt.StringValue(o, now)
	case version.TypeHash, version.TypeSet, version.TypeZSet:
		kv.els, _, err = crdt.Elements(o, live.Type, now)
	default:
		err = crdt.ErrWrongType
	}
	return kv, true, err
}

// readKeyOrNil is readKey for the commands that answer nil for a missing
// key (DUMP, OBJECT, MEMORY USAGE); ok is false after the error or nil.
func (s *Server) readKeyOrNil(ctx context.Context, w *Writer, key []byte) (keyValue, bool) {
	kv, found, err := s.readKey(ctx, key)
	switch {
	case err != nil:
		s.writeErr(w, err, false)
	case !found:
		w.WriteNull()
	}
	return kv, err == nil && found
}

// storeKey writes kv to key with kv's expiry, replacing what key holds,
// or only if key holds nothing when nx (then res.Applied tells). A
// counter is stored as the string of its number (INCR makes it a counter
// again); a hash field that is a counter as its number too.
func (s *Server) storeKey(ctx context.Context, w *Writer, key []byte, kv keyValue, nx bool) (coordinator.Result, bool) {
	if kv.typ == version.TypeString {
		return s.writeValue(ctx, w, key, kv.str, coordinator.Op{Kind: coordinator.OpSet, ExpireAt: kv.expiry, NX: nx})
	}
	op := crdt.Op{Kind: crdt.OpStore, Type: kv.typ, Int: kv.expiry, Fields: make([][]byte, len(kv.els))}
	if nx {
		op.Flags = crdt.FlagNX
	}
	if kv.typ != version.TypeSet {
		op.Values = make([][]byte, len(kv.els))
	}
	for i, e := range kv.els {
		op.Fields[i] = e.Field
		switch kv.typ {
		case version.TypeHash:
			op.Values[i] = e.Value
		case version.TypeZSet:
			op.Values[i] = crdt.FormatScore(e.Score)
		}
	}
	return s.writeTyped(ctx, w, key, op)
}

// deleteRead deletes what kv was read from: a tombstone with the read's
// context, so that a write to key the read had not seen survives (as
// DELCTX does).
func (s *Server) deleteRead(ctx context.Context, w *Writer, key []byte, kv keyValue) bool {
	_, ok := s.write(ctx, w, ownKey(key), coordinator.Op{Kind: coordinator.OpDelete, UseContext: true, Context: kv.vv})
	return ok
}
