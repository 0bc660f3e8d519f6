package antientropy

// Tests of the exchange, after Dynamo §4.7: "if the hash values of the root
// of two trees are equal, then the values of the leaf nodes in the tree are
// equal and the nodes require no synchronization. If not, it implies that
// the values of some replicas are different. In such cases, the nodes may
// exchange the hash values of children and the process continues until it
// reaches the leaves of the trees, at which point the hosts can identify
// the keys that are 'out of sync'." Each difference found here is checked
// against a brute-force set difference.

import (
	"bytes"
	"errors"
	"maps"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// result is what a whole exchange between two replicas found.
type result struct {
	segments                   []int
	onlyLocal, onlyRemote, dif []string
	cost                       Cost
}

// runExchange drives an exchange of local against remote the way the network side will: every message goes through
// its wire encoding and decoder, and the peer answers with Tree.Answer and a
// scan of its keys in the requested segments.
func runExchange(t fataler, local, remote replica) result {
	e := NewExchange(local.tree)
	for e.Phase() == PhaseHashes {
		req, err := DecodeLevelRequest(AppendLevelRequest(nil, e.Request()))
		if err != nil {
			t.Fatal(err)
		}
		reply, err := remote.tree.Answer(req)
		if err != nil {
			t.Fatal(err)
		}
		hashes, err := DecodeHashes(AppendHashes(nil, reply))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.HandleHashes(hashes); err != nil {
			t.Fatal(err)
		}
	}
	var res result
	res.segments = e.Segments()
	if e.Phase() == PhaseKeys {
		segs, err := DecodeSegments(AppendSegments(nil, e.Segments()))
		if err != nil {
			t.Fatal(err)
		}
		rkeys, err := DecodeKeyHashes(AppendKeyHashes(nil, remote.scan(segs)))
		if err != nil {
			t.Fatal(err)
		}
		ol, or, d, err := e.HandleKeys(local.scan(e.Segments()), rkeys)
		if err != nil {
			t.Fatal(err)
		}
		res.onlyLocal, res.onlyRemote, res.dif = strs(ol), strs(or), strs(d)
	}
	if e.Phase() != PhaseDone {
		t.Fatalf("exchange ended in phase %v", e.Phase())
	}
	res.cost = e.Cost()
	return res
}

func strs(bs [][]byte) []string {
	var s []string
	for _, b := range bs {
		s = append(s, string(b))
	}
	return s
}

// bruteForce computes what an exchange must find, by comparing every key.
func bruteForce(tr *Tree, lm, rm model) result {
	var res result
	segs := map[int]bool{}
	all := maps.Clone(lm)
	maps.Copy(all, rm)
	for _, k := range slices.Sorted(maps.Keys(all)) {
		l, r := lm[k], rm[k]
		switch {
		case l == r:
			continue
		case r == 0:
			res.onlyLocal = append(res.onlyLocal, k)
		case l == 0:
			res.onlyRemote = append(res.onlyRemote, k)
		default:
			res.dif = append(res.dif, k)
		}
		segs[tr.Segment([]byte(k))] = true
	}
	res.segments = slices.Sorted(maps.Keys(segs))
	return res
}

// diverge returns a copy of m changed by ops drawn from t: keys removed,
// added, or written again.
func diverge(t *rapid.T, m model) model {
	r := maps.Clone(m)
	existing := slices.Sorted(maps.Keys(m))
	for i, n := 0, rapid.IntRange(0, 10).Draw(t, "changes"); i < n; i++ {
		switch op := rapid.IntRange(0, 2).Draw(t, "op"); {
		case op == 0 && len(existing) > 0:
			delete(r, rapid.SampledFrom(existing).Draw(t, "del"))
		case op == 1 && len(existing) > 0:
			r[rapid.SampledFrom(existing).Draw(t, "upd")] += rapid.Uint64Range(1, 3).Draw(t, "by")
		default:
			r[rapid.StringN(0, 8, -1).Draw(t, "add")] = rapid.Uint64Range(1, 5).Draw(t, "ctr")
		}
	}
	return r
}

// The exchange finds exactly the segments that hold a differing key, and
// the key round exactly the brute-force difference.
func TestExchangeMatchesBruteForce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		leaves, fanout := drawShape(t)
		lm := drawModel(t, "local", 200)
		rm := diverge(t, lm)
		if rapid.Bool().Draw(t, "swap") {
			lm, rm = rm, lm
		}
		local, remote := lm.replica(t, leaves, fanout), rm.replica(t, leaves, fanout)
		got, want := runExchange(t, local, remote), bruteForce(local.tree, lm, rm)
		if !slices.Equal(got.segments, want.segments) {
			t.Fatalf("segments %v, want %v", got.segments, want.segments)
		}
		if !slices.Equal(got.onlyLocal, want.onlyLocal) || !slices.Equal(got.onlyRemote, want.onlyRemote) || !slices.Equal(got.dif, want.dif) {
			t.Fatalf("keys diff %v / %v / %v, want %v / %v / %v",
				got.onlyLocal, got.onlyRemote, got.dif, want.onlyLocal, want.onlyRemote, want.dif)
		}
		if len(want.segments) == 0 && got.cost.Rounds != 1 {
			t.Fatalf("equal trees took %d rounds", got.cost.Rounds)
		}
	})
}

// Identical trees cost one root comparison.
func TestExchangeIdentical(t *testing.T) {
	m := uniform(keys(10_000), 3)
	res := runExchange(t, m.replica(t, 0, 0), m.replica(t, 0, 0))
	want := Cost{Rounds: 1, HashesReceived: 1, BytesSent: 2, BytesReceived: 9}
	if res.cost != want || len(res.segments) != 0 {
		t.Fatalf("cost %+v, segments %v; want %+v and none", res.cost, res.segments, want)
	}
}

// An exchange costs in proportion to the difference, not to the data: for
// 100k keys, 0.1 % differing costs far less than 10 %. The key round ships
// whole segments, so its cost is (differing segments) × (keys per segment)
// and saturates once every segment holds a differing key: more leaves make
// it finer, at 8 bytes of memory per leaf.
func TestExchangeCost(t *testing.T) {
	const n = 100_000
	ks := keys(n)
	base := uniform(ks, 1)
	dataBytes := len(AppendKeyHashes(nil, base.list()))
	t.Logf("%d keys; sending every (key, hash) would cost %d bytes", n, dataBytes)
	for _, shape := range [][2]int{{1024, 32}, {65536, 32}} {
		local := base.replica(t, shape[0], shape[1])
		var costs []Cost
		for _, frac := range []float64{0.001, 0.01, 0.1} {
			rm := divergeN(base, ks, int(frac*n))
			res := runExchange(t, local, rm.replica(t, shape[0], shape[1]))
			c := res.cost
			t.Logf("leaves %5d fanout %d, %5s differ: %d rounds, %5d hashes, %4d segments, %6d keys; bytes sent %6d, received %7d (%.1f%% of the data)",
				shape[0], shape[1], pct(frac), c.Rounds, c.HashesReceived, c.Segments, c.KeysReceived,
				c.BytesSent, c.BytesReceived, 100*float64(c.BytesSent+c.BytesReceived)/float64(dataBytes))
			if got := len(res.onlyLocal) + len(res.onlyRemote) + len(res.dif); got != int(frac*n) {
				t.Errorf("%s: found %d differing keys, want %d", pct(frac), got, int(frac*n))
			}
			if len(costs) > 0 && c.BytesReceived <= costs[len(costs)-1].BytesReceived {
				t.Errorf("%s cost %d bytes, no more than a smaller difference", pct(frac), c.BytesReceived)
			}
			costs = append(costs, c)
		}
		// 0.1 % costs well under a fifth of 10 %, and of the data.
		if small, large := costs[0].BytesReceived, costs[2].BytesReceived; 5*small > large || 5*small > dataBytes {
			t.Errorf("leaves %d: 0.1%% costs %d bytes, 10%% %d, the data %d", shape[0], small, large, dataBytes)
		}
	}
}

// divergeN returns base with d keys spread evenly over ks changed on the
// remote side: a third written again, a third missing, a third extra.
func divergeN(base model, ks []string, d int) model {
	r := maps.Clone(base)
	for i := range d {
		k := ks[i*len(ks)/d]
		switch i % 3 {
		case 0:
			r[k]++
		case 1:
			delete(r, k)
		case 2:
			r["extra:"+k] = 1
		}
	}
	return r
}

func TestKeysDiff(t *testing.T) {
	kh := func(k string, h uint64) KeyHash { return KeyHash{Key: []byte(k), Hash: h} }
	for _, tc := range []struct {
		name                         string
		local, remote                []KeyHash
		onlyLocal, onlyRemote, diffs []string
	}{
		{"empty", nil, nil, nil, nil, nil},
		{"same", []KeyHash{kh("a", 1)}, []KeyHash{kh("a", 1)}, nil, nil, nil},
		{"only local", []KeyHash{kh("a", 1), kh("b", 2)}, []KeyHash{kh("b", 2)}, []string{"a"}, nil, nil},
		{"only remote", nil, []KeyHash{kh("", 5)}, nil, []string{""}, nil},
		{"differ", []KeyHash{kh("a", 1)}, []KeyHash{kh("a", 2)}, nil, nil, []string{"a"}},
		{"zero is absent", []KeyHash{kh("a", 0), kh("b", 0)}, []KeyHash{kh("a", 3), kh("c", 0)}, nil, []string{"a"}, nil},
		{"zero on both", []KeyHash{kh("a", 0)}, []KeyHash{kh("a", 0)}, nil, nil, nil},
		{"unsorted", []KeyHash{kh("c", 1), kh("a", 1)}, []KeyHash{kh("b", 1), kh("a", 2)}, []string{"c"}, []string{"b"}, []string{"a"}},
	} {
		ol, or, d := KeysDiff(tc.local, tc.remote)
		if !slices.Equal(strs(ol), tc.onlyLocal) || !slices.Equal(strs(or), tc.onlyRemote) || !slices.Equal(strs(d), tc.diffs) {
			t.Errorf("%s: %q / %q / %q, want %q / %q / %q", tc.name, ol, or, d, tc.onlyLocal, tc.onlyRemote, tc.diffs)
		}
	}
}

func TestKeysDiffMatchesBruteForce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		gen := rapid.MapOfN(rapid.StringN(0, 4, -1), rapid.Uint64Range(0, 3), 0, 30)
		lm, rm := gen.Draw(t, "local"), gen.Draw(t, "remote")
		list := func(m map[string]uint64, label string) []KeyHash {
			var l []KeyHash
			for _, k := range slices.Sorted(maps.Keys(m)) {
				l = append(l, KeyHash{Key: []byte(k), Hash: m[k]})
			}
			// Any order: KeysDiff must not depend on it.
			perm := rapid.Permutation(l).Draw(t, label+"Order")
			return perm
		}
		l, r := list(lm, "local"), list(rm, "remote")
		lOrig := slices.Clone(l)
		ol, or, d := KeysDiff(l, r)
		var wol, wor, wd []string
		all := maps.Clone(lm)
		maps.Copy(all, rm)
		for _, k := range slices.Sorted(maps.Keys(all)) {
			switch lh, rh := lm[k], rm[k]; {
			case lh == rh:
			case rh == 0:
				wol = append(wol, k)
			case lh == 0:
				wor = append(wor, k)
			default:
				wd = append(wd, k)
			}
		}
		if !slices.Equal(strs(ol), wol) || !slices.Equal(strs(or), wor) || !slices.Equal(strs(d), wd) {
			t.Fatalf("%q / %q / %q, want %q / %q / %q", ol, or, d, wol, wor, wd)
		}
		if !slices.EqualFunc(l, lOrig, func(a, b KeyHash) bool { return bytes.Equal(a.Key, b.Key) && a.Hash == b.Hash }) {
			t.Fatal("KeysDiff reordered its input")
		}
	})
}

// Requests and replies that do not fit the tree are errors, never panics.
func TestProtocolErrors(t *testing.T) {
	tr, _ := NewTree(2048, 32)
	for _, tc := range []struct {
		req LevelRequest
		ok  bool
	}{
		{LevelRequest{Depth: 0}, true},
		{LevelRequest{Depth: -1}, false},
		{LevelRequest{Depth: 4}, false},
		{LevelRequest{Depth: 0, Parents: []int{0}}, false},
		{LevelRequest{Depth: 1}, true},                     // no parents: an empty answer
		{LevelRequest{Depth: 1, Parents: []int{1}}, false}, // the root is node 0
		{LevelRequest{Depth: 2, Parents: []int{1, 1}}, false},
		{LevelRequest{Depth: 2, Parents: []int{1, 0}}, false},
		{LevelRequest{Depth: 2, Parents: []int{0, 1}}, true},
		{LevelRequest{Depth: 3, Parents: []int{64}}, false}, // past the level
		{LevelRequest{Depth: 3, Parents: []int{-1, 3}}, false},
		{LevelRequest{Depth: 3, Parents: []int{0, 63}}, true},
	} {
		_, err := tr.Answer(tc.req)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrProtocol)) {
			t.Errorf("Answer(%+v) error %v", tc.req, err)
		}
	}

	if _, err := tr.DiffChildren(3, nil, nil); !errors.Is(err, ErrProtocol) {
		t.Errorf("DiffChildren at the leaves: %v", err)
	}
	if _, err := tr.DiffChildren(1, []int{0}, make([]uint64, 31)); !errors.Is(err, ErrProtocol) {
		t.Errorf("DiffChildren with a short reply: %v", err)
	}

	e := NewExchange(tr)
	if err := e.HandleHashes([]uint64{1, 2}); !errors.Is(err, ErrProtocol) || e.Phase() != PhaseHashes {
		t.Errorf("two hashes for the root: %v, phase %v", err, e.Phase())
	}
	if _, _, _, err := e.HandleKeys(nil, nil); !errors.Is(err, ErrProtocol) {
		t.Errorf("keys in phase hashes: %v", err)
	}
	// Drive to the key round against a tree with one key, then send a key
	// from another segment.
	other := model{"a": 1}.build(t, 2048, 32)
	for e.Phase() == PhaseHashes {
		reply, err := other.Answer(e.Request())
		if err != nil {
			t.Fatal(err)
		}
		if err := e.HandleHashes(reply); err != nil {
			t.Fatal(err)
		}
	}
	if e.Phase() != PhaseKeys || !slices.Equal(e.Segments(), []int{tr.Segment([]byte("a"))}) {
		t.Fatalf("phase %v, segments %v", e.Phase(), e.Segments())
	}
	stray := "b"
	for tr.Segment([]byte(stray)) == tr.Segment([]byte("a")) {
		stray += "b"
	}
	if _, _, _, err := e.HandleKeys(nil, []KeyHash{{Key: []byte(stray), Hash: 1}}); !errors.Is(err, ErrProtocol) {
		t.Errorf("stray key: %v", err)
	}
	if err := e.HandleHashes([]uint64{1}); !errors.Is(err, ErrProtocol) {
		t.Errorf("hashes in phase keys: %v", err)
	}
}

func TestPhaseString(t *testing.T) {
	for p, want := range map[Phase]string{PhaseHashes: "hashes", PhaseKeys: "keys", PhaseDone: "done", 9: "Phase(9)"} {
		if p.String() != want {
			t.Errorf("%d.String() = %q, want %q", p, p.String(), want)
		}
	}
}
