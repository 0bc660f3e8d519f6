package resp

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/dynago/dynago/coordinator"
	"github.com/dynago/dynago/crdt"
	"github.com/dynago/dynago/version"
)

// Reply texts used by more than one handler (Redis 7's wording).
const (
	msgSyntax       = "ERR syntax error"
	msgNotInteger   = "ERR value is not an integer or out of range"
	msgNotFloat     = "ERR value is not a valid float"
	msgOverflow     = "ERR increment or decrement would overflow"
	msgInvalidCtx   = "ERR invalid context"
	msgInvalidCurs  = "ERR invalid cursor"
	msgPatternLimit = "ERR pattern too complex: it needs more matching steps than allowed per key"
)

// errorReply maps one class of backend error onto a Redis error reply.
type errorReply struct {
	err error
	// reply builds the text after the '-'; write says whether the command
	// writes, for telling the client whether a failed write may have been
	// applied (STYLE 12).
	reply func(s *Server, err error, write bool) string
}

// errorReplies is the one table at the edge that turns errors from the
// backend (coordinator, engine, version) into Redis replies (STYLE 11). The
// first entry whose err matches with errors.Is wins; anything unmatched is
// "-ERR <text>".
var errorReplies = [...]errorReply{
	{crdt.ErrWrongType, fixedReply(msgWrongType)},
	{crdt.ErrHashNotInteger, fixedReply("ERR hash value is not an integer")},
	{crdt.ErrHashNotFloat, fixedReply("ERR hash value is not a float")},
	{crdt.ErrNaN, fixedReply("ERR resulting score is not a number (NaN)")},
	{crdt.ErrMinMaxFloat, fixedReply("ERR min or max is not a float")},
	{crdt.ErrMinMaxLex, fixedReply("ERR min or max not valid string range item")},
	{coordinator.ErrNotInteger, fixedReply(msgNotInteger)},
	{coordinator.ErrOverflow, fixedReply(msgOverflow)},
	{coordinator.ErrNotFloat, fixedReply(msgNotFloat)},
	{coordinator.ErrValueTooLarge, func(s *Server, _ error, _ bool) string { return s.valueTooLarge() }},
	{version.ErrMalformed, fixedReply(msgInvalidCtx)},
	// Quorum failures are retryable: go-redis and cluster clients retry
	// TRYAGAIN on their own. The coordinator's text says how many replicas
	// answered and whether the write may have been applied.
	{coordinator.ErrQuorum, func(_ *Server, err error, _ bool) string {
		var qe *coordinator.QuorumError
		if errors.As(err, &qe) {
			return "TRYAGAIN " + qe.Error()
		}
		return "TRYAGAIN " + strings.ReplaceAll(err.Error(), "coordinator: ", "")
	}},
	{coordinator.ErrTxLockHolder, fixedReply("TRYAGAIN the node holding the slot's transaction lock is unreachable")},
	{context.DeadlineExceeded, func(s *Server, _ error, write bool) string {
		return "TRYAGAIN request timed out after " + s.cfg.RequestTimeout.String() + maybeApplied(write)
	}},
	{context.Canceled, func(_ *Server, _ error, write bool) string {
		return "TRYAGAIN server shutting down" + maybeApplied(write)
	}},
}

func fixedReply(msg string) func(*Server, error, bool) string {
	return func(*Server, error, bool) string { return msg }
}

// maybeApplied is the suffix a failed write's reply carries: a write cut
// short by a deadline may have reached some replicas.
func maybeApplied(write bool) string {
	if write {
		return " (write may be applied)"
	}
	return ""
}

// writeErr writes the reply for a backend error.
func (s *Server) writeErr(w *Writer, err error, write bool) {
	for i := range errorReplies {
		if errors.Is(err, errorReplies[i].err) {
			w.WriteError(errorReplies[i].reply(s, err, write))
			return
		}
	}
	w.WriteError("ERR " + err.Error())
}

// valueTooLarge is the reply for a value over MaxValueBytes.
func (s *Server) valueTooLarge() string {
	return "ERR value too large (max " + strconv.Itoa(s.cfg.MaxValueBytes) + " bytes)"
}

// errBackendCount: a Backend answered a multi-key call with the wrong
// number of results, a bug reported to the client instead of a panic.
var errBackendCount = errors.New("resp: backend returned a result count that does not match the keys")

// errBackendReply: a write's Result does not have the shape its op
// promises (a BITFIELD reply per program step), a bug reported likewise.
var errBackendReply = errors.New("resp: backend returned a malformed write result")

// getObjects is Backend.GetMany with its result count checked.
func (s *Server) getObjects(ctx context.Context, keys [][]byte) ([]version.Object, error) {
	objs, err := s.b.GetMany(ctx, keys)
	if err == nil && len(objs) != len(keys) {
		err = errBackendCount
	}
	return objs, err
}
