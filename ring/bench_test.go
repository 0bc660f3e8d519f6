package ring

import "testing"

// BenchmarkPreferenceList is the request path: key → partition → list.
func BenchmarkPreferenceList(b *testing.B) {
	r, err := New(DefaultPartitions, 3, testMembers(16, 0))
	if err != nil {
		b.Fatal(err)
	}
	keys := [][]byte{[]byte("foo"), []byte("user:1000:profile"), []byte("{user1000}.following")}
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		n += len(r.PreferenceList(r.PartitionOf(keys[i%len(keys)])))
	}
	if n == 0 {
		b.Fatal("empty lists")
	}
}

// BenchmarkWalk is the sloppy-quorum path: the fallbacks after the list.
func BenchmarkWalk(b *testing.B) {
	r, err := New(DefaultPartitions, 3, testMembers(16, 4))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		n += len(r.Walk(i % DefaultPartitions))
	}
	if n == 0 {
		b.Fatal("empty walks")
	}
}

// BenchmarkClaim is a fresh claim of the largest grid case, S=16, Q=4096.
func BenchmarkClaim(b *testing.B) {
	ms := testMembers(16, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(4096, 3, ms); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJoin is a rebalance: a 16th node joins 15 at Q=4096.
func BenchmarkJoin(b *testing.B) {
	ms := testMembers(16, 0)
	r, err := New(4096, 3, ms[:15])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.WithMember(ms[15]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode is what a gossip message costs: parse, validate,
// precompute the walks.
func BenchmarkDecode(b *testing.B) {
	r, err := New(4096, 3, testMembers(16, 0))
	if err != nil {
		b.Fatal(err)
	}
	enc := r.Encode()
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}
