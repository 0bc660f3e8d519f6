package resp

import (
	"bytes"
	"errors"
	"io"

	"github.com/tidwall/redcon"
)

// protoError is a malformed request. The connection gets the reply
// "-ERR Protocol error: <msg>" (Redis's exact texts) and is closed; other
// connections are not affected.
type protoError string

func (e protoError) Error() string { return "Protocol error: " + string(e) }

// The protocol errors, with Redis 7's texts (networking.c).
const (
	errTooBigInline      protoError = "too big inline request"
	errUnbalancedQuotes  protoError = "unbalanced quotes in request"
	errTooBigMbulkCount  protoError = "too big mbulk count string"
	errInvalidMbulkLen   protoError = "invalid multibulk length"
	errUnauthMbulkLen    protoError = "unauthenticated multibulk length"
	errTooBigBulkCount   protoError = "too big bulk count string"
	errInvalidBulkLen    protoError = "invalid bulk length"
	errUnauthBulkLen     protoError = "unauthenticated bulk length"
	errExpectedDollarFmt            = "expected '$', got '"
)

// errQueryLimit: the connection buffered more unparsed input than allowed.
// Like Redis, the connection is closed without a reply.
var errQueryLimit = errors.New("resp: query buffer limit reached")

const (
	// initialBuf is a new connection's read buffer. It grows (doubling,
	// only when full, so never ahead of the bytes that arrived) up to the
	// query limit, and drops back to this size once drained.
	initialBuf = 4 << 10
	// eagerGrowBelow: a read that fills the whole buffer suggests a deep
	// pipeline, so the buffer doubles up to this size to batch more.
	eagerGrowBelow = 64 << 10
)

// limits are the parser's bounds for the next batch; the connection sets
// them from its Config and authentication state before every read.
type limits struct {
	maxArgs, maxBulk, maxInline, maxQuery int
	// unauth applies Redis's pre-AUTH limits and parses one command per
	// batch, so that an AUTH pipelined with later commands lifts the
	// limits for them exactly as in Redis, which parses and runs one
	// command at a time.
	unauth bool
}

// span is one parsed argument: buf[a:b], or arena[a:b] for unquoted
// inline arguments.
type span struct {
	a, b    int
	inArena bool
}

// pcmd is one complete command of the batch being built.
type pcmd struct {
	argEnd     int // end of its spans in parser.spans
	rawA, rawB int // its bytes in buf
}

// parser is an incremental parser of client requests: RESP multibulk and
// inline commands, with Redis's semantics and error texts (networking.c
// processInlineBuffer / processMultibulkBuffer). It keeps its position
// across reads, so every input byte is examined a bounded number of times
// (O(n) however the input is split), and it never allocates from a
// declared length: buffers grow only as bytes arrive.
//
// Arguments point into the parser's buffers and are valid until the next
// call of readBatch. A parser is owned by one connection goroutine.
type parser struct {
	lim limits

	buf  []byte
	r, w int // buf[r:w] is unconsumed input; an incomplete command starts at r

	// State of the command starting at r.
	mode  byte  // 0 between commands, 'i' inline, '*' multibulk
	pos   int   // next unparsed byte (absolute)
	scan  int   // where the search for the current line's end resumes (absolute)
	nargs int   // multibulk arguments still to read; -1 before the count line
	bulk  int   // length of the bulk being read; -1 before its header
	marks []int // argument [start, end) pairs of the current multibulk, relative to r

	// unread is, after an over-long bulk's "invalid bulk length", how
	// many bytes of that bulk have not arrived yet: the connection drains
	// them so that the client reads the error rather than a reset.
	unread int64

	// The batch: complete commands parsed from the input so far.
	spans []span
	pcmds []pcmd
	arena []byte // unescaped inline arguments
	args  [][]byte
	cmds  []redcon.Command
}

// readBatch returns the complete commands that the next read(s) of rd
// make available: at least one, unless err is set. A protocol error is
// returned together with the commands that preceded it, which the caller
// runs before replying with the error (as Redis does). An I/O error is
// returned with the commands completed by the last read.
func (p *parser) readBatch(rd io.Reader) ([]redcon.Command, error) {
	p.spans, p.pcmds, p.arena = p.spans[:0], p.pcmds[:0], p.arena[:0]
	for {
		if err := p.parse(); err != nil || len(p.pcmds) > 0 {
			return p.batch(), err
		}
		if err := p.makeRoom(); err != nil {
			return nil, err
		}
		n, err := rd.Read(p.buf[p.w:])
		if n < 0 || n > len(p.buf)-p.w {
			return nil, io.ErrShortBuffer // a broken Reader; never trust it
		}
		full := p.w+n == len(p.buf)
		p.w += n
		if err != nil {
			if n > 0 {
				if perr := p.parse(); perr != nil {
					err = perr
				}
			}
			return p.batch(), err
		}
		if full && len(p.buf) < eagerGrowBelow && len(p.buf)*2 <= p.lim.maxQuery {
			p.grow()
		}
	}
}

// buffered reports how many unparsed bytes the parser holds.
func (p *parser) buffered() int { return p.w - p.r }

// makeRoom ensures buf has free space at its end for the next read,
// compacting or growing it, and enforces the query buffer limit.
func (p *parser) makeRoom() error {
	if p.w-p.r >= p.lim.maxQuery {
		return errQueryLimit
	}
	if p.r == p.w {
		// Drained: start over at the front, and give back a buffer a
		// large request or deep pipeline grew.
		if len(p.buf) > eagerGrowBelow || p.buf == nil {
			p.buf = make([]byte, initialBuf)
		}
		p.shift(p.r)
		return nil
	}
	if p.w < len(p.buf) && p.r < len(p.buf)/2 {
		return nil
	}
	if p.r > 0 {
		copy(p.buf, p.buf[p.r:p.w])
		p.shift(p.r)
	}
	if p.w == len(p.buf) {
		p.grow()
	}
	return nil
}

// shift moves every absolute position d bytes towards the front.
func (p *parser) shift(d int) {
	p.r -= d
	p.w -= d
	p.pos = max(p.pos-d, 0)
	p.scan = max(p.scan-d, 0)
}

// grow doubles buf, capped by the query limit (plus one byte so that the
// limit itself is detected), and by the end of the bulk being read: the
// buffer still grows only when full, as bytes arrive, but a 64 MiB value
// ends in a buffer of 64 MiB rather than 128.
func (p *parser) grow() {
	n := min(2*len(p.buf), p.lim.maxQuery+1)
	if end := p.pos + p.bulk + 2; p.mode == '*' && p.bulk >= 0 && end > len(p.buf) {
		n = min(n, end)
	}
	if n <= len(p.buf) {
		return
	}
	nb := make([]byte, n)
	copy(nb, p.buf[:p.w])
	p.buf = nb
}

// batch turns the parsed spans into redcon commands. It runs once per
// parse round, after which buf does not move until the next readBatch.
func (p *parser) batch() []redcon.Command {
	p.args = p.args[:0]
	for _, s := range p.spans {
		if s.inArena {
			p.args = append(p.args, p.arena[s.a:s.b:s.b])
		} else {
			p.args = append(p.args, p.buf[s.a:s.b:s.b])
		}
	}
	p.cmds = p.cmds[:0]
	start := 0
	for _, c := range p.pcmds {
		p.cmds = append(p.cmds, redcon.Command{
			Raw:  p.buf[c.rawA:c.rawB:c.rawB],
			Args: p.args[start:c.argEnd:c.argEnd],
		})
		start = c.argEnd
	}
	return p.cmds
}

// parse consumes as many complete commands from buf[r:w] as there are
// (one when lim.unauth), recording them in the batch.
func (p *parser) parse() error {
	for {
		if p.mode == 0 {
			if p.r == p.w {
				return nil
			}
			p.pos, p.scan = p.r, p.r
			if p.buf[p.r] == '*' {
				p.mode, p.nargs = '*', -1
				p.pos++
				p.scan++
			} else {
				p.mode = 'i'
			}
		}
		var done bool
		var err error
		if p.mode == 'i' {
			done, err = p.inline()
		} else {
			done, err = p.multibulk()
		}
		if err != nil || !done {
			return err
		}
		p.mode = 0
		if p.lim.unauth && len(p.pcmds) > 0 {
			return nil
		}
	}
}

// inline parses one inline command line (a telnet-style request).
func (p *parser) inline() (done bool, err error) {
	i := bytes.IndexByte(p.buf[p.scan:p.w], '\n')
	if i < 0 {
		p.scan = p.w
		// A trailing '\r' may be the line's end: not counting it keeps
		// the verdict independent of how the input was split into reads.
		pending := p.w - p.r
		if p.buf[p.w-1] == '\r' {
			pending--
		}
		if pending > p.lim.maxInline {
			return false, errTooBigInline
		}
		return false, nil
	}
	nl := p.scan + i
	end := nl
	if end > p.r && p.buf[end-1] == '\r' {
		end--
	}
	if end-p.r > p.lim.maxInline {
		return false, errTooBigInline
	}
	first := len(p.spans)
	if !p.splitInline(p.buf[p.r:end]) {
		return false, errUnbalancedQuotes
	}
	if len(p.spans) > first {
		p.pcmds = append(p.pcmds, pcmd{argEnd: len(p.spans), rawA: p.r, rawB: nl + 1})
	}
	p.r = nl + 1
	return true, nil
}

// multibulk parses (the rest of) one "*<n>\r\n$<len>\r\n<bytes>\r\n…"
// command.
func (p *parser) multibulk() (done bool, err error) {
	if p.nargs < 0 {
		cr, ok, err := p.line(p.r, errTooBigMbulkCount)
		if !ok {
			return false, err
		}
		if p.buf[cr+1] != '\n' {
			return false, errInvalidMbulkLen
		}
		n, ok := parseInt64(p.buf[p.r+1 : cr])
		if !ok || n > int64(p.lim.maxArgs) {
			return false, errInvalidMbulkLen
		}
		if n > unauthMaxArgs && p.lim.unauth {
			return false, errUnauthMbulkLen
		}
		p.pos, p.scan = cr+2, cr+2
		if n <= 0 {
			// Redis ignores "*0" and "*-10".
			p.r = p.pos
			return true, nil
		}
		p.nargs, p.bulk, p.marks = int(n), -1, p.marks[:0]
	}
	for p.nargs > 0 {
		if p.bulk < 0 {
			if p.pos >= p.w {
				return false, nil
			}
			// Redis checks the '$' once the header line is complete;
			// checking the first byte at once fails desynchronised input
			// sooner with the same error.
			if c := p.buf[p.pos]; c != '$' {
				return false, protoError(errExpectedDollarFmt + string([]byte{c}) + "'")
			}
			cr, ok, err := p.line(p.pos, errTooBigBulkCount)
			if !ok {
				return false, err
			}
			if p.buf[cr+1] != '\n' {
				return false, errInvalidBulkLen
			}
			n, ok := parseInt64(p.buf[p.pos+1 : cr])
			if !ok || n < 0 {
				return false, errInvalidBulkLen
			}
			if n > int64(p.lim.maxBulk) {
				p.unread = max(int64(cr+2)+n+2-int64(p.w), 0)
				return false, errInvalidBulkLen
			}
			if n > unauthMaxBulk && p.lim.unauth {
				return false, errUnauthBulkLen
			}
			p.bulk, p.pos = int(n), cr+2
		}
		if p.w-p.pos < p.bulk+2 {
			return false, nil
		}
		// Redis skips the two bytes after the payload unchecked; a payload
		// longer or shorter than declared is caught here instead of
		// desynchronising the stream.
		if p.buf[p.pos+p.bulk] != '\r' || p.buf[p.pos+p.bulk+1] != '\n' {
			return false, errInvalidBulkLen
		}
		p.marks = append(p.marks, p.pos-p.r, p.pos+p.bulk-p.r)
		p.pos += p.bulk + 2
		p.scan = p.pos
		p.bulk = -1
		p.nargs--
	}
	for i := 0; i < len(p.marks); i += 2 {
		p.spans = append(p.spans, span{a: p.r + p.marks[i], b: p.r + p.marks[i+1]})
	}
	p.pcmds = append(p.pcmds, pcmd{argEnd: len(p.spans), rawA: p.r, rawB: p.pos})
	p.r = p.pos
	return true, nil
}

// line finds the '\r' ending the length line that starts at from, resuming
// the search where the previous call stopped. ok is false while the line
// (and the byte after its '\r') is incomplete; a line longer than the
// inline limit is the error tooBig.
func (p *parser) line(from int, tooBig protoError) (cr int, ok bool, err error) {
	i := bytes.IndexByte(p.buf[p.scan:p.w], '\r')
	if i < 0 {
		p.scan = p.w
		if p.w-from > p.lim.maxInline {
			return 0, false, tooBig
		}
		return 0, false, nil
	}
	cr = p.scan + i
	p.scan = cr
	if cr-from > p.lim.maxInline {
		return 0, false, tooBig
	}
	return cr, cr+1 < p.w, nil
}
