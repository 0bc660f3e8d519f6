package resp

import (
	"context"
	"strings"
	"testing"

	"github.com/dynago/dynago/rdb"
)

func TestRename(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`RENAME nope x`, `(error) ERR no such key`},
		{`RENAMENX nope x`, `(error) ERR no such key`},
		{`SET a v EX 100`, `OK`},
		{`RENAME a a`, `OK`},
		{`RENAMENX a a`, `(integer) 0`},
		{`RENAME a b`, `OK`},
		{`EXISTS a`, `(integer) 0`},
		{`GET b`, `"v"`},
		{`TTL b`, `(integer) 100`},
		{`SET c w`, `OK`},
		{`RENAMENX b c`, `(integer) 0`},
		{`GET c`, `"w"`},
		{`RENAMENX b d`, `(integer) 1`},
		{`TTL d`, `(integer) 100`},
		{`INCRBY n 5`, `(integer) 5`},
		{`RENAME n n2`, `OK`},
		{`INCR n2`, `(integer) 6`},
		{`HSET h f 1 g 2`, `(integer) 2`},
		{`HINCRBY h g 3`, `(integer) 5`},
		{`PEXPIRE h 5000`, `(integer) 1`},
		{`RENAME h c`, `OK`},
		{`HGETALL c`, `["f", "1", "g", "5"]`},
		{`PTTL c`, `(integer) 5000`},
		{`TYPE h`, `none`},
		{`SADD s a b`, `(integer) 2`},
		{`RENAME s c`, `OK`},
		{`SMEMBERS c`, `["a", "b"]`},
		{`TTL c`, `(integer) -1`},
		{`ZADD z 1.5 a -2 b`, `(integer) 2`},
		{`RENAMENX z c`, `(integer) 0`},
		{`RENAMENX z z2`, `(integer) 1`},
		{`ZRANGE z2 0 -1 WITHSCORES`, `["b", "-2", "a", "1.5"]`},
		{`RENAME a`, `(error) ERR wrong number of arguments for 'rename' command`},
	})
}

// RENAME deletes only what it read from the source: a write to the source
// that the read had not seen (a concurrent one) survives, for a string and
// for a set's member.
func TestRenameKeepsConcurrentSourceWrites(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for _, tc := range []struct{ setup, concurrent, check, want string }{
		{`SET src old`, `SET src new`, `GET src`, `"new"`},
		{`SADD src a`, `SADD src b`, `SMEMBERS src`, `["b"]`},
	} {
		h.do(`DEL src`)
		h.do(tc.setup)
		kv, found, err := h.s.readKey(ctx, []byte("src"))
		if err != nil || !found {
			t.Fatalf("read: %v %v", found, err)
		}
		h.do(tc.concurrent)
		w := NewWriter(2)
		if !h.s.deleteRead(ctx, w, []byte("src"), kv) {
			t.Fatalf("delete: %q", w.Bytes())
		}
		if got := h.do(tc.check); got != tc.want {
			t.Errorf("after %s, delete of the read, %s: got %s want %s", tc.concurrent, tc.check, got, tc.want)
		}
	}
}

func TestCopyTouchRandomKey(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`RANDOMKEY`, `(nil)`},
		{`COPY a b`, `(integer) 0`},
		{`SET a 1 PX 3000`, `OK`},
		{`RANDOMKEY`, `"a"`},
		{`COPY a a`, `(error) ERR source and destination objects are the same`},
		{`COPY a b DB 1`, `(error) ERR DB index is out of range`},
		{`COPY a b DB x`, `(error) ERR value is not an integer or out of range`},
		{`COPY a b FOO`, `(error) ERR syntax error`},
		{`COPY a b DB`, `(error) ERR syntax error`},
		{`COPY a b DB 0`, `(integer) 1`},
		{`PTTL b`, `(integer) 3000`},
		{`COPY a b`, `(integer) 0`},
		{`SADD s x`, `(integer) 1`},
		{`COPY s b REPLACE`, `(integer) 1`},
		{`SMEMBERS b`, `["x"]`},
		{`SMEMBERS s`, `["x"]`},
		{`TOUCH a b s nope a`, `(integer) 4`},
		{`WAIT 1 0`, `(integer) 0`},
		{`WAIT x 0`, `(error) ERR value is not an integer or out of range`},
		{`WAIT 0 -1`, `(error) ERR timeout is negative`},
		{`WAIT 0 x`, `(error) ERR timeout is not an integer or out of range`},
		{`LASTSAVE`, `(integer) 1700000000`},
	})
}

func TestObjectAndMemory(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`OBJECT ENCODING nope`, `(nil)`},
		{`MEMORY USAGE nope`, `(nil)`},
		{`SET i 12345`, `OK`},
		{`SET lead 0123`, `OK`},
		{`SET e abc`, `OK`},
		{`SET r ` + strings.Repeat("x", 45), `OK`},
		{`INCRBYFLOAT f 1.5`, `"1.5"`},
		{`INCR c`, `(integer) 1`},
		{`OBJECT ENCODING i`, `"int"`},
		{`OBJECT ENCODING lead`, `"embstr"`},
		{`OBJECT ENCODING e`, `"embstr"`},
		{`OBJECT ENCODING r`, `"raw"`},
		{`OBJECT ENCODING f`, `"embstr"`},
		{`OBJECT ENCODING c`, `"int"`},
		{`OBJECT REFCOUNT c`, `(integer) 2147483647`},
		{`OBJECT REFCOUNT i`, `(integer) 1`},
		{`SADD is 1 2 -3`, `(integer) 3`},
		{`OBJECT ENCODING is`, `"intset"`},
		{`SADD ls 1 a`, `(integer) 2`},
		{`OBJECT ENCODING ls`, `"listpack"`},
		{`SADD hs ` + strings.Repeat("m", 65), `(integer) 1`},
		{`OBJECT ENCODING hs`, `"hashtable"`},
		{`HSET h f v`, `(integer) 1`},
		{`OBJECT ENCODING h`, `"listpack"`},
		{`HSET h2 f ` + strings.Repeat("v", 65), `(integer) 1`},
		{`OBJECT ENCODING h2`, `"hashtable"`},
		{`ZADD z 1 a`, `(integer) 1`},
		{`OBJECT ENCODING z`, `"listpack"`},
		{`ZADD z2 1 ` + strings.Repeat("m", 65), `(integer) 1`},
		{`OBJECT ENCODING z2`, `"skiplist"`},
		{`OBJECT IDLETIME z2`, `(integer) 0`},
		{`OBJECT FREQ z2`, `(error) ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.`},
		{`OBJECT FOO z2`, `(error) ERR unknown subcommand 'FOO'. Try OBJECT HELP.`},
		{`OBJECT ENCODING`, `(error) ERR wrong number of arguments for 'object|encoding' command`},
		{`MEMORY USAGE c`, `(integer) 48`},
		{`MEMORY USAGE c SAMPLES`, `(error) ERR syntax error`},
		{`MEMORY USAGE c SAMPLES x`, `(error) ERR value is not an integer or out of range`},
		{`MEMORY USAGE c SAMPLES -1`, `(error) ERR syntax error`},
		{`MEMORY USAGE c SAMPLES 0`, `(integer) 48`},
	})
	h.clock.advance(5500 * 1e6)
	h.run([]step{{`OBJECT IDLETIME z2`, `(integer) 5`}})
	// A bigger value costs more.
	if small, big := h.do(`MEMORY USAGE e`), h.do(`MEMORY USAGE r`); small >= big {
		t.Errorf("MEMORY USAGE of 3 bytes %s, of 45 bytes %s", small, big)
	}
	if got := h.do(`OBJECT HELP`); !strings.HasPrefix(got, `[OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:, ENCODING <key>,`) {
		t.Errorf("OBJECT HELP: %s", got)
	}
}

func TestDumpRestore(t *testing.T) {
	h := newHarness(t)
	h.do(`HSET h a 1 b 2`)
	h.do(`PEXPIRE h 9000`)
	h.do(`SADD s x y`)
	h.do(`ZADD z 2.5 m -1 n`)
	h.do(`INCRBY n 41`)
	h.do(`SET str hello`)
	for _, k := range []string{"h", "s", "z", "n", "str"} {
		h.w.Reset(2)
		h.s.Handle(h.c, [][]byte{[]byte("DUMP"), []byte(k)}, h.w)
		out := h.w.Bytes()
		i := strings.Index(string(out), "\r\n")
		payload := append([]byte(nil), out[i+2:len(out)-2]...) // h.w's buffer is reused
		if _, err := rdb.Decode(payload); err != nil {
			t.Fatalf("DUMP %s: %v", k, err)
		}
		want := h.do(map[string]string{"h": `HGETALL h`, "s": `SMEMBERS s`, "z": `ZRANGE z 0 -1 WITHSCORES`, "n": `GET n`, "str": `GET str`}[k])
		restore := func(args ...string) string {
			a := [][]byte{[]byte("RESTORE"), []byte(k + "2"), []byte(args[0]), payload}
			for _, x := range args[1:] {
				a = append(a, []byte(x))
			}
			return h.doArgs(a...)
		}
		if got := restore("0"); got != "OK" {
			t.Fatalf("RESTORE %s2: %s", k, got)
		}
		if got := restore("0"); got != "(error) BUSYKEY Target key name already exists." {
			t.Errorf("RESTORE over %s2: %s", k, got)
		}
		if got := restore("1000", "REPLACE", "IDLETIME", "5"); got != "OK" {
			t.Errorf("RESTORE %s2 REPLACE: %s", k, got)
		}
		if got := h.do(`PTTL ` + k + `2`); got != "(integer) 1000" {
			t.Errorf("PTTL %s2 = %s", k, got)
		}
		got := h.do(map[string]string{"h": `HGETALL h2`, "s": `SMEMBERS s2`, "z": `ZRANGE z2 0 -1 WITHSCORES`, "n": `GET n2`, "str": `GET str2`}[k])
		if got != want {
			t.Errorf("%s restored as %s, want %s", k, got, want)
		}
		if got := restore("9223372036854775807", "REPLACE"); got != "OK" || h.do(`TTL `+k+`2`) == "(integer) -1" {
			t.Errorf("RESTORE with the largest TTL: %s", got)
		}
		if got := restore("1700000000000", "REPLACE", "ABSTTL"); got != "OK" || h.do(`EXISTS `+k+`2`) != "(integer) 0" {
			t.Errorf("RESTORE with an expired ABSTTL: %s, key left", got)
		}
	}
	good := string(rdb.Encode(rdb.Value{Kind: rdb.String, Str: []byte("v")}))
	h.do(`SET busy 1`)
	h.run([]step{
		{`DUMP nope`, `(nil)`},
		{`RESTORE k 0 junk`, `(error) ERR DUMP payload version or checksum are wrong`},
		{`RESTORE busy x junk`, `(error) BUSYKEY Target key name already exists.`},
		{`RESTORE k x junk`, `(error) ERR value is not an integer or out of range`},
		{`RESTORE k -1 junk`, `(error) ERR Invalid TTL value, must be >= 0`},
		{`RESTORE k 0 junk FOO`, `(error) ERR syntax error`},
		{`RESTORE k 0 junk IDLETIME -1`, `(error) ERR Invalid IDLETIME value, must be >= 0`},
		{`RESTORE k 0 junk FREQ 256`, `(error) ERR Invalid FREQ value, must be >= 0 and <= 255`},
		{`RESTORE k 0 junk IDLETIME 1 FREQ 1`, `(error) ERR syntax error`},
	})
	if got := h.doArgs([]byte("RESTORE"), []byte("k"), []byte("0"), []byte(good)); got != "OK" || h.do(`GET k`) != `"v"` {
		t.Errorf("RESTORE of a string: %s", got)
	}
	list := []byte{18, 1, 2, 0x0b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff}
	list = append(list, 11, 0)
	list = append(list, make([]byte, 8)...)
	crc := rdb.CRC64(0, list[:len(list)-8])
	for i := range 8 {
		list[len(list)-8+i] = byte(crc >> (8 * i))
	}
	if got := h.doArgs([]byte("RESTORE"), []byte("l"), []byte("0"), list); !strings.HasPrefix(got, "(error) ERR Bad data format: unsupported type: list") {
		t.Errorf("RESTORE of a list: %s", got)
	}
}

func TestSort(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`SORT nope`, `[]`},
		{`SET str x`, `OK`},
		{`SORT str`, `(error) WRONGTYPE Operation against a key holding the wrong kind of value`},
		{`SADD s 3 1 2 10`, `(integer) 4`},
		{`SORT s`, `["1", "2", "3", "10"]`},
		{`SORT s DESC`, `["10", "3", "2", "1"]`},
		{`SORT s ALPHA`, `["1", "10", "2", "3"]`},
		{`SORT s LIMIT 1 2`, `["2", "3"]`},
		{`SORT s LIMIT 5 2`, `[]`},
		{`SORT s LIMIT -1 2`, `["1", "2"]`},
		{`SORT s LIMIT 0 -1`, `["1", "2", "3", "10"]`},
		{`SORT s LIMIT x 1`, `(error) ERR value is not an integer or out of range`},
		{`SORT s LIMIT 1`, `(error) ERR syntax error`},
		{`SORT s FOO`, `(error) ERR syntax error`},
		{`SORT s STORE d`, `(error) ` + msgSortStore},
		{`SORT_RO s STORE d`, `(error) ERR syntax error`},
		{`MSET w_1 30 w_2 20 w_3 10 w_10 x`, `OK`},
		{`SORT s BY w_*`, `(error) ERR One or more scores can't be converted into double`},
		{`SET w_10 5`, `OK`},
		{`SORT s BY w_*`, `["10", "3", "2", "1"]`},
		{`SORT s BY w_* GET # GET w_*`, `["10", "5", "3", "10", "2", "20", "1", "30"]`},
		{`DEL w_10`, `(integer) 1`},
		{`SORT s BY w_* ALPHA`, `["10", "3", "2", "1"]`},
		{`SORT s BY w_* GET nokey GET w_*`, `[(nil), (nil), (nil), "10", (nil), "20", (nil), "30"]`},
		{`HSET o_1 k b`, `(integer) 1`},
		{`HSET o_2 k a`, `(integer) 1`},
		{`SORT s BY o_*->k ALPHA GET o_*->k`, `[(nil), (nil), "a", "b"]`},
		{`SORT_RO s BY o_*->k ALPHA DESC LIMIT 0 2 GET #`, `["1", "2"]`},
		{`ZADD z 3 a 1 b 2 c`, `(integer) 3`},
		{`SORT z BY nosort`, `["b", "c", "a"]`},
		{`SORT z BY nosort DESC LIMIT 0 2`, `["a", "c"]`},
		{`SORT z ALPHA`, `["a", "b", "c"]`},
		{`SORT z`, `(error) ERR One or more scores can't be converted into double`},
	})
	for in, ok := range map[string]bool{"": true, " 1.5": true, "0x10": true, "inf": true, "1e400": false, "nan": false, " ": false, "1_0": false, "1x": false} {
		if _, got := strtod([]byte(in)); got != ok {
			t.Errorf("strtod(%q) ok = %v", in, got)
		}
	}
}
