package resp

import (
	"math"
	"strconv"
	"strings"

	"github.com/dynago/dynago/crdt"
)

// Writer builds RESP replies into a byte buffer. It speaks RESP2 by default
// and RESP3 after the connection said HELLO 3; callers use the RESP3 shapes
// (maps, sets, null, doubles, booleans) and the writer degrades them to their
// RESP2 equivalents, as Redis does.
//
// A Writer is owned by one command at a time and is not safe for concurrent
// use.
type Writer struct {
	buf   []byte
	proto int // 2 or 3
}

// NewWriter returns a writer speaking protocol version proto (2 or 3).
func NewWriter(proto int) *Writer { return &Writer{proto: proto} }

// Bytes returns the encoded replies so far.
func (w *Writer) Bytes() []byte { return w.buf }

// Reset empties the buffer and sets the protocol version.
func (w *Writer) Reset(proto int) { w.buf, w.proto = w.buf[:0], proto }

// Proto is the protocol version replies are written in.
func (w *Writer) Proto() int { return w.proto }

// SetProto switches the protocol version for the replies that follow
// (HELLO), keeping what is buffered.
func (w *Writer) SetProto(proto int) { w.proto = proto }

// Len is the number of buffered bytes.
func (w *Writer) Len() int { return len(w.buf) }

// Truncate drops everything buffered after the first n bytes (CLIENT
// REPLY OFF / SKIP discard a reply this way).
func (w *Writer) Truncate(n int) { w.buf = w.buf[:n] }

func (w *Writer) header(prefix byte, n int64) {
	w.buf = append(w.buf, prefix)
	w.buf = strconv.AppendInt(w.buf, n, 10)
	w.buf = append(w.buf, '\r', '\n')
}

// WriteSimple writes a simple string (+OK). Newlines are replaced by spaces.
func (w *Writer) WriteSimple(s string) {
	w.buf = append(w.buf, '+')
	w.buf = appendLine(w.buf, s)
}

// WriteOK writes +OK.
func (w *Writer) WriteOK() { w.buf = append(w.buf, "+OK\r\n"...) }

// WriteError writes an error reply. msg must start with the error code
// (ERR, WRONGTYPE, TRYAGAIN, ...), as Redis errors do.
func (w *Writer) WriteError(msg string) {
	w.buf = append(w.buf, '-')
	w.buf = appendLine(w.buf, msg)
}

// WriteInt writes an integer reply.
func (w *Writer) WriteInt(n int64) { w.header(':', n) }

// WriteBulk writes a bulk string.
func (w *Writer) WriteBulk(b []byte) {
	w.header('$', int64(len(b)))
	w.buf = append(w.buf, b...)
	w.buf = append(w.buf, '\r', '\n')
}

// WriteBulkString writes a bulk string.
func (w *Writer) WriteBulkString(s string) {
	w.header('$', int64(len(s)))
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\r', '\n')
}

// WriteNull writes the null reply: $-1 in RESP2, _ in RESP3.
func (w *Writer) WriteNull() {
	if w.proto >= 3 {
		w.buf = append(w.buf, "_\r\n"...)
		return
	}
	w.buf = append(w.buf, "$-1\r\n"...)
}

// WriteNullArray writes a null array: *-1 in RESP2, _ in RESP3.
func (w *Writer) WriteNullArray() {
	if w.proto >= 3 {
		w.buf = append(w.buf, "_\r\n"...)
		return
	}
	w.buf = append(w.buf, "*-1\r\n"...)
}

// WriteArray starts an array of n elements.
func (w *Writer) WriteArray(n int) { w.header('*', int64(n)) }

// WritePush starts a push message of n elements (pub/sub): >n in RESP3,
// an array in RESP2.
func (w *Writer) WritePush(n int) {
	if w.proto >= 3 {
		w.header('>', int64(n))
		return
	}
	w.header('*', int64(n))
}

// WriteMap starts a map of n key/value pairs: %n in RESP3, an array of 2n
// elements in RESP2.
func (w *Writer) WriteMap(n int) {
	if w.proto >= 3 {
		w.header('%', int64(n))
		return
	}
	w.header('*', int64(2*n))
}

// WriteSet starts a set of n elements: ~n in RESP3, an array in RESP2.
func (w *Writer) WriteSet(n int) {
	if w.proto >= 3 {
		w.header('~', int64(n))
		return
	}
	w.header('*', int64(n))
}

// WriteBool writes a boolean: #t/#f in RESP3, :1/:0 in RESP2.
func (w *Writer) WriteBool(b bool) {
	switch {
	case w.proto >= 3 && b:
		w.buf = append(w.buf, "#t\r\n"...)
	case w.proto >= 3:
		w.buf = append(w.buf, "#f\r\n"...)
	case b:
		w.buf = append(w.buf, ":1\r\n"...)
	default:
		w.buf = append(w.buf, ":0\r\n"...)
	}
}

// WriteDouble writes a double: ,x in RESP3, a bulk string in RESP2, both
// printed as Redis 7.2 prints a double (crdt.FormatScore), nan for NaN.
func (w *Writer) WriteDouble(f float64) {
	s := []byte("nan")
	if !math.IsNaN(f) {
		s = crdt.FormatScore(f)
	}
	if w.proto >= 3 {
		w.buf = append(w.buf, ',')
		w.buf = append(w.buf, s...)
		w.buf = append(w.buf, '\r', '\n')
		return
	}
	w.WriteBulk(s)
}

// WriteVerbatim writes verbatim text (INFO, CLIENT INFO): =n txt:… in
// RESP3, a bulk string in RESP2.
func (w *Writer) WriteVerbatim(s string) {
	if w.proto >= 3 {
		w.header('=', int64(len(s)+4))
		w.buf = append(w.buf, "txt:"...)
		w.buf = append(w.buf, s...)
		w.buf = append(w.buf, '\r', '\n')
		return
	}
	w.WriteBulkString(s)
}

// WriteRaw appends pre-encoded RESP.
func (w *Writer) WriteRaw(b []byte) { w.buf = append(w.buf, b...) }

func appendLine(dst []byte, s string) []byte {
	if strings.ContainsAny(s, "\r\n") {
		s = strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	}
	dst = append(dst, s...)
	return append(dst, '\r', '\n')
}

// field is one entry of a reply map whose value is a string or an integer;
// the cluster and operator replies are mostly such maps.
type field struct {
	key   string
	str   string
	num   int64
	isNum bool
}

func strField(k, v string) field       { return field{key: k, str: v} }
func intField(k string, v int64) field { return field{key: k, num: v, isNum: true} }

// writeFields writes fs as map entries; the caller has started the map
// (WriteMap) with room for them.
func (w *Writer) writeFields(fs ...field) {
	for _, f := range fs {
		w.WriteBulkString(f.key)
		if f.isNum {
			w.WriteInt(f.num)
		} else {
			w.WriteBulkString(f.str)
		}
	}
}
