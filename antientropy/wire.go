package antientropy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cespare/xxhash/v2"
)

// The wire forms of the exchange's messages. Every decoder takes bytes
// from the network: it checks each count against the bytes that remain
// before allocating, so forged input is an error (ErrMalformed), never a
// panic or an allocation larger than a small multiple of its own length.
//
//	LevelRequest: uvarint depth, uvarint n, n uvarint index gaps
//	hashes:       uvarint n, n × 8-byte little-endian hashes
//	segments:     uvarint n, n uvarint index gaps
//	key hashes:   uvarint n, n × (uvarint len, key, 8-byte LE hash)
//
// An index list is strictly increasing and stored as gaps: the first index,
// then each index minus its predecessor minus one, so a run of neighbours
// costs one byte each.

// ErrMalformed reports bytes that do not decode: truncated, trailing,
// out of order, over a limit, or with a bad checksum.
var ErrMalformed = errors.New("antientropy: malformed input")

// maxDepth bounds a decoded depth: MaxLeaves with fanout 2 is 20 levels.
const maxDepth = 20

// AppendLevelRequest appends the wire form of r to dst. r.Parents must be
// strictly increasing, as an Exchange makes them.
func AppendLevelRequest(dst []byte, r LevelRequest) []byte {
	dst = binary.AppendUvarint(dst, uint64(r.Depth))
	return appendIndexes(dst, r.Parents)
}

// DecodeLevelRequest decodes a LevelRequest. It checks the encoding only;
// Tree.Answer checks that the nodes exist.
func DecodeLevelRequest(b []byte) (LevelRequest, error) {
	depth, n := binary.Uvarint(b)
	if n <= 0 || depth > maxDepth {
		return LevelRequest{}, fmt.Errorf("%w: level request depth", ErrMalformed)
	}
	parents, err := decodeIndexes(b[n:])
	if err != nil {
		return LevelRequest{}, err
	}
	return LevelRequest{Depth: int(depth), Parents: parents}, nil
}

// AppendSegments appends the wire form of a strictly increasing list of
// segments (the key round's request) to dst.
func AppendSegments(dst []byte, segments []int) []byte {
	return appendIndexes(dst, segments)
}

// DecodeSegments decodes a list of segments. The responder checks them
// against its tree's Leaves().
func DecodeSegments(b []byte) ([]int, error) {
	return decodeIndexes(b)
}

func appendIndexes(dst []byte, idx []int) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(idx)))
	next := 0
	for _, i := range idx {
		dst = binary.AppendUvarint(dst, uint64(i-next))
		next = i + 1
	}
	return dst
}

func decodeIndexes(b []byte) ([]int, error) {
	count, n := binary.Uvarint(b)
	b = b[max(n, 0):]
	// Each index takes at least one byte: a count beyond the remaining
	// bytes is forged, and checking it first bounds the allocation.
	if n <= 0 || count > uint64(len(b)) || count > MaxLeaves {
		return nil, fmt.Errorf("%w: index count", ErrMalformed)
	}
	idx := make([]int, 0, count)
	next := uint64(0)
	for range count {
		gap, n := binary.Uvarint(b)
		if n <= 0 || gap >= MaxLeaves-next {
			return nil, fmt.Errorf("%w: index", ErrMalformed)
		}
		b = b[n:]
		idx = append(idx, int(next+gap))
		next += gap + 1
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(b))
	}
	return idx, nil
}

// AppendHashes appends the wire form of a list of node hashes (the reply
// to a LevelRequest) to dst.
func AppendHashes(dst []byte, hashes []uint64) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(hashes)))
	for _, h := range hashes {
		dst = binary.LittleEndian.AppendUint64(dst, h)
	}
	return dst
}

func hashesSize(n int) int {
	return uvarintLen(uint64(n)) + 8*n
}

func uvarintLen(x uint64) int {
	var buf [binary.MaxVarintLen64]byte
	return binary.PutUvarint(buf[:], x)
}

// DecodeHashes decodes a list of node hashes.
func DecodeHashes(b []byte) ([]uint64, error) {
	count, n := binary.Uvarint(b)
	if n <= 0 || count > MaxLeaves || uint64(len(b)-n) != 8*count {
		return nil, fmt.Errorf("%w: hash list length", ErrMalformed)
	}
	b = b[n:]
	hashes := make([]uint64, count)
	for i := range hashes {
		hashes[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return hashes, nil
}

// AppendKeyHashes appends the wire form of a (key, hash) list to dst. The
// list must be sorted by key with distinct keys, as a scan of a partition
// yields it; DecodeKeyHashes rejects any other order.
func AppendKeyHashes(dst []byte, l []KeyHash) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(l)))
	for _, kh := range l {
		dst = binary.AppendUvarint(dst, uint64(len(kh.Key)))
		dst = append(dst, kh.Key...)
		dst = binary.LittleEndian.AppendUint64(dst, kh.Hash)
	}
	return dst
}

func keyHashesSize(l []KeyHash) int {
	n := uvarintLen(uint64(len(l)))
	for _, kh := range l {
		n += uvarintLen(uint64(len(kh.Key))) + len(kh.Key) + 8
	}
	return n
}

// DecodeKeyHashes decodes a (key, hash) list, strictly increasing by key.
// The keys are copied out of b (into one allocation), so b may be reused.
func DecodeKeyHashes(b []byte) ([]KeyHash, error) {
	count, n := binary.Uvarint(b)
	b = b[max(n, 0):]
	// An entry takes at least 9 bytes (length, empty key, hash).
	if n <= 0 || count > uint64(len(b)/9) {
		return nil, fmt.Errorf("%w: key hash count", ErrMalformed)
	}
	keys := bytes.Clone(b) // the keys alias this copy, not the caller's b
	l := make([]KeyHash, 0, count)
	off := 0
	for range count {
		klen, n := binary.Uvarint(keys[off:])
		if n <= 0 || klen > uint64(len(keys)-off-n) || uint64(len(keys)-off-n)-klen < 8 {
			return nil, fmt.Errorf("%w: key hash entry", ErrMalformed)
		}
		off += n
		key := keys[off : off+int(klen) : off+int(klen)]
		off += int(klen)
		kh := KeyHash{Key: key, Hash: binary.LittleEndian.Uint64(keys[off:])}
		off += 8
		if len(l) > 0 && bytes.Compare(l[len(l)-1].Key, key) >= 0 {
			return nil, fmt.Errorf("%w: keys out of order", ErrMalformed)
		}
		l = append(l, kh)
	}
	if off != len(keys) {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(keys)-off)
	}
	return l, nil
}

// treeFormatV1 is the first byte of a marshalled tree.
const treeFormatV1 = 1

// MarshalBinary encodes the tree for saving on a clean shutdown: a format
// byte, the shape (uvarint leaves, uvarint fanout), the leaf hashes (8 bytes
// little-endian each) and an xxhash checksum of all that. Inner nodes are
// not saved; UnmarshalBinary recomputes them from the leaves, so a loaded
// tree is consistent by construction. It never fails.
func (t *Tree) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+8*t.leaves+8)
	b = append(b, treeFormatV1)
	b = binary.AppendUvarint(b, uint64(t.leaves))
	b = binary.AppendUvarint(b, uint64(t.fanout))
	t.mu.Lock()
	for _, h := range t.mu.nodes[t.offsets[t.Depth()]:] {
		b = binary.LittleEndian.AppendUint64(b, h)
	}
	t.mu.Unlock()
	return binary.LittleEndian.AppendUint64(b, xxhash.Sum64(b)), nil
}

// UnmarshalBinary replaces t, shape and hashes, with the tree encoded in b.
// A torn or corrupt file is an ErrMalformed (the checksum catches it), and
// a bad shape an ErrShape; t is unchanged then. It must not run
// concurrently with any other method of t; use it on a new Tree (the zero
// Tree is fine here, and only here).
//
// The caller decides whether a saved tree still matches the data: it is
// valid only if no write reached the partition after it was saved, e.g.
// saved on clean shutdown and deleted as soon as it is loaded.
func (t *Tree) UnmarshalBinary(b []byte) error {
	if len(b) < 8 || xxhash.Sum64(b[:len(b)-8]) != binary.LittleEndian.Uint64(b[len(b)-8:]) {
		return fmt.Errorf("%w: tree checksum", ErrMalformed)
	}
	b = b[:len(b)-8]
	if len(b) == 0 || b[0] != treeFormatV1 {
		return fmt.Errorf("%w: tree format", ErrMalformed)
	}
	b = b[1:]
	leaves, n := binary.Uvarint(b)
	if n <= 0 || leaves > MaxLeaves {
		return fmt.Errorf("%w: tree leaves", ErrMalformed)
	}
	b = b[n:]
	fanout, n := binary.Uvarint(b)
	if n <= 0 || fanout > MaxFanout {
		return fmt.Errorf("%w: tree fanout", ErrMalformed)
	}
	b = b[n:]
	if uint64(len(b)) != 8*leaves {
		return fmt.Errorf("%w: %d bytes for %d leaves", ErrMalformed, len(b), leaves)
	}
	u, err := NewTree(int(leaves), int(fanout))
	if err != nil || u.leaves != int(leaves) || u.fanout != int(fanout) {
		// NewTree reads 0 as the default; a saved tree never says 0.
		return fmt.Errorf("%w: saved shape %d leaves, fanout %d", ErrShape, leaves, fanout)
	}
	nodes := u.mu.nodes
	leafOff := u.offsets[u.Depth()]
	for i := range int(leaves) {
		nodes[leafOff+i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	u.fillInner(nodes)
	t.leaves, t.fanout, t.shift, t.segBits, t.offsets = u.leaves, u.fanout, u.shift, u.segBits, u.offsets
	t.mu.Lock()
	t.mu.nodes = nodes
	t.mu.Unlock()
	return nil
}
