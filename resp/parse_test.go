package resp

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/tidwall/redcon"
)

// smallLimits make every limit reachable by short fuzz inputs.
var smallLimits = limits{maxArgs: 16, maxBulk: 128, maxInline: 64, maxQuery: 1024}

// chunkReader returns its input in pieces of the given sizes (cycled).
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(r.data))
	if len(r.sizes) > 0 {
		n = min(n, max(r.sizes[r.i%len(r.sizes)], 1))
		r.i++
	}
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// parseAll reads every batch from rd and returns the commands (copied)
// and the error that ended the stream (io.EOF when clean).
func parseAll(t testing.TB, rd io.Reader, lim limits) ([][]string, error) {
	p := parser{lim: lim}
	var out [][]string
	for {
		cmds, err := p.readBatch(rd)
		if len(p.buf) > lim.maxQuery+1 && len(p.buf) > initialBuf {
			t.Fatalf("buffer grew to %d past the query limit %d", len(p.buf), lim.maxQuery)
		}
		for _, c := range cmds {
			if len(c.Args) == 0 || len(c.Args) > max(lim.maxArgs, lim.maxInline) {
				t.Fatalf("command with %d args", len(c.Args))
			}
			var args []string
			for _, a := range c.Args {
				if len(a) > max(lim.maxBulk, lim.maxInline) {
					t.Fatalf("argument of %d bytes", len(a))
				}
				args = append(args, string(a))
			}
			out = append(out, args)
			if c.Raw[0] == '*' {
				// Well-formed multibulk: redcon reads it the same way.
				rc, err := redcon.Parse(c.Raw)
				if err != nil {
					t.Fatalf("redcon rejects %q: %v", c.Raw, err)
				}
				for i := range rc.Args {
					if !bytes.Equal(rc.Args[i], c.Args[i]) {
						t.Fatalf("redcon reads %q differently", c.Raw)
					}
				}
			}
		}
		if err != nil {
			return out, err
		}
	}
}

func TestParser(t *testing.T) {
	lim := limits{maxArgs: 1 << 20, maxBulk: 1 << 20, maxInline: 64 << 10, maxQuery: 128 << 20}
	for _, tc := range []struct {
		in   string
		want [][]string
		err  error
	}{
		{"*1\r\n$4\r\nPING\r\n", [][]string{{"PING"}}, io.EOF},
		{"*2\r\n$3\r\nGET\r\n$0\r\n\r\n*1\r\n$4\r\nPING\r\n", [][]string{{"GET", ""}, {"PING"}}, io.EOF},
		{"PING\r\nset a \"b c\"\nx'y' z\r\n", [][]string{{"PING"}, {"set", "a", "b c"}, {"xy", "z"}}, io.EOF},
		{"\r\n*-10\r\n*0\r\nPING\n", [][]string{{"PING"}}, io.EOF},
		{"echo \"\\x41\\x4g\\n\\q\"\r\n", [][]string{{"echo", "Ax4g\nq"}}, io.EOF},
		{"a\x00b c\r\n", [][]string{{"a"}}, io.EOF},
		{"a \"b\"c\r\n", nil, errUnbalancedQuotes},
		{"a 'b\r\n", nil, errUnbalancedQuotes},
		{"*1\r\n$4\r\nPING\r\n*x\r\n", [][]string{{"PING"}}, errInvalidMbulkLen},
		{"*2000000\r\n", nil, errInvalidMbulkLen},
		{"*-0\r\n", nil, errInvalidMbulkLen},
		{"*01\r\n", nil, errInvalidMbulkLen},
		{"*1\r\n$2000000\r\n", nil, errInvalidBulkLen},
		{"*1\r\n$+1\r\nx\r\n", nil, errInvalidBulkLen},
		{"*1\r\n$1\r\nxy\r\n", nil, errInvalidBulkLen},
		{"*1\r\n$1\r\nx", nil, io.EOF},
		{"*1\r\n:1\r\n", nil, protoError("expected '$', got ':'")},
		{strings.Repeat("a", 70000), nil, errTooBigInline},
		{"*" + strings.Repeat("1", 70000), nil, errTooBigMbulkCount},
		{"*1\r\n$" + strings.Repeat("1", 70000), nil, errTooBigBulkCount},
	} {
		for _, sizes := range [][]int{nil, {1}, {3, 7}} {
			got, err := parseAll(t, &chunkReader{data: []byte(tc.in), sizes: sizes}, lim)
			if !errors.Is(err, tc.err) || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%.40q in chunks %v: %q, %v; want %q, %v", tc.in, sizes, got, err, tc.want, tc.err)
			}
		}
	}
}

// A 1 MiB value arriving a byte at a time is parsed in linear time: the
// parser never rescans what it has seen.
func TestParserLinear(t *testing.T) {
	val := strings.Repeat("v", 1<<20)
	in := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + itoa(len(val)) + "\r\n" + val + "\r\n"
	lim := limits{maxArgs: 10, maxBulk: 2 << 20, maxInline: 64 << 10, maxQuery: 4 << 20}
	got, err := parseAll(t, &chunkReader{data: []byte(in), sizes: []int{1}}, lim)
	if err != io.EOF || len(got) != 1 || len(got[0][2]) != len(val) {
		t.Fatalf("%v %d", err, len(got))
	}
}

func TestSplitInlineMatchesRedis(t *testing.T) {
	for line, want := range map[string][]string{
		`set k v`:            {"set", "k", "v"},
		`  set   k  `:        {"set", "k"},
		`"a b" 'c d'`:        {"a b", "c d"},
		`"\x41\x42" '\'x'`:   {"AB", "'x"},
		`"a\tb\rc\bd\ae\zf"`: {"a\tb\rc\bd\ae" + "zf"},
		`foo"bar baz"`:       {"foobar baz"},
		"a\vb\fc":            {"a\vb\fc"},
		"\x00":               nil,
		`'\n'`:               {`\n`},
		`""`:                 {""},
		`"" ''`:              {"", ""},
		"x \"y\x00z\"":       nil,
		`"unterminated`:      nil,
		`"a"b`:               nil,
		`'a'b`:               nil,
		`"a\"b"`:             {`a"b`},
	} {
		var p parser
		ok := p.splitInline([]byte(line))
		var got []string
		for _, s := range p.spans {
			got = append(got, string(p.arena[s.a:s.b]))
		}
		if !ok {
			got = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %q, want %q", line, got, want)
		}
	}
}

// FuzzParseCommands: arbitrary bytes, split arbitrarily, never panic,
// never exceed the limits, and parse the same however they are split.
func FuzzParseCommands(f *testing.F) {
	f.Add([]byte("*1\r\n$4\r\nPING\r\n"), byte(0))
	f.Fuzz(func(t *testing.T, data []byte, split byte) {
		whole, errWhole := parseAll(t, &chunkReader{data: data}, smallLimits)
		bytewise, errBytes := parseAll(t, &chunkReader{data: data, sizes: []int{1, int(split)}}, smallLimits)
		if !reflect.DeepEqual(whole, bytewise) || !sameErr(errWhole, errBytes) {
			t.Fatalf("chunking changes the result: %q %v vs %q %v", whole, errWhole, bytewise, errBytes)
		}
		unauth := smallLimits
		unauth.unauth = true
		parseAll(t, &chunkReader{data: data, sizes: []int{int(split)}}, unauth)
	})
}

func sameErr(a, b error) bool {
	var pa, pb protoError
	if errors.As(a, &pa) || errors.As(b, &pb) {
		return errors.As(a, &pa) && errors.As(b, &pb) && pa == pb
	}
	return errors.Is(a, b) || errors.Is(b, a) || (errors.Is(a, errQueryLimit) == errors.Is(b, errQueryLimit))
}
