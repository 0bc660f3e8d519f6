// Package bitops is the pure arithmetic of Redis's bit commands (SETBIT,
// GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD) on a string value. It does no
// I/O and keeps no state: the RESP layer uses it for the reads and BITOP,
// and the coordinator for the read-modify-write of SETBIT and BITFIELD
// (coordinator.OpBitField), so that a write is evaluated on the value the
// coordinator read from a quorum, like APPEND (docs/architecture.md §3).
//
// Bit 0 is the most significant bit of the first byte, as in Redis; bits
// past the end of a value read as 0.
package bitops
