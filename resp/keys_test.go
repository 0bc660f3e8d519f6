package resp

import (
	"strings"
	"testing"
)

func TestExpireFamily(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`EXPIRE nope 10`, `(integer) 0`},
		{`TTL nope`, `(integer) -2`},
		{`PTTL nope`, `(integer) -2`},
		{`EXPIRETIME nope`, `(integer) -2`},
		{`SET k v`, `OK`},
		{`TTL k`, `(integer) -1`},
		{`EXPIRETIME k`, `(integer) -1`},
		{`EXPIRE k 100`, `(integer) 1`},
		{`TTL k`, `(integer) 100`},
		{`PTTL k`, `(integer) 100000`},
		{`EXPIRETIME k`, `(integer) 1700000100`},
		{`PEXPIRETIME k`, `(integer) 1700000100000`},
		{`EXPIRE k 50 NX`, `(integer) 0`},
		{`EXPIRE k 50 XX`, `(integer) 1`},
		{`EXPIRE k 40 GT`, `(integer) 0`},
		{`EXPIRE k 60 GT`, `(integer) 1`},
		{`EXPIRE k 70 LT`, `(integer) 0`},
		{`EXPIRE k 30 LT`, `(integer) 1`},
		{`EXPIRE k 20 XX LT`, `(integer) 1`},
		{`TTL k`, `(integer) 20`},
		{`PERSIST k`, `(integer) 1`},
		{`PERSIST k`, `(integer) 0`},
		{`PERSIST nope`, `(integer) 0`},
		{`EXPIRE k 20 XX LT`, `(integer) 0`},
		{`EXPIRE k 20 GT`, `(integer) 0`},
		{`TTL k`, `(integer) -1`},
		{`EXPIRE k 20 LT`, `(integer) 1`},
		{`PEXPIRE k 1500`, `(integer) 1`},
		{`TTL k`, `(integer) 2`},
		{`PEXPIREAT k 1700000009999`, `(integer) 1`},
		{`PTTL k`, `(integer) 9999`},
		{`EXPIREAT k 1700000042`, `(integer) 1`},
		{`TTL k`, `(integer) 42`},
		{`EXPIRE k 10 NX XX`, `(error) ERR NX and XX, GT or LT options at the same time are not compatible`},
		{`EXPIRE k 10 GT LT`, `(error) ERR GT and LT options at the same time are not compatible`},
		{`EXPIRE k 10 FOO`, `(error) ERR Unsupported option FOO`},
		{`EXPIRE k abc`, `(error) ERR value is not an integer or out of range`},
		{`EXPIRE k 9223372036854775807`, `(error) ERR invalid expire time in 'expire' command`},
		{`PEXPIRE k 9223372036854775807`, `(error) ERR invalid expire time in 'pexpire' command`},
		{`EXPIRE k`, `(error) ERR wrong number of arguments for 'expire' command`},
		{`EXPIRE k -1`, `(integer) 1`},
		{`EXISTS k`, `(integer) 0`},
	})
}

func TestKeyspace(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`TYPE k`, `none`},
		{`MSET user:1 a user:2 b admin:1 c "" e`, `OK`},
		{`TYPE user:1`, `string`},
		{`KEYS *`, `["", "admin:1", "user:1", "user:2"]`},
		{`KEYS user:*`, `["user:1", "user:2"]`},
		{`KEYS *:[12]`, `["admin:1", "user:1", "user:2"]`},
		{`KEYS nothing*`, `[]`},
		{`SCAN 0`, `["0", ["", "admin:1", "user:1", "user:2"]]`},
		{`SCAN 0 COUNT 2`, `["3", ["", "admin:1"]]`},
		{`SCAN 3 COUNT 2`, `["0", ["user:1", "user:2"]]`},
		{`SCAN 0 MATCH user:* COUNT 100`, `["0", ["user:1", "user:2"]]`},
		{`SCAN 0 TYPE string MATCH a*`, `["0", ["admin:1"]]`},
		{`SCAN 0 TYPE hash`, `["0", []]`},
		{`SCAN x`, `(error) ERR invalid cursor`},
		{`SCAN -1`, `(error) ERR invalid cursor`},
		{`SCAN 0 COUNT 0`, `(error) ERR syntax error`},
		{`SCAN 0 COUNT x`, `(error) ERR value is not an integer or out of range`},
		{`SCAN 0 MATCH`, `(error) ERR syntax error`},
		{`SCAN 0 FOO bar`, `(error) ERR syntax error`},
		{`DBSIZE`, `(integer) 4`},
	})
}

// The CVE-2022-36021 pattern is decided in linear time; a pattern that
// needs more steps than its budget is refused instead of spinning.
func TestKeysPathologicalPattern(t *testing.T) {
	h := newHarness(t)
	long := strings.Repeat("a", 20000)
	h.doArgs([]byte("SET"), []byte(long), []byte("v"))
	if got := h.doArgs([]byte("KEYS"), []byte(strings.Repeat("*a", 3000)+"*b")); got != "[]" {
		t.Fatalf("KEYS *a*a…*b: %.80s", got)
	}
	pattern := "*" + strings.Repeat("a", 3000) + "b"
	if got := h.doArgs([]byte("KEYS"), []byte(pattern)); got != "(error) "+msgPatternLimit {
		t.Fatalf("KEYS: %.80s", got)
	}
	if got := h.doArgs([]byte("SCAN"), []byte("0"), []byte("MATCH"), []byte(pattern)); got != "(error) "+msgPatternLimit {
		t.Fatalf("SCAN: %.80s", got)
	}
	// An ordinary pattern on the same long key is fine.
	if got := h.doArgs([]byte("KEYS"), []byte("*a*a*a")); !strings.HasPrefix(got, `["aaaa`) {
		t.Fatalf("KEYS *a*a*a: %.40s", got)
	}
}

func TestKeysOutputLimit(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.MaxOutputBytes = 1 << 10
		c.MaxValueBytes = 1 << 10
		c.MaxBulkBytes = 2 << 10
		c.MaxQueryBytes = 4 << 10
	})
	for i := range 100 {
		h.do("SET key:" + itoa(i) + " v")
	}
	if got := h.do("KEYS *"); !strings.Contains(got, "output buffer limit") || !h.c.dropConn {
		t.Fatalf("KEYS over the output limit: %.80s (drop %v)", got, h.c.dropConn)
	}
}

func TestFlushAll(t *testing.T) {
	newHarness(t).run([]step{
		{`SET k v`, `OK`},
		{`FLUSHALL`, `(error) ERR FLUSHALL is disabled; start dynago with --enable-flushall`},
		{`FLUSHDB`, `(error) ERR FLUSHDB is disabled; start dynago with --enable-flushall`},
		{`FLUSHALL FOO`, `(error) ERR syntax error`},
		{`DBSIZE`, `(integer) 1`},
	})
	newHarness(t, func(c *Config) { c.EnableFlushAll = true }).run([]step{
		{`SET k v`, `OK`},
		{`FLUSHALL ASYNC`, `OK`},
		{`DBSIZE`, `(integer) 0`},
		{`SET k v`, `OK`},
		{`FLUSHDB sync`, `OK`},
		{`GET k`, `(nil)`},
	})
}
