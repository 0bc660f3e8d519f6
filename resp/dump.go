package resp

import (
	"context"
	"errors"
	"math"
	"strings"

	"github.com/dynago/dynago/coordinator"
	"github.com/dynago/dynago/crdt"
	"github.com/dynago/dynago/rdb"
	"github.com/dynago/dynago/version"
)

// DUMP and RESTORE in Redis's serialization format (package rdb), so that
// tools moving keys between redis-server and dynago work in both
// directions. RESTORE writes the key as RENAME writes its destination
// (storeKey); IDLETIME and FREQ are checked and ignored, dynago keeping
// no access times.

// rdbValue converts kv to the codec's form.
func (kv keyValue) rdbValue() rdb.Value {
	switch kv.typ {
	case version.TypeHash:
		v := rdb.Value{Kind: rdb.Hash}
		for _, e := range kv.els {
			v.Fields, v.Values = append(v.Fields, e.Field), append(v.Values, e.Value)
		}
		return v
	case version.TypeSet:
		return rdb.Value{Kind: rdb.Set, Fields: fieldsOf(kv.els)}
	case version.TypeZSet:
		v := rdb.Value{Kind: rdb.ZSet}
		for _, e := range kv.els {
			v.Fields, v.Scores = append(v.Fields, e.Field), append(v.Scores, e.Score)
		}
		return v
	}
	return rdb.Value{Kind: rdb.String, Str: kv.str}
}

// keyValueOf converts a decoded value to what storeKey writes.
func keyValueOf(v rdb.Value) keyValue {
	var kv keyValue
	switch v.Kind {
	case rdb.String:
		return keyValue{typ: version.TypeString, str: v.Str}
	case rdb.Hash:
		kv.typ = version.TypeHash
	case rdb.Set:
		kv.typ = version.TypeSet
	case rdb.ZSet:
		kv.typ = version.TypeZSet
	}
	kv.els = make([]crdt.Element, len(v.Fields))
	for i, f := range v.Fields {
		kv.els[i].Field = f
		switch v.Kind {
		case rdb.Hash:
			kv.els[i].Value = v.Values[i]
		case rdb.ZSet:
			kv.els[i].Score = v.Scores[i]
		}
	}
	return kv
}

// DUMP key: the payload, or nil for a missing key.
func (s *Server) cmdDump(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	kv, ok := s.readKeyOrNil(ctx, w, args[1])
	if !ok {
		return
	}
	w.WriteBulk(rdb.Encode(kv.rdbValue()))
}

// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds]
// [FREQ frequency], checking in Redis's order: options, the key's
// absence (without REPLACE), the TTL, then the payload.
func (s *Server) cmdRestore(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	var replace, absTTL, idle, freq bool
	for i := 4; i < len(args); i++ {
		more := i+1 < len(args)
		switch {
		case eqFold(args[i], "replace"):
			replace = true
		case eqFold(args[i], "absttl"):
			absTTL = true
		case eqFold(args[i], "idletime") && more && !freq:
			i++
			n, ok := parseInt64(args[i])
			if !ok {
				w.WriteError(msgNotInteger)
				return
			}
			if n < 0 {
				w.WriteError("ERR Invalid IDLETIME value, must be >= 0")
				return
			}
			idle = true
		case eqFold(args[i], "freq") && more && !idle:
			i++
			n, ok := parseInt64(args[i])
			if !ok {
				w.WriteError(msgNotInteger)
				return
			}
			if n < 0 || n > 255 {
				w.WriteError("ERR Invalid FREQ value, must be >= 0 and <= 255")
				return
			}
			freq = true
		default:
			w.WriteError(msgSyntax)
			return
		}
	}
	if !replace {
		o, err := s.b.Get(ctx, args[1])
		if err != nil {
			s.writeErr(w, err, false)
			return
		}
		if _, live := o.Value(s.nowMs()); live {
			w.WriteError(msgBusyKey)
			return
		}
	}
	ttl, ok := parseInt64(args[2])
	if !ok {
		w.WriteError(msgNotInteger)
		return
	}
	if ttl < 0 {
		w.WriteError("ERR Invalid TTL value, must be >= 0")
		return
	}
	v, err := rdb.Decode(args[3])
	switch {
	case errors.Is(err, rdb.ErrChecksum):
		w.WriteError("ERR DUMP payload version or checksum are wrong")
		return
	case errors.Is(err, rdb.ErrUnsupported):
		w.WriteError("ERR Bad data format: " + strings.TrimPrefix(err.Error(), "rdb: ") + " (dynago stores strings, hashes, sets and sorted sets)")
		return
	case err != nil:
		w.WriteError("ERR Bad data format")
		return
	}
	kv := keyValueOf(v)
	if ttl > 0 && !absTTL {
		ttl = min(ttl, math.MaxInt64-s.nowMs()) + s.nowMs() // no wrap past the end of time
	}
	if ttl > 0 && ttl <= s.nowMs() {
		// Already expired: Redis answers OK and leaves no key (deleting
		// the old one with REPLACE).
		if replace {
			if _, ok := s.write(ctx, w, ownKey(args[1]), coordinator.Op{Kind: coordinator.OpDelete}); !ok {
				return
			}
		}
		w.WriteOK()
		return
	}
	kv.expiry = ttl
	res, ok := s.storeKey(ctx, w, args[1], kv, !replace)
	switch {
	case !ok:
	case !res.Applied:
		w.WriteError(msgBusyKey) // written concurrently since the check above
	default:
		w.WriteOK()
	}
}

// msgBusyKey is RESTORE's error for an existing key without REPLACE.
const msgBusyKey = "BUSYKEY Target key name already exists."
