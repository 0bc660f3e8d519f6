package integration

// The string and bitmap commands' replies compared with a stock
// redis-server's through redis-cli, RESP2 and RESP3, as in
// types_cli_test.go: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD,
// BITFIELD_RO, LCS, GETEX, SUBSTR, error texts included.

import (
	"bytes"
	"context"
	"testing"
	"time"
)

var stringSession = [][]string{
	// SETBIT and GETBIT.
	{"SETBIT", "b", "7", "1"}, {"SETBIT", "b", "7", "0"}, {"SETBIT", "b", "7", "1"}, {"GET", "b"},
	{"SETBIT", "b", "100", "1"}, {"STRLEN", "b"}, {"GETBIT", "b", "100"}, {"GETBIT", "b", "99"},
	{"GETBIT", "b", "100000"}, {"GETBIT", "nokey", "3"}, {"SETBIT", "b", "-1", "1"},
	{"SETBIT", "b", "x", "1"}, {"SETBIT", "b", "1", "2"}, {"SETBIT", "b", "1", "-1"}, {"SETBIT", "b", "1", "x"},
	{"SETBIT", "b", "4294967296", "1"}, {"GETBIT", "b", "-1"}, {"SETBIT", "b", "1"}, {"GETBIT", "b"},
	// BITCOUNT.
	{"SET", "s", "foobar"}, {"BITCOUNT", "s"}, {"BITCOUNT", "s", "0", "0"}, {"BITCOUNT", "s", "1", "1"},
	{"BITCOUNT", "s", "1", "1", "BYTE"}, {"BITCOUNT", "s", "5", "30", "BIT"}, {"BITCOUNT", "s", "-2", "-1"},
	{"BITCOUNT", "s", "-1", "-2"}, {"BITCOUNT", "s", "-100", "100"}, {"BITCOUNT", "s", "3", "1"},
	{"BITCOUNT", "s", "-13", "-3", "BIT"}, {"BITCOUNT", "s", "0"}, {"BITCOUNT", "s", "0", "1", "NIBBLE"},
	{"BITCOUNT", "s", "a", "1"}, {"BITCOUNT", "nokey"}, {"BITCOUNT", "s", "0", "1", "BIT", "x"},
	// BITPOS.
	{"SET", "p", "\xff\xf0\x00"}, {"BITPOS", "p", "0"}, {"BITPOS", "p", "1"}, {"BITPOS", "p", "1", "2"},
	{"BITPOS", "p", "0", "1"}, {"BITPOS", "p", "0", "0", "0"}, {"BITPOS", "p", "1", "7", "15", "BIT"},
	{"BITPOS", "p", "0", "7", "15", "BIT"}, {"BITPOS", "p", "0", "0", "11", "BIT"}, {"BITPOS", "p", "1", "-1"},
	{"SET", "ones", "\xff\xff"}, {"BITPOS", "ones", "0"}, {"BITPOS", "ones", "0", "0", "-1"},
	{"BITPOS", "ones", "0", "1"}, {"BITPOS", "nokey", "0"}, {"BITPOS", "nokey", "1"}, {"BITPOS", "p", "2"},
	{"BITPOS", "p", "x"}, {"BITPOS", "p", "1", "0", "1", "BYTES"}, {"BITPOS", "p", "1", "0", "1", "BIT", "x"},
	{"SET", "empty", ""}, {"BITPOS", "empty", "0"}, {"BITPOS", "empty", "1"}, {"BITCOUNT", "empty"},
	// BITOP.
	{"SET", "k1", "foobar"}, {"SET", "k2", "abcdef"}, {"SET", "k3", "xy"}, {"BITOP", "AND", "dest", "k1", "k2"},
	{"GET", "dest"}, {"BITOP", "or", "dest", "k1", "k3"}, {"GET", "dest"}, {"BITOP", "XOR", "dest", "k1", "k2", "k3"},
	{"GET", "dest"}, {"BITOP", "NOT", "dest", "k3"}, {"GET", "dest"}, {"BITOP", "NOT", "dest", "k1", "k2"},
	{"BITOP", "AND", "dest", "nokey", "k1"}, {"GET", "dest"}, {"BITOP", "OR", "dest", "nokey"}, {"EXISTS", "dest"},
	{"BITOP", "NAND", "dest", "k1"}, {"BITOP", "AND", "dest"},
	// BITFIELD and BITFIELD_RO.
	{"BITFIELD", "bf", "SET", "i8", "0", "100", "GET", "i8", "0", "INCRBY", "i8", "0", "100"},
	{"BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "100", "INCRBY", "u4", "8", "20"},
	{"BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "1", "INCRBY", "u4", "8", "-1", "GET", "u4", "8"},
	{"BITFIELD", "bf", "OVERFLOW", "WRAP", "INCRBY", "u2", "100", "5", "SET", "i64", "#3", "-9223372036854775808"},
	{"BITFIELD", "bf", "GET", "i64", "#3", "INCRBY", "i64", "#3", "-1", "GET", "u63", "1"},
	{"BITFIELD", "bf", "SET", "u8", "#1", "-1", "OVERFLOW", "SAT", "SET", "i4", "4", "-100", "GET", "u8", "8"},
	{"GET", "bf"}, {"BITFIELD", "bf"}, {"BITFIELD", "nokey2", "GET", "u8", "0"}, {"EXISTS", "nokey2"},
	{"BITFIELD", "fail", "OVERFLOW", "FAIL", "SET", "u2", "20", "9"}, {"GET", "fail"},
	{"BITFIELD_RO", "bf", "GET", "u8", "0", "GET", "i5", "#2"}, {"BITFIELD_RO", "bf", "SET", "u8", "0", "1"},
	{"BITFIELD_RO", "bf"}, {"BITFIELD", "bf", "GET", "u64", "0"}, {"BITFIELD", "bf", "GET", "i65", "0"},
	{"BITFIELD", "bf", "GET", "x8", "0"}, {"BITFIELD", "bf", "GET", "u0", "0"}, {"BITFIELD", "bf", "GET", "u8", "-1"},
	{"BITFIELD", "bf", "GET", "u8", "#x"}, {"BITFIELD", "bf", "SET", "u8", "0", "x"}, {"BITFIELD", "bf", "OVERFLOW", "MAYBE"},
	{"BITFIELD", "bf", "FOO"}, {"BITFIELD", "bf", "GET", "u8"}, {"BITFIELD", "bf", "SET", "u8", "0"},
	{"BITFIELD", "bf", "GET", "u8", "4294967296"},
	// Counters read as their decimal string.
	{"INCRBY", "cnt", "12"}, {"GETBIT", "cnt", "6"}, {"BITCOUNT", "cnt"}, {"BITPOS", "cnt", "1"},
	{"BITFIELD_RO", "cnt", "GET", "u8", "8"}, {"SETBIT", "cnt", "14", "1"}, {"GET", "cnt"}, {"TYPE", "cnt"},
	{"INCR", "cnt2"}, {"BITFIELD", "cnt2", "INCRBY", "u8", "0", "1"}, {"GET", "cnt2"},
	{"INCR", "cnt3"}, {"BITOP", "OR", "dest", "cnt3", "k3"}, {"GET", "dest"}, {"LCS", "cnt3", "k3"},
	// Wrong types.
	{"HSET", "h", "f", "v"}, {"SETBIT", "h", "1", "1"}, {"GETBIT", "h", "1"}, {"BITCOUNT", "h"},
	{"BITPOS", "h", "1"}, {"BITOP", "AND", "dest", "k1", "h"}, {"BITOP", "AND", "h", "k1"}, {"TYPE", "h"},
	{"BITFIELD", "h", "GET", "u8", "0"}, {"BITFIELD", "h", "SET", "u8", "0", "1"}, {"BITFIELD_RO", "h", "GET", "u8", "0"},
	{"SADD", "set", "a"}, {"LCS", "set", "k1"}, {"ZADD", "z", "1", "a"}, {"BITCOUNT", "z", "0", "1"},
	// LCS.
	{"SET", "l1", "ohmytext"}, {"SET", "l2", "mynewtext"}, {"LCS", "l1", "l2"}, {"LCS", "l1", "l2", "LEN"},
	{"LCS", "l1", "l2", "IDX"}, {"LCS", "l1", "l2", "IDX", "MINMATCHLEN", "4"},
	{"LCS", "l1", "l2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"}, {"LCS", "l1", "l2", "WITHMATCHLEN", "IDX"},
	{"LCS", "l1", "l2", "IDX", "MINMATCHLEN", "-5"}, {"LCS", "l1", "l2", "LEN", "IDX"}, {"LCS", "l1", "nokey"},
	{"LCS", "nokey", "nokey2", "IDX"}, {"LCS", "l1", "l2", "MINMATCHLEN"}, {"LCS", "l1", "l2", "MINMATCHLEN", "x"},
	{"LCS", "l1", "l2", "FOO"}, {"LCS", "l1"}, {"LCS", "l1", "l1", "IDX", "WITHMATCHLEN"},
	// GETEX and SUBSTR.
	{"SET", "g", "hello"}, {"GETEX", "g", "EX", "100"}, {"TTL", "g"}, {"GETEX", "g", "PX", "200000"}, {"TTL", "g"},
	{"GETEX", "g", "EXAT", "4102444800"}, {"EXPIRETIME", "g"}, {"GETEX", "g", "PXAT", "4102444800000"},
	{"PEXPIRETIME", "g"}, {"GETEX", "g", "PERSIST"}, {"TTL", "g"}, {"GETEX", "g"}, {"GETEX", "g", "EX", "0"},
	{"GETEX", "g", "EX", "x"}, {"GETEX", "g", "EX", "10", "PX", "10"}, {"GETEX", "g", "PERSIST", "EX", "10"},
	{"GETEX", "g", "KEEPTTL"}, {"GETEX", "g", "EX"}, {"GETEX", "nokey", "EX", "10"}, {"GETEX", "h"},
	{"GETEX", "h", "PERSIST"}, {"GETEX", "g", "PXAT", "1"}, {"EXISTS", "g"},
	{"SET", "sub", "Hello World"}, {"SUBSTR", "sub", "0", "4"}, {"SUBSTR", "sub", "-5", "-1"}, {"SUBSTR", "sub", "5", "1"},
	{"SUBSTR", "sub", "x", "1"}, {"SUBSTR", "nokey", "0", "1"}, {"SUBSTR", "h", "0", "1"},
}

func TestStringRepliesMatchRedisServer(t *testing.T) {
	p := NewProc(t, "--enable-flushall")
	p.Start()
	compareSession(t, stringSession, startRedisServer(t), p.Port)
}

// Through node 1 of a 3-node cluster: most keys are coordinated by
// another node, so SETBIT and BITFIELD are forwarded and evaluated there.
func TestStringRepliesMatchRedisServerInACluster(t *testing.T) {
	c := NewCluster(t, 3, "--enable-flushall")
	compareSession(t, stringSession, startRedisServer(t), c.Nodes[0].Port)
}

// Values of several MiB are stored and read back through a 3-node
// cluster (the default limit is 64 MiB); a value over a node's limit gets
// Redis's protocol error as a reply, not a connection reset, and the
// client's next connection works.
func TestLargeValues(t *testing.T) {
	ctx := context.Background()
	c := NewCluster(t, 3)
	big := bytes.Repeat([]byte("0123456789abcdef"), 4<<20/16+1)
	cl := c.Nodes[0].Client()
	start := time.Now()
	if err := cl.Set(ctx, "large", big, 0).Err(); err != nil {
		t.Fatalf("SET of %d bytes: %v", len(big), err)
	}
	if got, err := c.Nodes[1].Client().Get(ctx, "large").Bytes(); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("GET through another node: %d bytes, %v", len(got), err)
	}
	t.Logf("SET and GET of %d bytes in %v", len(big), time.Since(start))

	p := NewProc(t, "--max-value-bytes", "1048576")
	p.Start()
	pc := p.Client()
	err := pc.Set(ctx, "k", big, 0).Err()
	if err == nil || err.Error() != "ERR Protocol error: invalid bulk length" {
		t.Fatalf("SET over the limit: %v, want the protocol error", err)
	}
	if err := pc.Set(ctx, "k", "small", 0).Err(); err != nil {
		t.Fatalf("SET after the refused one: %v", err)
	}
	if got := pc.ConfigGet(ctx, "proto-max-bulk-len").Val()["proto-max-bulk-len"]; got != "1114112" {
		t.Fatalf("proto-max-bulk-len = %s", got)
	}
}
