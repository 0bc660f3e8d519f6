package coordinator

import (
	"context"
	"errors"
)

// Transport carries internode requests from a coordinator to replicas
// (docs/architecture.md §4). Implementations must be safe for concurrent use by many
// goroutines.
//
// Call returns either the peer's Response (whose Err may hold a remote
// failure) or a transport error. A transport error matching ErrUnreachable
// means the request was never sent; any other transport error (including
// ctx's) means it may or may not have been processed.
type Transport interface {
	Call(ctx context.Context, to string, req *Request) (*Response, error)
}

// Handler serves the requests a Transport receives. HandleRPC must be safe
// for concurrent use; from is the authenticated node id of the sender.
type Handler interface {
	HandleRPC(ctx context.Context, from string, req *Request) *Response
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, from string, req *Request) *Response

// HandleRPC calls f.
func (f HandlerFunc) HandleRPC(ctx context.Context, from string, req *Request) *Response {
	return f(ctx, from, req)
}

// ErrUnreachable is a call that was never sent: no connection to the peer
// could be made, the peer is unknown, or the network refused it.
var ErrUnreachable = errors.New("coordinator: peer unreachable")
