package resp

import (
	"strings"
	"testing"
)

// loopConn replays the same pipelined batch forever and discards replies,
// so a benchmark measures parse + dispatch + reply without sockets.
type loopConn struct {
	batch []byte
	off   int
	out   int
}

func (l *loopConn) Read(p []byte) (int, error) {
	n := copy(p, l.batch[l.off:])
	l.off = (l.off + n) % len(l.batch)
	return n, nil
}

// benchPipeline runs batches of 16 identical commands through the parser,
// runBatch's dispatch loop and the writer, against the in-memory backend.
func benchPipeline(b *testing.B, cmd []string, setup ...string) {
	h := newHarness(&testing.T{})
	for _, s := range setup {
		h.do(s)
	}
	var one strings.Builder
	one.WriteString("*" + itoa(len(cmd)) + "\r\n")
	for _, a := range cmd {
		one.WriteString("$" + itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	const depth = 16
	src := &loopConn{batch: []byte(strings.Repeat(one.String(), depth))}
	p := parser{lim: h.s.limitsFor(h.c)}
	w := NewWriter(2)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		cmds, err := p.readBatch(src)
		if err != nil {
			b.Fatal(err)
		}
		for i := range cmds {
			h.s.dispatch(h.c, cmds[i].Args, w)
		}
		src.out += w.Len()
		w.Reset(2)
		done += len(cmds)
	}
	b.StopTimer()
	if src.out == 0 {
		b.Fatal("no replies")
	}
}

func BenchmarkDispatchGET(b *testing.B) {
	benchPipeline(b, []string{"GET", "key:000000001"}, "SET key:000000001 xxx")
}

func BenchmarkDispatchSET(b *testing.B) {
	benchPipeline(b, []string{"SET", "key:000000001", "xxx"})
}

func BenchmarkDispatchPING(b *testing.B) {
	benchPipeline(b, []string{"PING"})
}

// BenchmarkLookup is the command-name lookup alone: no allocation.
func BenchmarkLookup(b *testing.B) {
	h := newHarness(&testing.T{})
	name := []byte("GeT")
	b.ReportAllocs()
	for b.Loop() {
		if lookup(&h.c.lower, h.s.cmds, name) == nil {
			b.Fatal("not found")
		}
	}
}
