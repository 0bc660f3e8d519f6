//go:build cgo && linux

package main

// Pebble allocates its block cache and memtables with C malloc from
// whichever thread it runs on. With glibc's default of 8 arenas per core,
// memory freed in one arena is not reused by another, and a node's RSS grew
// 60-80 MB beyond its live memory under write load (1M keys in a 3-node
// cluster, redis-benchmark SET and GET at -P 16: 322-339 MB peak on the
// coordinating node, 263 MB with MALLOC_ARENA_MAX=2, same throughput). The
// limit is set by a C constructor, before the Go runtime starts a thread,
// because glibc fixes the arena limit the first time it needs a second
// arena. An operator's MALLOC_ARENA_MAX, which glibc reads itself, wins.

/*
#include <malloc.h>
#include <stdlib.h>

static int dynago_arenas_limited;

__attribute__((constructor)) static void dynago_limit_malloc_arenas(void) {
#ifdef M_ARENA_MAX
	if (getenv("MALLOC_ARENA_MAX") == NULL) {
		dynago_arenas_limited = mallopt(M_ARENA_MAX, 2) == 1;
	}
#endif
}

static int dynago_malloc_arenas_limited(void) { return dynago_arenas_limited; }
*/
import "C"

// mallocArenasLimited reports whether the constructor limited glibc to 2
// malloc arenas.
func mallocArenasLimited() bool { return C.dynago_malloc_arenas_limited() != 0 }
