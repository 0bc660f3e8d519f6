package resp

import (
	"testing"
	"time"
)

// The replies are redis-server 7's (checked with redis-cli).

func TestMultiExec(t *testing.T) {
	newHarness(t).run([]step{
		{`EXEC`, `(error) ERR EXEC without MULTI`},
		{`DISCARD`, `(error) ERR DISCARD without MULTI`},
		{`MULTI`, `OK`},
		{`MULTI`, `(error) ERR MULTI calls can not be nested`},
		{`WATCH a`, `(error) ERR WATCH inside MULTI is not allowed`},
		{`SET a 1`, `QUEUED`},
		{`INCR a`, `QUEUED`},
		{`HSET a f v`, `QUEUED`},
		{`GET a`, `QUEUED`},
		{`PING`, `QUEUED`},
		{`GET a`, `QUEUED`},
		{`EXEC`, `[OK, (integer) 2, (error) WRONGTYPE Operation against a key holding the wrong kind of value, "2", PONG, "2"]`},
		{`EXEC`, `(error) ERR EXEC without MULTI`},
		{`MULTI`, `OK`},
		{`EXEC`, `[]`},
		{`MULTI`, `OK`},
		{`SET a`, `(error) ERR wrong number of arguments for 'set' command`},
		{`FOO`, `(error) ERR unknown command 'FOO', with args beginning with: `},
		{`SET a 3`, `QUEUED`},
		{`EXEC`, `(error) EXECABORT Transaction discarded because of previous errors.`},
		{`GET a`, `"2"`},
		{`MULTI`, `OK`},
		{`SET a 4`, `QUEUED`},
		{`DISCARD`, `OK`},
		{`GET a`, `"2"`},
		{`WATCH`, `(error) ERR wrong number of arguments for 'watch' command`},
		{`UNWATCH`, `OK`},
		// A rejected WATCH inside MULTI aborts it; a refused one does not.
		{`MULTI`, `OK`},
		{`WATCH a`, `(error) ERR WATCH inside MULTI is not allowed`},
		{`EXEC`, `[]`},
		{`MULTI`, `OK`},
		{`WATCH`, `(error) ERR wrong number of arguments for 'watch' command`},
		{`EXEC`, `(error) EXECABORT Transaction discarded because of previous errors.`},
	})
}

func TestWatch(t *testing.T) {
	h := newHarness(t)
	other := h.s.NewClient()
	h.run([]step{
		// Untouched: EXEC runs.
		{`WATCH w`, `OK`},
		{`MULTI`, `OK`},
		{`SET w 1`, `QUEUED`},
		{`EXEC`, `[OK]`},
		// Changed by this very connection: EXEC aborts.
		{`WATCH w`, `OK`},
		{`SET w 2`, `OK`},
		{`MULTI`, `OK`},
		{`SET w 3`, `QUEUED`},
		{`EXEC`, `(nil)`},
		{`GET w`, `"2"`},
		// EXEC forgot the watch.
		{`MULTI`, `OK`},
		{`SET w 3`, `QUEUED`},
		{`EXEC`, `[OK]`},
		// UNWATCH forgets it too.
		{`WATCH w`, `OK`},
		{`SET w 4`, `OK`},
		{`UNWATCH`, `OK`},
		{`MULTI`, `OK`},
		{`EXEC`, `[]`},
		// A missing key that appears aborts.
		{`WATCH nokey`, `OK`},
	})
	w := NewWriter(2)
	h.s.Handle(other, split(`SET nokey x`), w)
	h.run([]step{
		{`MULTI`, `OK`},
		{`GET nokey`, `QUEUED`},
		{`EXEC`, `(nil)`},
		// Changed by another connection between WATCH and EXEC.
		{`WATCH w`, `OK`},
		{`GET w`, `"4"`},
	})
	w.Reset(2)
	h.s.Handle(other, split(`SET w 5`), w)
	h.run([]step{
		{`MULTI`, `OK`},
		{`SET w 6`, `QUEUED`},
		{`EXEC`, `(nil)`},
		{`GET w`, `"5"`},
		// DISCARD forgets the watch.
		{`WATCH w`, `OK`},
		{`SET w 7`, `OK`},
		{`MULTI`, `OK`},
		{`DISCARD`, `OK`},
		{`MULTI`, `OK`},
		{`SET w 8`, `QUEUED`},
		{`EXEC`, `[OK]`},
	})
	h.c.proto = 3
	h.run([]step{
		{`WATCH w`, `OK`},
		{`SET w 9`, `OK`},
		{`MULTI`, `OK`},
		{`EXEC`, `(nil)`},
	})
	// Reads look for a watch only while some client watches.
	if n := h.s.watchers.Load(); n != 0 {
		t.Fatalf("%d watching clients after EXEC", n)
	}
	h.do(`WATCH a b`)
	h.do(`WATCH c`)
	if n := h.s.watchers.Load(); n != 1 {
		t.Fatalf("%d watching clients, want 1", n)
	}
	h.do(`UNWATCH`)
	if n := h.s.watchers.Load(); n != 0 {
		t.Fatalf("%d watching clients after UNWATCH", n)
	}
}

// A read of a watched key that sees another version than WATCH did
// aborts EXEC, even when the key is back at WATCH's version by EXEC.
func TestWatchStaleRead(t *testing.T) {
	h := newHarness(t)
	h.do(`SET w 1`)
	h.do(`WATCH w`)
	h.c.tx.watched[0].vv = nil // as if WATCH's quorum read had seen an older version
	h.run([]step{
		{`GET w`, `"1"`},
		{`MULTI`, `OK`},
		{`EXEC`, `(nil)`},
	})
}

func TestMultiCrossSlot(t *testing.T) {
	h, _ := newClusterHarness(t, &fakeCluster{view: twoNodes()})
	h.run([]step{
		{`WATCH a b`, `(error) CROSSSLOT Keys in request don't hash to the same slot`},
		{`WATCH {t}a {t}b`, `OK`},
		{`MULTI`, `OK`},
		{`SET {t}a 1`, `QUEUED`},
		{`MSET {t}c 1 {t}d 2`, `QUEUED`},
		{`EXEC`, `[OK, OK]`},
		{`MULTI`, `OK`},
		{`MSET a 1 b 2`, `(error) CROSSSLOT Keys in request don't hash to the same slot`},
		{`SET {t}a 2`, `QUEUED`},
		{`EXEC`, `(error) EXECABORT Transaction discarded because of previous errors.`},
		// Each command on one slot, but not the same one: EXEC refuses and
		// discards, as Redis Cluster does.
		{`MULTI`, `OK`},
		{`SET a 1`, `QUEUED`},
		{`SET b 1`, `QUEUED`},
		{`EXEC`, `(error) CROSSSLOT Keys in request don't hash to the same slot`},
		{`EXEC`, `(error) ERR EXEC without MULTI`},
		{`GET a`, `(nil)`},
		// A watched key counts as a key of the transaction.
		{`WATCH a`, `OK`},
		{`MULTI`, `OK`},
		{`SET b 1`, `QUEUED`},
		{`EXEC`, `(error) CROSSSLOT Keys in request don't hash to the same slot`},
	})
}

// In a pipeline, the commands after MULTI are queued, not run in a wave,
// and the queue keeps the arguments after the read buffer is reused.
func TestMultiPipelined(t *testing.T) {
	h := newHarness(t)
	tc := newTestConn(t, h.s)
	checkReplies(t, tc.replies(`SET a 0`, `MULTI`, `SET a 1`, `SET b 2`, `GET a`, `INCR c`, `EXEC`, `GET a`, `GET b`),
		[]string{`OK`, `OK`, `QUEUED`, `QUEUED`, `QUEUED`, `QUEUED`, `[OK, OK, "1", (integer) 1]`, `"1"`, `"2"`})
	checkReplies(t, tc.replies(`MULTI`, `SET a 5`, `GET a`), []string{`OK`, `QUEUED`, `QUEUED`})
	checkReplies(t, tc.replies(`SET b 9`, `EXEC`, `GET b`), []string{`QUEUED`, `[OK, "5", OK]`, `"9"`})
}

// A key live at WATCH that expires before EXEC aborts it, as in Redis 7;
// one already expired (missing) at WATCH does not.
func TestWatchExpired(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`SET e v PX 100`, `OK`},
		{`WATCH e`, `OK`},
	})
	h.clock.advance(200 * time.Millisecond)
	h.run([]step{
		{`MULTI`, `OK`},
		{`EXEC`, `(nil)`},
		{`WATCH e`, `OK`},
		{`MULTI`, `OK`},
		{`EXEC`, `[]`},
	})
}
