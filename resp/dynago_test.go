package resp

// DYNAGO CONSISTENCY (docs/architecture.md §4 step 7: a connection's own R and W) and
// DYNAGO LOCAL (a node's own copy, for checking handoff and repair).

import (
	"errors"
	"strings"
	"testing"

	"github.com/dynago/dynago/coordinator"
	"github.com/dynago/dynago/version"
)

func TestDynagoConsistencyValidation(t *testing.T) {
	h, _ := newClusterHarness(t, nil)
	h.run([]step{
		{"DYNAGO CONSISTENCY", `["r", (integer) 0, "w", (integer) 0]`},
		{"DYNAGO CONSISTENCY 1 3", "OK"},
		{"dynago consistency", `["r", (integer) 1, "w", (integer) 3]`},
		{"DYNAGO CONSISTENCY 16 16", "OK"},
		{"DYNAGO CONSISTENCY 0 2", "(error) ERR invalid R or W"},
		{"DYNAGO CONSISTENCY 2 0", "(error) ERR invalid R or W"},
		{"DYNAGO CONSISTENCY 17 2", "(error) ERR invalid R or W"},
		{"DYNAGO CONSISTENCY 2 -1", "(error) ERR invalid R or W"},
		{"DYNAGO CONSISTENCY two 2", "(error) ERR invalid R or W"},
		{"DYNAGO CONSISTENCY 1.5 2", "(error) ERR invalid R or W"},
		{"DYNAGO CONSISTENCY 02 2", "(error) ERR invalid R or W"},
		{"DYNAGO CONSISTENCY", `["r", (integer) 16, "w", (integer) 16]`},
		{"DYNAGO CONSISTENCY 2", "(error) ERR syntax error"},
		{"DYNAGO CONSISTENCY 1 2 3", "(error) ERR syntax error"},
		{"DYNAGO CONSISTENCY default", "OK"},
		{"DYNAGO CONSISTENCY", `["r", (integer) 0, "w", (integer) 0]`},
		{"DYNAGO NOSUCH", "(error) ERR unknown subcommand 'NOSUCH'. Try DYNAGO HELP."},
		{"DYNAGO", "(error) ERR wrong number of arguments for 'dynago' command"},
	})
	h.c.proto = 3
	if got := h.do("DYNAGO CONSISTENCY"); got != `{"r": (integer) 0, "w": (integer) 0}` {
		t.Errorf("RESP3: %s", got)
	}
}

// The override travels in every later command's ctx, to the Backend and
// to the ClusterBackend, for this connection only.
func TestDynagoConsistencyReachesBackend(t *testing.T) {
	fc := &fakeCluster{view: twoNodes()}
	h, spy := newClusterHarness(t, fc)
	h.do("SET k v")
	if got := spy.lastCons(); got != (coordinator.Consistency{}) {
		t.Fatalf("before the override: %+v", got)
	}
	h.do("DYNAGO CONSISTENCY 1 3")
	want := coordinator.Consistency{R: 1, W: 3}
	for _, cmd := range []string{"GET k", "SET k v2", "GETCTX k", "INCR n"} {
		h.do(cmd)
		if got := spy.lastCons(); got != want {
			t.Errorf("%s carried %+v, want %+v", cmd, got, want)
		}
	}
	h.do("DYNAGO LOCAL k")
	if fc.localCons != want {
		t.Errorf("DYNAGO LOCAL carried %+v", fc.localCons)
	}

	// Another connection keeps the node defaults.
	other := h.s.NewClient()
	w := NewWriter(2)
	h.s.Handle(other, split("GET k"), w)
	if got := spy.lastCons(); got != (coordinator.Consistency{}) {
		t.Errorf("another connection carried %+v", got)
	}

	h.do("DYNAGO CONSISTENCY DEFAULT")
	h.do("GET k")
	if got := spy.lastCons(); got != (coordinator.Consistency{}) {
		t.Errorf("after DEFAULT: %+v", got)
	}
}

// DYNAGO LOCAL: partition, replica, context, siblings (tombstones
// included) and the hints held per home replica, in both protocols.
func TestDynagoLocal(t *testing.T) {
	actor := version.NewActor([]byte("node-one"), 1)
	var o version.Object
	o = o.Put(actor, nil, version.Sibling{Value: []byte("a"), Timestamp: 10})
	o = o.Put(actor, nil, version.Sibling{Value: []byte("b"), Timestamp: 11, Expiry: 99})
	o = o.Put(actor, o.VV, version.Sibling{Tombstone: true, Timestamp: 12})
	var hint version.Object
	hint = hint.Put(actor, nil, version.Sibling{Value: []byte("h"), Timestamp: 13})
	fc := &fakeCluster{view: twoNodes(), local: LocalCopy{Partition: 7, Replica: true, Object: o,
		Hints: map[string]version.Object{idB: hint, idA: {}}}}
	h, _ := newClusterHarness(t, fc)

	dot := func(n int) string { return actor.String() + ":" + itoa(n) }
	sib := func(v string, d, ts, tomb, exp int) string {
		val := `"` + v + `"`
		if tomb == 1 {
			val = "(nil)"
		}
		return `{"value": ` + val + `, "dot": "` + dot(d) + `", "timestamp": (integer) ` + itoa(ts) +
			`, "tombstone": (integer) ` + itoa(tomb) + `, "expiry": (integer) ` + itoa(exp) + `, "type": "string"}`
	}
	want3 := `{"partition": (integer) 7, "replica": (integer) 1, "context": "` + version.EncodeContext(o.VV) + `", ` +
		`"siblings": [` + sib("", 3, 12, 1, 0) + `], ` +
		`"hints": {"$A": [], "$B": [` + sib("h", 1, 13, 0, 0) + `]}}`
	want3 = ids.Replace(want3)
	h.c.proto = 3
	if got := h.do("DYNAGO LOCAL k"); got != want3 {
		t.Errorf("RESP3\n got: %s\nwant: %s", got, want3)
	}
	h.c.proto = 2
	if got, want := h.do("DYNAGO LOCAL k"), toRESP2(want3); got != want {
		t.Errorf("RESP2\n got: %s\nwant: %s", got, want)
	}

	// Concurrent siblings and a key this node holds nothing of.
	var two version.Object
	two = two.Put(actor, nil, version.Sibling{Value: []byte("x"), Timestamp: 1})
	two = two.Put(actor, nil, version.Sibling{Value: []byte("y"), Timestamp: 2})
	fc.local = LocalCopy{Partition: 1, Object: two}
	if got := h.do("DYNAGO LOCAL k"); strings.Count(got, `"value"`) != 2 || !strings.Contains(got, `"replica", (integer) 0`) {
		t.Errorf("two siblings: %s", got)
	}
	fc.local = LocalCopy{Partition: 3}
	if got := h.do("DYNAGO LOCAL nothing"); got != `["partition", (integer) 3, "replica", (integer) 0, "context", "", "siblings", [], "hints", []]` {
		t.Errorf("empty: %s", got)
	}
	fc.err = errors.New("engine: closed")
	h.run([]step{
		{"DYNAGO LOCAL k", "(error) ERR engine: closed"},
		{"DYNAGO HINTS", "(error) ERR engine: closed"},
		{"DYNAGO LOCAL", "(error) ERR wrong number of arguments for 'dynago|local' command"},
	})
	if got := fc.takeCalls(); got[0] != "local k" || got[3] != "local nothing" {
		t.Errorf("calls: %q", got)
	}
}
