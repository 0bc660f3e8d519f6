package resp

import (
	"strings"
	"testing"
	"time"
)

// Each table is a redis-cli session against one server; the expected
// replies and error texts are Redis 7's (checked against redis-server).

func TestGetSet(t *testing.T) {
	newHarness(t).run([]step{
		{`GET k`, `(nil)`},
		{`SET k v`, `OK`},
		{`GET k`, `"v"`},
		{`SET "" ""`, `OK`},
		{`GET ""`, `""`},
		{`SET k v2 NX`, `(nil)`},
		{`SET k v2 XX`, `OK`},
		{`SET nope v XX`, `(nil)`},
		{`SET k v3 GET`, `"v2"`},
		{`SET new v GET`, `(nil)`},
		{`SET k v NX GET`, `"v3"`},
		{`SET k v NX XX`, `(error) ERR syntax error`},
		{`SET k v EX 10 PX 10`, `(error) ERR syntax error`},
		{`SET k v KEEPTTL EX 10`, `(error) ERR syntax error`},
		{`SET k v EX`, `(error) ERR syntax error`},
		{`SET k v PERSIST`, `(error) ERR syntax error`},
		{`SET k v FOO`, `(error) ERR syntax error`},
		{`SET k v EX 0`, `(error) ERR invalid expire time in 'set' command`},
		{`SET k v PX -5`, `(error) ERR invalid expire time in 'set' command`},
		{`SET k v EX abc`, `(error) ERR value is not an integer or out of range`},
		{`SET k v EX 9223372036854775`, `(error) ERR invalid expire time in 'set' command`},
		{`SET k v PX 9223372036854775807`, `(error) ERR invalid expire time in 'set' command`},
		{`SET k v EX 10 EX 20`, `OK`},
		{`TTL k`, `(integer) 20`},
		{`SET k v KEEPTTL`, `OK`},
		{`TTL k`, `(integer) 20`},
		{`SET k v`, `OK`},
		{`TTL k`, `(integer) -1`},
		{`SET k v PXAT 1700000005000`, `OK`},
		{`PTTL k`, `(integer) 5000`},
		{`SET k v EXAT 1700000003`, `OK`},
		{`TTL k`, `(integer) 3`},
		{`SET`, `(error) ERR wrong number of arguments for 'set' command`},
		{`GET a b`, `(error) ERR wrong number of arguments for 'get' command`},
	})
}

func TestSetVariants(t *testing.T) {
	newHarness(t).run([]step{
		{`SETNX k a`, `(integer) 1`},
		{`SETNX k b`, `(integer) 0`},
		{`GET k`, `"a"`},
		{`SETEX k 100 x`, `OK`},
		{`TTL k`, `(integer) 100`},
		{`SETEX k 0 x`, `(error) ERR invalid expire time in 'setex' command`},
		{`SETEX k x x`, `(error) ERR value is not an integer or out of range`},
		{`PSETEX k 1500 y`, `OK`},
		{`PTTL k`, `(integer) 1500`},
		{`PSETEX k -5 v`, `(error) ERR invalid expire time in 'psetex' command`},
		{`GETSET k z`, `"y"`},
		{`TTL k`, `(integer) -1`},
		{`GETSET fresh z`, `(nil)`},
		{`GETDEL k`, `"z"`},
		{`GETDEL k`, `(nil)`},
		{`EXISTS k`, `(integer) 0`},
	})
}

func TestGetEx(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`GETEX k`, `(nil)`},
		{`GETEX k EX 10`, `(nil)`},
		{`SET k v`, `OK`},
		{`GETEX k`, `"v"`},
		{`TTL k`, `(integer) -1`},
		{`GETEX k EX 10`, `"v"`},
		{`TTL k`, `(integer) 10`},
		{`GETEX k PERSIST`, `"v"`},
		{`TTL k`, `(integer) -1`},
		{`GETEX k PX 2500`, `"v"`},
		{`PTTL k`, `(integer) 2500`},
		{`GETEX k PERSIST EX 10`, `(error) ERR syntax error`},
		{`GETEX k KEEPTTL`, `(error) ERR syntax error`},
		{`GETEX k EX -1`, `(error) ERR invalid expire time in 'getex' command`},
		{`GETEX k NX`, `(error) ERR syntax error`},
		{`GETEX k EXAT 1600000000`, `"v"`},
		{`GET k`, `(nil)`},
	})
}

func TestExpiryPassesWithTheClock(t *testing.T) {
	h := newHarness(t)
	h.run([]step{{`SET k v PX 100`, `OK`}, {`GET k`, `"v"`}})
	h.clock.advance(100 * time.Millisecond)
	h.run([]step{{`GET k`, `(nil)`}, {`TTL k`, `(integer) -2`}, {`EXISTS k`, `(integer) 0`}, {`TYPE k`, `none`}})
}

func TestMultiKey(t *testing.T) {
	newHarness(t).run([]step{
		{`MSET a 1 b 2 c 3`, `OK`},
		{`MGET a b nope c`, `["1", "2", (nil), "3"]`},
		{`MSET a`, `(error) ERR wrong number of arguments for 'mset' command`},
		{`MSET a 1 b`, `(error) ERR wrong number of arguments for 'mset' command`},
		{`MSETNX a 9 d 4`, `(integer) 0`},
		{`GET d`, `(nil)`},
		{`MSETNX d 4 e 5`, `(integer) 1`},
		{`MGET d e`, `["4", "5"]`},
		{`MSETNX x 1 y`, `(error) ERR wrong number of arguments for 'msetnx' command`},
		// A key given twice ends with its last value, as in Redis.
		{`MSET dup v1 dup v2 other o dup v3`, `OK`},
		{`MGET dup other`, `["v3", "o"]`},
		{`MSETNX dup2 v1 dup2 v2`, `(integer) 1`},
		{`GET dup2`, `"v2"`},
		{`MSETNX dup2 x dup3 y dup3 z`, `(integer) 0`},
		{`GET dup3`, `(nil)`},
		{`DEL dup other dup2`, `(integer) 3`},
		{`EXISTS a a nope b`, `(integer) 3`},
		{`DEL a b nope`, `(integer) 2`},
		{`UNLINK c d`, `(integer) 2`},
		{`MGET a b c d e`, `[(nil), (nil), (nil), (nil), "5"]`},
		{`DBSIZE`, `(integer) 1`},
	})
}

func TestMGetChunks(t *testing.T) {
	h := newHarness(t)
	args := [][]byte{[]byte("MGET")}
	for i := range 2*mgetChunk + 3 {
		k := []byte("k" + itoa(i))
		args = append(args, k)
		if i%2 == 0 {
			h.doArgs([]byte("SET"), k, k)
		}
	}
	got := h.doArgs(args...)
	if n := strings.Count(got, "(nil)"); n != mgetChunk+1 {
		t.Fatalf("MGET: %d nils, want %d", n, mgetChunk+1)
	}
	if !strings.HasPrefix(got, `["k0", (nil), "k2"`) {
		t.Fatalf("MGET: %.60s", got)
	}
}

func TestIncrFamily(t *testing.T) {
	newHarness(t).run([]step{
		{`INCR n`, `(integer) 1`},
		{`INCRBY n 10`, `(integer) 11`},
		{`DECR n`, `(integer) 10`},
		{`DECRBY n 3`, `(integer) 7`},
		{`INCRBY n x`, `(error) ERR value is not an integer or out of range`},
		{`INCRBY n +1`, `(error) ERR value is not an integer or out of range`},
		{`DECRBY n -9223372036854775808`, `(error) ERR decrement would overflow`},
		{`SET n 9223372036854775807`, `OK`},
		{`INCR n`, `(error) ERR increment or decrement would overflow`},
		{`SET s abc`, `OK`},
		{`INCR s`, `(error) ERR value is not an integer or out of range`},
		{`SET s " 1"`, `OK`},
		{`INCR s`, `(error) ERR value is not an integer or out of range`},
		{`SET t 5 EX 100`, `OK`},
		{`INCR t`, `(integer) 6`},
		{`TTL t`, `(integer) 100`},
		{`INCRBYFLOAT f 1.5`, `"1.5"`},
		{`INCRBYFLOAT f 0.25`, `"1.75"`},
		{`INCRBYFLOAT f abc`, `(error) ERR value is not a valid float`},
		{`INCRBYFLOAT s 1`, `(error) ERR value is not a valid float`},
		{`INCRBYFLOAT f inf`, `(error) ERR increment would produce NaN or Infinity`},
	})
}

func TestStringEdits(t *testing.T) {
	newHarness(t, func(c *Config) { c.MaxValueBytes = 16 }).run([]step{
		{`APPEND k abc`, `(integer) 3`},
		{`APPEND k def`, `(integer) 6`},
		{`STRLEN k`, `(integer) 6`},
		{`STRLEN nope`, `(integer) 0`},
		{`GETRANGE k 0 2`, `"abc"`},
		{`GETRANGE k -3 -1`, `"def"`},
		{`GETRANGE k 4 100`, `"ef"`},
		{`GETRANGE k 5 2`, `""`},
		{`GETRANGE k -1 -5`, `""`},
		{`GETRANGE k -100 1`, `"ab"`},
		{`GETRANGE nope 0 -1`, `""`},
		{`GETRANGE k a 1`, `(error) ERR value is not an integer or out of range`},
		{`SUBSTR k 1 2`, `"bc"`},
		{`SETRANGE k 1 XY`, `(integer) 6`},
		{`GET k`, `"aXYdef"`},
		{`SETRANGE pad 3 z`, `(integer) 4`},
		{`GET pad`, `"\x00\x00\x00z"`},
		{`SETRANGE none 5 ""`, `(integer) 0`},
		{`EXISTS none`, `(integer) 0`},
		{`SETRANGE k -1 x`, `(error) ERR offset is out of range`},
		{`SETRANGE k x x`, `(error) ERR value is not an integer or out of range`},
		{`SETRANGE k 15 ab`, `(error) ERR string exceeds maximum allowed size (proto-max-bulk-len)`},
		{`APPEND k 0123456789abc`, `(error) ERR value too large (max 16 bytes)`},
		{`SET big 01234567890123456`, `(error) ERR value too large (max 16 bytes)`},
		{`MSET a 1 big 01234567890123456`, `(error) ERR value too large (max 16 bytes)`},
		{`EXISTS a`, `(integer) 0`},
		{`SETCTX big "" 01234567890123456`, `(error) ERR value too large (max 16 bytes)`},
		{`SET exact 0123456789abcdef`, `OK`},
	})
}

func TestBinarySafeValues(t *testing.T) {
	h := newHarness(t)
	key := []byte("k\x00\r\n\xff")
	val := []byte("\x00\x01\r\n$3\r\n\xfe\xff")
	if got := h.doArgs([]byte("SET"), key, val); got != "OK" {
		t.Fatal(got)
	}
	h.w.Reset(2)
	h.s.Handle(h.c, [][]byte{[]byte("GET"), key}, h.w)
	if want := "$" + itoa(len(val)) + "\r\n" + string(val) + "\r\n"; string(h.w.Bytes()) != want {
		t.Fatalf("GET: %q, want %q", h.w.Bytes(), want)
	}
}

func TestBackendErrorsMapToReplies(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		err  error
		cmd  string
		want string
	}{
		{errQuorumMaybe(), `SET k v`, `(error) TRYAGAIN quorum not reached: 1 of 2 replicas answered (write may be applied)`},
		{errReadQuorum(), `GET k`, `(error) TRYAGAIN quorum not reached: 1 of 2 replicas answered`},
		{errTimeout(), `SET k v`, `(error) TRYAGAIN request timed out after 5s (write may be applied)`},
		{errTimeout(), `GET k`, `(error) TRYAGAIN request timed out after 5s`},
		{errWrappedQuorum(), `DEL k`, `(error) TRYAGAIN put: quorum not reached (write not applied)`},
		{errOther(), `GET k`, `(error) ERR disk on fire`},
	} {
		h.b.failWith = tc.err
		if got := h.do(tc.cmd); got != tc.want {
			t.Errorf("%v on %s: %s, want %s", tc.err, tc.cmd, got, tc.want)
		}
	}
}
