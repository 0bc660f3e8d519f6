package resp

import (
	"context"
	"math/rand/v2"
	"strconv"

	"github.com/dynago/dynago/coordinator"
	"github.com/dynago/dynago/crdt"
)

// Keyspace commands: DEL, UNLINK, EXISTS (and TOUCH, which counts the
// same: dynago keeps no access time), TYPE, SCAN, KEYS, RANDOMKEY.

// DEL key [key ...], UNLINK key [key ...]: a tombstone per key with the
// coordinator's context (docs/architecture.md §3); the reply counts keys that held a
// live value.
func (s *Server) cmdDel(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	keys := own(args[1:]...)
	ops := make([]coordinator.Op, len(keys))
	for i := range ops {
		ops[i] = coordinator.Op{Kind: coordinator.OpDelete}
	}
	res, errs := s.b.WriteMany(ctx, keys, ops)
	if err := firstErr(errs, len(keys)); err != nil {
		s.writeErr(w, err, true)
		return
	}
	n := int64(0)
	for i, r := range res {
		if r.Applied {
			n++
			s.notify(notifyGeneric, "del", keys[i])
		}
	}
	w.WriteInt(n)
}

// EXISTS key [key ...] counts the live keys, a repeated key each time.
func (s *Server) cmdExists(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	objs, ok := s.getMany(ctx, w, args[1:])
	if !ok {
		return
	}
	now := s.nowMs()
	n := int64(0)
	for _, o := range objs {
		if _, ok := o.Value(now); ok {
			n++
		}
	}
	w.WriteInt(n)
}

// TYPE key: string (counters too), hash, set, zset, or none.
func (s *Server) cmdType(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	o, err := s.b.Get(ctx, args[1])
	if err != nil {
		s.writeErr(w, err, false)
		return
	}
	if t, ok := crdt.KeyType(o, s.nowMs()); ok {
		w.WriteSimple(t.String())
	} else {
		w.WriteSimple("none")
	}
}

// scanDefaultCount is SCAN's COUNT when none is given (Redis: 10).
const scanDefaultCount = 10

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]. The cursor is
// the backend's (Backend.Scan); MATCH and TYPE filter what one call
// visited, so a call may return fewer keys than COUNT, or none, with a
// non-zero cursor, as in Redis.
func (s *Server) cmdScan(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	o, ok := parseScanOpts(w, args[1:], true)
	if !ok {
		return
	}
	var keys keyList
	next, err := s.b.Scan(ctx, o.cursor, int(min(o.count, 1<<20)), func(key []byte) {
		keys.add(key, o.pattern)
	})
	if err == nil && o.typ != nil {
		keys, err = s.keepType(ctx, keys, o.typ)
	}
	if err != nil {
		s.writeErr(w, err, false)
		return
	}
	if keys.undecided {
		w.WriteError(msgPatternLimit)
		return
	}
	w.WriteArray(2)
	w.WriteBulkString(strconv.FormatUint(next, 10))
	keys.write(w)
}

// scanOpts are the options of SCAN and of the collection scans.
type scanOpts struct {
	cursor  uint64
	count   int64
	pattern *glob  // MATCH; nil for none
	typ     []byte // SCAN's TYPE; nil for none
}

// parseScanOpts parses "cursor [MATCH pattern] [COUNT count] [TYPE type]"
// (TYPE only when withType). It reports false after writing the error.
func parseScanOpts(w *Writer, args [][]byte, withType bool) (scanOpts, bool) {
	o := scanOpts{count: scanDefaultCount}
	var err error
	if o.cursor, err = strconv.ParseUint(string(args[0]), 10, 64); err != nil {
		w.WriteError(msgInvalidCurs)
		return o, false
	}
	for i := 1; i < len(args); i += 2 {
		if i+1 >= len(args) {
			w.WriteError(msgSyntax)
			return o, false
		}
		switch v := args[i+1]; {
		case eqFold(args[i], "count"):
			var ok bool
			if o.count, ok = parseInt64(v); !ok {
				w.WriteError(msgNotInteger)
				return o, false
			}
			if o.count < 1 {
				w.WriteError(msgSyntax)
				return o, false
			}
		case eqFold(args[i], "match"):
			o.pattern = compileGlob(v, false)
		case withType && eqFold(args[i], "type"):
			o.typ = v
		default:
			w.WriteError(msgSyntax)
			return o, false
		}
	}
	return o, true
}

// keysBatch is how many keys KEYS asks the backend for per Scan call.
const keysBatch = 1000

// KEYS pattern walks the whole keyspace. It stops with an error at the
// request deadline rather than holding the connection, and the output limit
// closes a client whose reply grows past it.
func (s *Server) cmdKeys(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	pattern := compileGlob(args[1], false)
	var keys keyList
	cursor := uint64(0)
	for {
		next, err := s.b.Scan(ctx, cursor, keysBatch, func(key []byte) { keys.add(key, pattern) })
		if err != nil {
			s.writeErr(w, err, false)
			return
		}
		if keys.undecided {
			w.WriteError(msgPatternLimit)
			return
		}
		if keys.size > s.cfg.MaxOutputBytes {
			s.dropClient(c, w, keys.size)
			return
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	keys.write(w)
}

// keyList collects matching keys; the key slices Backend.Scan passes are
// valid only during the callback, so they are copied into one arena.
type keyList struct {
	arena     []byte
	ends      []int
	size      int // approximate reply size
	undecided bool
}

func (l *keyList) add(key []byte, pattern *glob) {
	if l.undecided {
		return
	}
	if pattern != nil && !pattern.all {
		m, ok := pattern.match(key, globBudget(pattern.size, len(key)))
		if !ok {
			l.undecided = true
			return
		}
		if !m {
			return
		}
	}
	l.arena = append(l.arena, key...)
	l.ends = append(l.ends, len(l.arena))
	l.size += len(key) + 16
}

// keepType is SCAN's TYPE filter: the keys of l whose live type is typ
// (Redis's names: string, hash, set, zset). It reads the keys.
func (s *Server) keepType(ctx context.Context, l keyList, typ []byte) (keyList, error) {
	if len(l.ends) == 0 {
		return l, nil
	}
	keys := make([][]byte, len(l.ends))
	start := 0
	for i, end := range l.ends {
		keys[i] = l.arena[start:end]
		start = end
	}
	objs, err := s.b.GetMany(ctx, keys)
	if err == nil && len(objs) != len(keys) {
		err = errBackendCount
	}
	if err != nil {
		return l, err
	}
	now := s.nowMs()
	var out keyList
	for i, o := range objs {
		if t, ok := crdt.KeyType(o, now); ok && eqFold(typ, t.String()) {
			out.add(keys[i], nil)
		}
	}
	return out, nil
}

func (l *keyList) write(w *Writer) {
	w.WriteArray(len(l.ends))
	start := 0
	for _, end := range l.ends {
		w.WriteBulk(l.arena[start:end])
		start = end
	}
}

// randomKeySample is how many keys RANDOMKEY scans to pick one from.
const randomKeySample = 64

// RANDOMKEY: a key picked at random among the first keys a scan visits
// (up to randomKeySample), nil when the store is empty. The backend's scan
// order is its own (a hash's in a cluster), not the keys' order, but the
// pick is not uniform over a large keyspace as Redis's is.
func (s *Server) cmdRandomKey(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	var keys keyList
	cursor := uint64(0)
	for len(keys.ends) < randomKeySample {
		next, err := s.b.Scan(ctx, cursor, randomKeySample, func(key []byte) { keys.add(key, nil) })
		if err != nil {
			s.writeErr(w, err, false)
			return
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	if len(keys.ends) == 0 {
		w.WriteNull()
		return
	}
	i := rand.IntN(len(keys.ends))
	start := 0
	if i > 0 {
		start = keys.ends[i-1]
	}
	w.WriteBulk(keys.arena[start:keys.ends[i]])
}
