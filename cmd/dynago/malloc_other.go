//go:build !cgo || !linux

package main

// mallocArenasLimited is false without cgo on Linux: pebble's caches then
// live on the Go heap, or the C allocator is not glibc's.
func mallocArenasLimited() bool { return false }
