package resp

import (
	"context"
	"errors"

	"github.com/dynago/dynago/crdt"
)

// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]: the longest
// common subsequence of two strings, by Redis 7's dynamic programming
// (t_string.c lcsCommand), whose table of (len1+1)*(len2+1) 32-bit cells
// must fit in the value limit, as Redis bounds it by proto-max-bulk-len.
// The two keys are read like MGET's.
func (s *Server) cmdLCS(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	objs, ok := s.getMany(ctx, w, args[1:3])
	if !ok {
		return
	}
	ab, err := s.stringValues(objs)
	if errors.Is(err, crdt.ErrWrongType) {
		w.WriteError("ERR The specified keys must contain string values")
		return
	}
	if err != nil {
		s.writeErr(w, err, false)
		return
	}
	var getIdx, getLen, withLen bool
	var minLen int64
	for j := 3; j < len(args); j++ {
		switch {
		case eqFold(args[j], "idx"):
			getIdx = true
		case eqFold(args[j], "len"):
			getLen = true
		case eqFold(args[j], "withmatchlen"):
			withLen = true
		case eqFold(args[j], "minmatchlen") && j+1 < len(args):
			var ok bool
			if minLen, ok = parseInt64(args[j+1]); !ok {
				w.WriteError(msgNotInteger)
				return
			}
			minLen = max(minLen, 0)
			j++
		default:
			w.WriteError(msgSyntax)
			return
		}
	}
	if getIdx && getLen {
		w.WriteError("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	a, b := ab[0], ab[1]
	if cells := int64(len(a)+1) * int64(len(b)+1); cells*4 > int64(s.cfg.MaxValueBytes) {
		w.WriteError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}
	lcsReply(w, a, b, getIdx, getLen, withLen, minLen)
}

// lcsReply computes the LCS table of a and b and writes the reply the
// options ask for; the matches are walked from the ends, as Redis does.
func lcsReply(w *Writer, a, b []byte, getIdx, getLen, withLen bool, minLen int64) {
	la, lb := len(a), len(b)
	stride := lb + 1
	dp := make([]uint32, (la+1)*stride)
	for i := 1; i <= la; i++ {
		for j := 1; j <= lb; j++ {
			switch {
			case a[i-1] == b[j-1]:
				dp[i*stride+j] = dp[(i-1)*stride+j-1] + 1
			default:
				dp[i*stride+j] = max(dp[(i-1)*stride+j], dp[i*stride+j-1])
			}
		}
	}
	total := dp[la*stride+lb]
	if getLen && !getIdx {
		w.WriteInt(int64(total))
		return
	}
	result := make([]byte, total)
	idx := total
	body := NewWriter(w.Proto())
	matches := 0
	aStart, aEnd, bStart, bEnd := la, 0, 0, 0 // aStart == la: no range open
	for i, j := la, lb; i > 0 && j > 0; {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			if aStart == la {
				aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
			} else if aStart == i && bStart == j {
				aStart--
				bStart--
			} else {
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if dp[(i-1)*stride+j] > dp[i*stride+j-1] {
				i--
			} else {
				j--
			}
			if aStart != la {
				emit = true
			}
		}
		if emit {
			n := int64(aEnd - aStart + 1)
			if getIdx && (minLen == 0 || n >= minLen) {
				body.WriteArray(2 + int(boolInt(withLen)))
				body.WriteArray(2)
				body.WriteInt(int64(aStart))
				body.WriteInt(int64(aEnd))
				body.WriteArray(2)
				body.WriteInt(int64(bStart))
				body.WriteInt(int64(bEnd))
				if withLen {
					body.WriteInt(n)
				}
				matches++
			}
			aStart = la
		}
	}
	if !getIdx {
		w.WriteBulk(result)
		return
	}
	w.WriteMap(2)
	w.WriteBulkString("matches")
	w.WriteArray(matches)
	w.WriteRaw(body.Bytes())
	w.WriteBulkString("len")
	w.WriteInt(int64(total))
}
