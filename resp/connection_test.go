package resp

import (
	"strings"
	"testing"
)

func TestConnectionCommands(t *testing.T) {
	newHarness(t).run([]step{
		{`PING`, `PONG`},
		{`ping hello`, `"hello"`},
		{`PING a b`, `(error) ERR wrong number of arguments for 'ping' command`},
		{`ECHO x`, `"x"`},
		{`ECHO`, `(error) ERR wrong number of arguments for 'echo' command`},
		{`SELECT 0`, `OK`},
		{`SELECT 1`, `(error) ERR DB index is out of range`},
		{`SELECT x`, `(error) ERR value is not an integer or out of range`},
		{`AUTH pw`, `(error) ` + msgNoPass},
		{`AUTH default anything`, `OK`},
		{`AUTH bob pw`, `(error) WRONGPASS invalid username-password pair or user is disabled.`},
		{`AUTH a b c`, `(error) ERR syntax error`},
		{`FOO a b`, `(error) ERR unknown command 'FOO', with args beginning with: 'a' 'b' `},
		{`FOO`, `(error) ERR unknown command 'FOO', with args beginning with: `},
		{`TIME x`, `(error) ERR wrong number of arguments for 'time' command`},
		{`DBSIZE x`, `(error) ERR wrong number of arguments for 'dbsize' command`},
	})
}

func TestUnknownCommandTruncatesArgs(t *testing.T) {
	h := newHarness(t)
	long := strings.Repeat("x", 300)
	got := h.do("nosuch " + long + " b")
	want := "(error) ERR unknown command 'nosuch', with args beginning with: '" + strings.Repeat("x", 128) + "' "
	if got != want {
		t.Fatalf("got %s", got)
	}
}

func TestQuit(t *testing.T) {
	h := newHarness(t)
	h.run([]step{{`QUIT`, `OK`}})
	if !h.c.closeAfterReply {
		t.Fatal("QUIT does not close the connection")
	}
}

func TestAuthRequired(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.RequirePass = "s3cret" })
	h.run([]step{
		{`GET k`, `(error) NOAUTH Authentication required.`},
		{`PING`, `(error) NOAUTH Authentication required.`},
		{`GET`, `(error) ERR wrong number of arguments for 'get' command`},
		{`NOPE`, `(error) ERR unknown command 'NOPE', with args beginning with: `},
		{`HELLO 3`, `(error) NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time`},
		{`AUTH wrong`, `(error) WRONGPASS invalid username-password pair or user is disabled.`},
		{`AUTH default wrong`, `(error) WRONGPASS invalid username-password pair or user is disabled.`},
		{`AUTH s3cret`, `OK`},
		{`GET k`, `(nil)`},
	})
	h2 := newHarness(t, func(c *Config) { c.RequirePass = "s3cret" })
	h2.run([]step{
		{`HELLO 3 AUTH default nope`, `(error) WRONGPASS invalid username-password pair or user is disabled.`},
		{`HELLO 2 AUTH default s3cret SETNAME app`, `["server", "dynago", "version", "7.2.0", "proto", (integer) 2, "id", (integer) 1, "mode", "standalone", "role", "master", "modules", []]`},
		{`CLIENT GETNAME`, `"app"`},
	})
}

func TestHello(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`HELLO`, `["server", "dynago", "version", "7.2.0", "proto", (integer) 2, "id", (integer) 1, "mode", "standalone", "role", "master", "modules", []]`},
		{`HELLO 4`, `(error) NOPROTO unsupported protocol version`},
		{`HELLO x`, `(error) ERR Protocol version is not an integer or out of range`},
		{`HELLO 3 foo`, `(error) ERR Syntax error in HELLO option 'foo'`},
		{`HELLO 3 SETNAME "a b"`, `(error) ` + msgBadClientName},
		{`HELLO 3 SETNAME me`, `{"server": "dynago", "version": "7.2.0", "proto": (integer) 3, "id": (integer) 1, "mode": "standalone", "role": "master", "modules": []}`},
		// RESP3 shapes.
		{`GET nope`, `(nil)`},
		{`CONFIG GET databases`, `{"databases": "1"}`},
		{`CLIENT GETNAME`, `"me"`},
		{`HELLO 2`, `["server", "dynago", "version", "7.2.0", "proto", (integer) 2, "id", (integer) 1, "mode", "standalone", "role", "master", "modules", []]`},
		{`GET nope`, `(nil)`},
	})
	h.w.Reset(3)
	h.c.proto = 3
	h.s.Handle(h.c, split("GET nope"), h.w)
	if string(h.w.Bytes()) != "_\r\n" {
		t.Fatalf("RESP3 null: %q", h.w.Bytes())
	}
}

func TestClientCommands(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`CLIENT ID`, `(integer) 1`},
		{`CLIENT GETNAME`, `(nil)`},
		{`CLIENT SETNAME app`, `OK`},
		{`CLIENT GETNAME`, `"app"`},
		{`CLIENT SETNAME "a b"`, `(error) ` + msgBadClientName},
		{`CLIENT SETNAME ""`, `OK`},
		{`CLIENT GETNAME`, `(nil)`},
		{`CLIENT SETINFO LIB-NAME go-redis`, `OK`},
		{`CLIENT SETINFO lib-ver 9.23.0`, `OK`},
		{`CLIENT SETINFO foo x`, `(error) ERR Unrecognized option 'foo'`},
		{`CLIENT SETINFO lib-name "a b"`, `(error) ERR lib-name cannot contain spaces, newlines or special characters.`},
		{`CLIENT NO-EVICT on`, `OK`},
		{`CLIENT NO-TOUCH off`, `OK`},
		{`CLIENT NO-EVICT maybe`, `(error) ERR syntax error`},
		{`CLIENT`, `(error) ERR wrong number of arguments for 'client' command`},
		{`CLIENT foo`, `(error) ERR unknown subcommand 'foo'. Try CLIENT HELP.`},
		{`CLIENT SETNAME`, `(error) ERR wrong number of arguments for 'client|setname' command`},
		{`CLIENT KILL 1.2.3.4:5`, `(error) ERR No such client`},
		{`CLIENT KILL ID abc`, `(error) ERR client-id should be greater than 0`},
		{`CLIENT KILL ID 99`, `(integer) 0`},
		{`CLIENT KILL FOO bar`, `(error) ERR syntax error`},
		{`CLIENT LIST TYPE pubsub`, `""`},
		{`CLIENT LIST TYPE bogus`, `(error) ERR Unknown client type 'bogus'`},
		{`CLIENT LIST ID x`, `(error) ERR Invalid client ID`},
		{`CLIENT REPLY maybe`, `(error) ERR syntax error`},
	})
	info := h.do(`CLIENT INFO`)
	for _, want := range []string{"id=1 ", "flags=e ", "cmd=client|info", "lib-name=go-redis", "lib-ver=9.23.0", "resp=2"} {
		if !strings.Contains(info, want) {
			t.Errorf("CLIENT INFO lacks %q: %s", want, info)
		}
	}
	if help := h.do(`CLIENT HELP`); !strings.Contains(help, "SETNAME") {
		t.Errorf("CLIENT HELP: %s", help)
	}
}

func TestClientReply(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`CLIENT REPLY OFF`, ``},
		{`SET k v`, ``},
		{`CLIENT REPLY ON`, `OK`},
		{`GET k`, `"v"`},
		{`CLIENT REPLY SKIP`, ``},
		{`GET k`, ``},
		{`GET k`, `"v"`},
	})
}

func TestCommandCommand(t *testing.T) {
	h := newHarness(t)
	count := h.do(`COMMAND COUNT`)
	if count != "(integer) "+itoa(len(h.s.cmds)) {
		t.Fatalf("COMMAND COUNT %s", count)
	}
	all := h.do(`COMMAND`)
	if n := strings.Count(all, `[["`); n < 2 {
		t.Fatalf("COMMAND: %.200s", all)
	}
	h.run([]step{
		{`COMMAND INFO getctx`, `[["getctx", (integer) 2, [readonly, fast], (integer) 1, (integer) 1, (integer) 1, [@read, @string, @fast], [], [["flags", [RO, access], "begin_search", ["type", "index", "spec", ["index", (integer) 1]], "find_keys", ["type", "range", "spec", ["lastkey", (integer) 0, "keystep", (integer) 1, "limit", (integer) 0]]]], []]]`},
		{`COMMAND INFO nosuch`, `[(nil)]`},
		{`COMMAND GETKEYS MSET a 1 b 2`, `["a", "b"]`},
		{`COMMAND GETKEYS SIBLINGS k`, `["k"]`},
		{`COMMAND GETKEYS GET`, `(error) ERR wrong number of arguments for 'command|getkeys' command`},
		{`COMMAND GETKEYS nosuch x`, `(error) ERR Invalid command specified`},
		{`COMMAND GETKEYS GET a b`, `(error) ERR Invalid number of arguments specified for command`},
		{`COMMAND GETKEYS PING x`, `(error) ERR The command has no key arguments`},
		{`COMMAND GETKEYS GET k`, `["k"]`},
		{`COMMAND LIST FILTERBY PATTERN *ctx`, `["delctx", "getctx", "setctx"]`},
		{`COMMAND LIST FILTERBY MODULE x`, `[]`},
		{`COMMAND LIST FILTERBY ACLCAT dangerous`, `["client|kill", "client|list", "client|no-evict", "cluster|forget", "cluster|meet", "config|get", "config|resetstat", "config|set", "dynago|leave", "dynago|remove", "flushall", "flushdb", "info", "keys", "lastsave", "restore", "sort", "sort_ro"]`},
		{`COMMAND LIST FOO`, `(error) ERR syntax error`},
		{`COMMAND FOO`, `(error) ERR unknown subcommand 'FOO'. Try COMMAND HELP.`},
	})
	docs := h.do(`COMMAND DOCS set`)
	for _, want := range []string{`["set", [`, `"summary"`, `"arguments"`, `"token", "KEEPTTL"`, `"flags", [optional]`} {
		if !strings.Contains(docs, want) {
			t.Errorf("COMMAND DOCS set lacks %s: %s", want, docs)
		}
	}
	if docs := h.do(`COMMAND DOCS client`); !strings.Contains(docs, `"subcommands"`) || !strings.Contains(docs, `"client|setname"`) {
		t.Errorf("COMMAND DOCS client: %.300s", docs)
	}
}

func TestConfigCommands(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.RequirePass = "pw"; c.Addr = "127.0.0.1:7000" })
	h.do(`AUTH pw`)
	h.run([]step{
		{`CONFIG GET maxmemory`, `["maxmemory", "0"]`},
		{`CONFIG GET requirepass`, `[]`},
		{`CONFIG GET MAXMEM*`, `["maxmemory", "0", "maxmemory-policy", "noeviction", "maxmemory-samples", "5"]`},
		{`CONFIG GET port bind`, `["bind", "127.0.0.1", "port", "7000"]`},
		{`CONFIG GET save appendonly databases cluster-enabled`, `["appendonly", "no", "cluster-enabled", "no", "databases", "1", "save", ""]`},
		{`CONFIG SET timeout 30`, `OK`},
		{`CONFIG GET timeout`, `["timeout", "30"]`},
		{`CONFIG SET maxclients 5 save ""`, `OK`},
		{`CONFIG GET maxclients`, `["maxclients", "5"]`},
		{`CONFIG SET maxclients 0`, `(error) ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be a positive integer`},
		{`CONFIG SET foo bar`, `(error) ERR Unknown option or number of arguments for CONFIG SET - 'foo'`},
		{`CONFIG SET port 1`, `(error) ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config`},
		{`CONFIG SET timeout`, `(error) ERR wrong number of arguments for 'config|set' command`},
		{`CONFIG SET timeout 1 save`, `(error) ERR wrong number of arguments for 'config|set' command`},
		{`CONFIG RESETSTAT`, `OK`},
		{`CONFIG GET`, `(error) ERR wrong number of arguments for 'config|get' command`},
	})
}

func TestInfo(t *testing.T) {
	h := newHarness(t)
	h.do(`SET k v`)
	h.do(`GET k`)
	h.do(`GET nope`)
	info := h.do(`INFO`)
	for _, want := range []string{"# Server", "redis_version:7.2.0", "run_id:" + strings.Repeat("ab", 20), "# Clients", "# Memory",
		"used_memory_rss:", "# Stats", "total_commands_processed:3", "keyspace_hits:1", "keyspace_misses:1",
		"# Latencystats", "latency_percentiles_usec_get:p50=", "# Replication", "role:master", "# Keyspace", "db0:keys=1"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO lacks %q", want)
		}
	}
	if strings.Contains(info, "# Commandstats") {
		t.Error("INFO shows commandstats by default")
	}
	if got := h.do(`INFO commandstats`); !strings.Contains(got, "cmdstat_get:calls=2,") || strings.Contains(got, "# Server") {
		t.Errorf("INFO commandstats: %s", got)
	}
	if got := h.do(`INFO KEYSPACE server`); !strings.Contains(got, "# Keyspace") || !strings.Contains(got, "# Server") || strings.Contains(got, "# Stats") {
		t.Errorf("INFO keyspace server: %s", got)
	}
	if got := h.do(`INFO nosuch`); got != `""` {
		t.Errorf("INFO nosuch: %s", got)
	}
	if got := h.do(`INFO everything`); !strings.Contains(got, "# Commandstats") {
		t.Errorf("INFO everything: %.100s", got)
	}
}

func TestLatencyHistogram(t *testing.T) {
	var h latencyHist
	for i := 1; i <= 1000; i++ {
		h.add(timeMicro(i))
	}
	p, n := h.percentiles(0.5, 0.99, 0.999)
	if n != 1000 {
		t.Fatal(n)
	}
	for i, want := range []float64{500e3, 990e3, 999e3} {
		if got := float64(p[i]); got < want || got > want*1.125 {
			t.Errorf("quantile %d: %v, want within 12.5%% above %v", i, got, want)
		}
	}
	for ns := uint64(0); ns < 1<<20; ns = ns*9/8 + 1 {
		if i := histIndex(ns); histUpper(i) < ns || (i > 0 && histUpper(i-1) >= ns) {
			t.Fatalf("bucket %d of %d: bounds %d..%d", i, ns, histUpper(i-1), histUpper(i))
		}
	}
}
