package crdt

import "errors"

// Errors Apply returns; each is a client error and nothing is written.
var (
	// ErrUnknownOp: an op of a kind this node does not know, or malformed
	// (Op.Valid); a forwarded op from another node is checked the same way.
	ErrUnknownOp = errors.New("crdt: unknown or malformed write operation")
	// ErrWrongType: a command for one type on a key holding another.
	ErrWrongType = errors.New("crdt: operation against a key holding the wrong kind of value")
	// ErrNotInteger: an integer increment of a value that is not a base-10
	// int64.
	ErrNotInteger = errors.New("crdt: value is not an integer or out of range")
	// ErrOverflow: an increment would overflow int64.
	ErrOverflow = errors.New("crdt: increment or decrement would overflow")
	// ErrNotFloat: a float increment of a value, or with an increment, that
	// is not a finite decimal number, or whose result is not finite.
	ErrNotFloat = errors.New("crdt: value is not a valid float")
	// ErrHashNotInteger / ErrHashNotFloat: HINCRBY / HINCRBYFLOAT of a
	// field whose value is not a number (Redis words these differently).
	ErrHashNotInteger = errors.New("crdt: hash value is not an integer")
	ErrHashNotFloat   = errors.New("crdt: hash value is not a float")
	// ErrNaN: an increment whose result is not a number (ZINCRBY, ZADD
	// INCR of an infinity by its opposite).
	ErrNaN = errors.New("crdt: resulting score is not a number (NaN)")
)
