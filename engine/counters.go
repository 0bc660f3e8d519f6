package engine

import (
	"fmt"
	"sync/atomic"

	"github.com/dynago/dynago/version"
)

// Live-key counters. DBSIZE and INFO ask how many keys a node holds; a scan
// is out of the question, so every write that changes an object moves the
// counters of its partition by the difference between the old and the new
// object's class, with the key's stripe held. Open initialises them with
// one scan.
//
// A key counts when its winner (the sibling a plain GET reads,
// version.Object.Winner) is a value rather than a tombstone, whether or not
// that value has expired: the class must not depend on the clock, or a
// counter could not be kept by differences. A key whose winner expired
// therefore still counts until the sweep compacts it (turns the expired
// value into a tombstone), as Redis's DBSIZE counts expired keys until they
// are evicted.

// partCount is one partition's counters.
type partCount struct {
	keys    atomic.Int64 // objects whose winner is a value
	expires atomic.Int64 // of those, the ones whose winner carries an expiry
	bytes   atomic.Int64 // the logical size of those objects (LiveBytes)
}

// counters are the per-partition counters and their totals. Totals are
// kept beside the partitions so LiveKeys is O(1); every change moves both
// by the same delta, so they agree whenever no write is in flight.
type counters struct {
	parts   [MaxPartitions]partCount
	keys    atomic.Int64
	expires atomic.Int64
	bytes   atomic.Int64
}

// classify returns how an object counts: whether its winner is a value
// (an expired one too, until the sweep; a collection only while it has
// elements), and whether that value has an expiry.
func classify(o version.Object) (live, expires bool) {
	w, ok := o.Value(0)
	if !ok {
		return false, false
	}
	return true, w.Expiry != 0
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// move accounts for partition p's object for key changing from old to
// next.
func (c *counters) move(p uint16, key []byte, old, next version.Object) {
	ol, oe := classify(old)
	nl, ne := classify(next)
	var db int64
	if ol {
		db -= LogicalSize(key, old)
	}
	if nl {
		db += LogicalSize(key, next)
	}
	c.add(p, b2i(nl)-b2i(ol), b2i(ne)-b2i(oe), db)
}

func (c *counters) add(p uint16, dk, de, db int64) {
	if dk != 0 {
		c.parts[p].keys.Add(dk)
		c.keys.Add(dk)
	}
	if de != 0 {
		c.parts[p].expires.Add(de)
		c.expires.Add(de)
	}
	if db != 0 {
		c.parts[p].bytes.Add(db)
		c.bytes.Add(db)
	}
}

// resetPartition zeroes partition p; the caller holds every stripe.
func (c *counters) resetPartition(p uint16) {
	c.add(p, -c.parts[p].keys.Load(), -c.parts[p].expires.Load(), -c.parts[p].bytes.Load())
}

// Per-entry overheads of LogicalSize: what an in-memory store spends on
// an index entry and an object header, on each version beside its value
// (dot, timestamp, expiry), and on each entry of a version vector. They
// make a string key cost about what it costs in Redis's used_memory (202
// bytes there for a 16-byte key and a 100-byte value, 196 here), so that
// a maxmemory sized for Redis holds as many keys.
const (
	objectOverhead  = 32
	siblingOverhead = 32
	vvEntryOverhead = 16
)

// LogicalSize is what an object counts against a memory limit (Redis's
// maxmemory, LiveBytes): its key, its values and fields, and the causal
// metadata that travels with them, plus fixed per-entry overheads. It is
// the data's size, independent of how pebble compresses or caches it, so
// every replica of a key charges it alike.
func LogicalSize(key []byte, o version.Object) int64 {
	n := int64(objectOverhead + len(key) + vvEntryOverhead*len(o.VV))
	for i := range o.Siblings {
		s := &o.Siblings[i]
		n += int64(siblingOverhead + len(s.Value) + len(s.Field))
	}
	return n
}

// LiveBytes returns the logical size (LogicalSize) of the objects counted
// by LiveKeys: the node's used memory as a cache limit sees it. O(1).
func (e *Engine) LiveBytes() int64 { return e.counts.bytes.Load() }

// LiveKeys returns how many keys the node holds with a live winner, and how
// many of those carry an expiry, from the per-partition counters (O(1)).
// Keys whose winner expired count until the sweep compacts them, like
// Redis's DBSIZE before eviction; nowMs is accepted for the coordinator's
// Store interface and not needed.
func (e *Engine) LiveKeys(nowMs int64) (keys, expires int64, err error) {
	if err := e.enter(); err != nil {
		return 0, 0, err
	}
	defer e.exit()
	return e.counts.keys.Load(), e.counts.expires.Load(), nil
}

// PartitionKeys returns partition p's counters behind LiveKeys (zero for a
// partition out of range).
func (e *Engine) PartitionKeys(p uint16) (keys, expires int64) {
	if p >= MaxPartitions {
		return 0, 0
	}
	return e.counts.parts[p].keys.Load(), e.counts.parts[p].expires.Load()
}

// recount initialises the counters and the hint counts with one pass over
// the 'd' and 'h' keyspaces. A corrupt object is logged and counted in
// Stats.CorruptObjects but does not stop the node from starting: reading
// the key reports the error.
func (e *Engine) recount() error {
	err := e.iterate(dataLower, dataUpper, func(k, v []byte) (bool, error) {
		p, key := splitDataKey(k)
		o, err := version.DecodeObject(v)
		if err != nil {
			e.reportCorrupt(k, err)
			return true, nil
		}
		if p < MaxPartitions {
			var zero version.Object
			e.counts.move(p, key, zero, o)
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("engine: counting objects: %w", err)
	}
	err = e.iterate([]byte{prefixHint}, []byte{prefixHint + 1}, func(k, _ []byte) (bool, error) {
		if id, _, _, ok := splitHintKey(k); ok {
			e.hints[id]++
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("engine: counting hints: %w", err)
	}
	return nil
}
