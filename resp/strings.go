package resp

import (
	"context"
	"math"

	"github.com/dynago/dynago/coordinator"
	"github.com/dynago/dynago/crdt"
	"github.com/dynago/dynago/version"
)

// String commands that read or replace whole values: GET, SET and its
// variants, GETSET, GETDEL, GETEX, MGET, MSET, MSETNX. Each write is one
// coordinator.Op; coordinator.Apply defines its conditions (docs/architecture.md §3).

// setOpts are the options of SET, GETEX and SETCTX.
type setOpts uint16

const (
	optNX setOpts = 1 << iota
	optXX
	optGet
	optKeepTTL
	optPersist
	optEX
	optPX
	optEXAT
	optPXAT

	optExpire = optEX | optPX | optEXAT | optPXAT
)

// Which command's options parseSetOpts accepts.
const (
	forSet = iota
	forGetEx
	forSetCtx
)

// parseSetOpts parses SET-style options with Redis 7's combination rules
// (t_string.c parseExtendedStringArgumentsOrReply): NX/XX exclude each
// other, GET may join either, the expiry options and KEEPTTL/PERSIST
// exclude each other, and an option may be repeated (the last value wins).
// It returns the options and the expiry argument; ok is false for a syntax
// error.
func parseSetOpts(args [][]byte, kind int) (o setOpts, expire []byte, ok bool) {
	for j := 0; j < len(args); j++ {
		a := args[j]
		hasNext := j+1 < len(args)
		switch {
		case eqFold(a, "nx") && kind == forSet && o&optXX == 0:
			o |= optNX
		case eqFold(a, "xx") && kind == forSet && o&optNX == 0:
			o |= optXX
		case eqFold(a, "get") && kind == forSet:
			o |= optGet
		case eqFold(a, "keepttl") && kind == forSet && o&(optPersist|optExpire) == 0:
			o |= optKeepTTL
		case eqFold(a, "persist") && kind == forGetEx && o&(optKeepTTL|optExpire) == 0:
			o |= optPersist
		case eqFold(a, "ex") && hasNext && o&(optKeepTTL|optPersist|optExpire&^optEX) == 0:
			o |= optEX
			expire = args[j+1]
			j++
		case eqFold(a, "px") && hasNext && o&(optKeepTTL|optPersist|optExpire&^optPX) == 0:
			o |= optPX
			expire = args[j+1]
			j++
		case eqFold(a, "exat") && hasNext && o&(optKeepTTL|optPersist|optExpire&^optEXAT) == 0:
			o |= optEXAT
			expire = args[j+1]
			j++
		case eqFold(a, "pxat") && hasNext && o&(optKeepTTL|optPersist|optExpire&^optPXAT) == 0:
			o |= optPXAT
			expire = args[j+1]
			j++
		default:
			return 0, nil, false
		}
	}
	return o, expire, true
}

// expireAt turns an EX/PX/EXAT/PXAT argument into an absolute expiry in
// unix ms, with Redis's checks (getExpireMillisecondsOrReply): a
// non-integer is "not an integer", a value ≤ 0 or one whose conversion or
// addition to now overflows is "invalid expire time in '<cmd>' command".
func (s *Server) expireAt(o setOpts, arg []byte, cmd string) (int64, string) {
	v, ok := parseInt64(arg)
	if !ok {
		return 0, msgNotInteger
	}
	bad := "ERR invalid expire time in '" + cmd + "' command"
	seconds := o&(optEX|optEXAT) != 0
	if v <= 0 || (seconds && v > math.MaxInt64/1000) {
		return 0, bad
	}
	if seconds {
		v *= 1000
	}
	if o&(optEX|optPX) != 0 {
		now := s.nowMs()
		if v > math.MaxInt64-now {
			return 0, bad
		}
		v += now
	}
	return v, ""
}

func (s *Server) nowMs() int64 { return s.cfg.now().UnixMilli() }

// tooLarge writes the value-too-large error when v exceeds the limit.
func (s *Server) tooLarge(w *Writer, v []byte) bool {
	if len(v) > s.cfg.MaxValueBytes {
		w.WriteError(s.valueTooLarge())
		return true
	}
	return false
}

// writeValue checks val against the value limit, copies key and val for
// the backend (see own) and applies op with val as its Value.
func (s *Server) writeValue(ctx context.Context, w *Writer, key, val []byte, op coordinator.Op) (coordinator.Result, bool) {
	if s.tooLarge(w, val) {
		return coordinator.Result{}, false
	}
	key, op.Value = own2(key, val)
	res, ok := s.write(ctx, w, key, op)
	if ok && res.Applied && op.Kind == coordinator.OpSet {
		s.notify(notifyString, "set", key)
		if op.ExpireAt != 0 {
			s.notify(notifyGeneric, "expire", key)
		}
	}
	return res, ok
}

// setExpiry fills op.ExpireAt from SET-style options. It reports false
// after writing the error reply.
func (s *Server) setExpiry(w *Writer, o setOpts, exp []byte, cmd string, op *coordinator.Op) bool {
	if o&optExpire == 0 {
		return true
	}
	var msg string
	if op.ExpireAt, msg = s.expireAt(o, exp, cmd); msg != "" {
		w.WriteError(msg)
		return false
	}
	return true
}

// read returns key's string value as the Value of its live version (a
// counter's number included) and its object, counting a keyspace hit or
// miss. A collection is crdt.ErrWrongType.
func (s *Server) read(ctx context.Context, key []byte) (version.Sibling, bool, version.Object, error) {
	o, err := s.b.Get(ctx, key)
	if err != nil {
		return version.Sibling{}, false, o, err
	}
	val, live, ok, err := crdt.StringValue(o, s.nowMs())
	s.stats.hit(ok)
	live.Value = val
	return live, ok, o, err
}

// getMany reads keys with one GetMany; ok is false after an error reply.
func (s *Server) getMany(ctx context.Context, w *Writer, keys [][]byte) ([]version.Object, bool) {
	objs, err := s.getObjects(ctx, keys)
	if err != nil {
		s.writeErr(w, err, false)
		return nil, false
	}
	return objs, true
}

// stringValues returns the string values of objs (empty for a missing
// key, a counter's number included), counting hits and misses; a
// collection is crdt.ErrWrongType.
func (s *Server) stringValues(objs []version.Object) ([][]byte, error) {
	now := s.nowMs()
	vals := make([][]byte, len(objs))
	for i, o := range objs {
		val, _, ok, err := crdt.StringValue(o, now)
		if err != nil {
			return nil, err
		}
		s.stats.hit(ok)
		vals[i] = val
	}
	return vals, nil
}

// write applies op to key (which the caller has copied, see own).
func (s *Server) write(ctx context.Context, w *Writer, key []byte, op coordinator.Op) (coordinator.Result, bool) {
	res, err := s.b.Write(ctx, key, op)
	if err != nil {
		s.writeErr(w, err, true)
		return res, false
	}
	return res, true
}

// writeOld writes the previous value a GET-style write returned.
func writeOld(w *Writer, res coordinator.Result) {
	if res.OldFound {
		w.WriteBulk(res.Old)
	} else {
		w.WriteNull()
	}
}

func (s *Server) cmdGet(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	live, ok, _, err := s.read(ctx, args[1])
	switch {
	case err != nil:
		s.writeErr(w, err, false)
	case !ok:
		w.WriteNull()
	default:
		w.WriteBulk(live.Value)
	}
}

// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
func (s *Server) cmdSet(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	o, exp, ok := parseSetOpts(args[3:], forSet)
	if !ok {
		w.WriteError(msgSyntax)
		return
	}
	op := coordinator.Op{Kind: coordinator.OpSet, NX: o&optNX != 0, XX: o&optXX != 0,
		Get: o&optGet != 0, KeepTTL: o&optKeepTTL != 0}
	if !s.setExpiry(w, o, exp, "set", &op) {
		return
	}
	res, ok := s.writeValue(ctx, w, args[1], args[2], op)
	switch {
	case !ok:
	case op.Get:
		writeOld(w, res)
	case !res.Applied:
		w.WriteNull()
	default:
		w.WriteOK()
	}
}

// SETNX key value
func (s *Server) cmdSetNX(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if res, ok := s.writeValue(ctx, w, args[1], args[2], coordinator.Op{Kind: coordinator.OpSet, NX: true}); ok {
		w.WriteInt(boolInt(res.Applied))
	}
}

// SETEX key seconds value, PSETEX key milliseconds value
func (s *Server) cmdSetEx(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	o, name := optEX, "setex"
	if eqFold(args[0], "psetex") {
		o, name = optPX, "psetex"
	}
	at, msg := s.expireAt(o, args[2], name)
	if msg != "" {
		w.WriteError(msg)
		return
	}
	if _, ok := s.writeValue(ctx, w, args[1], args[3], coordinator.Op{Kind: coordinator.OpSet, ExpireAt: at}); ok {
		w.WriteOK()
	}
}

// GETSET key value
func (s *Server) cmdGetSet(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if res, ok := s.writeValue(ctx, w, args[1], args[2], coordinator.Op{Kind: coordinator.OpSet, Get: true}); ok {
		writeOld(w, res)
	}
}

// GETDEL key
func (s *Server) cmdGetDel(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	key := ownKey(args[1])
	if res, ok := s.write(ctx, w, key, coordinator.Op{Kind: coordinator.OpDelete, Get: true}); ok {
		if res.OldFound {
			s.notify(notifyGeneric, "del", key)
		}
		s.stats.hit(res.OldFound)
		writeOld(w, res)
	}
}

// GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]. Without an option it is a
// plain read and writes nothing.
func (s *Server) cmdGetEx(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	o, exp, ok := parseSetOpts(args[2:], forGetEx)
	if !ok {
		w.WriteError(msgSyntax)
		return
	}
	if o == 0 {
		s.cmdGet(ctx, c, args, w)
		return
	}
	op := coordinator.Op{Kind: coordinator.OpExpire, Get: true, Persist: o&optPersist != 0}
	if !s.setExpiry(w, o, exp, "getex", &op) {
		return
	}
	if res, ok := s.write(ctx, w, ownKey(args[1]), op); ok {
		s.stats.hit(res.OldFound)
		writeOld(w, res)
	}
}

// mgetChunk is how many keys MGET asks the backend for at a time, so that
// a huge MGET is cut off by the output limit before it has read every
// value.
const mgetChunk = 256

// MGET key [key ...]
func (s *Server) cmdMGet(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	keys := args[1:]
	now := s.nowMs()
	w.WriteArray(len(keys))
	for len(keys) > 0 {
		n := min(len(keys), mgetChunk)
		objs, err := s.b.GetMany(ctx, keys[:n])
		if err == nil && len(objs) != n {
			err = errBackendCount
		}
		for i := range n {
			if err != nil {
				// The array header is out: one error element per key, as
				// a failed element of a multi-key reply.
				s.writeErr(w, err, false)
				continue
			}
			// MGET answers nil for a key of another type, as Redis does.
			val, _, ok, verr := crdt.StringValue(objs[i], now)
			s.stats.hit(ok)
			if ok && verr == nil {
				w.WriteBulk(val)
			} else {
				w.WriteNull()
			}
		}
		keys = keys[n:]
		if w.Len() > s.cfg.MaxOutputBytes {
			return // the connection is closed; the reply is never sent
		}
	}
}

// MSET key value [key value ...]
func (s *Server) cmdMSet(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	keys, ops, ok := s.msetOps(args, w)
	if !ok {
		return
	}
	_, errs := s.b.WriteMany(ctx, keys, ops)
	if err := firstErr(errs, len(keys)); err != nil {
		s.writeErr(w, err, true)
		return
	}
	w.WriteOK()
}

// MSETNX key value [key value ...] sets every key only if none exists. It
// checks the keys with one GetMany and then writes each with NX, so it is
// not atomic: a key created between the check and the write keeps its
// value, the others are set, and the reply is 0.
func (s *Server) cmdMSetNX(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	keys, ops, ok := s.msetOps(args, w)
	if !ok {
		return
	}
	objs, ok := s.getMany(ctx, w, keys)
	if !ok {
		return
	}
	now := s.nowMs()
	for _, o := range objs {
		if _, live := o.Value(now); live {
			w.WriteInt(0)
			return
		}
	}
	for i := range ops {
		ops[i].NX = true
	}
	res, errs := s.b.WriteMany(ctx, keys, ops)
	if err := firstErr(errs, len(keys)); err != nil {
		s.writeErr(w, err, true)
		return
	}
	all := len(res) == len(keys)
	for _, r := range res {
		all = all && r.Applied
	}
	w.WriteInt(boolInt(all))
}

// msetOps checks MSET's arguments and builds one OpSet per distinct key,
// on copies of the keys and values. A key given twice gets its last value,
// as in Redis (the writes run in parallel, so each key is written once).
func (s *Server) msetOps(args [][]byte, w *Writer) ([][]byte, []coordinator.Op, bool) {
	if len(args)%2 == 0 {
		w.WriteError("ERR wrong number of arguments for '" + lowerString(args[0]) + "' command")
		return nil, nil, false
	}
	pairs := args[1:]
	for i := 1; i < len(pairs); i += 2 {
		if s.tooLarge(w, pairs[i]) {
			return nil, nil, false
		}
	}
	owned := own(pairs...)
	keys := make([][]byte, 0, len(pairs)/2)
	ops := make([]coordinator.Op, 0, len(pairs)/2)
	var seen map[string]int
	for i := 0; i < len(owned); i += 2 {
		k, v := owned[i], owned[i+1]
		if len(pairs) > 2 {
			if seen == nil {
				seen = make(map[string]int, len(pairs)/2)
			}
			if j, dup := seen[string(k)]; dup {
				ops[j].Value = v
				continue
			}
			seen[string(k)] = len(keys)
		}
		keys = append(keys, k)
		ops = append(ops, coordinator.Op{Kind: coordinator.OpSet, Value: v})
	}
	return keys, ops, true
}

// firstErr returns the first error of a WriteMany, or an error if the
// backend answered for the wrong number of keys.
func firstErr(errs []error, n int) error {
	if errs != nil && len(errs) != n {
		return errBackendCount
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
