package coordinator

import (
	"context"
	"fmt"

	"github.com/dynago/dynago/antientropy"
	"github.com/dynago/dynago/engine"
	"github.com/dynago/dynago/version"
)

// Anti-entropy over the internode RPC (paper §4.7, docs/architecture.md §7). The
// antientropy package runs the exchanges; the coordinator carries them:
// AEPeer is the client side, HandleRPC's MsgAE* cases the server side,
// answered by the AEServer the node plugs in.

// AEServer answers peers' exchanges (antientropy.Syncer implements it).
type AEServer interface {
	Answer(p int, req antientropy.LevelRequest) ([]uint64, error)
	KeyHashes(p int, segments []int) ([]antientropy.KeyHash, error)
}

// AEPeer implements antientropy.Peer over the coordinator's transport.
type AEPeer struct{ c *Coordinator }

// AEPeer returns the anti-entropy client of this coordinator.
func (c *Coordinator) AEPeer() AEPeer { return AEPeer{c: c} }

var _ antientropy.Peer = AEPeer{}

// Hashes implements antientropy.Peer.
func (a AEPeer) Hashes(ctx context.Context, node string, p int, lr antientropy.LevelRequest) ([]uint64, error) {
	resp, err := a.c.call(ctx, node, &Request{Kind: MsgAEHashes, Partition: uint16(p), Payload: antientropy.AppendLevelRequest(nil, lr)})
	if err != nil {
		return nil, err
	}
	return antientropy.DecodeHashes(resp.Payload)
}

// KeyHashes implements antientropy.Peer.
func (a AEPeer) KeyHashes(ctx context.Context, node string, p int, segments []int) ([]antientropy.KeyHash, error) {
	resp, err := a.c.call(ctx, node, &Request{Kind: MsgAEKeys, Partition: uint16(p), Payload: antientropy.AppendSegments(nil, segments)})
	if err != nil {
		return nil, err
	}
	return antientropy.DecodeKeyHashes(resp.Payload)
}

// Fetch implements antientropy.Peer.
func (a AEPeer) Fetch(ctx context.Context, node string, p int, keys [][]byte) ([]version.Object, error) {
	resp, err := a.c.call(ctx, node, &Request{Kind: MsgFetchKeys, Partition: uint16(p), Keys: keys})
	if err != nil {
		return nil, err
	}
	return resp.Objects, nil
}

// Push implements antientropy.Peer.
func (a AEPeer) Push(ctx context.Context, node string, p int, keys [][]byte, objs []version.Object) error {
	_, err := a.c.call(ctx, node, &Request{Kind: MsgMergeMany, Partition: uint16(p), Keys: keys, Objects: objs})
	return err
}

// handleAE serves the anti-entropy requests.
func (c *Coordinator) handleAE(req *Request) *Response {
	p := int(req.Partition)
	switch req.Kind {
	case MsgAEHashes:
		if c.ae == nil {
			return &Response{Err: antientropy.ErrNotReady}
		}
		lr, err := antientropy.DecodeLevelRequest(req.Payload)
		if err != nil {
			return &Response{Err: err}
		}
		hashes, err := c.ae.Answer(p, lr)
		if err != nil {
			return &Response{Err: err}
		}
		return &Response{Payload: antientropy.AppendHashes(nil, hashes)}
	case MsgAEKeys:
		if c.ae == nil {
			return &Response{Err: antientropy.ErrNotReady}
		}
		segs, err := antientropy.DecodeSegments(req.Payload)
		if err != nil {
			return &Response{Err: err}
		}
		khs, err := c.ae.KeyHashes(p, segs)
		if err != nil {
			return &Response{Err: err}
		}
		return &Response{Payload: antientropy.AppendKeyHashes(nil, khs)}
	case MsgFetchKeys:
		objs := make([]version.Object, len(req.Keys))
		for i, k := range req.Keys {
			o, err := c.store.Get(req.Partition, k)
			if err != nil {
				return &Response{Err: err}
			}
			objs[i] = o
		}
		return &Response{Objects: objs}
	case MsgMergeMany:
		if len(req.Objects) != len(req.Keys) {
			return &Response{Err: fmt.Errorf("coordinator: %d objects for %d keys", len(req.Objects), len(req.Keys))}
		}
		items := make([]engine.MergeItem, len(req.Keys))
		for i, k := range req.Keys {
			if err := req.Objects[i].Validate(); err != nil {
				return &Response{Err: err}
			}
			items[i] = engine.MergeItem{P: req.Partition, Key: k, Object: req.Objects[i]}
		}
		_, err := c.store.MergeMany(items)
		return &Response{Err: err}
	}
	return &Response{Err: fmt.Errorf("coordinator: not an anti-entropy request: %s", req.Kind)}
}
