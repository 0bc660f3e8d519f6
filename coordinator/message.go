package coordinator

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/dynago/dynago/crdt"
	"github.com/dynago/dynago/version"
)

// MsgKind names an internode request.
type MsgKind uint8

// Internode requests. Replicas answer every kind; only coordinators send
// them.
const (
	// MsgRead asks a replica for its object of (Partition, Key), merged
	// with any hint it holds for the key.
	MsgRead MsgKind = iota + 1
	// MsgReplicate asks a replica to merge Object into its copy of
	// (Partition, Key), durably; with HintFor set the receiver is a
	// fallback and keeps the object as a hint for that node.
	MsgReplicate
	// MsgForward asks a home replica to coordinate the write Op on Key.
	MsgForward
	// MsgScan asks for up to Count keys of Partition after After.
	MsgScan
	// MsgFlush asks a node to delete every key it holds.
	MsgFlush
	// MsgPing checks a peer is alive and authenticated.
	MsgPing
	// MsgKeyspace asks for a node's live key counts.
	MsgKeyspace
	// MsgFetch asks for up to Count objects of Partition after After, with
	// their keys (streaming a partition to a new replica, §4.9).
	MsgFetch
	// MsgAEHashes asks for tree hashes of Partition (Payload: an encoded
	// antientropy.LevelRequest; answer Payload: encoded hashes).
	MsgAEHashes
	// MsgAEKeys asks for the (key, hash) list of segments of Partition
	// (Payload: encoded segments; answer Payload: encoded key hashes).
	MsgAEKeys
	// MsgFetchKeys asks for the objects of Keys (answer: Objects, one per
	// key, zero for a missing key).
	MsgFetchKeys
	// MsgMergeMany asks a replica to merge Objects into its copies of Keys
	// in one batch.
	MsgMergeMany
	// MsgPublish hands Pub, pub/sub messages published on the sender, to
	// the receiver's subscribers, in order (pubsub.go).
	MsgPublish
	// MsgTxLock asks the node that keeps Key's slot locks for the slot's
	// transaction lock, leased for Timeout (answer N1: the lock's token).
	MsgTxLock
	// MsgTxUnlock releases the transaction lock of Key's slot held under
	// Token.
	MsgTxUnlock
)

// String names the kind for logs and metrics.
func (k MsgKind) String() string {
	switch k {
	case MsgRead:
		return "read"
	case MsgReplicate:
		return "replicate"
	case MsgForward:
		return "forward"
	case MsgScan:
		return "scan"
	case MsgFlush:
		return "flush"
	case MsgPing:
		return "ping"
	case MsgKeyspace:
		return "keyspace"
	case MsgFetch:
		return "fetch"
	case MsgAEHashes:
		return "ae-hashes"
	case MsgAEKeys:
		return "ae-keys"
	case MsgFetchKeys:
		return "fetch-keys"
	case MsgMergeMany:
		return "merge-many"
	case MsgPublish:
		return "publish"
	case MsgTxLock:
		return "tx-lock"
	case MsgTxUnlock:
		return "tx-unlock"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Request is one internode request; which fields matter depends on Kind.
type Request struct {
	Kind      MsgKind
	Partition uint16
	Key       []byte
	Object    version.Object   // MsgReplicate
	HintFor   string           // MsgRead, MsgReplicate: the home replica a fallback stands in for
	Op        Op               // MsgForward
	R, W      int              // MsgForward: the client's consistency override (0: default)
	Timeout   time.Duration    // MsgForward: the time the forwarding node still waits (0: none); MsgTxLock: the lease
	After     []byte           // MsgScan, MsgFetch
	Count     int              // MsgScan, MsgFetch
	Payload   []byte           // MsgAEHashes, MsgAEKeys: encoded by antientropy
	Keys      [][]byte         // MsgFetchKeys, MsgMergeMany
	Objects   []version.Object // MsgMergeMany: the object of each key
	Pub       []PubMessage     // MsgPublish
	Token     uint64           // MsgTxUnlock
}

// Response is a replica's answer. Err is a remote failure, decoded into one
// of this package's sentinels where it has one.
type Response struct {
	Object  version.Object   // MsgRead
	Result  Result           // MsgForward
	Keys    [][]byte         // MsgScan, MsgFetch
	Objects []version.Object // MsgFetch, MsgFetchKeys: the object of each key
	Payload []byte           // MsgAEHashes, MsgAEKeys: encoded by antientropy
	More    bool             // MsgScan, MsgFetch: the partition has keys after the last one
	N1, N2  int64            // MsgKeyspace: keys, expires; MsgTxLock: N1 is the token
	Err     error
}

// errCodes maps sentinels to wire codes so a forwarded write fails with the
// same error it would have locally. Code 0 is success; unknown errors travel
// as text with errCodeOther.
var errCodes = []struct {
	code byte
	err  error
}{
	{1, ErrNotInteger},
	{2, ErrOverflow},
	{3, ErrValueTooLarge},
	{4, ErrQuorumMaybe},
	{5, ErrQuorumNotApplied},
	{6, ErrReadQuorum},
	{7, version.ErrMalformed},
	{8, ErrNotFloat},
	{9, ErrUnknownOp},
	{10, crdt.ErrWrongType},
	{11, crdt.ErrHashNotInteger},
	{12, crdt.ErrHashNotFloat},
	{13, crdt.ErrNaN},
	{14, crdt.ErrMinMaxFloat},
	{15, crdt.ErrMinMaxLex},
}

const errCodeOther = 255

func errCode(err error) byte {
	for _, e := range errCodes {
		if errors.Is(err, e.err) {
			return e.code
		}
	}
	return errCodeOther
}

// remoteError is an error a peer reported; it unwraps to the sentinel the
// peer matched, so errors.Is works across the wire.
type remoteError struct {
	sentinel error
	msg      string
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.sentinel }

func decodeErr(code byte, msg string) error {
	for _, e := range errCodes {
		if e.code == code {
			return &remoteError{sentinel: e.err, msg: msg}
		}
	}
	return &remoteError{msg: msg}
}

// AppendRequest encodes r.
func AppendRequest(dst []byte, r *Request) []byte {
	dst = append(dst, byte(r.Kind))
	dst = binary.BigEndian.AppendUint16(dst, r.Partition)
	dst = appendBytes(dst, r.Key)
	switch r.Kind {
	case MsgRead:
		dst = appendBytes(dst, []byte(r.HintFor))
	case MsgReplicate:
		dst = appendBytes(dst, []byte(r.HintFor))
		dst = version.AppendObject(dst, r.Object)
	case MsgForward:
		dst = binary.AppendUvarint(dst, uint64(r.R))
		dst = binary.AppendUvarint(dst, uint64(r.W))
		dst = binary.AppendUvarint(dst, uint64(max(r.Timeout, 0)/time.Microsecond))
		dst = appendOp(dst, &r.Op)
	case MsgTxLock:
		dst = binary.AppendUvarint(dst, uint64(max(r.Timeout, 0)/time.Microsecond))
	case MsgTxUnlock:
		dst = binary.AppendUvarint(dst, r.Token)
	case MsgScan, MsgFetch:
		dst = appendBytes(dst, r.After)
		dst = binary.AppendUvarint(dst, uint64(r.Count))
	case MsgAEHashes, MsgAEKeys:
		dst = appendBytes(dst, r.Payload)
	case MsgFetchKeys, MsgMergeMany:
		dst = binary.AppendUvarint(dst, uint64(len(r.Keys)))
		for i, k := range r.Keys {
			dst = appendBytes(dst, k)
			if r.Kind == MsgMergeMany {
				dst = appendBytes(dst, version.AppendObject(nil, r.Objects[i]))
			}
		}
	case MsgPublish:
		dst = binary.AppendUvarint(dst, uint64(len(r.Pub)))
		for _, m := range r.Pub {
			dst = appendBool(dst, m.Shard)
			dst = appendBytes(dst, m.Channel)
			dst = appendBytes(dst, m.Message)
		}
	}
	return dst
}

// DecodeRequest decodes a request; the result shares no memory with b.
func DecodeRequest(b []byte) (*Request, error) {
	d := wire{b: b}
	r := &Request{Kind: MsgKind(d.byte())}
	r.Partition = d.uint16()
	r.Key = d.bytesCopy()
	switch r.Kind {
	case MsgFlush, MsgPing, MsgKeyspace:
	case MsgRead:
		r.HintFor = string(d.bytes())
	case MsgReplicate:
		r.HintFor = string(d.bytes())
		r.Object = d.object()
	case MsgForward:
		r.R = int(min(d.uvarint(), 16))
		r.W = int(min(d.uvarint(), 16))
		r.Timeout = time.Duration(min(d.uvarint(), uint64(time.Hour/time.Microsecond))) * time.Microsecond
		r.Op = d.op()
	case MsgTxLock:
		r.Timeout = time.Duration(min(d.uvarint(), uint64(time.Hour/time.Microsecond))) * time.Microsecond
	case MsgTxUnlock:
		r.Token = d.uvarint()
	case MsgScan, MsgFetch:
		r.After = d.bytesCopy()
		r.Count = int(min(d.uvarint(), 1<<20))
	case MsgAEHashes, MsgAEKeys:
		r.Payload = d.bytesCopy()
	case MsgFetchKeys, MsgMergeMany:
		n := d.count(1)
		for i := 0; i < n && d.err == nil; i++ {
			r.Keys = append(r.Keys, d.bytesCopy())
			if r.Kind == MsgMergeMany {
				r.Objects = append(r.Objects, d.objectBytes())
			}
		}
	case MsgPublish:
		n := d.count(3)
		for i := 0; i < n && d.err == nil; i++ {
			m := PubMessage{Shard: d.bool()}
			m.Channel = d.bytesCopy()
			m.Message = d.bytesCopy()
			r.Pub = append(r.Pub, m)
		}
	default:
		d.fail("unknown request kind")
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	return r, d.err
}

// AppendResponse encodes r for a request of kind k.
func AppendResponse(dst []byte, k MsgKind, r *Response) []byte {
	if r.Err != nil {
		dst = append(dst, errCode(r.Err))
		return appendBytes(dst, []byte(r.Err.Error()))
	}
	dst = append(dst, 0)
	switch k {
	case MsgRead:
		dst = version.AppendObject(dst, r.Object)
	case MsgForward:
		dst = appendResult(dst, &r.Result)
	case MsgScan:
		dst = binary.AppendUvarint(dst, uint64(len(r.Keys)))
		for _, k := range r.Keys {
			dst = appendBytes(dst, k)
		}
		dst = appendBool(dst, r.More)
	case MsgKeyspace:
		dst = binary.AppendVarint(dst, r.N1)
		dst = binary.AppendVarint(dst, r.N2)
	case MsgTxLock:
		dst = binary.AppendVarint(dst, r.N1)
	case MsgFetch:
		dst = binary.AppendUvarint(dst, uint64(len(r.Keys)))
		for i, k := range r.Keys {
			dst = appendBytes(dst, k)
			dst = appendBytes(dst, version.AppendObject(nil, r.Objects[i]))
		}
		dst = appendBool(dst, r.More)
	case MsgFetchKeys:
		dst = binary.AppendUvarint(dst, uint64(len(r.Objects)))
		for _, o := range r.Objects {
			dst = appendBytes(dst, version.AppendObject(nil, o))
		}
	case MsgAEHashes, MsgAEKeys:
		dst = appendBytes(dst, r.Payload)
	}
	return dst
}

// DecodeResponse decodes the answer to a request of kind k.
func DecodeResponse(k MsgKind, b []byte) (*Response, error) {
	d := wire{b: b}
	r := &Response{}
	if code := d.byte(); code != 0 {
		msg := string(d.bytes())
		if d.err != nil {
			return nil, d.err
		}
		r.Err = decodeErr(code, msg)
		return r, nil
	}
	switch k {
	case MsgRead:
		r.Object = d.object()
	case MsgForward:
		r.Result = d.result()
	case MsgScan:
		n := d.count(1)
		for i := 0; i < n && d.err == nil; i++ {
			r.Keys = append(r.Keys, d.bytesCopy())
		}
		r.More = d.bool()
	case MsgKeyspace:
		r.N1 = d.varint()
		r.N2 = d.varint()
	case MsgTxLock:
		r.N1 = d.varint()
	case MsgFetch:
		n := d.count(2)
		for i := 0; i < n && d.err == nil; i++ {
			r.Keys = append(r.Keys, d.bytesCopy())
			r.Objects = append(r.Objects, d.objectBytes())
		}
		r.More = d.bool()
	case MsgFetchKeys:
		n := d.count(1)
		for i := 0; i < n && d.err == nil; i++ {
			r.Objects = append(r.Objects, d.objectBytes())
		}
	case MsgAEHashes, MsgAEKeys:
		r.Payload = d.bytesCopy()
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	return r, d.err
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

func appendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, 1)
	}
	return append(dst, 0)
}

func appendOp(dst []byte, op *Op) []byte {
	dst = append(dst, byte(op.Kind), byte(op.Cond))
	var flags byte
	for i, f := range []bool{op.UseContext, op.NX, op.XX, op.Get, op.KeepTTL, op.Persist} {
		if f {
			flags |= 1 << i
		}
	}
	dst = append(dst, flags)
	dst = appendBytes(dst, op.Value)
	dst = binary.AppendVarint(dst, op.Delta)
	dst = binary.AppendVarint(dst, op.ExpireAt)
	dst = binary.AppendUvarint(dst, uint64(op.Offset))
	dst = binary.AppendUvarint(dst, uint64(len(op.Float)))
	dst = append(dst, op.Float...)
	dst = appendTyped(dst, &op.Typed)
	return version.AppendVV(dst, op.Context)
}

// appendTyped appends a typed op (all zero for the string writes).
func appendTyped(dst []byte, t *crdt.Op) []byte {
	dst = append(dst, byte(t.Kind), byte(t.Type))
	dst = binary.AppendUvarint(dst, uint64(t.Flags))
	dst = binary.AppendVarint(dst, t.Int)
	dst = appendBytes(dst, []byte(t.Float))
	dst = binary.AppendUvarint(dst, t.Seed)
	dst = appendList(dst, t.Fields)
	return appendList(dst, t.Values)
}

func appendList(dst []byte, l [][]byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(l)))
	for _, b := range l {
		dst = appendBytes(dst, b)
	}
	return dst
}

func appendResult(dst []byte, r *Result) []byte {
	dst = appendBool(dst, r.Applied)
	dst = appendBool(dst, r.OldFound)
	dst = appendBytes(dst, r.Old)
	dst = binary.AppendVarint(dst, r.Int)
	dst = appendBytes(dst, r.Bytes)
	dst = appendBool(dst, r.Null)
	dst = appendList(dst, r.Values)
	return version.AppendObject(dst, r.Object)
}

// wire reads the binary forms with bounds checks; the first error sticks.
type wire struct {
	b   []byte
	err error
}

func (d *wire) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("coordinator: malformed message: %s", what)
	}
}

func (d *wire) byte() byte {
	if d.err != nil || len(d.b) < 1 {
		d.fail("short")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *wire) bool() bool { return d.byte() == 1 }

func (d *wire) uint16() uint16 {
	if d.err != nil || len(d.b) < 2 {
		d.fail("short")
		return 0
	}
	v := binary.BigEndian.Uint16(d.b)
	d.b = d.b[2:]
	return v
}

func (d *wire) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *wire) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length that must fit in the rest of the input given each
// element takes at least minSize bytes.
func (d *wire) count(minSize int) int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)/minSize) {
		d.fail("count too large")
		return 0
	}
	return int(n)
}

// bytes returns a slice aliasing the input.
func (d *wire) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail("length past end")
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *wire) bytesCopy() []byte {
	b := d.bytes()
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// object decodes an object that runs to the end of the buffer or is
// followed by nothing this message still needs: objects are always last.
func (d *wire) object() version.Object {
	if d.err != nil {
		return version.Object{}
	}
	o, err := version.DecodeObject(d.b)
	if err != nil {
		d.err = err
		return version.Object{}
	}
	d.b = nil
	return o
}

// objectBytes decodes a length-prefixed encoded object; an empty encoding
// is the zero Object (a key the peer does not hold).
func (d *wire) objectBytes() version.Object {
	raw := d.bytes()
	if d.err != nil || len(raw) == 0 {
		return version.Object{}
	}
	o, err := version.DecodeObject(raw)
	if err != nil {
		d.err = err
	}
	return o
}

func (d *wire) op() Op {
	var op Op
	op.Kind = OpKind(d.byte())
	op.Cond = ExpireCond(d.byte())
	flags := d.byte()
	for i, f := range []*bool{&op.UseContext, &op.NX, &op.XX, &op.Get, &op.KeepTTL, &op.Persist} {
		*f = flags&(1<<i) != 0
	}
	op.Value = d.bytesCopy()
	op.Delta = d.varint()
	op.ExpireAt = d.varint()
	op.Offset = int64(d.uvarint())
	op.Float = string(d.bytes())
	op.Typed = d.typed()
	if d.err != nil {
		return op
	}
	vd := wireVV(d.b)
	op.Context, d.b, d.err = vd.vv, vd.rest, vd.err
	return op
}

func (d *wire) result() Result {
	var r Result
	r.Applied = d.bool()
	r.OldFound = d.bool()
	r.Old = d.bytesCopy()
	r.Int = d.varint()
	r.Bytes = d.bytesCopy()
	r.Null = d.bool()
	r.Values = d.list()
	r.Object = d.object()
	return r
}

func (d *wire) typed() crdt.Op {
	var t crdt.Op
	t.Kind = crdt.OpKind(d.byte())
	t.Type = version.Type(d.byte())
	t.Flags = uint16(d.uvarint())
	t.Int = d.varint()
	t.Float = string(d.bytes())
	t.Seed = d.uvarint()
	t.Fields = d.list()
	t.Values = d.list()
	return t
}

// list reads appendList's form; the items are copies.
func (d *wire) list() [][]byte {
	n := d.count(1)
	if d.err != nil || n == 0 {
		return nil
	}
	l := make([][]byte, n)
	for i := range l {
		l[i] = d.bytesCopy()
		if l[i] == nil {
			l[i] = []byte{}
		}
	}
	return l
}

type vvDecode struct {
	vv   version.VV
	rest []byte
	err  error
}

// wireVV decodes a VV written by version.AppendVV at the start of b.
func wireVV(b []byte) vvDecode {
	d := wire{b: b}
	n := d.count(version.ActorLen + 1)
	if d.err != nil {
		return vvDecode{err: d.err}
	}
	var vv version.VV
	for i := 0; i < n; i++ {
		if len(d.b) < version.ActorLen {
			return vvDecode{err: errors.New("coordinator: malformed message: short actor")}
		}
		var e version.Entry
		copy(e.Actor[:], d.b[:version.ActorLen])
		d.b = d.b[version.ActorLen:]
		e.Counter = d.uvarint()
		vv = append(vv, e)
	}
	if d.err == nil {
		d.err = vv.Validate()
	}
	return vvDecode{vv: vv, rest: d.b, err: d.err}
}
