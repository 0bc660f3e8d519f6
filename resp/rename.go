package resp

import (
	"bytes"
	"context"
)

// RENAME, RENAMENX and COPY: read the source (value and TTL) through a
// quorum, write it to the destination through the destination's
// coordinator, and for the renames delete what was read from the source.
// In a cluster the two keys have different coordinators, so this is not
// atomic (docs/decisions.md): a write to the source concurrent with the
// rename survives in the source, and a reader may see both keys, or
// neither live for an instant.

// msgNoSuchKey is RENAME's error for a missing source.
const msgNoSuchKey = "ERR no such key"

// renameHandler is RENAME (nx false) and RENAMENX key newkey.
func (s *Server) renameHandler(nx bool) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		kv, found, err := s.readKey(ctx, args[1])
		if err != nil {
			s.writeErr(w, err, false)
			return
		}
		if !found {
			w.WriteError(msgNoSuchKey)
			return
		}
		if bytes.Equal(args[1], args[2]) {
			if nx {
				w.WriteInt(0)
			} else {
				w.WriteOK()
			}
			return
		}
		res, ok := s.storeKey(ctx, w, args[2], kv, nx)
		if !ok {
			return
		}
		if nx && !res.Applied {
			w.WriteInt(0)
			return
		}
		if !s.deleteRead(ctx, w, args[1], kv) {
			return
		}
		if nx {
			w.WriteInt(1)
		} else {
			w.WriteOK()
		}
	}
}

// COPY source destination [DB destination-db] [REPLACE]: 1 when copied, 0
// when the source is missing or the destination exists without REPLACE.
// dynago has one database: DB 0 is it, any other is out of range (in a
// cluster, as Redis Cluster says, copying to another database is refused).
func (s *Server) cmdCopy(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	replace := false
	for i := 3; i < len(args); i++ {
		switch {
		case eqFold(args[i], "replace"):
			replace = true
		case eqFold(args[i], "db") && i+1 < len(args):
			i++
			db, ok := parseInt64(args[i])
			if !ok || db != int64(int32(db)) {
				w.WriteError(msgNotInteger)
				return
			}
			if db != 0 {
				if s.cluster != nil && db > 0 && db < 16 {
					w.WriteError("ERR Copying to another database is not allowed in cluster mode")
				} else {
					w.WriteError("ERR DB index is out of range")
				}
				return
			}
		default:
			w.WriteError(msgSyntax)
			return
		}
	}
	if bytes.Equal(args[1], args[2]) {
		w.WriteError("ERR source and destination objects are the same")
		return
	}
	kv, found, err := s.readKey(ctx, args[1])
	if err != nil {
		s.writeErr(w, err, false)
		return
	}
	if !found {
		w.WriteInt(0)
		return
	}
	if res, ok := s.storeKey(ctx, w, args[2], kv, !replace); ok {
		w.WriteInt(boolInt(res.Applied))
	}
}
