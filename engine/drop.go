package engine

// FlushAll deletes every object of every partition (FLUSHALL), durably per
// Config.Durability, and zeroes the counters. Hints and node metadata are
// kept: hints are other replicas' writes in transit, and the coordinator
// decides what FLUSHALL means for them. It is one range deletion, so it
// takes the same time whatever the number of objects; the space comes back
// as pebble compacts. It is not reported to OnChange: the caller resets its
// anti-entropy trees.
func (e *Engine) FlushAll() error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.exit()
	return e.deleteRange(dataLower, dataUpper, e.cache.clear, func() {
		for p := range uint16(MaxPartitions) {
			e.counts.resetPartition(p)
		}
	})
}

// DropPartition deletes every object of partition p: the partition was
// handed to another node (Dynamo §4.9, docs/architecture.md §5) and this node no longer
// replicates it. Durable per Config.Durability; adjusts the counters.
// Hints for p are kept (they are for other nodes). It is not reported to
// OnChange: the anti-entropy tree of p is reset by its owner, which drops
// the whole tree rather than hear of every key.
func (e *Engine) DropPartition(p uint16) error {
	if err := e.enterPartition(p); err != nil {
		return err
	}
	defer e.exit()
	lower, upper := partitionBounds(p)
	return e.deleteRange(lower, upper, func() { e.cache.dropPartition(p) }, func() { e.counts.resetPartition(p) })
}

// deleteRange deletes [lower, upper) with every stripe held, so no
// read-modify-write straddles the deletion and the counters, reset by
// reset once the deletion is committed, stay exact. uncache removes the
// range's object cache entries before the deletion, so that no reader gets
// a deleted object from the cache once pebble has deleted it; a reader that
// misses waits for the stripes and reads pebble after the deletion.
func (e *Engine) deleteRange(lower, upper []byte, uncache, reset func()) error {
	return e.withAllStripes(durable, func() (pending, error) {
		uncache()
		b := e.db.NewBatch()
		_ = b.DeleteRange(lower, upper, nil)
		pd, err := e.apply(b, durable)
		if err != nil {
			return pending{}, err
		}
		reset()
		return pd, nil
	})
}
