package coordinator

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/dynago/dynago/version"
)

// DotClock hands out the counters of the dots this node's writes carry. It
// never goes back, across keys and across clean restarts, so a key whose
// object was reaped here (after every home replica had its tombstone) or
// lost can never be given a dot it handed out before: a tombstone that a
// replica still holds would cover such a reused dot and silently win over
// an acknowledged write (docs/architecture.md §3: a counter is never reused).
//
// Counters are leased in blocks from the node's metadata: the lease's end
// is persisted (fsynced) before any counter inside it is handed out, and a
// node starts from the persisted end. A crash loses at most the unused
// rest of a lease. A node whose data directory was wiped is a new actor
// (a new incarnation), so its counters cannot collide with the old ones.
type DotClock struct {
	meta MetaStore // nil: counters are not persisted (tests)

	mu    sync.Mutex
	last  uint64 // guarded by mu: the highest counter handed out
	limit uint64 // guarded by mu: the end of the persisted lease
}

const (
	metaDotLease = "dot-lease"
	dotLeaseSize = 1 << 20
)

// NewDotClock returns a clock that starts above every counter a previous
// run of this node may have handed out. meta may be nil for tests.
func NewDotClock(meta MetaStore) (*DotClock, error) {
	d := &DotClock{meta: meta}
	if meta == nil {
		return d, nil
	}
	b, ok, err := meta.GetMeta(metaDotLease)
	if err != nil {
		return nil, err
	}
	if ok {
		if len(b) != 8 {
			return nil, fmt.Errorf("coordinator: corrupt dot lease in the data directory (%d bytes)", len(b))
		}
		d.last = binary.BigEndian.Uint64(b)
		d.limit = d.last
	}
	return d, nil
}

// Next returns a counter above every counter handed out before and at
// least floor, and records it.
//
// floor comes from the key's object and the client's context. Every
// counter of this node's actor that either legitimately holds was handed
// out by this clock, so a floor far above the clock can only come from a
// forged context; following it would push the clock toward the counter
// limit and make every later write fail. It is refused as malformed.
func (d *DotClock) Next(floor uint64) (uint64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if floor > d.last+1+dotLeaseSize {
		return 0, fmt.Errorf("%w: the context names writes this node never made", version.ErrMalformed)
	}
	n := max(floor, d.last+1)
	if d.meta != nil && n > d.limit {
		// Extending the lease costs one fsync every dotLeaseSize writes;
		// holding the lock meanwhile keeps every counter inside a lease.
		limit := n + dotLeaseSize
		if err := d.meta.PutMeta(metaDotLease, binary.BigEndian.AppendUint64(nil, limit)); err != nil {
			return 0, fmt.Errorf("coordinator: persist the dot lease: %w", err)
		}
		d.limit = limit
	}
	d.last = n
	return n, nil
}
