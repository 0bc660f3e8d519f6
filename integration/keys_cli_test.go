package integration

// The key commands (RENAME, COPY, DUMP/RESTORE, SORT, OBJECT …) compared
// with a stock redis-server's, reply for reply, as in types_cli_test.go;
// and DUMP payloads moved between redis-server and dynago both ways.

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

var keysSession = [][]string{
	{"RENAME", "nokey", "x"}, {"RENAMENX", "nokey", "x"}, {"RENAME", "a"},
	{"SET", "a", "v", "EX", "100"}, {"RENAME", "a", "a"}, {"RENAMENX", "a", "a"},
	{"RENAME", "a", "b"}, {"EXISTS", "a"}, {"GET", "b"}, {"TTL", "b"},
	{"SET", "c", "w"}, {"RENAMENX", "b", "c"}, {"RENAMENX", "b", "d"}, {"GET", "d"}, {"TTL", "d"},
	{"INCRBY", "n", "5"}, {"RENAME", "n", "n2"}, {"INCR", "n2"}, {"OBJECT", "ENCODING", "n2"},
	{"HSET", "h", "f", "1", "g", "2"}, {"HINCRBY", "h", "g", "3"}, {"EXPIRE", "h", "50"},
	{"RENAME", "h", "c"}, {"HGETALL", "c"}, {"TTL", "c"}, {"TYPE", "h"},
	{"SADD", "s", "3", "1", "2", "10"}, {"COPY", "s", "s2"}, {"SMEMBERS", "s2"}, {"COPY", "s", "s2"},
	{"COPY", "s", "c", "REPLACE"}, {"SMEMBERS", "c"}, {"TYPE", "c"}, {"COPY", "s", "s"},
	{"COPY", "s", "x", "DB", "16"}, {"COPY", "s", "x", "DB", "y"}, {"COPY", "s", "x", "FOO"},
	{"COPY", "s", "x", "DB", "0"}, {"COPY", "nokey", "x"},
	{"ZADD", "z", "3", "a", "1", "b", "2", "c"}, {"RENAMENX", "z", "z2"}, {"ZRANGE", "z2", "0", "-1", "WITHSCORES"},
	{"OBJECT", "ENCODING", "z2"}, // before SORT, which makes Redis convert it to a skiplist
	{"TOUCH", "s", "z2", "nokey", "s"},
	// SORT.
	{"SORT", "nokey"}, {"SORT", "d"}, {"SORT", "s"}, {"SORT", "s", "DESC"}, {"SORT", "s", "ALPHA"},
	{"SORT", "s", "LIMIT", "1", "2"}, {"SORT", "s", "LIMIT", "5", "2"}, {"SORT", "s", "LIMIT", "-1", "2"},
	{"SORT", "s", "LIMIT", "0", "-1", "DESC"}, {"SORT", "s", "LIMIT", "x", "1"}, {"SORT", "s", "LIMIT", "1"},
	{"SORT", "s", "FOO"}, {"SORT_RO", "s", "STORE", "d"}, {"SORT_RO", "s", "DESC", "LIMIT", "0", "2"},
	{"MSET", "w_1", "30", "w_2", "20", "w_3", "10", "w_10", "x"}, {"SORT", "s", "BY", "w_*"},
	{"SET", "w_10", "5"}, {"SORT", "s", "BY", "w_*"}, {"SORT", "s", "BY", "w_*", "GET", "#", "GET", "w_*"},
	{"DEL", "w_10"}, {"SORT", "s", "BY", "w_*", "ALPHA"}, {"SORT", "s", "BY", "w_*", "GET", "nokey", "GET", "w_*"},
	{"HSET", "o_1", "k", "b"}, {"HSET", "o_2", "k", "a"}, {"SORT", "s", "BY", "o_*->k", "ALPHA", "GET", "o_*->k"},
	{"SORT_RO", "s", "BY", "o_*->k", "ALPHA", "DESC", "LIMIT", "0", "2", "GET", "#"},
	{"SORT", "s", "BY", "o_*->k", "GET", "o_*->k", "GET", "o_*->"},
	{"SORT", "z2", "BY", "nosort"}, {"SORT", "z2", "BY", "nosort", "DESC", "LIMIT", "0", "2"},
	{"SORT", "z2", "BY", "nosort", "LIMIT", "1", "5"}, {"SORT", "z2", "ALPHA"}, {"SORT", "z2"},
	{"SORT", "z2", "ALPHA", "DESC", "GET", "#", "GET", "nokey*"},
	{"SORT", "s", "BY", "w_*", "DESC", "LIMIT", "1", "1", "GET", "w_*"}, {"SORT", "s", "BY", "o_*->k"},
	{"SORT", "s", "BY", "nokey_*->f", "GET", "#"}, {"SORT", "s", "GET", "w_1"}, {"SORT", "s", "BY", "w_*", "BY", "nosort", "GET", "#"}, {"SORT", "s", "BY", "nosort", "DESC"},
	{"SORT", "z2", "BY", "w_*", "STORE"}, {"SORT", "o_1"}, {"SORT_RO", "nokey", "LIMIT", "0", "0"},
	// OBJECT, DUMP/RESTORE errors, RANDOMKEY.
	{"SET", "i", "12345"}, {"SET", "lead", "0123"}, {"SET", "r", strings.Repeat("x", 45)},
	{"OBJECT", "ENCODING", "i"}, {"OBJECT", "ENCODING", "lead"}, {"OBJECT", "ENCODING", "r"},
	{"OBJECT", "ENCODING", "s"}, {"OBJECT", "ENCODING", "c"},
	{"OBJECT", "ENCODING", "o_1"}, {"OBJECT", "ENCODING", "nokey"}, {"OBJECT", "REFCOUNT", "i"},
	{"OBJECT", "REFCOUNT", "n2"}, {"OBJECT", "FREQ", "i"}, {"OBJECT", "FOO", "i"}, {"OBJECT", "ENCODING"},
	{"OBJECT", "HELP"}, {"MEMORY", "USAGE", "nokey"}, {"MEMORY", "USAGE", "i", "SAMPLES"},
	{"MEMORY", "USAGE", "i", "SAMPLES", "x"}, {"DUMP", "nokey"},
	{"RESTORE", "k", "0", "junk"}, {"RESTORE", "i", "x", "junk"}, {"RESTORE", "k", "x", "junk"},
	{"RESTORE", "k", "-1", "junk"}, {"RESTORE", "k", "0", "junk", "FOO"}, {"RESTORE", "k", "0", "junk", "IDLETIME", "-1"},
	{"RESTORE", "k", "0", "junk", "FREQ", "256"}, {"RESTORE", "k", "0", "junk", "IDLETIME", "1", "FREQ", "1"},
	{"DEL", "b", "c", "d", "n2", "s", "s2", "x", "z2", "w_1", "w_2", "w_3", "o_1", "o_2", "i", "lead", "r"},
	{"RANDOMKEY"}, {"SET", "only", "1"}, {"RANDOMKEY"}, {"DEL", "only"}, {"RANDOMKEY"},
	{"WAIT", "x", "0"}, {"WAIT", "0", "-1"}, {"WAIT", "0", "x"},
	{"COMMAND", "INFO", "rename", "renamenx", "copy", "dump", "restore", "sort", "sort_ro"},
	{"COMMAND", "INFO", "object|encoding", "memory|usage"},
}

// bigValues adds collections past Redis 7.2's small-encoding thresholds
// (where Redis 7.0 agrees), for OBJECT ENCODING.
func init() {
	bh, is, bz := []string{"HSET", "bh"}, []string{"SADD", "is"}, []string{"ZADD", "bz"}
	for i := range 513 {
		is = append(is, fmt.Sprint(i))
		bh = append(bh, fmt.Sprint("f", i), "v")
		if i < 129 {
			bz = append(bz, fmt.Sprint(i), fmt.Sprint("m", i))
		}
	}
	keysSession = append(keysSession, bh, is, bz, []string{"OBJECT", "ENCODING", "bh"}, []string{"OBJECT", "ENCODING", "is"},
		[]string{"OBJECT", "ENCODING", "bz"}, []string{"SREM", "is", "0"}, []string{"SCARD", "is"},
		[]string{"SORT", "is", "LIMIT", "500", "3", "DESC"}, []string{"SORT", "bz", "BY", "nosort", "LIMIT", "100", "2"})
}

func TestKeyRepliesMatchRedisServer(t *testing.T) {
	p := NewProc(t, "--enable-flushall")
	p.Start()
	compareSession(t, keysSession, startRedisServer(t), p.Port)
}

// The same session through node 1 of a 3-node cluster: the source and
// destination of RENAME and COPY, and SORT's BY and GET keys, are mostly
// coordinated by other nodes.
func TestKeyRepliesMatchRedisServerInACluster(t *testing.T) {
	c := NewCluster(t, 3, "--enable-flushall")
	compareSession(t, keysSession, startRedisServer(t), c.Nodes[0].Port)
}

// DUMP payloads move both ways between redis-server and dynago (single
// node, then a cluster's node 1), for every type dynago has and for the
// encodings redis-server picks at each size (int, embstr, raw with LZF;
// listpack, intset and hashtable; listpack and skiplist): what RESTORE
// makes reads back the same as the original.
func TestDumpRestoreBetweenRedisAndDynago(t *testing.T) {
	ctx := context.Background()
	srv := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", startRedisServer(t))})
	t.Cleanup(func() { srv.Close() })
	p := NewProc(t, "--enable-flushall")
	p.Start()
	c := NewCluster(t, 3, "--enable-flushall")
	for name, dyn := range map[string]*redis.Client{"single": p.Client(), "cluster": c.Nodes[0].Client()} {
		var keys []string
		add := func(k string, cmds ...[]any) {
			keys = append(keys, k)
			for _, cmd := range cmds {
				if err := srv.Do(ctx, cmd...).Err(); err != nil {
					t.Fatalf("%v: %v", cmd, err)
				}
			}
		}
		srv.FlushAll(ctx)
		add("int", []any{"SET", "int", "-1234567"})
		add("emb", []any{"SET", "emb", "hello"})
		add("lzf", []any{"SET", "lzf", strings.Repeat("abc", 100)}, []any{"PEXPIRE", "lzf", 100000})
		bigHash, bigSet, intSet, bigZ := []any{"HSET", "bh"}, []any{"SADD", "bs"}, []any{"SADD", "is"}, []any{"ZADD", "bz"}
		for i := range 200 {
			bigHash = append(bigHash, fmt.Sprint("f", i), i)
			bigSet = append(bigSet, fmt.Sprint("m", i))
			intSet = append(intSet, i*1000-50000)
			bigZ = append(bigZ, float64(i)/3, fmt.Sprint("m", i))
		}
		add("sh", []any{"HSET", "sh", "a", "1", "b", "x"})
		add("bh", bigHash)
		add("ss", []any{"SADD", "ss", "a", "b", "-"})
		add("bs", bigSet)
		add("is", intSet)
		add("sz", []any{"ZADD", "sz", "1.5", "a", "-2", "b", "inf", "c"})
		add("bz", bigZ)
		read := func(cl *redis.Client, k string) any {
			switch cl.Type(ctx, k).Val() {
			case "hash":
				return cl.HGetAll(ctx, k).Val()
			case "set":
				m := cl.SMembers(ctx, k).Val()
				slices.Sort(m)
				return m
			case "zset":
				return cl.ZRangeWithScores(ctx, k, 0, -1).Val()
			}
			return cl.Get(ctx, k).Val()
		}
		for _, k := range keys {
			payload, err := srv.Dump(ctx, k).Result()
			if err != nil {
				t.Fatalf("redis DUMP %s: %v", k, err)
			}
			if err := dyn.RestoreReplace(ctx, k, 0, payload).Err(); err != nil {
				t.Fatalf("%s: dynago RESTORE of redis's %s: %v", name, k, err)
			}
			if got, want := read(dyn, k), read(srv, k); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %s restored in dynago: %v, want %v", name, k, got, want)
			}
			back, err := dyn.Dump(ctx, k).Result()
			if err != nil {
				t.Fatalf("%s: dynago DUMP %s: %v", name, k, err)
			}
			if err := srv.Restore(ctx, k+":back", 5000000, back).Err(); err != nil {
				t.Fatalf("%s: redis RESTORE of dynago's %s: %v", name, k, err)
			}
			if got, want := read(srv, k+":back"), read(srv, k); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %s restored in redis: %v, want %v", name, k, got, want)
			}
		}
	}
}
