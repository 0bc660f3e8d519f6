package coordinator

import (
	"context"
	"errors"

	"github.com/dynago/dynago/crdt"
	"github.com/dynago/dynago/version"
)

// OpKind says what a client write does to a key's current object.
type OpKind uint8

// The write operations. Each is applied by the key's coordinator to its
// current object (Apply) and the resulting object is replicated.
const (
	// OpSet writes Value (SET, SETCTX, SETNX, SETEX, GETSET, MSET, ...).
	OpSet OpKind = iota + 1
	// OpDelete writes a tombstone (DEL, UNLINK, DELCTX, GETDEL with Get).
	OpDelete
	// OpIncrBy adds Delta to the integer value (INCR, DECR, INCRBY, DECRBY).
	OpIncrBy
	// OpAppend appends Value to the current value (APPEND).
	OpAppend
	// OpExpire changes the expiry of the current value (EXPIRE family,
	// PERSIST, GETEX): ExpireAt, or Persist to clear it.
	OpExpire
	// OpSetRange overwrites the value from byte Offset with Value, padding
	// with zero bytes (SETRANGE).
	OpSetRange
	// OpIncrByFloat adds the decimal Float to the value (INCRBYFLOAT).
	OpIncrByFloat
	// OpTyped is a write of a convergent data type (a hash, set, sorted
	// set or counter command): Typed says which.
	OpTyped
	// OpBitField runs the SET/INCRBY/GET program Value encodes
	// (bitops.Encode) on the value, grown with zero bytes to the highest
	// bit written (SETBIT, BITFIELD). Result.Values has one reply per
	// program step: the integer in decimal, or empty for a FAIL overflow.
	OpBitField
)

// ExpireCond is the NX/XX/GT/LT option of EXPIRE and friends (Redis 7).
type ExpireCond uint8

// Expire conditions.
const (
	ExpireAlways ExpireCond = iota
	ExpireNX                // only when the key has no expiry
	ExpireXX                // only when the key has an expiry
	ExpireGT                // only when the new expiry is greater
	ExpireLT                // only when the new expiry is less
)

// Op is one client write. It is plain data so that a node that is not a
// home replica can forward it to one (docs/architecture.md §4 step 2).
type Op struct {
	Kind  OpKind
	Value []byte
	Delta int64
	// Offset is SETRANGE's byte offset.
	Offset int64
	// Float is INCRBYFLOAT's increment as the client wrote it; the
	// coordinator parses it so that a forwarded op is applied exactly as
	// the client meant.
	Float string

	// UseContext makes the write use Context (SETCTX, DELCTX) instead of
	// the coordinator's view of the key. An empty Context with UseContext
	// creates a sibling beside every existing version.
	UseContext bool
	Context    version.VV

	// NX / XX: apply only if the key does (not) hold a live value.
	NX, XX bool
	// Get asks for the value before the write in Result.Old (SET … GET,
	// GETSET, GETDEL, GETEX).
	Get bool

	// ExpireAt is the absolute expiry in unix ms for the new value (0: none).
	ExpireAt int64
	// KeepTTL keeps the current value's expiry (SET … KEEPTTL; also APPEND
	// and INCR, as in Redis).
	KeepTTL bool
	// Persist clears the expiry (PERSIST, GETEX PERSIST).
	Persist bool
	// Cond restricts OpExpire (EXPIRE … NX|XX|GT|LT).
	Cond ExpireCond

	// Typed is OpTyped's write.
	Typed crdt.Op
}

// NeedsRead reports whether the op depends on the key's current value, so
// the coordinator must read a quorum before applying it (docs/architecture.md §3: NX, XX,
// INCR, GETSET … are evaluated on a quorum read and are not linearizable).
// A plain SET or SETCTX/DELCTX is applied to the coordinator's local object
// only.
func (op Op) NeedsRead() bool {
	switch op.Kind {
	case OpSet:
		return op.NX || op.XX || op.Get || op.KeepTTL
	case OpDelete:
		// DEL answers how many keys existed; DELCTX does not need to know.
		return !op.UseContext
	case OpIncrBy, OpIncrByFloat:
		// A counter's increments commute: no read before the write.
		return false
	case OpTyped:
		return op.Typed.NeedsRead()
	}
	return true
}

// Result is what a write did.
type Result struct {
	// Applied is false when a condition (NX, XX, an EXPIRE condition, a
	// missing key for EXPIRE/PERSIST/DEL) stopped the write; nothing was
	// stored then.
	Applied bool
	// Old is the live value before the write, when Op.Get asked for it;
	// OldFound says whether there was one.
	Old      []byte
	OldFound bool
	// Int carries the integer reply: the new value for OpIncrBy, the new
	// length for OpAppend and OpSetRange.
	Int int64
	// Bytes carries a string reply: the new value for OpIncrByFloat.
	Bytes []byte
	// Null and Values carry a typed write's nil or array reply (SPOP's
	// members, ZPOPMIN's members and scores, ZADD INCR's abort).
	Null   bool
	Values [][]byte
	// Object is the key's object after the write (before it when nothing
	// was applied); its VV is the context a client may use next.
	Object version.Object
}

// Errors Apply returns; each is a client error, nothing is written. The
// typed writes' errors are package crdt's (crdt.ErrWrongType, …).
var (
	// ErrNotInteger: INCR family on a value that is not a base-10 int64.
	ErrNotInteger = crdt.ErrNotInteger
	// ErrOverflow: INCR family would overflow int64.
	ErrOverflow = crdt.ErrOverflow
	// ErrValueTooLarge: the resulting value exceeds the configured limit.
	ErrValueTooLarge = errors.New("coordinator: value too large")
	// ErrNotFloat: INCRBYFLOAT on a value or with an increment that is not
	// a finite decimal number, or a result that is not finite.
	ErrNotFloat = crdt.ErrNotFloat
	// ErrUnknownOp: an Op whose Kind this node does not know (a forwarded
	// op from a newer node).
	ErrUnknownOp = crdt.ErrUnknownOp
)

// consistencyKey is the context key of a per-request R/W override.
type consistencyKey struct{}

// Consistency is a per-request override of the read and write quorums
// (docs/architecture.md §4 step 7, like Cassandra's per-query consistency level). Zero
// fields mean "the node's default".
type Consistency struct {
	R, W int
}

// WithConsistency returns ctx carrying the override c. The RESP layer sets
// it from the connection's `DYNAGO CONSISTENCY R W`.
func WithConsistency(ctx context.Context, c Consistency) context.Context {
	if c == (Consistency{}) {
		return ctx
	}
	return context.WithValue(ctx, consistencyKey{}, c)
}

// ConsistencyFrom returns the override carried by ctx (zero if none).
func ConsistencyFrom(ctx context.Context) Consistency {
	c, _ := ctx.Value(consistencyKey{}).(Consistency)
	return c
}
