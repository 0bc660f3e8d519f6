package resp

import (
	"context"
	"math"
	"strconv"

	"github.com/dynago/dynago/coordinator"
)

// Read-modify-write string commands: INCR, DECR, INCRBY, DECRBY,
// INCRBYFLOAT, APPEND, SETRANGE, and the reads STRLEN, GETRANGE/SUBSTR.
// The coordinator evaluates each write on a quorum read (docs/architecture.md §3: not
// linearizable); Apply defines the arithmetic and keeps the key's TTL.

// incrHandler returns the handler of INCR (by 1), DECR (by -1), INCRBY
// (by=0: the argument) or DECRBY (by=0, negate).
func (s *Server) incrHandler(by int64, negate bool) HandlerFunc {
	return func(ctx context.Context, c *Client, args [][]byte, w *Writer) {
		delta := by
		if by == 0 {
			var ok bool
			if delta, ok = parseInt64(args[2]); !ok {
				w.WriteError(msgNotInteger)
				return
			}
			if negate {
				if delta == math.MinInt64 {
					w.WriteError("ERR decrement would overflow")
					return
				}
				delta = -delta
			}
		}
		if res, ok := s.write(ctx, w, ownKey(args[1]), coordinator.Op{Kind: coordinator.OpIncrBy, Delta: delta}); ok {
			w.WriteInt(res.Int)
		}
	}
}

// INCRBYFLOAT key increment: the new value as a bulk string.
func (s *Server) cmdIncrByFloat(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if f, err := strconv.ParseFloat(string(args[2]), 64); err == nil && (math.IsInf(f, 0) || math.IsNaN(f)) {
		w.WriteError("ERR increment would produce NaN or Infinity")
		return
	}
	if _, ok := parseFloatArg(args[2]); !ok {
		w.WriteError(msgNotFloat)
		return
	}
	op := coordinator.Op{Kind: coordinator.OpIncrByFloat, Float: string(args[2])}
	if res, ok := s.write(ctx, w, ownKey(args[1]), op); ok {
		w.WriteBulk(res.Bytes)
	}
}

// APPEND key value: the new length.
func (s *Server) cmdAppend(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if res, ok := s.writeValue(ctx, w, args[1], args[2], coordinator.Op{Kind: coordinator.OpAppend}); ok {
		w.WriteInt(res.Int)
	}
}

// msgStringTooLong is Redis's reply to a SETRANGE past the size limit
// (dynago's limit is --max-value-bytes).
const msgStringTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"

// SETRANGE key offset value: the new length. As in Redis an empty value
// changes nothing (not even a missing key) and answers the current length.
func (s *Server) cmdSetRange(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	off, ok := parseInt64(args[2])
	if !ok {
		w.WriteError(msgNotInteger)
		return
	}
	if off < 0 {
		w.WriteError("ERR offset is out of range")
		return
	}
	if len(args[3]) > 0 && off > int64(s.cfg.MaxValueBytes)-int64(len(args[3])) {
		w.WriteError(msgStringTooLong)
		return
	}
	key, val := own2(args[1], args[3])
	if res, ok := s.write(ctx, w, key, coordinator.Op{Kind: coordinator.OpSetRange, Offset: off, Value: val}); ok {
		w.WriteInt(res.Int)
	}
}

// STRLEN key
func (s *Server) cmdStrlen(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	live, _, _, err := s.read(ctx, args[1])
	if err != nil {
		s.writeErr(w, err, false)
		return
	}
	w.WriteInt(int64(len(live.Value)))
}

// GETRANGE key start end (and its old name SUBSTR), with Redis 7's index
// rules: negative indexes count from the end, out-of-range ones are
// clamped, an empty range is "".
func (s *Server) cmdGetRange(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	start, ok1 := parseInt64(args[2])
	end, ok2 := parseInt64(args[3])
	if !ok1 || !ok2 {
		w.WriteError(msgNotInteger)
		return
	}
	live, _, _, err := s.read(ctx, args[1])
	if err != nil {
		s.writeErr(w, err, false)
		return
	}
	w.WriteBulk(getRange(live.Value, start, end))
}

func getRange(v []byte, start, end int64) []byte {
	n := int64(len(v))
	if start < 0 && end < 0 && start > end {
		return nil
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		return nil
	}
	return v[start : end+1]
}
