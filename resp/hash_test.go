package resp

import (
	"strings"
	"testing"
)

// Hash replies and error texts as Redis 7 gives them (checked side by side
// with redis-server over redis-cli, RESP2 and RESP3). Fields come back in
// field order; Redis's order is its encoding's, which clients must not
// rely on.

func TestHashCommands(t *testing.T) {
	newHarness(t).run([]step{
		{`HSET h a 1 b 2 c 3`, `(integer) 3`},
		{`HSET h a 1`, `(integer) 0`},
		{`HSET h a 9 d 4`, `(integer) 1`},
		{`HSET h a`, `(error) ERR wrong number of arguments for 'hset' command`},
		{`HSET h`, `(error) ERR wrong number of arguments for 'hset' command`},
		{`HSET h a 1 a 2`, `(integer) 0`},
		{`HGET h a`, `"2"`},
		{`HMSET h x 1 y 2`, `OK`},
		{`HSETNX h a 5`, `(integer) 0`},
		{`HSETNX h z 5`, `(integer) 1`},
		{`HGET h a`, `"2"`},
		{`HGET h nope`, `(nil)`},
		{`HGET nokey a`, `(nil)`},
		{`HMGET h a nope b`, `["2", (nil), "2"]`},
		{`HMGET nokey a`, `[(nil)]`},
		{`HGETALL nokey`, `[]`},
		{`HDEL h x y nope`, `(integer) 2`},
		{`HDEL nokey a`, `(integer) 0`},
		{`HEXISTS h a`, `(integer) 1`},
		{`HEXISTS h nope`, `(integer) 0`},
		{`HLEN h`, `(integer) 5`},
		{`HLEN nokey`, `(integer) 0`},
		{`HKEYS h`, `["a", "b", "c", "d", "z"]`},
		{`HVALS h`, `["2", "2", "3", "4", "5"]`},
		{`HGETALL h`, `["a", "2", "b", "2", "c", "3", "d", "4", "z", "5"]`},
		{`HSTRLEN h d`, `(integer) 1`},
		{`HSTRLEN h nope`, `(integer) 0`},
		{`HSCAN h 0`, `["0", ["a", "2", "b", "2", "c", "3", "d", "4", "z", "5"]]`},
		{`HSCAN h 0 MATCH [ab]`, `["0", ["a", "2", "b", "2"]]`},
		{`HSCAN h x`, `(error) ERR invalid cursor`},
		{`HSCAN h 0 COUNT 0`, `(error) ERR syntax error`},
		{`HRANDFIELD nokey`, `(nil)`},
		{`HRANDFIELD nokey 5`, `[]`},
		{`HRANDFIELD h 0`, `[]`},
		{`HRANDFIELD h x`, `(error) ERR value is not an integer or out of range`},
		{`HRANDFIELD h 1 WITHVALUES x`, `(error) ERR syntax error`},
		{`SET str v`, `OK`},
		{`HSET str a 1`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`HGET str a`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`HLEN str`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`GET h`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`APPEND h x`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`GETCTX h`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`MGET h str`, `[(nil), "v"]`},
		{`TYPE h`, `hash`},
		{`HDEL h a b c d z`, `(integer) 5`},
		{`EXISTS h`, `(integer) 0`},
		{`TYPE h`, `none`},
		{`HSET h2 f v`, `(integer) 1`},
		{`SCAN 0 TYPE hash`, `["0", ["h2"]]`},
		{`SCAN 0 TYPE HASH MATCH x*`, `["0", []]`},
		{`SCAN 0 TYPE string`, `["0", ["str"]]`},
		{`HSET h "" empty`, `(integer) 1`},
		{`HGET h ""`, `"empty"`},
		{`SET h v`, `OK`},
		{`GET h`, `"v"`},
		{`HGET h ""`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
	})
}

func TestHashIncrements(t *testing.T) {
	newHarness(t).run([]step{
		{`HINCRBY h n 5`, `(integer) 5`},
		{`HINCRBY h n -10`, `(integer) -5`},
		{`HSET h a 9 s hello`, `(integer) 2`},
		{`HINCRBY h a 1`, `(integer) 10`},
		{`HGET h a`, `"10"`},
		{`HINCRBY h a x`, `(error) ERR value is not an integer or out of range`},
		{`HINCRBY h n 9223372036854775807`, `(integer) 9223372036854775802`},
		{`HINCRBY h n 10`, `(error) ERR increment or decrement would overflow`},
		{`HINCRBY h s 1`, `(error) ERR hash value is not an integer`},
		{`HINCRBYFLOAT h f 1.5`, `"1.5"`},
		{`HINCRBYFLOAT h f 1e3`, `"1001.5"`},
		{`HINCRBYFLOAT h s 1`, `(error) ERR hash value is not a float`},
		{`HINCRBYFLOAT h f abc`, `(error) ERR value is not a valid float`},
		{`HINCRBYFLOAT h f inf`, `(error) ERR value is NaN or Infinity`},
		{`HINCRBY h f 1`, `(error) ERR hash value is not an integer`},
		{`HSET h a 3`, `(integer) 0`},
		{`HGET h a`, `"3"`},
		{`HINCRBY h a 2`, `(integer) 5`},
	})
}

func TestCounterCommands(t *testing.T) {
	newHarness(t).run([]step{
		{`INCR c`, `(integer) 1`},
		{`INCRBY c 41`, `(integer) 42`},
		{`DECRBY c 2`, `(integer) 40`},
		{`GET c`, `"40"`},
		{`TYPE c`, `string`},
		{`STRLEN c`, `(integer) 2`},
		{`APPEND c 0`, `(integer) 3`},
		{`INCR c`, `(integer) 401`},
		{`SET n 10`, `OK`},
		{`INCR n`, `(integer) 11`},
		{`INCRBYFLOAT n 0.5`, `"11.5"`},
		{`INCR n`, `(error) ERR value is not an integer or out of range`},
		{`GET n`, `"11.5"`},
		{`SET n abc`, `OK`},
		{`INCR n`, `(error) ERR value is not an integer or out of range`},
		{`HSET h a 1`, `(integer) 1`},
		{`INCR h`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`SET c 7`, `OK`},
		{`INCR c`, `(integer) 8`},
		{`EXPIRE c 100`, `(integer) 1`},
		{`INCR c`, `(integer) 9`},
		{`TTL c`, `(integer) 100`},
		{`GETCTX c`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`DEL c`, `(integer) 1`},
		{`GET c`, `(nil)`},
		{`INCR c`, `(integer) 1`},
	})
}

// HGETALL is a map under RESP3; EXPIRE keeps a hash's fields.
func TestHashRESP3AndExpiry(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`HSET h a 1 b 2`, `(integer) 2`},
		{`EXPIRE h 100`, `(integer) 1`},
		{`HLEN h`, `(integer) 2`},
		{`TTL h`, `(integer) 100`},
		{`HSET h c 3`, `(integer) 1`},
		{`TTL h`, `(integer) 100`},
		{`PERSIST h`, `(integer) 1`},
		{`TTL h`, `(integer) -1`},
	})
	// A negative count may repeat fields and picks exactly that many.
	if got := h.do("HRANDFIELD h -5 WITHVALUES"); strings.Count(got, ", ") != 9 {
		t.Fatalf("HRANDFIELD h -5 WITHVALUES: %s, want 5 field-value pairs", got)
	}
	h.do("HELLO 3")
	if got, want := h.do("HGETALL h"), `{"a": "1", "b": "2", "c": "3"}`; got != want {
		t.Fatalf("HGETALL under RESP3: %s, want %s", got, want)
	}
	if got := h.do("SIBLINGS h"); !strings.Contains(got, `"value": (integer) 3`) || !strings.Contains(got, `"type": "hash"`) {
		t.Fatalf("SIBLINGS h: %s", got)
	}
}
