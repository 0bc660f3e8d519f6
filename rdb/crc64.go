package rdb

// crcTable is the byte table of Redis's CRC-64: the Jones polynomial
// 0xad93d23594c935a9, reflected (0x95ac9329ac4bc9b5), initial value 0 and
// no final inversion. hash/crc64 inverts before and after, so it cannot be
// used as is.
var crcTable = func() (t [256]uint64) {
	const poly = 0x95ac9329ac4bc9b5
	for i := range t {
		c := uint64(i)
		for range 8 {
			if c&1 == 1 {
				c = c>>1 ^ poly
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// CRC64 continues Redis's CRC-64 crc over b (start with 0).
func CRC64(crc uint64, b []byte) uint64 {
	for _, x := range b {
		crc = crcTable[byte(crc)^x] ^ crc>>8
	}
	return crc
}
