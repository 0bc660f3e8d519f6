// Package pace spaces background work out to a rate, so that anti-entropy
// repairs and ownership transfers take a bounded share of a node's
// capacity (paper §6.5: background tasks must not hurt foreground
// requests).
package pace
