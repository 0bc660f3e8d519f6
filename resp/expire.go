package resp

import (
	"context"
	"math"

	"github.com/dynago/dynago/coordinator"
)

// Expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT [NX|XX|GT|LT],
// TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST. An expiry is part of the
// winning sibling's version (docs/architecture.md §6), so it is changed by a write
// (coordinator.OpExpire) and read from the sibling GET returns.

// expireCmd describes one member of the EXPIRE family.
type expireCmd struct {
	name     string
	seconds  bool // the argument is in seconds, not ms
	relative bool // the argument counts from now
}

// expireHandler returns the handler for one EXPIRE variant.
func (s *Server) expireHandler(spec expireCmd) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		s.expireGeneric(ctx, spec, args, w)
	}
}

// expireGeneric follows Redis 7's expireGenericCommand: options first,
// then the time, with overflow of the unit conversion or of the addition
// to now reported as an invalid expire time. A time in the past deletes
// the key. The reply is 1 when the expiry was set.
func (s *Server) expireGeneric(ctx context.Context, spec expireCmd, args [][]byte, w *Writer) {
	var nx, xx, gt, lt bool
	for _, a := range args[3:] {
		switch {
		case eqFold(a, "nx"):
			nx = true
		case eqFold(a, "xx"):
			xx = true
		case eqFold(a, "gt"):
			gt = true
		case eqFold(a, "lt"):
			lt = true
		default:
			w.WriteError("ERR Unsupported option " + string(a))
			return
		}
	}
	if nx && (xx || gt || lt) {
		w.WriteError("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if gt && lt {
		w.WriteError("ERR GT and LT options at the same time are not compatible")
		return
	}
	when, ok := parseInt64(args[2])
	if !ok {
		w.WriteError(msgNotInteger)
		return
	}
	bad := "ERR invalid expire time in '" + spec.name + "' command"
	if spec.seconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			w.WriteError(bad)
			return
		}
		when *= 1000
	}
	if spec.relative {
		now := s.nowMs()
		if when > math.MaxInt64-now {
			w.WriteError(bad)
			return
		}
		when += now
	}

	op := coordinator.Op{Kind: coordinator.OpExpire, ExpireAt: when}
	switch {
	case nx:
		op.Cond = coordinator.ExpireNX
	case gt:
		op.Cond = coordinator.ExpireGT // GT already requires an expiry: XX adds nothing
	case lt && xx:
		// coordinator.Op has one condition, and LT alone accepts a key
		// without an expiry. Check XX on a read first; the pair is not
		// atomic (a PERSIST in between lets LT set the expiry).
		live, found, _, err := s.read(ctx, args[1])
		if err != nil {
			s.writeErr(w, err, false)
			return
		}
		if !found || live.Expiry == 0 {
			w.WriteInt(0)
			return
		}
		op.Cond = coordinator.ExpireLT
	case lt:
		op.Cond = coordinator.ExpireLT
	case xx:
		op.Cond = coordinator.ExpireXX
	}
	key := ownKey(args[1])
	if res, ok := s.write(ctx, w, key, op); ok {
		if res.Applied {
			s.notify(notifyGeneric, "expire", key)
		}
		w.WriteInt(boolInt(res.Applied))
	}
}

// ttlCmd describes TTL, PTTL, EXPIRETIME, PEXPIRETIME.
type ttlCmd struct {
	ms       bool // reply in milliseconds
	absolute bool // reply the unix time, not the time left
}

// ttlHandler returns the handler for one TTL variant: -2 for a missing
// key, -1 for a key without expiry, else the (rounded) time, computed from
// the expiry of the sibling GET returns.
func (s *Server) ttlHandler(spec ttlCmd) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		o, err := s.b.Get(ctx, args[1])
		if err != nil {
			s.writeErr(w, err, false)
			return
		}
		now := s.nowMs()
		live, ok := o.Value(now)
		switch {
		case !ok:
			w.WriteInt(-2)
		case live.Expiry == 0:
			w.WriteInt(-1)
		default:
			t := live.Expiry
			if !spec.absolute {
				t = max(t-now, 0)
			}
			if !spec.ms {
				t = (t + 500) / 1000
			}
			w.WriteInt(t)
		}
	}
}

// PERSIST key: 1 when an expiry was removed.
func (s *Server) cmdPersist(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	key := ownKey(args[1])
	if res, ok := s.write(ctx, w, key, coordinator.Op{Kind: coordinator.OpExpire, Persist: true}); ok {
		if res.Applied {
			s.notify(notifyGeneric, "persist", key)
		}
		w.WriteInt(boolInt(res.Applied))
	}
}
