// Package ring places keys on nodes.
package ring
