// Package rdb encodes and decodes single values in Redis's DUMP format, so
// that DUMP and RESTORE move keys between redis-server and dynago (as
// migration tools do with DUMP/RESTORE or MIGRATE-like copies).
//
// A payload is an RDB object: a type byte and the value in that type's
// encoding, then the RDB version (2 bytes, little endian) and a CRC-64
// (the Jones polynomial, as Redis's crc64.c; 8 bytes, little endian) of
// everything before it.
//
// Encode writes only the plain encodings that every Redis since 2.8 reads
// back (string 0, set 2, hash 4, sorted set 5 with binary doubles) and
// stamps RDB version 10 (Redis 7.0), which Redis 7.0 and every later
// version accept. Decode reads what Redis 7.2 writes for the types dynago
// has: strings with their integer and LZF encodings, hashes as listpacks
// or plain, sets as intsets, listpacks or plain, sorted sets as listpacks
// or plain (binary or text doubles). Lists, streams and modules are
// refused with ErrUnsupported.
//
// The package is pure: no I/O, no state. Decode never panics on arbitrary
// input (FuzzDecode) and bounds every length by the payload's size.
package rdb
