package resp

import (
	"context"

	"github.com/dynago/dynago/coordinator"
	"github.com/dynago/dynago/crdt"
	"github.com/dynago/dynago/version"
)

// The Dynamo extension commands (docs/architecture.md §3, "What each command means"):
// the paper's get(key) → (objects, context) and put(key, context, object)
// interface (§4.1), for clients that want every concurrent version.
//
//	GETCTX k              → [context, [value …]]
//	SETCTX k ctx v [EX s|PX ms|EXAT s|PXAT ms] → OK
//	SIBLINGS k            → one entry per sibling, tombstones included
//	DELCTX k ctx          → :1 if a live version was removed, else :0
//
// A context is version.EncodeContext of the object's version vector; "" is
// the empty context. A malformed context is "ERR invalid context" and
// writes nothing.

// GETCTX key: the context and every live sibling value (in dot order). A
// key whose versions are all tombstones or expired still has a context
// (so a client can write over them causally) and an empty value list; a
// missing key has context "".
func (s *Server) cmdGetCtx(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	o, err := s.b.Get(ctx, args[1])
	if err != nil {
		s.writeErr(w, err, false)
		return
	}
	now := s.nowMs()
	if v, ok := o.Value(now); ok && v.Type != version.TypeString {
		// A typed key merges its concurrent versions itself: no context.
		w.WriteError(msgWrongType)
		return
	}
	live := o.Live(now)
	s.stats.hit(len(live) > 0)
	w.WriteArray(2)
	w.WriteBulkString(version.EncodeContext(o.VV))
	w.WriteArray(len(live))
	for _, sib := range live {
		w.WriteBulk(sib.Value)
	}
}

// SETCTX key context value [EX s|PX ms|EXAT s|PXAT ms]: a write that
// replaces exactly the versions the context covers; the others stay as
// siblings.
func (s *Server) cmdSetCtx(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	o, exp, ok := parseSetOpts(args[4:], forSetCtx)
	if !ok {
		w.WriteError(msgSyntax)
		return
	}
	vv, err := version.DecodeContext(string(args[2]))
	if err != nil {
		w.WriteError(msgInvalidCtx)
		return
	}
	op := coordinator.Op{Kind: coordinator.OpSet, UseContext: true, Context: vv}
	if !s.setExpiry(w, o, exp, "setctx", &op) {
		return
	}
	if _, ok := s.writeValue(ctx, w, args[1], args[3], op); ok {
		w.WriteOK()
	}
}

// DELCTX key context: a tombstone that replaces the versions the context
// covers.
func (s *Server) cmdDelCtx(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	vv, err := version.DecodeContext(string(args[2]))
	if err != nil {
		w.WriteError(msgInvalidCtx)
		return
	}
	op := coordinator.Op{Kind: coordinator.OpDelete, UseContext: true, Context: vv}
	if res, ok := s.write(ctx, w, ownKey(args[1]), op); ok {
		w.WriteInt(boolInt(res.Applied))
	}
}

// SIBLINGS key: every version of the key, tombstones and expired ones
// included, in dot order. Each is a map (RESP3) or flat array (RESP2) of
// value (null for a tombstone), dot ("actor:counter"), timestamp (unix ms),
// tombstone (0/1), expiry (unix ms, 0 for none) and type (what TYPE would
// answer, "counter" for a counter). A counter's value is its number; a
// hash's, set's or sorted set's is how many elements the key holds of that
// type (their concurrent versions are not listed).
func (s *Server) cmdSiblings(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	o, err := s.b.Get(ctx, args[1])
	if err != nil {
		s.writeErr(w, err, false)
		return
	}
	writeSiblings(w, o)
}

// writeSiblings writes SIBLINGS's entries for o; DYNAGO LOCAL shows a
// node's own copy and its hints the same way.
func writeSiblings(w *Writer, o version.Object) {
	var versions []version.Sibling
	for _, sib := range o.Siblings {
		if !sib.IsElement() {
			versions = append(versions, sib)
		}
	}
	w.WriteArray(len(versions))
	for _, sib := range versions {
		w.WriteMap(6)
		w.WriteBulkString("value")
		switch {
		case sib.Tombstone:
			w.WriteNull()
		case sib.Type == version.TypeString:
			w.WriteBulk(sib.Value)
		case sib.Type == version.TypeCounter:
			c, err := crdt.DecodeCounter(sib.Value)
			if err != nil {
				w.WriteNull()
			} else {
				w.WriteBulk(c.Text())
			}
		default:
			w.WriteInt(int64(crdt.CountElements(o, sib.Type)))
		}
		w.WriteBulkString("dot")
		w.WriteBulkString(sib.Dot.String())
		w.WriteBulkString("timestamp")
		w.WriteInt(sib.Timestamp)
		w.WriteBulkString("tombstone")
		w.WriteInt(boolInt(sib.Tombstone))
		w.WriteBulkString("expiry")
		w.WriteInt(sib.Expiry)
		w.WriteBulkString("type")
		if sib.Type == version.TypeCounter {
			w.WriteBulkString("counter")
		} else {
			w.WriteBulkString(sib.Type.String())
		}
	}
}
