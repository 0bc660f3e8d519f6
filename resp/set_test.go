package resp

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Redis 7's replies and error texts for the set commands (checked against
// redis-server). dynago lists a set's members in byte order.

func TestSetBasics(t *testing.T) {
	newHarness(t).run([]step{
		{`SADD s b a c`, `(integer) 3`},
		{`SADD s a d d`, `(integer) 1`},
		{`SMEMBERS s`, `["a", "b", "c", "d"]`},
		{`SCARD s`, `(integer) 4`},
		{`TYPE s`, `set`},
		{`SISMEMBER s a`, `(integer) 1`},
		{`SISMEMBER s z`, `(integer) 0`},
		{`SISMEMBER nope a`, `(integer) 0`},
		{`SMISMEMBER s a z d`, `[(integer) 1, (integer) 0, (integer) 1]`},
		{`SMISMEMBER nope a`, `[(integer) 0]`},
		{`SREM s a z`, `(integer) 1`},
		{`SREM nope a`, `(integer) 0`},
		{`SMEMBERS s`, `["b", "c", "d"]`},
		{`SREM s b c d`, `(integer) 3`},
		{`EXISTS s`, `(integer) 0`},
		{`SMEMBERS nope`, `[]`},
		{`SCARD nope`, `(integer) 0`},
		{`SADD "" ""`, `(integer) 1`},
		{`SMEMBERS ""`, `[""]`},
	})
}

func TestSetResp3(t *testing.T) {
	h := newHarness(t)
	h.do(`HELLO 3`)
	h.run([]step{
		{`SADD s a b c`, `(integer) 3`},
		{`SADD t b c d`, `(integer) 3`},
		{`SMEMBERS s`, `~["a", "b", "c"]`},
		{`SMEMBERS nope`, `~[]`},
		{`SINTER s t`, `~["b", "c"]`},
		{`SUNION s t nope`, `~["a", "b", "c", "d"]`},
		{`SDIFF s t`, `~["a"]`},
		{`SDIFF nope s`, `~[]`},
		{`SISMEMBER s a`, `(integer) 1`},
		{`SMISMEMBER s a z`, `[(integer) 1, (integer) 0]`},
		{`SPOP nope`, `(nil)`},
		{`SPOP nope 2`, `~[]`},
		{`SPOP s 0`, `~[]`},
		{`SRANDMEMBER nope`, `(nil)`},
		{`SRANDMEMBER nope 2`, `[]`},
		{`SRANDMEMBER t 0`, `[]`},
		{`SSCAN t 0`, `["0", ["b", "c", "d"]]`},
		{`SADD one x`, `(integer) 1`},
		{`SRANDMEMBER one 5`, `["x"]`},
		{`SRANDMEMBER one -2`, `["x", "x"]`},
		{`SPOP one 5`, `~["x"]`},
	})
}

func TestSetErrors(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`SET str v`, `OK`},
		{`SADD s a b`, `(integer) 2`},
		{`SADD str a`, `(error) ` + msgWrongType},
		{`SREM str a`, `(error) ` + msgWrongType},
		{`SMEMBERS str`, `(error) ` + msgWrongType},
		{`SISMEMBER str a`, `(error) ` + msgWrongType},
		{`SMISMEMBER str a`, `(error) ` + msgWrongType},
		{`SCARD str`, `(error) ` + msgWrongType},
		{`SPOP str`, `(error) ` + msgWrongType},
		{`SPOP str 0`, `(error) ` + msgWrongType},
		{`SRANDMEMBER str`, `(error) ` + msgWrongType},
		{`SSCAN str 0`, `(error) ` + msgWrongType},
		{`SINTER s str`, `(error) ` + msgWrongType},
		{`SINTER nope str`, `(error) ` + msgWrongType},
		{`SUNION s str`, `(error) ` + msgWrongType},
		{`SDIFF nope str`, `(error) ` + msgWrongType},
		{`SINTERCARD 2 nope str`, `(error) ` + msgWrongType},
		{`SINTERSTORE d nope str`, `(error) ` + msgWrongType},
		{`EXISTS d`, `(integer) 0`},
		{`HSET h f v`, `(integer) 1`},
		{`SADD h a`, `(error) ` + msgWrongType},
		{`HGET s a`, `(error) ` + msgWrongType},
		{`GET s`, `(error) ` + msgWrongType},
		{`SPOP s -1`, `(error) ERR value is out of range, must be positive`},
		{`SPOP s x`, `(error) ERR value is out of range, must be positive`},
		{`SPOP s 1 2`, `(error) ERR syntax error`},
		{`SRANDMEMBER s x`, `(error) ERR value is not an integer or out of range`},
		{`SRANDMEMBER s 1 2`, `(error) ERR syntax error`},
		{`SSCAN s x`, `(error) ERR invalid cursor`},
		{`SSCAN s 0 COUNT 0`, `(error) ERR syntax error`},
		{`SSCAN s 0 COUNT x`, `(error) ERR value is not an integer or out of range`},
		{`SSCAN s 0 FOO 1`, `(error) ERR syntax error`},
		{`SINTERCARD 0 s`, `(error) ERR numkeys should be greater than 0`},
		{`SINTERCARD -1 s`, `(error) ERR numkeys should be greater than 0`},
		{`SINTERCARD x s`, `(error) ERR numkeys should be greater than 0`},
		{`SINTERCARD 3 a b`, `(error) ERR Number of keys can't be greater than number of args`},
		{`SINTERCARD 1 s LIMIT`, `(error) ERR syntax error`},
		{`SINTERCARD 1 s LIMIT -1`, `(error) ERR LIMIT can't be negative`},
		{`SINTERCARD 1 s LIMIT x`, `(error) ERR LIMIT can't be negative`},
		{`SINTERCARD 1 s FOO 2`, `(error) ERR syntax error`},
		{`SINTERCARD 1 s extra`, `(error) ERR syntax error`},
	})
	// Arity, as the dispatcher answers it.
	for _, line := range []string{`SADD`, `SADD s`, `SREM s`, `SMEMBERS`, `SMEMBERS a b`, `SISMEMBER s`,
		`SISMEMBER s a b`, `SMISMEMBER s`, `SCARD`, `SCARD a b`, `SPOP`, `SRANDMEMBER`, `SSCAN s`, `SMOVE a b`,
		`SMOVE a b c d`, `SINTER`, `SUNION`, `SDIFF`, `SINTERSTORE d`, `SUNIONSTORE d`, `SDIFFSTORE d`,
		`SINTERCARD`, `SINTERCARD 1`} {
		name := strings.ToLower(strings.Fields(line)[0])
		want := `(error) ERR wrong number of arguments for '` + name + `' command`
		if got := h.do(line); got != want {
			t.Errorf("%s\n got: %s\nwant: %s", line, got, want)
		}
	}
}

func TestSetAlgebra(t *testing.T) {
	newHarness(t).run([]step{
		{`SADD s a b c d`, `(integer) 4`},
		{`SADD t c d e`, `(integer) 3`},
		{`SADD u d e f`, `(integer) 3`},
		{`SINTER s`, `["a", "b", "c", "d"]`},
		{`SINTER s t`, `["c", "d"]`},
		{`SINTER s t u`, `["d"]`},
		{`SINTER s nope`, `[]`},
		{`SUNION s t u`, `["a", "b", "c", "d", "e", "f"]`},
		{`SUNION nope`, `[]`},
		{`SDIFF s t`, `["a", "b"]`},
		{`SDIFF s t u nope`, `["a", "b"]`},
		{`SDIFF s nope`, `["a", "b", "c", "d"]`},
		{`SINTERCARD 1 s`, `(integer) 4`},
		{`SINTERCARD 2 s t`, `(integer) 2`},
		{`SINTERCARD 2 s nope`, `(integer) 0`},
		{`SINTERCARD 1 s LIMIT 2`, `(integer) 2`},
		{`SINTERCARD 1 s LIMIT 0`, `(integer) 4`},
		{`SINTERCARD 1 s LIMIT 1 LIMIT 3`, `(integer) 3`},
		{`SINTERCARD 1 s limit 9`, `(integer) 4`},
	})
}

func TestSetStore(t *testing.T) {
	newHarness(t).run([]step{
		{`SADD s a b c d`, `(integer) 4`},
		{`SADD t c d e`, `(integer) 3`},
		{`SINTERSTORE d s t`, `(integer) 2`},
		{`SMEMBERS d`, `["c", "d"]`},
		{`SUNIONSTORE d s t`, `(integer) 5`},
		{`SMEMBERS d`, `["a", "b", "c", "d", "e"]`},
		{`SDIFFSTORE d s t`, `(integer) 2`},
		{`SMEMBERS d`, `["a", "b"]`},
		// The source may be the destination.
		{`SUNIONSTORE s s t`, `(integer) 5`},
		{`SMEMBERS s`, `["a", "b", "c", "d", "e"]`},
		// An empty result deletes the destination.
		{`SINTERSTORE d s nope`, `(integer) 0`},
		{`EXISTS d`, `(integer) 0`},
		{`SDIFFSTORE d nope s`, `(integer) 0`},
		{`EXISTS d`, `(integer) 0`},
		// A destination of any type is replaced, its TTL with it.
		{`SET str v EX 100`, `OK`},
		{`SINTERSTORE str s t`, `(integer) 3`},
		{`TYPE str`, `set`},
		{`TTL str`, `(integer) -1`},
		{`SMEMBERS str`, `["c", "d", "e"]`},
		{`HSET h f v`, `(integer) 1`},
		{`SUNIONSTORE h t`, `(integer) 3`},
		{`TYPE h`, `set`},
		{`SET str2 v`, `OK`},
		{`SDIFFSTORE str2 nope`, `(integer) 0`},
		{`EXISTS str2`, `(integer) 0`},
		// A wrong-type source leaves the destination alone.
		{`SET x v`, `OK`},
		{`SUNIONSTORE t s x`, `(error) ` + msgWrongType},
		{`SMEMBERS t`, `["c", "d", "e"]`},
	})
}

func TestSMove(t *testing.T) {
	newHarness(t).run([]step{
		{`SADD s a b`, `(integer) 2`},
		{`SADD t c`, `(integer) 1`},
		{`SET str v`, `OK`},
		{`SMOVE s t a`, `(integer) 1`},
		{`SMEMBERS s`, `["b"]`},
		{`SMEMBERS t`, `["a", "c"]`},
		{`SMOVE s t zz`, `(integer) 0`},
		{`SMOVE s t c`, `(integer) 0`},
		{`SMOVE s s b`, `(integer) 1`},
		{`SMOVE s s zz`, `(integer) 0`},
		{`SMEMBERS s`, `["b"]`},
		// A missing source is 0 before the destination's type is checked.
		{`SMOVE nope str a`, `(integer) 0`},
		{`SMOVE nope t a`, `(integer) 0`},
		{`SMOVE str s a`, `(error) ` + msgWrongType},
		// A wrong-type destination leaves the source alone.
		{`SMOVE s str b`, `(error) ` + msgWrongType},
		{`SMOVE s str zz`, `(error) ` + msgWrongType},
		{`SMEMBERS s`, `["b"]`},
		// Moving the last member deletes the source, creates the destination.
		{`SMOVE s fresh b`, `(integer) 1`},
		{`EXISTS s`, `(integer) 0`},
		{`SMEMBERS fresh`, `["b"]`},
	})
}

func TestSPopRemovesWhatItReturns(t *testing.T) {
	h := newHarness(t)
	h.run([]step{{`SADD s a b c d e`, `(integer) 5`}})
	popped := h.do(`SPOP s`)
	if len(popped) != 3 || !strings.Contains("abcde", popped[1:2]) {
		t.Fatalf("SPOP s: %s", popped)
	}
	m := popped[1:2]
	h.run([]step{{`SISMEMBER s ` + m, `(integer) 0`}, {`SCARD s`, `(integer) 4`}})
	two := h.do(`SPOP s 2`)
	got := members(two)
	if len(got) != 2 || got[0] == got[1] {
		t.Fatalf("SPOP s 2: %s", two)
	}
	for _, x := range got {
		if x == m {
			t.Errorf("SPOP s 2 popped %s again", x)
		}
		h.run([]step{{`SISMEMBER s ` + x, `(integer) 0`}})
	}
	h.run([]step{
		{`SCARD s`, `(integer) 2`},
		{`SPOP s 0`, `[]`},
		{`SCARD s`, `(integer) 2`},
	})
	rest := h.do(`SMEMBERS s`)
	if all := h.do(`SPOP s 10`); !slices.Equal(members(all), members(rest)) {
		t.Errorf("SPOP s 10: %s, want the members %s", all, rest)
	}
	h.run([]step{
		{`EXISTS s`, `(integer) 0`},
		{`SPOP s`, `(nil)`},
		{`SPOP s 3`, `[]`},
	})
}

func TestSRandMember(t *testing.T) {
	h := newHarness(t)
	h.run([]step{{`SADD s a b c`, `(integer) 3`}})
	for range 20 {
		if got := h.do(`SRANDMEMBER s`); got != `"a"` && got != `"b"` && got != `"c"` {
			t.Fatalf("SRANDMEMBER s: %s", got)
		}
	}
	if got := members(h.do(`SRANDMEMBER s 5`)); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("SRANDMEMBER s 5: %q", got)
	}
	h.run([]step{
		{`SRANDMEMBER s 0`, `[]`},
		{`SRANDMEMBER nope`, `(nil)`},
		{`SRANDMEMBER nope -3`, `[]`},
		{`SCARD s`, `(integer) 3`},
	})
	if got := h.do(`SRANDMEMBER s -7`); strings.Count(got, ",") != 6 {
		t.Errorf("SRANDMEMBER s -7: %s", got)
	}
	if got := h.do(`SRANDMEMBER s 2`); strings.Count(got, ",") != 1 {
		t.Errorf("SRANDMEMBER s 2: %s", got)
	}
}

// members parses a rendered array of bulk strings without quotes or
// commas in them, sorted.
func members(reply string) []string {
	var out []string
	for _, x := range strings.Split(strings.Trim(reply, "~[]"), ", ") {
		out = append(out, strings.Trim(x, `"`))
	}
	slices.Sort(out)
	return out
}

// A collection above scanWhole elements is scanned COUNT at a time.
func TestSScanPages(t *testing.T) {
	h := newHarness(t)
	args := []string{"SADD", "big"}
	for i := range scanWhole + 2 {
		args = append(args, fmt.Sprintf("m%03d", i))
	}
	h.do(strings.Join(args, " "))
	seen := map[string]bool{}
	cursor := "0"
	for calls := 0; ; calls++ {
		got := h.do("SSCAN big " + cursor + " COUNT 50")
		head, body, _ := strings.Cut(strings.TrimPrefix(got, `["`), `", [`)
		cursor = head
		for _, m := range members("[" + body) {
			seen[m] = true
		}
		if cursor == "0" {
			if calls < 2 {
				t.Fatalf("a %d-member set scanned in %d calls of COUNT 50", scanWhole+2, calls+1)
			}
			break
		}
	}
	if len(seen) != scanWhole+2 {
		t.Fatalf("SSCAN visited %d members, want %d", len(seen), scanWhole+2)
	}
}

func TestSScan(t *testing.T) {
	newHarness(t).run([]step{
		{`SADD s a1 a2 b1 b2 c1`, `(integer) 5`},
		{`SSCAN s 0`, `["0", ["a1", "a2", "b1", "b2", "c1"]]`},
		{`SSCAN s 0 COUNT 2`, `["0", ["a1", "a2", "b1", "b2", "c1"]]`}, // small: whole, as Redis
		{`SSCAN s 0 MATCH b*`, `["0", ["b1", "b2"]]`},
		{`SSCAN s 0 MATCH x*`, `["0", []]`},
		{`SSCAN nope 0`, `["0", []]`},
	})
}

func TestSetCommandInfo(t *testing.T) {
	newHarness(t).run([]step{
		{`COMMAND GETKEYS SINTERSTORE d a b`, `["d", "a", "b"]`},
		{`COMMAND GETKEYS SMOVE a b m`, `["a", "b"]`},
		{`COMMAND GETKEYS SDIFF a b c`, `["a", "b", "c"]`},
		{`COMMAND GETKEYS SADD s a b`, `["s"]`},
		// The table has no movable keys: SINTERCARD names its first key only.
		{`COMMAND GETKEYS SINTERCARD 2 a b LIMIT 1`, `["a"]`},
	})
}
