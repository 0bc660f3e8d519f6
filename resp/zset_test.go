package resp

import (
	"context"
	"testing"

	"github.com/dynago/dynago/coordinator"
	"github.com/dynago/dynago/crdt"
)

// Sorted sets: each table is a redis-cli session; the replies and error
// texts were checked against redis-server 7.0, but for what 7.2 changed:
// scores print as 7.2's d2string prints them (0.1, not
// 0.10000000000000001), and ZRANK/ZREVRANK take WITHSCORE. ZSCAN honours
// COUNT where Redis returns a small set whole.

// sadd adds members to a set through the backend (a ZUNIONSTORE source).
func (h *harness) sadd(key string, members ...string) {
	h.t.Helper()
	op := crdt.Op{Kind: crdt.OpSAdd}
	for _, m := range members {
		op.Fields = append(op.Fields, []byte(m))
	}
	if _, err := h.b.Write(context.Background(), []byte(key), coordinator.Op{Kind: coordinator.OpTyped, Typed: op}); err != nil {
		h.t.Fatal(err)
	}
}

func TestZAdd(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`ZADD z 1 a`, `(integer) 1`},
		{`ZADD z 2 b 3 c 1 a`, `(integer) 2`},
		{`ZADD z 5 a`, `(integer) 0`},
		{`ZCARD z`, `(integer) 3`},
		{`ZADD z CH 5 a 6 b 7 d`, `(integer) 2`},
		{`ZADD z CH 5 a`, `(integer) 0`},
		{`ZADD z NX 10 a 1 e`, `(integer) 1`},
		{`ZSCORE z a`, `"5"`},
		{`ZADD z XX 10 a 1 f`, `(integer) 0`},
		{`ZSCORE z a`, `"10"`},
		{`ZSCORE z f`, `(nil)`},
		{`ZADD z GT 9 a`, `(integer) 0`},
		{`ZADD z GT CH 11 a`, `(integer) 1`},
		{`ZADD z LT CH 12 a 0 b`, `(integer) 1`},
		{`ZADD z XX GT CH 20 a 1 zz`, `(integer) 1`},
		{`ZSCORE z zz`, `(nil)`},
		{`ZADD z nx xx 1 a`, `(error) ERR XX and NX options at the same time are not compatible`},
		{`ZADD z NX GT 1 a`, `(error) ERR GT, LT, and/or NX options at the same time are not compatible`},
		{`ZADD z NX LT 1 a`, `(error) ERR GT, LT, and/or NX options at the same time are not compatible`},
		{`ZADD z GT LT 1 a`, `(error) ERR GT, LT, and/or NX options at the same time are not compatible`},
		{`ZADD z INCR 1 a 2 b`, `(error) ERR INCR option supports a single increment-element pair`},
		{`ZADD z 1`, `(error) ERR wrong number of arguments for 'zadd' command`},
		{`ZADD z 1 a 2`, `(error) ERR syntax error`},
		{`ZADD z NX`, `(error) ERR wrong number of arguments for 'zadd' command`},
		{`ZADD z abc a`, `(error) ERR value is not a valid float`},
		{`ZADD z nan a`, `(error) ERR value is not a valid float`},
		{`ZADD z 1 a x b`, `(error) ERR value is not a valid float`},
		{`ZADD z " 1" a`, `(error) ERR value is not a valid float`},
		{`ZADD z`, `(error) ERR wrong number of arguments for 'zadd' command`},
		{`ZADD z 1e500 a`, `(error) ERR value is not a valid float`},
		{`ZADD z inf i -inf ni +inf pi`, `(integer) 3`},
		{`ZSCORE z i`, `"inf"`},
		{`ZSCORE z ni`, `"-inf"`},
		{`ZSCORE z pi`, `"inf"`},
		{`ZADD z INCR 1 i`, `"inf"`},
		{`ZADD z INCR -inf i`, `(error) ERR resulting score is not a number (NaN)`},
		{`ZSCORE z h`, `(nil)`},
		{`ZADD z 1.5 a 2.5e3 b -0.25 c`, `(integer) 0`},
		{`ZRANGE z 0 -1 WITHSCORES`, `["ni", "-inf", "c", "-0.25", "e", "1", "a", "1.5", "d", "7", "b", "2500", "i", "inf", "pi", "inf"]`},
		{`SET s v`, `OK`},
		{`ZADD s 1 a`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`ZADD s x a`, `(error) ERR value is not a valid float`},
		{`ZCARD s`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`ZSCORE s a`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`ZCARD nokey`, `(integer) 0`},
		{`ZSCORE nokey a`, `(nil)`},
		{`ZSCORE z nope`, `(nil)`},
	})
}

func TestZIncrBy(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`SET s v`, `OK`},
		{`ZINCRBY k 2.5 m`, `"2.5"`},
		{`ZINCRBY k -1 m`, `"1.5"`},
		{`ZINCRBY k abc m`, `(error) ERR value is not a valid float`},
		{`ZINCRBY k inf m`, `"inf"`},
		{`ZINCRBY k -inf m`, `(error) ERR resulting score is not a number (NaN)`},
		{`ZADD k INCR 3 n`, `"3"`},
		{`ZADD k XX INCR 3 nope`, `(nil)`},
		{`ZADD k NX INCR 3 n`, `(nil)`},
		{`ZADD k GT INCR -1 n`, `(nil)`},
		{`ZADD k LT INCR -1 n`, `"2"`},
		{`ZADD k GT INCR 1 new`, `"1"`},
		{`ZRANGE k 0 -1 WITHSCORES`, `["new", "1", "n", "2", "m", "inf"]`},
		{`ZINCRBY s 1 m`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`ZINCRBY k 1`, `(error) ERR wrong number of arguments for 'zincrby' command`},
	})
	h.c.proto = 3
	h.run([]step{
		{`ZINCRBY k 0.5 n`, `(double) 2.5`},
		{`ZADD k INCR 1 n`, `(double) 3.5`},
		{`ZADD k NX INCR 1 n`, `(nil)`},
		{`ZSCORE k n`, `(double) 3.5`},
		{`ZSCORE k nope`, `(nil)`},
		{`ZMSCORE k n m nope`, `[(double) 3.5, (double) inf, (nil)]`},
		{`ZMSCORE nokey a b`, `[(nil), (nil)]`},
	})
	h.c.proto = 2
	h.run([]step{
		{`ZMSCORE k n m nope`, `["3.5", "inf", (nil)]`},
		{`ZMSCORE nokey a`, `[(nil)]`},
		{`ZMSCORE s a`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`ZMSCORE k`, `(error) ERR wrong number of arguments for 'zmscore' command`},
	})
}

func TestZRange(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`ZADD z 1 a 2 b 3 c 4 d 5 e`, `(integer) 5`},
		{`ZRANGE z 0 -1`, `["a", "b", "c", "d", "e"]`},
		{`ZRANGE z 1 2 WITHSCORES`, `["b", "2", "c", "3"]`},
		{`ZRANGE z -2 -1`, `["d", "e"]`},
		{`ZRANGE z -100 100`, `["a", "b", "c", "d", "e"]`},
		{`ZRANGE z 3 1`, `[]`},
		{`ZRANGE z 5 10`, `[]`},
		{`ZRANGE z 0 -1 REV`, `["e", "d", "c", "b", "a"]`},
		{`ZRANGE z 0 1 REV WITHSCORES`, `["e", "5", "d", "4"]`},
		{`ZREVRANGE z 0 1`, `["e", "d"]`},
		{`ZREVRANGE z 0 1 WITHSCORES`, `["e", "5", "d", "4"]`},
		{`ZREVRANGE z 0 1 REV`, `(error) ERR syntax error`},
		{`ZRANGE z (1 3 BYSCORE`, `["b", "c"]`},
		{`ZRANGE z 1 (3 BYSCORE WITHSCORES`, `["a", "1", "b", "2"]`},
		{`ZRANGE z -inf +inf BYSCORE LIMIT 1 2`, `["b", "c"]`},
		{`ZRANGE z -inf +inf BYSCORE LIMIT 1 -1`, `["b", "c", "d", "e"]`},
		{`ZRANGE z -inf +inf BYSCORE LIMIT -1 2`, `[]`},
		{`ZRANGE z -inf +inf BYSCORE LIMIT 0 0`, `[]`},
		{`ZRANGE z -inf +inf BYSCORE LIMIT 10 2`, `[]`},
		{`ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2`, `["d", "c"]`},
		{`ZRANGE z 4 2 BYSCORE REV`, `["d", "c", "b"]`},
		{`ZRANGE z 2 4 BYSCORE REV`, `[]`},
		{`ZRANGE z (4 (2 BYSCORE REV WITHSCORES`, `["c", "3"]`},
		{`ZRANGE z 0 -1 LIMIT 0 1`, `(error) ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX`},
		{`ZRANGE z 0 -1 LIMIT 0 -1`, `["a", "b", "c", "d", "e"]`},
		{`ZRANGE z 0 -1 LIMIT 0`, `(error) ERR syntax error`},
		{`ZRANGE z 0 -1 LIMIT x 1`, `(error) ERR value is not an integer or out of range`},
		{`ZRANGE z 0 -1 BYSCORE BYLEX`, `(error) ERR syntax error`},
		{`ZRANGE z 0 -1 REV REV`, `(error) ERR syntax error`},
		{`ZRANGE z - + BYLEX WITHSCORES`, `(error) ERR syntax error, WITHSCORES not supported in combination with BYLEX`},
		{`ZRANGE z x 1 BYSCORE`, `(error) ERR min or max is not a float`},
		{`ZRANGE z 0 x`, `(error) ERR value is not an integer or out of range`},
		{`ZRANGE z a b BYLEX`, `(error) ERR min or max not valid string range item`},
		{`ZRANGE z 0 1 FOO`, `(error) ERR syntax error`},
		{`ZRANGE z 0`, `(error) ERR wrong number of arguments for 'zrange' command`},
		{`ZRANGE nokey 0 -1`, `[]`},
		{`ZRANGE nokey 0 -1 BYSCORE LIMIT 0 0 WITHSCORES`, `[]`},
		{`ZRANGE s 0 -1`, `[]`},
		{`SET s v`, `OK`},
		{`ZRANGE s 0 -1`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`ZRANGE s x y`, `(error) ERR value is not an integer or out of range`},
		{`ZRANGEBYSCORE z 2 4`, `["b", "c", "d"]`},
		{`ZRANGEBYSCORE z (2 (4 WITHSCORES`, `["c", "3"]`},
		{`ZRANGEBYSCORE z -inf 2 LIMIT 1 1`, `["b"]`},
		{`ZRANGEBYSCORE z 1 2 REV`, `(error) ERR syntax error`},
		{`ZRANGEBYSCORE z 1 2 BYSCORE`, `(error) ERR syntax error`},
		{`ZRANGEBYSCORE z a 2`, `(error) ERR min or max is not a float`},
		{`ZRANGEBYSCORE z 1 ((2`, `(error) ERR min or max is not a float`},
		{`ZREVRANGEBYSCORE z 4 2`, `["d", "c", "b"]`},
		{`ZREVRANGEBYSCORE z +inf -inf WITHSCORES LIMIT 0 2`, `["e", "5", "d", "4"]`},
		{`ZREVRANGEBYSCORE z 2 4`, `[]`},
		{`ZRANGEBYSCORE z 1 2 LIMIT 0`, `(error) ERR syntax error`},
		{`ZRANGEBYSCORE z 1 2 WITHSCORES WITHSCORES`, `["a", "1", "b", "2"]`},
	})
}

func TestZRangeByLex(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`ZADD z 1 a 2 b 3 c 4 d 5 e`, `(integer) 5`},
		{`SET s v`, `OK`},
		{`ZADD l 0 a 0 b 0 c 0 d 0 e 0 f`, `(integer) 6`},
		{`ZRANGEBYLEX l - +`, `["a", "b", "c", "d", "e", "f"]`},
		{`ZRANGEBYLEX l [b (e`, `["b", "c", "d"]`},
		{`ZRANGEBYLEX l (b [e LIMIT 1 2`, `["d", "e"]`},
		{`ZRANGEBYLEX l + -`, `[]`},
		{`ZRANGEBYLEX l a b`, `(error) ERR min or max not valid string range item`},
		{`ZRANGEBYLEX l [a b`, `(error) ERR min or max not valid string range item`},
		{`ZRANGEBYLEX l - + WITHSCORES`, `(error) ERR syntax error, WITHSCORES not supported in combination with BYLEX`},
		{`ZREVRANGEBYLEX l + -`, `["f", "e", "d", "c", "b", "a"]`},
		{`ZREVRANGEBYLEX l [e (b`, `["e", "d", "c"]`},
		{`ZREVRANGEBYLEX l (e - LIMIT 0 2`, `["d", "c"]`},
		{`ZRANGE l [c + BYLEX`, `["c", "d", "e", "f"]`},
		{`ZRANGE l + [c BYLEX REV LIMIT 1 1`, `["e"]`},
		{`ZRANGE l [aa [c BYLEX`, `["b", "c"]`},
		{`ZLEXCOUNT l - +`, `(integer) 6`},
		{`ZLEXCOUNT l [b (d`, `(integer) 2`},
		{`ZLEXCOUNT l a b`, `(error) ERR min or max not valid string range item`},
		{`ZLEXCOUNT nokey - +`, `(integer) 0`},
		{`ZLEXCOUNT s - +`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`ZCOUNT z -inf +inf`, `(integer) 5`},
		{`ZCOUNT z (1 3`, `(integer) 2`},
		{`ZCOUNT z 3 1`, `(integer) 0`},
		{`ZCOUNT z x 1`, `(error) ERR min or max is not a float`},
		{`ZCOUNT nokey 0 1`, `(integer) 0`},
		{`ZCOUNT s 0 1`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`ZCOUNT s x 1`, `(error) ERR min or max is not a float`},
	})
}

func TestZRank(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`ZADD z 1 a 2 b 3 c 4 d 5 e`, `(integer) 5`},
		{`SET s v`, `OK`},
		{`ZRANK z a`, `(integer) 0`},
		{`ZRANK z e`, `(integer) 4`},
		{`ZREVRANK z a`, `(integer) 4`},
		{`ZRANK z nope`, `(nil)`},
		{`ZRANK nokey a`, `(nil)`},
		{`ZRANK s a`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`ZRANK z c WITHSCORE`, `[(integer) 2, "3"]`},
		{`ZREVRANK z c withscore`, `[(integer) 2, "3"]`},
		{`ZRANK z nope WITHSCORE`, `(nil)`},
		{`ZRANK nokey a WITHSCORE`, `(nil)`},
		{`ZRANK z c FOO`, `(error) ERR syntax error`},
		{`ZRANK z c WITHSCORE x`, `(error) ERR wrong number of arguments for 'zrank' command`},
	})
	h.c.proto = 3
	h.run([]step{
		{`ZRANGE z 0 1 WITHSCORES`, `[["a", (double) 1], ["b", (double) 2]]`},
		{`ZRANGE z 0 1`, `["a", "b"]`},
		{`ZRANGEBYSCORE z 1 2 WITHSCORES`, `[["a", (double) 1], ["b", (double) 2]]`},
		{`ZREVRANGE z 0 0 WITHSCORES`, `[["e", (double) 5]]`},
		{`ZRANK z c WITHSCORE`, `[(integer) 2, (double) 3]`},
		{`ZRANK z nope WITHSCORE`, `(nil)`},
		{`ZRANK z nope`, `(nil)`},
		{`ZRANGE nokey 0 -1`, `[]`},
	})
	h.c.proto = 2
}

func TestZRangeStore(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`ZADD z 1 a 2 b 3 c 4 d 5 e`, `(integer) 5`},
		{`ZADD l 0 a 0 b 0 c 0 d 0 e 0 f`, `(integer) 6`},
		{`ZRANGESTORE d z 1 2`, `(integer) 2`},
		{`ZRANGE d 0 -1 WITHSCORES`, `["b", "2", "c", "3"]`},
		{`ZRANGESTORE d z (1 +inf BYSCORE LIMIT 0 2`, `(integer) 2`},
		{`ZRANGE d 0 -1 WITHSCORES`, `["b", "2", "c", "3"]`},
		{`ZRANGESTORE d z 0 -1 REV`, `(integer) 5`},
		{`ZRANGESTORE d l [b [c BYLEX`, `(integer) 2`},
		{`ZRANGE d 0 -1 WITHSCORES`, `["b", "0", "c", "0"]`},
		{`ZRANGESTORE d z 0 -1 WITHSCORES`, `(error) ERR syntax error`},
		{`ZRANGESTORE d z 5 10`, `(integer) 0`},
		{`EXISTS d`, `(integer) 0`},
		{`ZRANGESTORE d nokey 0 -1`, `(integer) 0`},
		{`ZRANGESTORE s z 0 0`, `(integer) 1`},
		{`TYPE s`, `zset`},
		{`ZRANGE s 0 -1 WITHSCORES`, `["a", "1"]`},
		{`SET s v`, `OK`},
		{`ZRANGESTORE d s 0 -1`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`ZRANGESTORE d z 0`, `(error) ERR wrong number of arguments for 'zrangestore' command`},
		{`ZRANGESTORE d z 0 -1 LIMIT 0 1`, `(error) ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX`},
	})
}

func TestZPop(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`ZADD z 1 a 2 b 3 c 4 d 5 e`, `(integer) 5`},
		{`ZPOPMIN z`, `["a", "1"]`},
		{`ZPOPMAX z`, `["e", "5"]`},
		{`ZPOPMIN z 2`, `["b", "2", "c", "3"]`},
		{`ZPOPMAX z 0`, `[]`},
		{`ZPOPMIN z -1`, `(error) ERR value is out of range, must be positive`},
		{`ZPOPMIN z x`, `(error) ERR value is out of range, must be positive`},
		{`ZPOPMIN z 1 2`, `(error) ERR syntax error`},
		{`ZPOPMAX z 10`, `["d", "4"]`},
		{`EXISTS z`, `(integer) 0`},
		{`ZPOPMIN z`, `[]`},
		{`ZPOPMIN z 3`, `[]`},
		{`SET s v`, `OK`},
		{`ZPOPMIN s`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`ZPOPMIN s 0`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`ZPOPMIN s -1`, `(error) ERR value is out of range, must be positive`},
		{`ZADD z 1 a 2 b 3 c`, `(integer) 3`},
	})
	h.c.proto = 3
	h.run([]step{
		{`ZPOPMIN z`, `["a", (double) 1]`},
		{`ZPOPMAX z 1`, `[["c", (double) 3]]`},
		{`ZPOPMAX z 5`, `[["b", (double) 2]]`},
		{`ZPOPMIN z`, `[]`},
		{`ZPOPMIN z 2`, `[]`},
	})
	h.c.proto = 2
}

func TestZRandMember(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`SET s v`, `OK`},
		{`ZADD r 1 a`, `(integer) 1`},
		{`ZRANDMEMBER r`, `"a"`},
		{`ZRANDMEMBER r 1`, `["a"]`},
		{`ZRANDMEMBER r 3 WITHSCORES`, `["a", "1"]`},
		{`ZRANDMEMBER r -3 WITHSCORES`, `["a", "1", "a", "1", "a", "1"]`},
		{`ZRANDMEMBER r 0`, `[]`},
		{`ZRANDMEMBER r 1 FOO`, `(error) ERR syntax error`},
		{`ZRANDMEMBER r x`, `(error) ERR value is not an integer or out of range`},
		{`ZRANDMEMBER r 1 WITHSCORES x`, `(error) ERR syntax error`},
		{`ZRANDMEMBER nokey`, `(nil)`},
		{`ZRANDMEMBER nokey 3`, `[]`},
		{`ZRANDMEMBER s`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
	})
	h.c.proto = 3
	h.run([]step{
		{`ZRANDMEMBER r -2 WITHSCORES`, `[["a", (double) 1], ["a", (double) 1]]`},
		{`ZRANDMEMBER r 1`, `["a"]`},
		{`ZRANDMEMBER nokey`, `(nil)`},
	})
	h.c.proto = 2
}

func TestZScan(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`SET s v`, `OK`},
		{`ZADD sc 1 a 2 b 3 c`, `(integer) 3`},
		{`ZSCAN sc 0`, `["0", ["a", "1", "b", "2", "c", "3"]]`},
		{`ZSCAN sc 0 COUNT 2`, `["0", ["a", "1", "b", "2", "c", "3"]]`}, // small: whole
		{`ZSCAN sc 0 MATCH b*`, `["0", ["b", "2"]]`},
		{`ZSCAN sc x`, `(error) ERR invalid cursor`},
		{`ZSCAN sc 0 COUNT 0`, `(error) ERR syntax error`},
		{`ZSCAN nokey 0`, `["0", []]`},
		{`ZSCAN s 0`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
	})
	h.c.proto = 3
	h.run([]step{
		{`ZSCAN sc 0 MATCH c`, `["0", ["c", "3"]]`},
	})
	h.c.proto = 2
}

func TestZRemRange(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`SET s v`, `OK`},
		{`ZADD rr 1 a 2 b 3 c 4 d 5 e 6 f`, `(integer) 6`},
		{`ZREMRANGEBYSCORE rr (1 2`, `(integer) 1`},
		{`ZREMRANGEBYSCORE rr x 2`, `(error) ERR min or max is not a float`},
		{`ZREMRANGEBYRANK rr 0 0`, `(integer) 1`},
		{`ZREMRANGEBYRANK rr -1 -1`, `(integer) 1`},
		{`ZREMRANGEBYRANK rr 5 10`, `(integer) 0`},
		{`ZREMRANGEBYRANK rr x 1`, `(error) ERR value is not an integer or out of range`},
		{`ZRANGE rr 0 -1`, `["c", "d", "e"]`},
		{`ZREMRANGEBYLEX rr [c (e`, `(integer) 2`},
		{`ZREMRANGEBYLEX rr a b`, `(error) ERR min or max not valid string range item`},
		{`ZRANGE rr 0 -1`, `["e"]`},
		{`ZREMRANGEBYSCORE rr -inf +inf`, `(integer) 1`},
		{`EXISTS rr`, `(integer) 0`},
		{`ZREMRANGEBYSCORE nokey 0 1`, `(integer) 0`},
		{`ZREMRANGEBYSCORE s 0 1`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`ZREMRANGEBYRANK s 0 1`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`ZREMRANGEBYLEX s - +`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`ZREMRANGEBYSCORE s x 1`, `(error) ERR min or max is not a float`},
		{`ZREM z nope`, `(integer) 0`},
		{`ZADD z 1 a 2 b`, `(integer) 2`},
		{`ZREM z a nope a`, `(integer) 1`},
		{`ZREM z b`, `(integer) 1`},
		{`EXISTS z`, `(integer) 0`},
		{`ZREM nokey a`, `(integer) 0`},
		{`ZREM s a`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`ZREM z`, `(error) ERR wrong number of arguments for 'zrem' command`},
	})
}

func TestZUnionInterStore(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`ZADD a 1 x 2 y 3 z`, `(integer) 3`},
		{`ZADD b 10 y 20 z 30 w`, `(integer) 3`},
	})
	h.sadd("st", "y", "w", "v")
	h.run([]step{
		{`ZUNIONSTORE d 2 a b`, `(integer) 4`},
		{`ZRANGE d 0 -1 WITHSCORES`, `["x", "1", "y", "12", "z", "23", "w", "30"]`},
		{`ZINTERSTORE d 2 a b`, `(integer) 2`},
		{`ZRANGE d 0 -1 WITHSCORES`, `["y", "12", "z", "23"]`},
		{`ZUNIONSTORE d 2 a b WEIGHTS 2 0.5`, `(integer) 4`},
		{`ZRANGE d 0 -1 WITHSCORES`, `["x", "2", "y", "9", "w", "15", "z", "16"]`},
		{`ZUNIONSTORE d 2 a b AGGREGATE MIN`, `(integer) 4`},
		{`ZRANGE d 0 -1 WITHSCORES`, `["x", "1", "y", "2", "z", "3", "w", "30"]`},
		{`ZUNIONSTORE d 2 a b AGGREGATE max WEIGHTS 1 -1`, `(integer) 4`},
		{`ZRANGE d 0 -1 WITHSCORES`, `["w", "-30", "x", "1", "y", "2", "z", "3"]`},
		{`ZINTERSTORE d 2 a b WEIGHTS 1 2 AGGREGATE MAX`, `(integer) 2`},
		{`ZRANGE d 0 -1 WITHSCORES`, `["y", "20", "z", "40"]`},
		{`ZUNIONSTORE d 3 a b st`, `(integer) 5`},
		{`ZRANGE d 0 -1 WITHSCORES`, `["v", "1", "x", "1", "y", "13", "z", "23", "w", "31"]`},
		{`ZINTERSTORE d 2 b st`, `(integer) 2`},
		{`ZRANGE d 0 -1 WITHSCORES`, `["y", "11", "w", "31"]`},
		{`ZINTERSTORE d 2 st st WEIGHTS 3 4`, `(integer) 3`},
		{`ZRANGE d 0 -1 WITHSCORES`, `["v", "7", "w", "7", "y", "7"]`},
		{`ZINTERSTORE d 2 a nokey`, `(integer) 0`},
		{`EXISTS d`, `(integer) 0`},
		{`ZUNIONSTORE d 1 nokey`, `(integer) 0`},
		{`ZUNIONSTORE d 2 nokey a`, `(integer) 3`},
		{`ZRANGE d 0 -1 WITHSCORES`, `["x", "1", "y", "2", "z", "3"]`},
		{`ZADD inf 1 x`, `(integer) 1`},
		{`ZADD ninf 1 x`, `(integer) 1`},
		{`ZUNIONSTORE d 2 a inf WEIGHTS inf -inf`, `(integer) 3`},
		{`ZRANGE d 0 -1 WITHSCORES`, `["x", "0", "y", "inf", "z", "inf"]`},
		{`ZUNIONSTORE d 1 a WEIGHTS 0`, `(integer) 3`},
		{`ZRANGE d 0 -1 WITHSCORES`, `["x", "0", "y", "0", "z", "0"]`},
		{`ZADD i 0 x inf y`, `(integer) 2`},
		{`ZUNIONSTORE d 1 i WEIGHTS 0`, `(integer) 2`},
		{`ZRANGE d 0 -1 WITHSCORES`, `["x", "0", "y", "0"]`},
		{`ZUNIONSTORE d 2 i i WEIGHTS 1 -1`, `(integer) 2`},
		{`ZRANGE d 0 -1 WITHSCORES`, `["x", "0", "y", "0"]`},
		{`ZINTERSTORE d 2 i i WEIGHTS 1 -1`, `(integer) 2`},
		{`ZRANGE d 0 -1 WITHSCORES`, `["x", "0", "y", "0"]`},
		{`ZINTERSTORE d 2 i i WEIGHTS 1 -1 AGGREGATE MIN`, `(integer) 2`},
		{`ZRANGE d 0 -1 WITHSCORES`, `["y", "-inf", "x", "0"]`},
		{`ZUNIONSTORE d 0 a`, `(error) ERR at least 1 input key is needed for 'zunionstore' command`},
		{`ZUNIONSTORE d -1 a`, `(error) ERR at least 1 input key is needed for 'zunionstore' command`},
		{`ZUNIONSTORE d x a`, `(error) ERR value is not an integer or out of range`},
		{`ZUNIONSTORE d 3 a b`, `(error) ERR syntax error`},
		{`ZUNIONSTORE d 2 a b WEIGHTS 1`, `(error) ERR syntax error`},
		{`ZUNIONSTORE d 2 a b WEIGHTS 1 x`, `(error) ERR weight value is not a float`},
		{`ZUNIONSTORE d 2 a b WEIGHTS 1 2 3`, `(error) ERR syntax error`},
		{`ZUNIONSTORE d 2 a b AGGREGATE`, `(error) ERR syntax error`},
		{`ZUNIONSTORE d 2 a b AGGREGATE avg`, `(error) ERR syntax error`},
		{`ZUNIONSTORE d 2 a b FOO`, `(error) ERR syntax error`},
		{`ZUNIONSTORE d 2 a b WITHSCORES`, `(error) ERR syntax error`},
		{`ZINTERSTORE d 0 a`, `(error) ERR at least 1 input key is needed for 'zinterstore' command`},
		{`ZINTERSTORE d 2 a b AGGREGATE sum AGGREGATE min`, `(integer) 2`},
		{`ZRANGE d 0 -1 WITHSCORES`, `["y", "2", "z", "3"]`},
		{`SET s v`, `OK`},
		{`ZUNIONSTORE d 2 a s`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`ZUNIONSTORE d 2 a s WEIGHTS x y`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`ZUNIONSTORE s 1 a`, `(integer) 3`},
		{`TYPE s`, `zset`},
		{`ZUNIONSTORE d`, `(error) ERR wrong number of arguments for 'zunionstore' command`},
		{`ZADD f 0.1 x`, `(integer) 1`},
		{`ZADD g 0.2 x`, `(integer) 1`},
		{`ZADD h 0.3 x`, `(integer) 1`},
		{`ZUNIONSTORE d 3 f g h`, `(integer) 1`},
		{`ZSCORE d x`, `"0.6000000000000001"`},
		{`ZUNIONSTORE d 3 h g f`, `(integer) 1`},
		{`ZSCORE d x`, `"0.6"`},
	})
	h.c.proto = 3
	h.run([]step{
		{`ZUNIONSTORE d 2 a b`, `(integer) 4`},
		{`ZRANGE d 0 -1 WITHSCORES`, `[["x", (double) 1], ["y", (double) 12], ["z", (double) 23], ["w", (double) 30]]`},
	})
}

// Scores print as Redis 7.2 prints doubles (7.0 printed %.17g), alike
// under RESP2 and RESP3 and in ZSCAN; ZINCRBY makes a score a counter and
// ZADD a register again; an infinite score stays readable. ZUNIONSTORE's
// keys are movable: COMMAND GETKEYS names only its destination (Redis:
// all its keys).
func TestZScoreText(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`ZADD z 0.1 a 1234567.5 b 0.00001 c 1.5e-7 d 1e17 e 1e20 f -2.5 g`, `(integer) 7`},
		{`ZRANGE z 0 -1 WITHSCORES`, `["g", "-2.5", "d", "1.5e-7", "c", "0.00001", "a", "0.1", "b", "1234567.5", "e", "100000000000000000", "f", "1e+20"]`},
		{`ZSCAN z 0`, `["0", ["a", "0.1", "b", "1234567.5", "c", "0.00001", "d", "1.5e-7", "e", "100000000000000000", "f", "1e+20", "g", "-2.5"]]`},
		{`ZPOPMAX z`, `["f", "1e+20"]`},
		{`ZADD k 5 m`, `(integer) 1`},
		{`ZINCRBY k 1 m`, `"6"`},
		{`ZADD k 2 m`, `(integer) 0`},
		{`ZINCRBY k 0.5 m`, `"2.5"`},
		{`ZINCRBY k 1.5e308 m`, `"1.5e+308"`},
		{`ZINCRBY k 1.5e308 m`, `"inf"`},
		{`ZINCRBY k -1 m`, `"inf"`},
		{`ZINCRBY k -inf m`, `(error) ERR resulting score is not a number (NaN)`},
		{`ZSCORE k m`, `"inf"`},
	})
	h.c.proto = 3
	h.run([]step{
		{`ZSCORE z a`, `(double) 0.1`},
		{`ZMSCORE z b c d`, `[(double) 1234567.5, (double) 0.00001, (double) 1.5e-7]`},
		{`ZRANGE z 0 -1 WITHSCORES`, `[["g", (double) -2.5], ["d", (double) 1.5e-7], ["c", (double) 0.00001], ["a", (double) 0.1], ["b", (double) 1234567.5], ["e", (double) 100000000000000000]]`},
		{`ZPOPMAX z 2`, `[["e", (double) 100000000000000000], ["b", (double) 1234567.5]]`},
		{`ZSCAN z 0 MATCH a`, `["0", ["a", "0.1"]]`},
		{`COMMAND GETKEYS ZUNIONSTORE d 2 a b WEIGHTS 1 2`, `["d"]`},
		{`COMMAND GETKEYS ZRANGESTORE d s 0 -1`, `["d", "s"]`},
		{`TYPE z`, `zset`},
	})
}
