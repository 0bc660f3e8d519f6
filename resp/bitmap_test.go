package resp

import "testing"

// The bitmap commands and LCS on the in-memory backend. The broad
// comparison with redis-server is integration/strings_cli_test.go; these
// pin what it cannot: Redis 7.2's answers where the installed 7.0 differs,
// the value limit, and the RESP3 shapes.

func TestBitmapCommands(t *testing.T) {
	newHarness(t, func(c *Config) { c.MaxValueBytes = 16 }).run([]step{
		{`SETBIT k 9 1`, `(integer) 0`},
		{`SETBIT k 9 1`, `(integer) 1`},
		{`GET k`, `"\x00@"`},
		{`GETBIT k 9`, `(integer) 1`},
		{`GETBIT k 100`, `(integer) 0`},
		// The byte holding the bit must fit in the value limit.
		{`SETBIT k 127 1`, `(integer) 0`},
		{`SETBIT k 128 1`, `(error) ERR bit offset is not an integer or out of range`},
		{`GETBIT k 128`, `(error) ERR bit offset is not an integer or out of range`},
		{`BITFIELD k SET u8 #16 1`, `(error) ERR bit offset is not an integer or out of range`},
		{`BITFIELD k SET u8 124 1`, `(error) ERR value too large (max 16 bytes)`},
		{`STRLEN k`, `(integer) 16`},
		{`SETBIT k 1 2`, `(error) ERR bit is not an integer or out of range`},
		// Redis 7.2 checks the arguments even when the key is missing.
		{`BITCOUNT nokey 0 x`, `(error) ERR value is not an integer or out of range`},
		{`BITCOUNT nokey 0 1 NIBBLE`, `(error) ERR syntax error`},
		{`BITCOUNT nokey 0`, `(error) ERR syntax error`},
		{`BITPOS nokey 1 0 1 BYTES`, `(error) ERR syntax error`},
		{`BITPOS nokey 1 x`, `(error) ERR value is not an integer or out of range`},
		{`BITPOS nokey 0 0 1 BIT x`, `(error) ERR syntax error`},
		{`BITPOS nokey 0`, `(integer) 0`},
		{`BITPOS nokey 1`, `(integer) -1`},
		{`BITCOUNT k`, `(integer) 2`},
		{`BITCOUNT k 1 1 BIT`, `(integer) 0`},
		{`BITCOUNT k 9 127 BIT`, `(integer) 2`},
		{`BITPOS k 1 10 -1 BIT`, `(integer) 127`},
		{`BITOP AND dst k nokey`, `(integer) 16`},
		{`BITCOUNT dst`, `(integer) 0`},
		{`BITOP OR dst nokey`, `(integer) 0`},
		{`EXISTS dst`, `(integer) 0`},
		{`BITFIELD_RO k GET u8 8 GET i8 8`, `[(integer) 64, (integer) 64]`},
		{`BITFIELD k OVERFLOW FAIL INCRBY u2 0 4 GET u2 0`, `[(nil), (integer) 0]`},
		{`BITFIELD k`, `[]`},
		{`BITFIELD_RO k INCRBY u8 0 1`, `(error) ERR BITFIELD_RO only supports the GET subcommand`},
	})
}

func TestBitmapOnCountersAndCollections(t *testing.T) {
	newHarness(t).run([]step{
		{`INCRBY n 12`, `(integer) 12`},
		{`GETBIT n 2`, `(integer) 1`},
		{`BITCOUNT n`, `(integer) 6`},
		{`SETBIT n 15 1`, `(integer) 0`},
		{`GET n`, `"13"`},
		{`TYPE n`, `string`},
		{`INCR n`, `(integer) 14`},
		{`SADD s a`, `(integer) 1`},
		{`SETBIT s 0 1`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`BITFIELD s INCRBY u8 0 1`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`BITOP NOT n s`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`LCS n s`, `(error) ERR The specified keys must contain string values`},
	})
}

func TestLCS(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxValueBytes = 1 << 10 })
	h.run([]step{
		{`SET a ohmytext`, `OK`},
		{`SET b mynewtext`, `OK`},
		{`LCS a b`, `"mytext"`},
		{`LCS a b LEN`, `(integer) 6`},
		{`LCS a b IDX MINMATCHLEN 2 WITHMATCHLEN`, `["matches", [[[(integer) 4, (integer) 7], [(integer) 5, (integer) 8], (integer) 4], [[(integer) 2, (integer) 3], [(integer) 0, (integer) 1], (integer) 2]], "len", (integer) 6]`},
		{`LCS a nokey IDX`, `["matches", [], "len", (integer) 0]`},
		// (16+1)*(15+1) cells of 4 bytes is over the 1 KiB limit.
		{`SET c 0123456789abcdef`, `OK`},
		{`SET d 0123456789abcde`, `OK`},
		{`LCS c d`, `(error) ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len`},
		{`LCS c a`, `"e"`},
	})
	h.do("HELLO 3")
	if got, want := h.do("LCS a b IDX"), `{"matches": [[[(integer) 4, (integer) 7], [(integer) 5, (integer) 8]], [[(integer) 2, (integer) 3], [(integer) 0, (integer) 1]]], "len": (integer) 6}`; got != want {
		t.Errorf("RESP3 LCS IDX: %s, want %s", got, want)
	}
}
