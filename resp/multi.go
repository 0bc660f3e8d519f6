package resp

import (
	"bytes"
	"context"
	"slices"
	"sync/atomic"

	"github.com/dynago/dynago/coordinator"
	"github.com/dynago/dynago/ring"
	"github.com/dynago/dynago/version"
)

// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH, with Redis Cluster's
// rule that every key of a transaction hashes to one slot. What EXEC
// guarantees in a replicated store, and what it does not, is recorded in
// docs/decisions.md (2026-12-04, transactions).
//
// Between MULTI and EXEC the connection queues commands instead of running
// them (dispatchResolved, and runBatch forms no wave). A command rejected
// while queueing (unknown, wrong arity, NOAUTH, CROSSSLOT) marks the
// transaction aborted, so EXEC answers EXECABORT, as in Redis 7. EXEC takes
// the slot's transaction lock (TxLocker; one node in the cluster holds each
// slot's), checks the watched keys' version vectors on a quorum read, and
// runs the queued commands in order while holding the lock.

const (
	msgCrossSlot = "CROSSSLOT Keys in request don't hash to the same slot"
	msgExecAbort = "EXECABORT Transaction discarded because of previous errors."
)

// TxLocker is an optional interface of a Backend: it serializes the
// transactions on one hash slot. LockSlot returns once this caller holds
// the transaction lock of key's slot, or with an error when ctx ends or the
// node holding the lock cannot be reached; unlock releases it and must be
// called exactly once. Plain commands do not take the lock. Without a
// TxLocker the server serializes its own transactions.
type TxLocker interface {
	LockSlot(ctx context.Context, key []byte) (unlock func(), err error)
}

// txState is a connection's transaction: owned by its goroutine, except
// dirty, which reads of a concurrent wave may set (watchBackend).
type txState struct {
	multi   bool // between MULTI and EXEC/DISCARD
	aborted bool // a command was rejected while queueing: EXECABORT
	queued  []queuedCmd
	watched []watchedKey
	// dirty: a read by this connection saw a watched key at another
	// version than WATCH did, so EXEC must abort.
	dirty atomic.Bool
	// watchers is the server's count of watching clients, which this one
	// is in while watched is not empty.
	watchers *atomic.Int64
}

type queuedCmd struct {
	cmd  *Command
	args [][]byte // copies; the read buffer is reused
}

type watchedKey struct {
	key  []byte
	vv   version.VV
	live bool // the key held a value at WATCH (see watchedChanged)
}

// reset ends the transaction and forgets the watched keys (EXEC, DISCARD).
func (t *txState) reset() {
	t.multi, t.aborted, t.queued = false, false, nil
	t.unwatch()
}

// watch adds a key to the watched ones.
func (t *txState) watch(k watchedKey) {
	if len(t.watched) == 0 && t.watchers != nil {
		t.watchers.Add(1)
	}
	t.watched = append(t.watched, k)
}

// unwatch forgets the watched keys (UNWATCH, and when the connection
// closes).
func (t *txState) unwatch() {
	if len(t.watched) > 0 && t.watchers != nil {
		t.watchers.Add(-1)
	}
	t.watched = nil
	t.dirty.Store(false)
}

// observe notes that this connection read key at vv: a watched key read at
// another version makes EXEC abort. It keeps a stale read from feeding a
// transaction: a client that WATCHes, GETs and then writes what it read
// could otherwise get a GET older than the version WATCH recorded (the two
// are separate quorum reads) and overwrite a newer value.
func (t *txState) observe(key []byte, vv version.VV) {
	for i := range t.watched {
		if bytes.Equal(t.watched[i].key, key) && !t.watched[i].vv.Equal(vv) {
			t.dirty.Store(true)
		}
	}
}

// noQueue reports whether cmd runs at once inside MULTI instead of being
// queued (Redis 7's list: EXEC, DISCARD, MULTI, WATCH, QUIT, RESET).
func noQueue(cmd *Command) bool {
	switch cmd.fullName {
	case "exec", "discard", "multi", "watch", "quit", "reset":
		return true
	}
	return false
}

// queue answers a command sent inside MULTI: QUEUED, or the error that
// rejects it, which aborts the transaction.
func (s *Server) queue(c *Client, cmd *Command, msg string, args [][]byte, w *Writer) {
	if msg == "" && s.cluster != nil && !sameSlot(keysOf(cmd, args)) {
		msg = msgCrossSlot
	}
	if msg != "" {
		c.tx.aborted = true
		s.reject(c, cmd, w, msg)
		return
	}
	c.tx.queued = append(c.tx.queued, queuedCmd{cmd: cmd, args: own(args...)})
	if !c.swallowReply() {
		w.WriteSimple("QUEUED")
	}
}

// keysOf returns the keys a command names.
func keysOf(cmd *Command, args [][]byte) [][]byte {
	if cmd == nil || cmd.FirstKey == 0 {
		return nil
	}
	var keys [][]byte
	for _, i := range keyPositions(cmd, len(args)) {
		keys = append(keys, args[i])
	}
	return keys
}

// sameSlot reports whether all keys hash to one slot.
func sameSlot(keys [][]byte) bool {
	for i := 1; i < len(keys); i++ {
		if ring.Slot(keys[i]) != ring.Slot(keys[0]) {
			return false
		}
	}
	return true
}

// MULTI
func (s *Server) cmdMulti(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if c.tx.multi {
		w.WriteError("ERR MULTI calls can not be nested")
		return
	}
	c.tx.multi = true
	w.WriteOK()
}

// DISCARD
func (s *Server) cmdDiscard(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if !c.tx.multi {
		w.WriteError("ERR DISCARD without MULTI")
		return
	}
	c.tx.reset()
	w.WriteOK()
}

// UNWATCH
func (s *Server) cmdUnwatch(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	c.tx.unwatch()
	w.WriteOK()
}

// WATCH key [key ...]: remember each key's version vector, read from a
// quorum. A key already watched keeps the version it was first watched at.
func (s *Server) cmdWatch(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if c.tx.multi {
		w.WriteError("ERR WATCH inside MULTI is not allowed")
		return
	}
	keys := args[1:]
	if s.cluster != nil && !sameSlot(keys) {
		w.WriteError(msgCrossSlot)
		return
	}
	objs, ok := s.getMany(ctx, w, keys)
	if !ok {
		return
	}
	now := s.nowMs()
	for i, k := range keys {
		if !slices.ContainsFunc(c.tx.watched, func(wk watchedKey) bool { return bytes.Equal(wk.key, k) }) {
			_, live := objs[i].Value(now)
			c.tx.watch(watchedKey{key: bytes.Clone(k), vv: objs[i].VV.Clone(), live: live})
		}
	}
	w.WriteOK()
}

// EXEC: run the queued commands under the slot's transaction lock, unless
// a queued command was rejected (EXECABORT) or a watched key changed (a
// null array).
func (s *Server) cmdExec(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	if !c.tx.multi {
		w.WriteError("ERR EXEC without MULTI")
		return
	}
	queued, watched, aborted, dirty := c.tx.queued, c.tx.watched, c.tx.aborted, c.tx.dirty.Load()
	c.tx.reset()
	if aborted {
		w.WriteError(msgExecAbort)
		return
	}
	if dirty {
		w.WriteNullArray()
		return
	}
	var keys [][]byte
	for _, q := range queued {
		keys = append(keys, keysOf(q.cmd, q.args)...)
	}
	for _, wk := range watched {
		keys = append(keys, wk.key)
	}
	if s.cluster != nil && !sameSlot(keys) {
		w.WriteError(msgCrossSlot)
		return
	}
	unlock, err := s.lockSlots(ctx, keys)
	if err != nil {
		s.writeErr(w, err, false)
		return
	}
	defer unlock()
	if changed, err := s.watchedChanged(ctx, watched); err != nil {
		s.writeErr(w, err, false)
		return
	} else if changed {
		w.WriteNullArray()
		return
	}
	// The writes this node coordinates reach each replica in one message
	// (coordinator.TxBatch); the reply waits for their write quorum, and
	// the lock is held until then, so the next EXEC's watch check sees
	// them.
	bctx, batch := coordinator.WithTxBatch(ctx)
	mark := w.Len()
	w.WriteArray(len(queued))
	for _, q := range queued {
		s.exec(bctx, c, q.cmd, q.args, w)
	}
	if err := batch.Commit(ctx); err != nil {
		w.Truncate(mark)
		s.writeErr(w, err, true)
	}
}

// watchedChanged reads the watched keys from a quorum and reports whether
// any is at another version than WATCH saw, or has expired since. With R + W > N the read sees
// every write acknowledged before it, among them the previous transaction
// of the slot, which finished before this one took the lock.
func (s *Server) watchedChanged(ctx context.Context, watched []watchedKey) (bool, error) {
	if len(watched) == 0 {
		return false, nil
	}
	keys := make([][]byte, len(watched))
	for i := range watched {
		keys[i] = watched[i].key
	}
	objs, err := s.getObjects(ctx, keys)
	if err != nil {
		return false, err
	}
	now := s.nowMs()
	for i := range watched {
		if !watched[i].vv.Equal(objs[i].VV) {
			return true, nil
		}
		// Expiry is no write, so the vector stays; Redis 7 aborts when a
		// key that was live at WATCH has expired since.
		if _, live := objs[i].Value(now); watched[i].live && !live {
			return true, nil
		}
	}
	return false, nil
}

// lockSlots takes the transaction locks of the keys' slots in slot order
// (one slot in cluster mode; without the cluster face any keys may meet).
// A transaction without keys takes none.
func (s *Server) lockSlots(ctx context.Context, keys [][]byte) (func(), error) {
	if s.txLocker == nil {
		if len(keys) == 0 {
			return func() {}, nil
		}
		select {
		case s.txMu <- struct{}{}:
			return func() { <-s.txMu }, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	bySlot := map[uint16][]byte{}
	for _, k := range keys {
		if _, ok := bySlot[ring.Slot(k)]; !ok {
			bySlot[ring.Slot(k)] = k
		}
	}
	slots := make([]uint16, 0, len(bySlot))
	for sl := range bySlot {
		slots = append(slots, sl)
	}
	slices.Sort(slots)
	var unlocks []func()
	release := func() {
		for i := len(unlocks) - 1; i >= 0; i-- {
			unlocks[i]()
		}
	}
	for _, sl := range slots {
		u, err := s.txLocker.LockSlot(ctx, bySlot[sl])
		if err != nil {
			release()
			return nil, err
		}
		unlocks = append(unlocks, u)
	}
	return release, nil
}

// watchBackend is the Backend the handlers use: it passes every call on,
// and shows the reads of a connection that watches keys to its txState
// (observe), which requestCtx puts in the context.
type watchBackend struct {
	Backend
	watchers *atomic.Int64 // Server.watchers
}

// watching returns the txState ctx carries, if any client watches keys.
func (b *watchBackend) watching(ctx context.Context) *txState {
	if b.watchers.Load() == 0 {
		return nil
	}
	t, _ := ctx.Value(watchCtxKey{}).(*txState)
	return t
}

type watchCtxKey struct{}

func (b *watchBackend) Get(ctx context.Context, key []byte) (version.Object, error) {
	o, err := b.Backend.Get(ctx, key)
	if t := b.watching(ctx); t != nil && err == nil {
		t.observe(key, o.VV)
	}
	return o, err
}

func (b *watchBackend) GetMany(ctx context.Context, keys [][]byte) ([]version.Object, error) {
	objs, err := b.Backend.GetMany(ctx, keys)
	if t := b.watching(ctx); t != nil && err == nil && len(objs) == len(keys) {
		for i := range keys {
			t.observe(keys[i], objs[i].VV)
		}
	}
	return objs, err
}
