package coordinator

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/dynago/dynago/ring"
)

// Transaction locks (MULTI/EXEC; docs/decisions.md, 2026-12-04).
//
// Every transaction of a hash slot runs while holding that slot's lock,
// kept by one node: the slot's first live home replica, the node CLUSTER
// SLOTS names as its master. A node running EXEC for a client asks that
// node for the lock (MsgTxLock), runs the transaction (watch check, then
// the queued commands through the ordinary request path) and releases it
// (MsgTxUnlock). Transactions of one slot therefore never overlap while
// the nodes agree on who the first live home replica is; when views differ
// (a partition, a node just declared dead) two nodes may each grant the
// lock, and two transactions may run at once.
//
// A lock granted to another node carries a lease: it is released when the
// lease ends even if the unlock never comes (the holder crashed, or the
// unlock was lost). The lease is the holder's remaining request deadline,
// beyond which its own calls have given up.

// ErrTxLockHolder: the node that keeps a slot's transaction locks could
// not be reached; nothing was locked.
var ErrTxLockHolder = errors.New("coordinator: the slot's transaction lock holder is unreachable")

// txLocks is one node's table of held slot locks.
type txLocks struct {
	mu    sync.Mutex
	held  map[uint16]*txHold // guarded by mu
	token uint64             // guarded by mu; the last token handed out
}

// txHold is one held lock; free is closed when it is released.
type txHold struct {
	token uint64
	free  chan struct{}
	lease *time.Timer // nil for a local holder
}

// acquire waits until slot is free, takes it and returns its token. A
// lease > 0 releases it after that long unless released before.
func (l *txLocks) acquire(ctx context.Context, slot uint16, lease time.Duration) (uint64, error) {
	for {
		l.mu.Lock()
		h := l.held[slot]
		if h == nil {
			if l.held == nil {
				l.held = map[uint16]*txHold{}
			}
			l.token++
			tok := l.token
			h = &txHold{token: tok, free: make(chan struct{})}
			if lease > 0 {
				h.lease = time.AfterFunc(lease, func() { l.release(slot, tok) })
			}
			l.held[slot] = h
			l.mu.Unlock()
			return tok, nil
		}
		free := h.free
		l.mu.Unlock()
		select {
		case <-free:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// release frees slot if token still holds it (a lease that ran out may
// have handed it on already).
func (l *txLocks) release(slot uint16, token uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.held[slot]
	if h == nil || h.token != token {
		return
	}
	delete(l.held, slot)
	if h.lease != nil {
		h.lease.Stop()
	}
	close(h.free)
}

// LockSlot takes the transaction lock of key's slot (resp.TxLocker) at the
// slot's first live home replica, waiting at most until ctx ends. unlock
// releases it; a remote lock is released in the background.
func (c *Coordinator) LockSlot(ctx context.Context, key []byte) (unlock func(), err error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	slot := ring.Slot(key)
	holder := c.txHolder(key)
	if holder == c.cfg.Self {
		tok, err := c.txLocks.acquire(ctx, slot, 0)
		if err != nil {
			return nil, err
		}
		return func() { c.txLocks.release(slot, tok) }, nil
	}
	req := &Request{Kind: MsgTxLock, Key: key, Timeout: c.cfg.RequestTimeout}
	if dl, ok := ctx.Deadline(); ok {
		req.Timeout = max(time.Until(dl), time.Millisecond)
	}
	resp, err := c.tr.Call(ctx, holder, req)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		if errors.Is(err, ErrUnreachable) {
			return nil, ErrTxLockHolder
		}
		// The lock may have been granted after all: its lease frees it.
		return nil, err
	}
	tok := uint64(resp.N1)
	return func() {
		c.goBG(func() {
			ctx, cancel := context.WithTimeout(c.bg, c.cfg.RequestTimeout)
			defer cancel()
			// A lost unlock only holds the slot until the lease ends.
			_, _ = c.tr.Call(ctx, holder, &Request{Kind: MsgTxUnlock, Key: key, Token: tok})
		})
	}, nil
}

// txHolder is the node that keeps key's slot locks: the first live home
// replica (this node when none is live).
func (c *Coordinator) txHolder(key []byte) string {
	rt := c.route(key)
	for _, id := range rt.walk[:rt.n] {
		if id == c.cfg.Self || c.alive(id) {
			return id
		}
	}
	return c.cfg.Self
}

// handleTxLock serves MsgTxLock and MsgTxUnlock.
func (c *Coordinator) handleTxLock(ctx context.Context, req *Request) *Response {
	slot := ring.Slot(req.Key)
	if req.Kind == MsgTxUnlock {
		c.txLocks.release(slot, req.Token)
		return &Response{}
	}
	lease := min(max(req.Timeout, time.Millisecond), c.cfg.RequestTimeout)
	ctx, cancel := context.WithTimeout(ctx, lease)
	defer cancel()
	tok, err := c.txLocks.acquire(ctx, slot, lease)
	if err != nil {
		return &Response{Err: err}
	}
	return &Response{N1: int64(tok)}
}
