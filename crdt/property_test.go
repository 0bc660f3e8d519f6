package crdt

// Property tests over histories of typed writes at several replicas: the
// merge of typed objects is a join, replicas that exchange state converge
// and read alike, objects stay valid and survive encoding, counters add
// up exactly, and sets and hashes are add-wins observed-remove sets.

import (
	"maps"
	"math"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/dynago/dynago/version"
	"pgregory.net/rapid"
)

// typedObjects runs a random history and returns every object any replica
// held along the way.
func typedObjects(t *rapid.T) []version.Object {
	c := newCluster(t)
	c.randomHistory(t, famAll, nil)
	return append(c.seen, c.objs...)
}

func pickObject(t *rapid.T, objs []version.Object, label string) version.Object {
	if len(objs) == 0 {
		return version.Object{}
	}
	return objs[rapid.IntRange(0, len(objs)-1).Draw(t, label)]
}

func TestTypedMergeLaws(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		objs := typedObjects(t)
		a, b, c := pickObject(t, objs, "a"), pickObject(t, objs, "b"), pickObject(t, objs, "c")
		if ab, ba := version.Merge(a, b), version.Merge(b, a); !sameObject(ab, ba) {
			t.Fatalf("merge not commutative\na:\n%s\nb:\n%s\nab:\n%s\nba:\n%s", dump(a), dump(b), dump(ab), dump(ba))
		}
		if l, r := version.Merge(version.Merge(a, b), c), version.Merge(a, version.Merge(b, c)); !sameObject(l, r) {
			t.Fatalf("merge not associative\n%s---\n%s", dump(l), dump(r))
		}
		if !sameObject(version.Merge(a, a), a) {
			t.Fatalf("merge not idempotent:\n%s", dump(a))
		}
		if ab := version.Merge(a, b); !sameObject(version.Merge(ab, b), ab) {
			t.Fatalf("re-delivery changed the merge")
		}
		if !sameObject(version.Merge(a, version.Object{}), a) {
			t.Fatalf("the zero object is not the identity")
		}
	})
}

func TestTypedObjectsValidAndRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		for _, o := range typedObjects(t) {
			if err := o.Validate(); err != nil {
				t.Fatalf("invalid: %v\n%s", err, dump(o))
			}
			got, err := version.DecodeObject(version.AppendObject(nil, o))
			if err != nil {
				t.Fatalf("decode: %v\n%s", err, dump(o))
			}
			if !sameObject(got, o) {
				t.Fatalf("round trip changed the object\n%s---\n%s", dump(o), dump(got))
			}
		}
	})
}

func TestConvergence(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := newCluster(t)
		c.randomHistory(t, famAll, nil)
		c.converge(t)
		for _, at := range []int64{c.now + 100, c.now + 1000} { // before and after expiries
			want := view(c.objs[0], at)
			for i := 1; i < len(c.objs); i++ {
				if got := view(c.objs[i], at); got != want {
					t.Fatalf("reads differ at %d:\n%s\n%s", at, want, got)
				}
			}
		}
		// Converged state is a fixed point for late re-deliveries.
		for _, old := range c.seen {
			if !sameObject(version.Merge(c.objs[0], old), c.objs[0]) {
				t.Fatalf("a late re-delivery changed the converged object")
			}
		}
	})
}

// Reads never fail on a reachable object: the errors a read may return are
// a client's (wrong type), never a malformed state.
func TestReadsOfReachableObjects(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		for _, o := range typedObjects(t) {
			v := view(o, 5000)
			if strings.Contains(v, "malformed") {
				t.Fatalf("read of a reachable object failed: %s\n%s", v, dump(o))
			}
			typ, ok := KeyType(o, 5000)
			if !ok {
				continue
			}
			if typ >= version.TypeHash {
				els, found, err := Elements(o, typ, 5000)
				if err != nil || !found || len(els) == 0 {
					t.Fatalf("key of type %v reads %d elements, found=%v err=%v\n%s", typ, len(els), found, err, dump(o))
				}
				for _, e := range els {
					got, ok, err := Lookup(o, typ, e.Field, 5000)
					if err != nil || !ok || string(got.Value) != string(e.Value) || got.Score != e.Score {
						t.Fatalf("Lookup(%q) = %+v %v %v, Elements says %+v", e.Field, got, ok, err, e)
					}
				}
			}
		}
	})
}

// PN-counter exactness: with no deletes, the converged value is the sum of
// every acknowledged increment, whichever replicas took them and however
// the merges went.
func TestCounterSumsAcknowledgedIncrements(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := newCluster(t)
		ints := new(big.Int) // concurrent increments may add up beyond int64
		var floats float64   // dyadic increments: exact in any order
		anyFloat := false
		c.randomHistory(t, famCounter, func(r int, s step, _ version.Object, res Result, err error) {
			if err != nil {
				return
			}
			if s.op.Kind == OpIncrBy {
				ints.Add(ints, big.NewInt(s.op.Int))
				return
			}
			f, _ := ParseFloat([]byte(s.op.Float))
			floats += f
			anyFloat = true
		})
		c.converge(t)
		val, _, found, err := StringValue(c.objs[0], c.now)
		if err != nil {
			t.Fatal(err)
		}
		if !found {
			if c.objs[0].IsZero() {
				return // nothing was acknowledged
			}
			t.Fatalf("counter missing:\n%s", dump(c.objs[0]))
		}
		fInts, _ := new(big.Float).SetInt(ints).Float64()
		want := ints.String()
		if anyFloat || !ints.IsInt64() { // then it may read as a float
			want = string(FormatFloat(fInts + floats))
			if got, err := ParseFloat(val); err == nil && math.Abs(got-(fInts+floats)) <= 1e-15*math.Abs(got) {
				want = string(val) // exact but for rounding beyond 2^53
			}
		}
		if string(val) != want {
			t.Fatalf("counter reads %s, acknowledged increments sum to %s\n%s", val, want, dump(c.objs[0]))
		}
	})
}

// orModel is the add-wins observed-remove set a history of adds and
// removes should give: an add of a member is visible while no remove that
// observed it (its dot was covered by the remover's VV when it removed)
// is known.
type orModel struct {
	adds    []orEvent
	removes []orEvent
}

type orEvent struct {
	member   string
	dot      version.Dot
	observed map[version.Dot]bool // for a remove: the adds it saw
}

// newDot is the dot a write minted: the one counter of actor that grew.
func newDot(prev, next version.Object, actor version.Actor) version.Dot {
	return version.Dot{Actor: actor, Counter: next.VV.Get(actor)}
}

func (m *orModel) add(member string, dot version.Dot) {
	m.adds = append(m.adds, orEvent{member: member, dot: dot})
}

func (m *orModel) remove(member string, dot version.Dot, vv version.VV) {
	ev := orEvent{member: member, dot: dot, observed: map[version.Dot]bool{}}
	for _, a := range m.adds {
		if a.member == member && vv.Covers(a.dot) {
			ev.observed[a.dot] = true
		}
	}
	m.removes = append(m.removes, ev)
}

// members is the set as seen by a replica whose VV is vv.
func (m *orModel) members(vv version.VV) []string {
	present := map[string]bool{}
	for _, a := range m.adds {
		if !vv.Covers(a.dot) {
			continue
		}
		seen := false
		for _, r := range m.removes {
			if vv.Covers(r.dot) && r.member == a.member && r.observed[a.dot] {
				seen = true
				break
			}
		}
		if !seen {
			present[a.member] = true
		}
	}
	return slices.Sorted(maps.Keys(present))
}

// record accounts for one acknowledged write of a set or hash.
func (m *orModel) record(s step, prev, next version.Object, actor version.Actor, res Result, nowMs int64) {
	dot := newDot(prev, next, actor)
	var removed, added [][]byte
	switch s.op.Kind {
	case OpSAdd, OpHSet, OpHIncrBy, OpHIncrByFloat:
		added = s.op.Fields
	case OpSRem, OpHDel:
		removed = s.op.Fields
	case OpSPop:
		removed = res.Values
	case OpStore: // replaces every member the writer saw
		for _, e := range elementsOf(prev, s.op.Type, nowMs) {
			removed = append(removed, e.Field)
		}
		added = s.op.Fields
	}
	for _, f := range removed {
		m.remove(string(f), dot, prev.VV)
	}
	for _, f := range added {
		m.add(string(f), dot)
	}
}

func elementsOf(o version.Object, t version.Type, nowMs int64) []Element {
	els, _, _ := Elements(o, t, nowMs)
	return els
}

// Add-wins OR-set: at every replica, at every step and after convergence,
// a member is present iff one of its adds is known and no known remove
// observed it. Sets and hash fields follow the same rule.
func TestObservedRemoveAddWins(t *testing.T) {
	for _, tc := range []struct {
		name string
		fam  int
		typ  version.Type
	}{{"set", famSet, version.TypeSet}, {"hash", famHash, version.TypeHash}} {
		t.Run(tc.name, func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) {
				c := newCluster(t)
				var m orModel
				checkReplica := func(r int) {
					want := m.members(c.objs[r].VV)
					got := fieldsOf(elementsOf(c.objs[r], tc.typ, c.now))
					if _, ok := KeyType(c.objs[r], c.now); ok != (len(got) > 0) {
						t.Fatalf("replica %d: KeyType ok=%v with %d elements", r, ok, len(got))
					}
					if !slices.Equal(got, want) {
						t.Fatalf("replica %d holds %q, the OR-set model %q\n%s", r, got, want, dump(c.objs[r]))
					}
				}
				c.randomHistory(t, tc.fam, func(r int, s step, prev version.Object, res Result, err error) {
					if err == nil && !c.objs[r].VV.Equal(prev.VV) {
						m.record(s, prev, c.objs[r], testActor(r), res, c.now)
					}
					checkReplica(r)
				})
				for r := range c.objs {
					checkReplica(r)
				}
				c.converge(t)
				for r := range c.objs {
					checkReplica(r)
				}
			})
		})
	}
}
