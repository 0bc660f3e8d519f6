package rdb

import (
	"encoding/binary"
	"strconv"
)

// listpack decodes Redis's listpack (Redis 7's small hashes, sets and
// sorted sets): total bytes (uint32 LE), element count (uint16 LE, 65535
// when unknown), the entries, and an end byte 0xFF. Each entry is an
// encoding byte with its data, then its own length backwards (backlen),
// which is checked. Integers come back as their decimal text.
func listpack(b []byte) ([][]byte, error) {
	if len(b) < 7 || binary.LittleEndian.Uint32(b) != uint32(len(b)) || b[len(b)-1] != 0xff {
		return nil, ErrBadFormat
	}
	declared := int(binary.LittleEndian.Uint16(b[4:]))
	p := b[6 : len(b)-1]
	var out [][]byte
	for len(p) > 0 {
		el, size, err := lpEntry(p)
		if err != nil {
			return nil, err
		}
		bl := backlenSize(size)
		if size+bl > len(p) || lpBacklen(p[size:size+bl]) != size {
			return nil, ErrBadFormat
		}
		out = append(out, el)
		p = p[size+bl:]
	}
	if declared != 65535 && declared != len(out) {
		return nil, ErrBadFormat
	}
	return out, nil
}

// lpEntry decodes one entry's encoding and data; size is their length.
func lpEntry(p []byte) (el []byte, size int, err error) {
	c := p[0]
	str := func(hdr, n int) ([]byte, int, error) {
		if n < 0 || hdr+n > len(p) {
			return nil, 0, ErrBadFormat
		}
		return p[hdr : hdr+n : hdr+n], hdr + n, nil
	}
	num := func(v int64, n int) ([]byte, int, error) { return strconv.AppendInt(nil, v, 10), n, nil }
	need := func(n int) bool { return len(p) >= n }
	switch {
	case c&0x80 == 0: // 7-bit unsigned integer
		return num(int64(c), 1)
	case c&0xc0 == 0x80: // string up to 63 bytes
		return str(1, int(c&0x3f))
	case c&0xe0 == 0xc0: // 13-bit signed integer
		if !need(2) {
			return nil, 0, ErrBadFormat
		}
		v := int64(c&0x1f)<<8 | int64(p[1])
		if v >= 1<<12 {
			v -= 1 << 13
		}
		return num(v, 2)
	case c&0xf0 == 0xe0: // string up to 4095 bytes
		if !need(2) {
			return nil, 0, ErrBadFormat
		}
		return str(2, int(c&0x0f)<<8|int(p[1]))
	}
	switch c {
	case 0xf0: // 32-bit string length
		if !need(5) {
			return nil, 0, ErrBadFormat
		}
		n := binary.LittleEndian.Uint32(p[1:])
		if n > uint32(len(p)) {
			return nil, 0, ErrBadFormat
		}
		return str(5, int(n))
	case 0xf1:
		if !need(3) {
			return nil, 0, ErrBadFormat
		}
		return num(int64(int16(binary.LittleEndian.Uint16(p[1:]))), 3)
	case 0xf2:
		if !need(4) {
			return nil, 0, ErrBadFormat
		}
		v := int64(p[1]) | int64(p[2])<<8 | int64(p[3])<<16
		return num(v<<40>>40, 4) // sign-extend 24 bits
	case 0xf3:
		if !need(5) {
			return nil, 0, ErrBadFormat
		}
		return num(int64(int32(binary.LittleEndian.Uint32(p[1:]))), 5)
	case 0xf4:
		if !need(9) {
			return nil, 0, ErrBadFormat
		}
		return num(int64(binary.LittleEndian.Uint64(p[1:])), 9)
	}
	return nil, 0, ErrBadFormat // 0xf5-0xfe are unused; 0xff ends the listpack
}

// backlenSize is how many bytes the backlen of an entry of size n takes.
func backlenSize(n int) int {
	switch {
	case n <= 127:
		return 1
	case n < 16383:
		return 2
	case n < 2097151:
		return 3
	case n < 268435455:
		return 4
	}
	return 5
}

// lpBacklen reads a backlen front to back: the first byte holds the
// highest 7 bits, the last (read first when walking backwards) the lowest;
// every byte but the first has the high bit set.
func lpBacklen(b []byte) int {
	v := 0
	for _, x := range b {
		v = v<<7 | int(x&0x7f)
	}
	return v
}
