package resp

// These tests pin docs/architecture.md §3 ("What each command means") and the paper's
// §4.1 interface: get returns every concurrent version with a context,
// put with a context replaces exactly the versions the context covers.

import (
	"regexp"
	"strings"
	"testing"

	"github.com/dynago/dynago/version"
)

// ctxOf extracts the context token from a rendered GETCTX reply.
func ctxOf(t *testing.T, getctx string) string {
	t.Helper()
	m := regexp.MustCompile(`^\["([^"]*)", `).FindStringSubmatch(getctx)
	if m == nil {
		t.Fatalf("GETCTX reply %s", getctx)
	}
	return m[1]
}

// The sibling scenario.
func TestSiblingScenario(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`SETCTX k "" a`, `OK`},
		{`SETCTX k "" b`, `OK`},
	})
	sibs := h.do(`SIBLINGS k`)
	if strings.Count(sibs, `"value"`) != 2 || !strings.Contains(sibs, `"a"`) || !strings.Contains(sibs, `"b"`) {
		t.Fatalf("SIBLINGS after two blind SETCTX: %s", sibs)
	}
	got := h.do(`GETCTX k`)
	tok := ctxOf(t, got)
	if tok == "" || !strings.HasSuffix(got, `["a", "b"]]`) {
		t.Fatalf("GETCTX: %s", got)
	}
	h.run([]step{
		{`SETCTX k ` + tok + ` ab`, `OK`},
		{`GET k`, `"ab"`},
	})
	if sibs := h.do(`SIBLINGS k`); strings.Count(sibs, `"value"`) != 1 || !strings.Contains(sibs, `"ab"`) {
		t.Fatalf("SIBLINGS after SETCTX with the context: %s", sibs)
	}
	if got := h.do(`GETCTX k`); !strings.HasSuffix(got, `["ab"]]`) {
		t.Fatalf("GETCTX: %s", got)
	}
}

// Two writers with the same stale context both survive.
func TestStaleContextKeepsBothWrites(t *testing.T) {
	h := newHarness(t)
	h.do(`SET k v0`)
	tok := ctxOf(t, h.do(`GETCTX k`))
	h.do(`SETCTX k ` + tok + ` x`)
	h.do(`SETCTX k ` + tok + ` y`)
	if got := h.do(`GETCTX k`); !strings.HasSuffix(got, `["x", "y"]]`) {
		t.Fatalf("GETCTX: %s", got)
	}
	// A plain SET supersedes everything this node has seen.
	h.do(`SET k z`)
	if got := h.do(`GETCTX k`); !strings.HasSuffix(got, `["z"]]`) {
		t.Fatalf("GETCTX after SET: %s", got)
	}
}

func TestGetCtxMissingAndDeleted(t *testing.T) {
	h := newHarness(t)
	h.run([]step{
		{`GETCTX nope`, `["", []]`},
		{`SIBLINGS nope`, `[]`},
		{`SET k v`, `OK`},
		{`DEL k`, `(integer) 1`},
	})
	got := h.do(`GETCTX k`)
	if tok := ctxOf(t, got); tok == "" || !strings.HasSuffix(got, `, []]`) {
		t.Fatalf("GETCTX of a deleted key keeps the tombstone's context: %s", got)
	}
	if sibs := h.do(`SIBLINGS k`); !strings.Contains(sibs, `"tombstone", (integer) 1`) || !strings.Contains(sibs, `"value", (nil)`) {
		t.Fatalf("SIBLINGS shows the tombstone: %s", sibs)
	}
	h.run([]step{{`GETCTX ""`, `["", []]`}})
}

func TestDelCtx(t *testing.T) {
	h := newHarness(t)
	h.run([]step{{`SETCTX k "" a`, `OK`}, {`SETCTX k "" b`, `OK`}})
	tok := ctxOf(t, h.do(`GETCTX k`))
	h.run([]step{{`SETCTX k "" c`, `OK`}})
	// The context covers a and b, not c: c survives beside the tombstone
	// (GET reads the newest sibling, the tombstone, as missing).
	h.run([]step{{`DELCTX k ` + tok, `(integer) 1`}})
	if got := h.do(`GETCTX k`); !strings.HasSuffix(got, `["c"]]`) {
		t.Fatalf("GETCTX after DELCTX: %s", got)
	}
	h.run([]step{
		{`DELCTX k ` + tok, `(integer) 0`},
		{`DELCTX nope ""`, `(integer) 0`},
	})
}

func TestSetCtxOptionsAndBadContexts(t *testing.T) {
	h := newHarness(t)
	good := version.EncodeContext(version.VV{{Actor: h.b.actor, Counter: 1}})
	h.run([]step{
		{`SETCTX k "" v EX 10`, `OK`},
		{`TTL k`, `(integer) 10`},
		{`SETCTX k "" v PX 0`, `(error) ERR invalid expire time in 'setctx' command`},
		{`SETCTX k "" v NX`, `(error) ERR syntax error`},
		{`SETCTX k "" v KEEPTTL`, `(error) ERR syntax error`},
		{`SETCTX k`, `(error) ERR wrong number of arguments for 'setctx' command`},
		{`SETCTX k ` + good + ` w`, `OK`},
	})
	for _, bad := range []string{"garbage!", "AQ", "AQH", good[:len(good)-2], good + "A", "AgFub2RlLW9uZQAAAAEC",
		strings.Repeat("A", version.MaxContextLen+1), "%00", "AQFub2RlLW9uZQAAAAEA"} {
		before := h.do(`SIBLINGS k`)
		if got := h.doArgs([]byte("SETCTX"), []byte("k"), []byte(bad), []byte("x")); got != "(error) ERR invalid context" {
			t.Errorf("SETCTX with context %.20q: %s", bad, got)
		}
		if got := h.doArgs([]byte("DELCTX"), []byte("k"), []byte(bad)); got != "(error) ERR invalid context" {
			t.Errorf("DELCTX with context %.20q: %s", bad, got)
		}
		if after := h.do(`SIBLINGS k`); after != before {
			t.Errorf("a bad context wrote something: %s -> %s", before, after)
		}
	}
}

func TestSiblingsRESP3(t *testing.T) {
	h := newHarness(t)
	h.do(`HELLO 3`)
	h.do(`SET k v PXAT 1800000000000`)
	want := `[{"value": "v", "dot": "6e6f64652d6f6e6500000001:1", "timestamp": (integer) 1700000000000, "tombstone": (integer) 0, "expiry": (integer) 1800000000000, "type": "string"}]`
	if got := h.do(`SIBLINGS k`); got != want {
		t.Fatalf("SIBLINGS in RESP3:\n got %s\nwant %s", got, want)
	}
	if got := h.do(`GETCTX nope`); got != `["", []]` {
		t.Fatalf("GETCTX in RESP3: %s", got)
	}
}
