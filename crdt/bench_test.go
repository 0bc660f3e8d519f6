package crdt

import (
	"fmt"
	"testing"

	"github.com/dynago/dynago/version"
)

// BenchmarkApplyBySize is the coordinator's cost of one typed write (Apply,
// then the encoding the engine stores) on collections of growing size: a
// collection is one object, so the cost grows with it.
func BenchmarkApplyBySize(b *testing.B) {
	actor := version.NewActor([]byte("benchnode"), 1)
	for _, n := range []int{10, 1000, 10000} {
		for _, kind := range []OpKind{OpHSet, OpSAdd, OpZAdd} {
			store := Op{Kind: OpStore, Type: map[OpKind]version.Type{OpHSet: version.TypeHash, OpSAdd: version.TypeSet, OpZAdd: version.TypeZSet}[kind]}
			for i := 0; i < n; i++ {
				op := benchOp(kind, i)
				store.Fields = append(store.Fields, op.Fields[0])
				if kind == OpZAdd {
					store.Values = append(store.Values, op.Values[0])
				} else {
					store.Values = append(store.Values, make([]byte, 100))
				}
			}
			o := mustApply(b, version.Object{}, store, actor)
			b.Run(fmt.Sprintf("%s/%d", opName(kind), n), func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					next := mustApply(b, o, benchOp(kind, n+i%16), actor)
					_ = version.AppendObject(make([]byte, 0, next.EncodedSize()), next) // as the engine sizes its buffer
				}
			})
		}
	}
}

func benchOp(kind OpKind, i int) Op {
	f := []byte(fmt.Sprintf("member:%08d", i))
	switch kind {
	case OpHSet:
		return Op{Kind: kind, Fields: [][]byte{f}, Values: [][]byte{make([]byte, 100)}}
	case OpZAdd:
		return Op{Kind: kind, Fields: [][]byte{f}, Values: [][]byte{[]byte(fmt.Sprint(i))}}
	}
	return Op{Kind: kind, Fields: [][]byte{f}}
}

func opName(k OpKind) string {
	return map[OpKind]string{OpHSet: "HSET", OpSAdd: "SADD", OpZAdd: "ZADD"}[k]
}

func mustApply(tb testing.TB, o version.Object, op Op, actor version.Actor) version.Object {
	next, _, _, err := Apply(o, op, actor, nil, 1_700_000_000_000)
	if err != nil {
		tb.Fatal(err)
	}
	return next
}

// BenchmarkApplyIncr is one INCR at the coordinator on a counter that one
// node has been incrementing (one version, the usual case).
func BenchmarkApplyIncr(b *testing.B) {
	actor := version.NewActor([]byte("benchnode"), 1)
	o := mustApply(b, version.Object{}, Op{Kind: OpIncrBy, Int: 1}, actor)
	for b.Loop() {
		o = mustApply(b, o, Op{Kind: OpIncrBy, Int: 1}, actor)
	}
}
