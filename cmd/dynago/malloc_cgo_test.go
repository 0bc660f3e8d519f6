//go:build cgo && linux

package main

import (
	"os"
	"testing"
)

func TestMallocArenasLimitedAtStart(t *testing.T) {
	if _, set := os.LookupEnv("MALLOC_ARENA_MAX"); set {
		t.Skip("MALLOC_ARENA_MAX is set: glibc applies the operator's limit")
	}
	if !mallocArenasLimited() {
		t.Fatal("the C constructor did not limit glibc's malloc arenas")
	}
}
