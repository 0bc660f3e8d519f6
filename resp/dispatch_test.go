package resp

// Tests of the dispatcher's request contexts (dispatch.go).

import (
	"context"
	"testing"
	"time"

	"github.com/dynago/dynago/coordinator"
)

// The request context is shared while fresh, renewed when stale or when the
// consistency override changes, and released by Handle.
func TestRequestCtxShared(t *testing.T) {
	h := newHarness(t)
	c := h.s.NewClient()
	defer c.releaseCtx()
	rt := h.s.cfg.RequestTimeout
	ctx := h.s.requestCtx(c)
	dl, ok := ctx.Deadline()
	if left := time.Until(dl); !ok || left > rt || left < rt-h.s.ctxSlack() {
		t.Fatalf("deadline %v away, want about %v", left, rt)
	}
	if h.s.requestCtx(c) != ctx {
		t.Fatal("a fresh context was not reused")
	}
	c.SetConsistency(coordinator.Consistency{R: 1, W: 1})
	ctx2 := h.s.requestCtx(c)
	if ctx2 == ctx || coordinator.ConsistencyFrom(ctx2).R != 1 {
		t.Fatal("the consistency override did not renew the context")
	}
	if ctx.Err() != context.Canceled {
		t.Fatal("the replaced context was not released")
	}
	// A context with less than RequestTimeout-ctxSlack left is stale.
	c.releaseCtx()
	stale, cancel := context.WithTimeout(h.s.baseCtx, rt/2)
	c.req = reqCtx{ctx: coordinator.WithConsistency(stale, c.consistency), cancel: cancel, cons: c.consistency}
	old := c.req.ctx
	if h.s.requestCtx(c) == old {
		t.Fatal("a stale context was reused")
	}
	if stale.Err() != context.Canceled {
		t.Fatal("the stale context was not released")
	}
	h.do("GET k")
	if h.c.req.ctx != nil {
		t.Fatal("Handle kept its request context")
	}
}
