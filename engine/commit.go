package engine

import (
	"fmt"
	"slices"
	"sync"

	"github.com/cespare/xxhash/v2"
	"github.com/cockroachdb/pebble/v2"
)

// The write path. A writer takes its key's stripe, reads, decides, and
// applies a pebble batch with DB.ApplyNoSyncWait: the batch is in the WAL
// buffer and the memtable (visible to readers) when that returns, but not
// yet synced. The writer then releases the stripe and only afterwards waits
// for the fsync (Batch.SyncWait), so a writer of the same key, or of any
// key, can commit behind it while it waits, and one fsync covers all of
// them (pebble syncs a prefix of the log). This is pebble's own
// commit pipeline made use of, not a second one: it is DurabilityGroup.
// DurabilitySync wraps the same steps in syncMu, taken before the stripe
// and released after the fsync, so that commits go one at a time and each
// has its own fsync.
//
// A consequence: a reader (or the next writer of the key) can see a write
// before it is durable, and the write is acknowledged only after it is. A
// crash in between loses a write that someone read but nobody acknowledged,
// as any store with group commit does. The next writer of the key commits
// later in the same log, so its own acknowledgement implies the earlier
// write is durable too.

// writeMode says how a batch is committed.
type writeMode uint8

const (
	// durable: fsynced before the call returns, unless Durability is none.
	durable writeMode = iota
	// background: never waits for an fsync. For the sweep's writes, which
	// a crash may undo and the next pass redoes.
	background
	// alwaysSync: fsynced before the call returns whatever the durability
	// mode. For node metadata.
	alwaysSync
)

// pending is an applied batch whose fsync, if any, is still to be awaited
// with finish once the caller has released its locks.
type pending struct {
	b    *pebble.Batch
	wait bool
}

// apply commits b to the memtable and the WAL buffer. The caller holds the
// stripes of every key in b. On success the caller must call finish with
// the result after releasing them.
func (e *Engine) apply(b *pebble.Batch, m writeMode) (pending, error) {
	wait := m == alwaysSync || (m == durable && e.cfg.Durability != DurabilityNone)
	var err error
	if wait {
		err = e.db.ApplyNoSyncWait(b, pebble.Sync)
	} else {
		err = e.db.Apply(b, pebble.NoSync)
	}
	if err != nil {
		// Pebble refused the batch before the commit pipeline: nothing was
		// written.
		_ = b.Close()
		return pending{}, fmt.Errorf("engine: commit: %w", err)
	}
	if e.failed.Load() {
		// Pebble reported a commit error through Fatalf (only a test hook
		// returns from that): the pipeline is broken and the batch's sync
		// may never complete, so it is neither awaited nor closed.
		return pending{}, fmt.Errorf("%w: commit", ErrFailed)
	}
	return pending{b: b, wait: wait}, nil
}

// finish waits for the fsync of an applied batch (when its mode needs one)
// and releases it. A sync failure is fatal: the write is in the memtable
// and may have been read, but is not durable, and neither is anything
// committed after it.
func (e *Engine) finish(pd pending) error {
	if pd.b == nil {
		return nil
	}
	if pd.wait {
		if err := pd.b.SyncWait(); err != nil {
			e.fatal(fmt.Sprintf("WAL sync failed: %v", err))
			return fmt.Errorf("%w: WAL sync: %w", ErrFailed, err)
		}
		e.stats.syncedCommits.Add(1)
	}
	_ = pd.b.Close()
	if !pd.wait && e.failed.Load() {
		// Nothing proves this unsynced write reached the WAL before the
		// failure: do not acknowledge it.
		return fmt.Errorf("%w: commit", ErrFailed)
	}
	return nil
}

// stripeIndex returns the index of the stripe of the key whose hash
// (xxhash of the pebble key) is h.
func stripeIndex(h uint64) int { return int(h & (numStripes - 1)) }

// stripe returns the stripe of the key whose hash is h.
func (e *Engine) stripe(h uint64) *sync.Mutex { return &e.stripes[stripeIndex(h)] }

// serialises reports whether commits of mode m take syncMu: in
// DurabilitySync every waited-for commit has an fsync of its own, so they
// go one at a time (doc.go, Durability). A read-modify-write that ends up
// writing nothing (an Update whose fn declines) has waited its turn too:
// whether it writes is known only once it holds its stripe.
func (e *Engine) serialises(m writeMode) bool {
	return e.cfg.Durability == DurabilitySync && m != background
}

// withKeyLock runs f with k's stripe held, then waits for the commit f
// returns, if any, with the stripe released. m is the mode of f's commit.
func (e *Engine) withKeyLock(k []byte, m writeMode, f func() (pending, error)) error {
	return e.withStripe(xxhash.Sum64(k), m, f)
}

// withStripe is withKeyLock for a key whose hash is already known.
func (e *Engine) withStripe(h uint64, m writeMode, f func() (pending, error)) error {
	if e.serialises(m) {
		// Taken before the stripe and released after the fsync, so that
		// the stripe itself is still never held across one.
		e.syncMu.Lock()
		defer e.syncMu.Unlock()
	}
	mu := e.stripe(h)
	pd, err := func() (pending, error) {
		mu.Lock()
		defer mu.Unlock()
		return f()
	}()
	if err != nil {
		return err
	}
	return e.finish(pd)
}

// withStripes is withStripe for several stripes (repeats allowed), taken
// in index order so that two multi-stripe lockers cannot deadlock.
func (e *Engine) withStripes(idx []int, m writeMode, f func() (pending, error)) error {
	if e.serialises(m) {
		e.syncMu.Lock()
		defer e.syncMu.Unlock()
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	pd, err := func() (pending, error) {
		for _, i := range idx {
			e.stripes[i].Lock()
		}
		defer func() {
			for _, i := range idx {
				e.stripes[i].Unlock()
			}
		}()
		return f()
	}()
	if err != nil {
		return err
	}
	return e.finish(pd)
}

// withAllStripes runs f with every stripe held: nothing else writes an
// object, and no cache miss is filled, meanwhile.
func (e *Engine) withAllStripes(m writeMode, f func() (pending, error)) error {
	idx := make([]int, numStripes)
	for i := range idx {
		idx[i] = i
	}
	return e.withStripes(idx, m, f)
}
