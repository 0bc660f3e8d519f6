package coordinator

import (
	"bytes"
	"testing"
	"time"

	"github.com/dynago/dynago/version"
)

func sampleRequests() []*Request {
	obj := version.Object{}.Put(version.NewActor([]byte("abcdefgh"), 3), nil, version.Sibling{Value: []byte("v"), Timestamp: 9, Expiry: 99})
	return []*Request{
		{Kind: MsgRead, Partition: 3, Key: []byte("k"), HintFor: nodeID(1)},
		{Kind: MsgReplicate, Partition: 65535, Key: []byte("\x00\xff"), Object: obj, HintFor: nodeID(2)},
		{Kind: MsgForward, Key: []byte("k"), R: 1, W: 3, Timeout: 1500 * time.Millisecond,
			Op: Op{Kind: OpSet, Value: []byte("v"), UseContext: true, Context: obj.VV, NX: true, Get: true, ExpireAt: 77, Cond: ExpireGT, Offset: 4, Float: "1.5"}},
		{Kind: MsgScan, Partition: 1, After: []byte("a"), Count: 10},
		{Kind: MsgFlush}, {Kind: MsgPing}, {Kind: MsgKeyspace},
		{Kind: MsgPublish, Pub: []PubMessage{{Channel: []byte("ch"), Message: []byte("m")}, {Shard: true, Channel: []byte("s"), Message: []byte{}}}},
		{Kind: MsgTxLock, Key: []byte("{t}k"), Timeout: 2 * time.Second},
		{Kind: MsgTxUnlock, Key: []byte("{t}k"), Token: 1 << 40},
	}
}

func TestRequestRoundTrip(t *testing.T) {
	for _, r := range sampleRequests() {
		b := AppendRequest(nil, r)
		got, err := DecodeRequest(b)
		if err != nil {
			t.Fatalf("%s: %v", r.Kind, err)
		}
		if !bytes.Equal(AppendRequest(nil, got), b) {
			t.Fatalf("%s: round trip changed the request:\n%+v\n%+v", r.Kind, r, got)
		}
	}
}

// FuzzDecodeRequest feeds arbitrary frames to the internode decoder (the
// cluster port's "garbage, replayed or oversize frames", TESTING.md): it
// must return an error or a request that re-encodes, never panic.
func FuzzDecodeRequest(f *testing.F) {
	for _, r := range sampleRequests() {
		f.Add(AppendRequest(nil, r))
	}
	f.Add([]byte{})
	f.Add([]byte{byte(MsgForward), 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRequest(b)
		if err != nil {
			return
		}
		if _, err := DecodeRequest(AppendRequest(nil, r)); err != nil {
			t.Fatalf("decoded request does not re-decode: %v", err)
		}
	})
}

// FuzzDecodeResponse does the same for answers, for every request kind.
func FuzzDecodeResponse(f *testing.F) {
	obj := version.Object{}.Put(version.NewActor([]byte("abcdefgh"), 3), nil, version.Sibling{Value: []byte("v")})
	f.Add(byte(MsgRead), AppendResponse(nil, MsgRead, &Response{Object: obj}))
	f.Add(byte(MsgForward), AppendResponse(nil, MsgForward, &Response{Result: Result{Applied: true, Old: []byte("o"), Object: obj}}))
	f.Add(byte(MsgScan), AppendResponse(nil, MsgScan, &Response{Keys: [][]byte{[]byte("a")}, More: true}))
	f.Add(byte(MsgKeyspace), AppendResponse(nil, MsgKeyspace, &Response{N1: 5, N2: -1}))
	f.Add(byte(MsgRead), AppendResponse(nil, MsgRead, &Response{Err: ErrNotInteger}))
	f.Fuzz(func(t *testing.T, kind byte, b []byte) {
		r, err := DecodeResponse(MsgKind(kind), b)
		if err != nil || r.Err != nil {
			return
		}
		if _, err := DecodeResponse(MsgKind(kind), AppendResponse(nil, MsgKind(kind), r)); err != nil {
			t.Fatalf("decoded response does not re-decode: %v", err)
		}
	})
}
