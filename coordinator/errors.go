package coordinator

import (
	"context"
	"errors"
	"fmt"
)

// Quorum failures. Following database/sql/driver's ErrBadConn rule (STYLE
// 12), a write failure says whether the write may have been applied:
//
//   - ErrQuorumNotApplied: nothing was stored anywhere; retrying is safe.
//   - ErrQuorumMaybe: the write was stored on fewer than W replicas before
//     the deadline. It may survive (replicas that answer late, hints, read
//     repair and anti-entropy spread it), so a blind retry of a
//     non-idempotent write (INCR, APPEND) may apply it twice.
//
// Reads fail with ErrReadQuorum. All three match ErrQuorum.
var (
	// ErrQuorum matches every quorum failure.
	ErrQuorum = errors.New("coordinator: quorum not reached")
	// ErrQuorumMaybe is a write that may have been applied.
	ErrQuorumMaybe = fmt.Errorf("%w (write may be applied)", ErrQuorum)
	// ErrQuorumNotApplied is a write that was not applied anywhere.
	ErrQuorumNotApplied = fmt.Errorf("%w (write not applied)", ErrQuorum)
	// ErrReadQuorum is a read that got fewer than R answers.
	ErrReadQuorum = fmt.Errorf("%w (read)", ErrQuorum)
)

// QuorumError reports how many replicas answered. It matches its Kind
// sentinel (and so ErrQuorum) with errors.Is.
type QuorumError struct {
	Kind      error // ErrQuorumMaybe, ErrQuorumNotApplied or ErrReadQuorum
	Got, Need int
	// Cause is what stopped the request, when one thing did (the deadline,
	// an unreachable peer); it is reported but not matched by errors.Is.
	Cause error
}

// Error is the text after the TRYAGAIN code of the client reply, e.g.
// "quorum not reached: 1 of 2 replicas answered (write may be applied)".
func (e *QuorumError) Error() string {
	what := ""
	switch e.Kind {
	case ErrQuorumMaybe:
		what = " (write may be applied)"
	case ErrQuorumNotApplied:
		what = " (write not applied)"
	}
	msg := fmt.Sprintf("quorum not reached: %d of %d replicas answered%s", e.Got, e.Need, what)
	if errors.Is(e.Cause, context.DeadlineExceeded) {
		msg += " before the request timeout"
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrQuorum) and the Kind sentinel match.
func (e *QuorumError) Unwrap() error { return e.Kind }

// MaybeApplied reports whether a failed write may nevertheless have been
// applied (so a retry is not known to be safe).
func MaybeApplied(err error) bool {
	return err != nil && !errors.Is(err, ErrQuorumNotApplied)
}
