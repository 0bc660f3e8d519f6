package antientropy

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// withChecksum appends the checksum MarshalBinary ends with, so tests and
// the fuzzer can reach the parsing behind it.
func withChecksum(b []byte) []byte {
	b = slices.Clip(b)
	return binary.LittleEndian.AppendUint64(b, xxhash.Sum64(b))
}

// Forged counts are errors before any allocation sized by them.
func TestDecodeForged(t *testing.T) {
	huge := binary.AppendUvarint(nil, 1<<62)
	for _, tc := range []struct {
		name   string
		decode func([]byte) error
		b      []byte
	}{
		{"request empty", decodeLevelRequestErr, nil},
		{"request deep", decodeLevelRequestErr, []byte{maxDepth + 1, 0}},
		{"request huge count", decodeLevelRequestErr, append([]byte{1}, huge...)},
		{"request count past the bytes", decodeLevelRequestErr, []byte{1, 3, 0, 0}},
		{"request index past MaxLeaves", decodeLevelRequestErr, append([]byte{1, 1}, binary.AppendUvarint(nil, MaxLeaves)...)},
		{"request gaps past MaxLeaves", decodeLevelRequestErr, append(append([]byte{1, 2}, binary.AppendUvarint(nil, MaxLeaves-1)...), 0)},
		{"request trailing", decodeLevelRequestErr, []byte{1, 1, 0, 0}},
		{"request varint overflow", decodeLevelRequestErr, []byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"segments empty", decodeSegmentsErr, nil},
		{"hashes empty", decodeHashesErr, nil},
		{"hashes huge count", decodeHashesErr, huge},
		{"hashes short", decodeHashesErr, []byte{2, 1, 2, 3, 4, 5, 6, 7, 8}},
		{"hashes long", decodeHashesErr, []byte{0, 1}},
		{"hashes count past MaxLeaves", decodeHashesErr, binary.AppendUvarint(nil, MaxLeaves+1)},
		{"keys empty", decodeKeyHashesErr, nil},
		{"keys huge count", decodeKeyHashesErr, huge},
		{"keys count past the bytes", decodeKeyHashesErr, append([]byte{2, 0}, make([]byte, 8)...)},
		{"keys huge key", decodeKeyHashesErr, append(append([]byte{1}, huge...), make([]byte, 8)...)},
		{"keys no hash", decodeKeyHashesErr, append([]byte{1, 8}, make([]byte, 8)...)},
		{"keys trailing", decodeKeyHashesErr, append([]byte{1, 0}, make([]byte, 9)...)},
		{"keys duplicate", decodeKeyHashesErr, AppendKeyHashes(nil, []KeyHash{{Key: []byte("a")}, {Key: []byte("a")}})},
		{"keys unsorted", decodeKeyHashesErr, AppendKeyHashes(nil, []KeyHash{{Key: []byte("b")}, {Key: []byte("a")}})},
	} {
		if err := tc.decode(tc.b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error %v, want ErrMalformed", tc.name, err)
		}
	}
}

func decodeLevelRequestErr(b []byte) error { _, err := DecodeLevelRequest(b); return err }
func decodeSegmentsErr(b []byte) error     { _, err := DecodeSegments(b); return err }
func decodeHashesErr(b []byte) error       { _, err := DecodeHashes(b); return err }
func decodeKeyHashesErr(b []byte) error    { _, err := DecodeKeyHashes(b); return err }

func TestWireRoundTrip(t *testing.T) {
	for _, r := range []LevelRequest{{}, {Depth: 1, Parents: []int{0}}, {Depth: 3, Parents: []int{0, 1, 2, 200, 2047, MaxLeaves - 1}}} {
		got, err := DecodeLevelRequest(AppendLevelRequest(nil, r))
		if err != nil || got.Depth != r.Depth || !slices.Equal(got.Parents, r.Parents) {
			t.Errorf("request %+v -> %+v, %v", r, got, err)
		}
	}
	// Neighbouring indexes cost one byte each.
	if n := len(AppendSegments(nil, []int{300, 301, 302})); n != 1+2+1+1 {
		t.Errorf("3 neighbouring segments take %d bytes", n)
	}
	hs := []uint64{0, 1, 1<<64 - 1}
	if got, err := DecodeHashes(AppendHashes(nil, hs)); err != nil || !slices.Equal(got, hs) {
		t.Errorf("hashes -> %v, %v", got, err)
	}
	khs := []KeyHash{{Key: []byte{}, Hash: 7}, {Key: []byte("a\x00\xff"), Hash: 1<<64 - 1}, {Key: []byte("b")}}
	b := AppendKeyHashes(nil, khs)
	got, err := DecodeKeyHashes(b)
	if err != nil || len(got) != len(khs) {
		t.Fatalf("key hashes -> %v, %v", got, err)
	}
	for i := range khs {
		if string(got[i].Key) != string(khs[i].Key) || got[i].Hash != khs[i].Hash {
			t.Errorf("key hash %d: %+v, want %+v", i, got[i], khs[i])
		}
	}
	if keyHashesSize(khs) != len(b) || hashesSize(len(hs)) != len(AppendHashes(nil, hs)) {
		t.Error("size functions disagree with the encoders")
	}
	b[2] = 'X' // decoded keys do not alias the input
	if got[1].Key[0] != 'a' {
		t.Error("decoded key aliases the input")
	}
}

// The fuzz targets: every decoder on arbitrary bytes must return a value or
// an error, never panic; what decodes re-encodes to something that decodes
// to the same value; and Answer on a decoded request never panics.

func FuzzDecodeLevelRequest(f *testing.F) {
	f.Add(AppendLevelRequest(nil, LevelRequest{}))
	f.Add(AppendLevelRequest(nil, LevelRequest{Depth: 2, Parents: []int{0, 5, 31}}))
	f.Add(AppendLevelRequest(nil, LevelRequest{Depth: 3, Parents: []int{63}}))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{2, 2, 0, 0})
	tr := model{"a": 1, "b": 2}.build(f, 2048, 32)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeLevelRequest(b)
		if err != nil {
			return
		}
		r2, err := DecodeLevelRequest(AppendLevelRequest(nil, r))
		if err != nil || r2.Depth != r.Depth || !slices.Equal(r2.Parents, r.Parents) {
			t.Fatalf("%+v re-decodes as %+v, %v", r, r2, err)
		}
		if hs, err := tr.Answer(r); err == nil && r.Depth > 0 {
			if _, err := tr.DiffChildren(r.Depth-1, r.Parents, hs); err != nil {
				t.Fatalf("DiffChildren refuses Answer's reply: %v", err)
			}
		}
	})
}

func FuzzDecodeSegments(f *testing.F) {
	f.Add(AppendSegments(nil, nil))
	f.Add(AppendSegments(nil, []int{1, 2, 3, 1000}))
	f.Add([]byte{3, 0xff, 0xff, 0x3f, 0, 0})
	tr, _ := NewTree(0, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		segs, err := DecodeSegments(b)
		if err != nil {
			return
		}
		if s2, err := DecodeSegments(AppendSegments(nil, segs)); err != nil || !slices.Equal(s2, segs) {
			t.Fatalf("%v re-decodes as %v, %v", segs, s2, err)
		}
		tr.SegmentFilter(segs)([]byte("k"))
	})
}

func FuzzDecodeHashes(f *testing.F) {
	f.Add(AppendHashes(nil, nil))
	f.Add(AppendHashes(nil, []uint64{1, 2, 1<<64 - 1}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		hs, err := DecodeHashes(b)
		if err != nil {
			return
		}
		if h2, err := DecodeHashes(AppendHashes(nil, hs)); err != nil || !slices.Equal(h2, hs) {
			t.Fatalf("%v re-decodes as %v, %v", hs, h2, err)
		}
	})
}

func FuzzDecodeKeyHashes(f *testing.F) {
	f.Add(AppendKeyHashes(nil, nil))
	f.Add(AppendKeyHashes(nil, []KeyHash{{Key: []byte{}, Hash: 1}, {Key: []byte("key:1"), Hash: 2}}))
	f.Add(append([]byte{1, 0xff, 0xff, 0x03}, make([]byte, 8)...))
	f.Add(AppendKeyHashes(nil, []KeyHash{{Key: []byte("b")}, {Key: []byte("a")}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := DecodeKeyHashes(b)
		if err != nil {
			return
		}
		l2, err := DecodeKeyHashes(AppendKeyHashes(nil, l))
		if err != nil || len(l2) != len(l) {
			t.Fatalf("%d entries re-decode as %d, %v", len(l), len(l2), err)
		}
		for i := range l {
			if string(l[i].Key) != string(l2[i].Key) || l[i].Hash != l2[i].Hash {
				t.Fatalf("entry %d changed", i)
			}
		}
		KeysDiff(l, l2)
	})
}

func FuzzUnmarshalTree(f *testing.F) {
	for _, s := range [][2]int{{1024, 32}, {16, 4}, {1, 2}} {
		b, _ := model{"a": 1, "b": 2}.build(f, s[0], s[1]).MarshalBinary()
		f.Add(b)
		f.Add(b[:len(b)-8]) // without its checksum: the fuzzer adds one
	}
	f.Add([]byte{treeFormatV1, 0xff, 0xff, 0xff, 0xff, 0x0f, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		// Both as given and with a valid checksum, so the parser behind
		// the checksum gets fuzzed too.
		for _, in := range [][]byte{b, withChecksum(b)} {
			var tr Tree
			if err := tr.UnmarshalBinary(in); err != nil {
				continue
			}
			if err := invariantErr(&tr); err != nil {
				t.Fatal(err)
			}
			out, _ := tr.MarshalBinary()
			var tr2 Tree
			if err := tr2.UnmarshalBinary(out); err != nil || tr2.Root() != tr.Root() {
				t.Fatalf("re-marshalled tree: %v", err)
			}
		}
	})
}
