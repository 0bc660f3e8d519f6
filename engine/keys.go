package engine

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
)

// Keyspaces, separated by the first byte of every pebble key (docs/architecture.md §6).
// Their order matters only in that each is one contiguous range.
const (
	prefixData = 'd' // 'd' | partition (2 bytes BE) | key -> object
	prefixHint = 'h' // 'h' | target node id (20 bytes) | partition | key -> object
	prefixMeta = 'm' // 'm' | name -> bytes
)

// The bounds of the whole object keyspace.
var (
	dataLower = []byte{prefixData}
	dataUpper = []byte{prefixData + 1}
)

// NodeIDLen is the size of a raw node id in a hint key; the API takes its
// 40-hex-digit spelling.
const NodeIDLen = 20

// ErrBadTarget is returned for a hint target that is not 40 hex digits.
var ErrBadTarget = errors.New("engine: hint target is not a 40-hex node id")

type nodeID [NodeIDLen]byte

func parseTarget(s string) (nodeID, error) {
	var id nodeID
	if len(s) != 2*NodeIDLen {
		return id, fmt.Errorf("%w: %q", ErrBadTarget, s)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("%w: %q", ErrBadTarget, s)
	}
	return id, nil
}

func (id nodeID) String() string { return hex.EncodeToString(id[:]) }

// dataKey returns 'd' | p | key, in a new slice of exactly that size.
func dataKey(p uint16, key []byte) []byte {
	return appendDataKey(make([]byte, 0, 3+len(key)), p, key)
}

// appendDataKey appends 'd' | p | key to dst.
func appendDataKey(dst []byte, p uint16, key []byte) []byte {
	dst = append(dst, prefixData)
	dst = binary.BigEndian.AppendUint16(dst, p)
	return append(dst, key...)
}

// splitDataKey returns the partition and user key of a 'd' key. The
// caller guarantees the key came from the 'd' range.
func splitDataKey(k []byte) (uint16, []byte) {
	return binary.BigEndian.Uint16(k[1:3]), k[3:]
}

// partitionBounds returns [lower, upper) of partition p's objects.
func partitionBounds(p uint16) (lower, upper []byte) {
	lower = []byte{prefixData, byte(p >> 8), byte(p)}
	return lower, prefixEnd(lower)
}

// hintKey returns 'h' | target | p | key.
func hintKey(target nodeID, p uint16, key []byte) []byte {
	k := make([]byte, 0, 1+NodeIDLen+2+len(key))
	k = append(k, prefixHint)
	k = append(k, target[:]...)
	k = binary.BigEndian.AppendUint16(k, p)
	return append(k, key...)
}

const hintHeaderLen = 1 + NodeIDLen + 2

// hintBounds returns [lower, upper) of the hints for target.
func hintBounds(target nodeID) (lower, upper []byte) {
	lower = append([]byte{prefixHint}, target[:]...)
	return lower, prefixEnd(lower)
}

// splitHintKey returns the target, partition and user key of an 'h' key,
// ok false if the key is too short to be one.
func splitHintKey(k []byte) (target nodeID, p uint16, key []byte, ok bool) {
	if len(k) < hintHeaderLen || k[0] != prefixHint {
		return target, 0, nil, false
	}
	copy(target[:], k[1:1+NodeIDLen])
	p = binary.BigEndian.Uint16(k[1+NodeIDLen:])
	return target, p, k[hintHeaderLen:], true
}

func metaKey(name string) []byte {
	k := make([]byte, 0, 1+len(name))
	k = append(k, prefixMeta)
	return append(k, name...)
}

// prefixEnd returns the smallest key greater than every key starting with
// prefix (nil if there is none, i.e. the prefix is all 0xff).
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// successor returns the smallest key greater than k: k followed by a zero
// byte. Starting an iterator there resumes strictly after k.
func successor(k []byte) []byte {
	s := make([]byte, len(k)+1)
	copy(s, k)
	return s
}
