package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// aeInfo is an INFO antientropy reply as dynago prints it.
const aeInfo = `# Antientropy
trees_ready:1
trees_built:256
rounds:10
exchanges:2304
exchanges_equal:2300
exchange_errors:1
keys_repaired:8
dead_keys_not_copied:0
leaves_healed:0
bytes_sent:4608
bytes_received:20736
`

func TestParseAECounters(t *testing.T) {
	a, err := ParseAECounters(ParseInfo(aeInfo))
	if err != nil {
		t.Fatal(err)
	}
	want := AECounters{TreesReady: true, Rounds: 10, Exchanges: 2304, ExchangesEqual: 2300, ExchangeErrors: 1,
		KeysRepaired: 8, BytesSent: 4608, BytesReceived: 20736}
	if a != want || a.Bytes() != 25344 {
		t.Errorf("got %+v", a)
	}
	if _, err := ParseAECounters(ParseInfo("trees_ready:1\nrounds:x\n")); err == nil {
		t.Error("a section missing fields parsed")
	}
}

func TestParseTransfersAndCluster(t *testing.T) {
	tr, err := ParseTransferCounters(ParseInfo(`# Transfers
partitions_to_sync:0
partitions_to_hand_off:0
partition_streaming:-1
partitions_synced:256
partitions_handed_off:0
keys_streamed_in:14990
bytes_streamed_in:3247700
keys_handed_off:3
bytes_handed_off:400
commits:2
sync_failures:0
`))
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Idle() || tr.KeysIn != 14990 || tr.BytesIn != 3247700 || tr.KeysOut != 3 || tr.BytesOut != 400 {
		t.Errorf("transfers %+v", tr)
	}
	if (TransferCounters{Streaming: 17}).Idle() || (TransferCounters{Streaming: -1, ToSync: 1}).Idle() {
		t.Error("a node streaming or with partitions to sync counted as idle")
	}
	v, err := ParseClusterView(ParseInfo(`# Cluster
node_name:node1
partitions:256
ring_members:3
partitions_owned:85
partitions_pending:0
member0:id=5638,name=node3,addr=127.0.0.1:23403,cluster_addr=127.0.0.1:33403,zone=,state=valid,alive=0,owned=85
member1:id=9567,name=node2,addr=127.0.0.1:23402,cluster_addr=127.0.0.1:33402,zone=,state=valid,alive=1,owned=86
`))
	if err != nil {
		t.Fatal(err)
	}
	if v.Name != "node1" || v.Members != 3 || v.Owned != 85 || v.Partitions != 256 || v.Alive["node3"] || !v.Alive["node2"] {
		t.Errorf("cluster view %+v", v)
	}
}

func TestAERoots(t *testing.T) {
	text := "# Antientropy\r\ntrees_ready:1\r\np0:root=00000000000000ff,last_exchange=never,peer=,repaired=0\r\np7:root=bb6a02705eb10abd,last_exchange=912ms,peer=9567546a,repaired=0\r\n"
	r, err := ParseAERoots(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(r) != 2 || r[0] != 0xff || r[7] != 0xbb6a02705eb10abd {
		t.Errorf("roots %x", r)
	}
	if _, err := ParseAERoots("p3:root=xyz,last_exchange=never\n"); err == nil {
		t.Error("a bad root parsed")
	}
	// Partition 2 is held by two nodes only, partition 3 by one.
	views := []map[int]uint64{{0: 1, 1: 2, 2: 3}, {0: 1, 1: 5, 3: 9}, {0: 1, 1: 2, 2: 3}}
	if d, c := DifferingPartitions(views); d != 1 || c != 3 {
		t.Errorf("differ %d of %d, want 1 of 3", d, c)
	}
}

// samples builds a series: at each step, each node's rounds and repairs.
func samples(steps ...[][2]int64) []AESample {
	var out []AESample
	for i, st := range steps {
		s := AESample{At: time.Duration(i) * time.Second}
		for _, n := range st {
			s.Nodes = append(s.Nodes, AECounters{TreesReady: true, Rounds: n[0], KeysRepaired: n[1], Exchanges: n[0], ExchangesEqual: n[0]})
		}
		out = append(out, s)
	}
	return out
}

func TestSummarizeRepairs(t *testing.T) {
	ss := samples(
		[][2]int64{{0, 0}, {0, 0}},
		[][2]int64{{0, 0}, {0, 0}},    // no repair yet at 1 s
		[][2]int64{{1, 100}, {1, 0}},  // first repair seen at 2 s
		[][2]int64{{2, 150}, {2, 40}}, // 190: 90 % at 3 s
		[][2]int64{{2, 150}, {2, 45}}, // trickle
		[][2]int64{{3, 150}, {5, 50}}, // final count reached at 5 s
		[][2]int64{{4, 150}, {6, 50}},
		[][2]int64{{5, 150}, {7, 50}},
	)
	r := SummarizeRepairs(ss, 3)
	if r.Repaired != 200 || r.Start != time.Second || r.Bulk != 3*time.Second || r.BulkRepaired != 190 ||
		r.Last != 5*time.Second || r.Rate() != 95 {
		t.Errorf("summary %+v, rate %v", r, r.Rate())
	}
	if r.Settled {
		t.Error("settled after 2 quiet rounds on node 1, want 3")
	}
	ss = append(ss, samples([][2]int64{{6, 150}, {8, 50}})...)
	if r := SummarizeRepairs(ss, 3); !r.Settled {
		t.Errorf("not settled with 3 quiet rounds everywhere: %+v", r)
	}
	// Nothing repaired: settled once every node ran the rounds.
	r = SummarizeRepairs(samples([][2]int64{{0, 0}}, [][2]int64{{3, 0}}), 3)
	if r.Repaired != 0 || r.Start != -1 || r.Bulk != -1 || r.Last != -1 || !r.Settled || r.Rate() != 0 {
		t.Errorf("idle summary %+v", r)
	}
	if r := SummarizeRepairs(nil, 3); r.Settled || r.Start != -1 {
		t.Errorf("no samples: %+v", r)
	}
	// Repairs already under way at the first sample: they started then,
	// as far as the samples tell, and no rate can be given.
	r = SummarizeRepairs(samples([][2]int64{{0, 10}}, [][2]int64{{3, 10}}), 3)
	if r.Start != 0 || r.Bulk != 0 || r.Last != 0 || r.Rate() != 0 || !r.Settled {
		t.Errorf("repairs before the first sample: %+v", r)
	}
}

func TestIdleBytesPerExchange(t *testing.T) {
	a := AESample{Nodes: []AECounters{{Exchanges: 10, ExchangesEqual: 10, BytesSent: 20, BytesReceived: 90}}}
	b := AESample{Nodes: []AECounters{{Exchanges: 20, ExchangesEqual: 20, BytesSent: 40, BytesReceived: 180}}}
	if x, ok := IdleBytesPerExchange(a, b); !ok || x != 11 {
		t.Errorf("idle cost %v %v, want 11", x, ok)
	}
	c := b
	c.Nodes = []AECounters{{Exchanges: 21, ExchangesEqual: 20, BytesSent: 400, BytesReceived: 1800}}
	if _, ok := IdleBytesPerExchange(b, c); ok {
		t.Error("an exchange that found a difference counted as idle")
	}
	if _, ok := IdleBytesPerExchange(a, a); ok {
		t.Error("no exchange counted as idle")
	}
}

func TestLocalContext(t *testing.T) {
	resp2 := []any{"partition", int64(190), "replica", int64(1), "context", "AQGa", "siblings", []any{}, "hints", []any{}}
	resp3 := map[any]any{"partition": int64(190), "context": "AQGa"}
	for _, v := range []any{resp2, resp3} {
		if c, err := LocalContext(v); err != nil || c != "AQGa" {
			t.Errorf("LocalContext(%v) = %q, %v", v, c, err)
		}
	}
	if c, err := LocalContext([]any{"context", nil}); err != nil || c != "" {
		t.Errorf("missing copy: %q %v", c, err)
	}
	for _, bad := range []any{"OK", []any{"context"}, []any{"partition", int64(1)}} {
		if _, err := LocalContext(bad); err == nil {
			t.Errorf("LocalContext(%v): no error", bad)
		}
	}
}

func TestCopyDir(t *testing.T) {
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"MANIFEST": "m", "sub/000001.sst": "data"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dst := filepath.Join(t.TempDir(), "copy")
	if err := CopyDir(src, dst); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "sub/000001.sst")); err != nil || string(b) != "data" {
		t.Errorf("copied file: %q %v", b, err)
	}
	// Writing the copy leaves the original alone (no hard links).
	if err := os.WriteFile(filepath.Join(dst, "MANIFEST"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(src, "MANIFEST")); string(b) != "m" {
		t.Errorf("the original changed with its copy: %q", b)
	}
	if err := CopyDir(src, dst); err == nil {
		t.Error("copied over an existing directory")
	}
}

func TestAEReportMarkdown(t *testing.T) {
	end := AESample{At: 3 * time.Second, Nodes: []AECounters{
		{TreesReady: true, Rounds: 5, Exchanges: 100, ExchangesEqual: 90, KeysRepaired: 150, BytesSent: 10_000, BytesReceived: 20_000},
		{TreesReady: true, Rounds: 5, Exchanges: 100, ExchangesEqual: 100, KeysRepaired: 50, BytesSent: 200, BytesReceived: 900},
	}}
	bytesRow := AEBytesRow{Percent: 1, Keys: 100_000, Overwritten: 1000, Stale: 1000, StaleAfter: 0,
		PartitionsDiffer: 250, Partitions: 256, IdlePerExchange: 11, RawBytes: 11_600_000,
		Repair: RepairSummary{Repaired: 200, Start: time.Second, Bulk: 1500 * time.Millisecond, BulkRepaired: 180, Last: 2 * time.Second, Settled: true, End: end}}
	if d := bytesRow.DiffBytes(); d != 31_100-190*11 {
		t.Errorf("DiffBytes %d", d)
	}
	fg := []AEForegroundRow{
		{Percent: 10, Workload: Workload{"get", 1}, AE: false, Run: 1, Result: Result{OpsPerSec: 30000, P50: 1, P99: 5, P999: 8, Requests: 300000},
			BenchFrom: time.Second, BenchTo: 11 * time.Second, Repair: RepairSummary{Start: -1, Bulk: -1, Last: -1, End: end}, Stale: 10000, StaleAfter: 4000},
		{Percent: 10, Workload: Workload{"get", 1}, AE: true, Run: 1, Result: Result{OpsPerSec: 29000, P50: 1, P99: 5, P999: 12, Requests: 300000},
			BenchFrom: time.Second, BenchTo: 11 * time.Second, Repair: RepairSummary{Repaired: 40000, Start: 1800 * time.Millisecond, Bulk: 3 * time.Second, BulkRepaired: 36000, Last: 5 * time.Second, Settled: true, End: end},
			Stale: 10000, StaleAfter: 0},
	}
	if o, b := fg[1].Overlap(false), fg[1].Overlap(true); o != 3200*time.Millisecond || b != 1200*time.Millisecond {
		t.Errorf("overlap %v (90 %%: %v), want 3.2s (1.2s)", o, b)
	}
	// A second run of the AE-on cell, and a third that failed: the
	// side-by-side table shows medians of the successful runs.
	second := fg[1]
	second.Run, second.Result.OpsPerSec, second.Result.P999 = 2, 27000, 10
	fg = append(fg, second, AEForegroundRow{Percent: 10, Workload: Workload{"get", 1}, AE: true, Run: 3, Err: "timeout"})
	join := &AEJoin{Keys: 100_000, N: 3, Duration: 20 * time.Second, Nodes: []AEJoinNode{
		{Name: "node1", Owned: 64, Transfers: TransferCounters{KeysOut: 25_000}},
		{Name: "node4", Owned: 64, Transfers: TransferCounters{KeysIn: 75_000, BytesIn: 16 << 20}},
	}}
	if join.Moved() != 75_000 || join.Copies() != 300_000 || join.HandedOff() != 25_000 {
		t.Errorf("join moved %d of %d", join.Moved(), join.Copies())
	}
	r := AEReport{Title: "t", Header: []string{"machine: x"}, Bytes: []AEBytesRow{bytesRow, {Percent: 10, Overwritten: 10000, Err: "boom"}},
		Foreground: fg, Join: join, Notes: []string{"n1"}}
	var buf bytes.Buffer
	r.WriteMarkdown(&buf, 200*time.Millisecond)
	out := buf.String()
	for _, want := range []string{
		"| 1 % | 1000 | 1000 / 250 → 0 / 0 | 200 | 10 / 200 | 30.4 KB | 28.3 KB | 29 | 0.25 % | 1.0 … 2.0 | 1.5 | 360 |",
		"| 10 % | 10000 | failed: boom |",
		"| 10 % | GET P1 | 1 / 2 | 30000 | 28000 | 1.000 | 1.000 | 5.000 | 5.000 | 8.000 | 11.000 | 1.38 | 3.2 (90 %: 1.2) of 10.0 |",
		"| 10 % | GET P1 | on | 1 | 300000 | 29000 | 1.000 | 5.000 | 12.000 |",
		"| 10 % | GET P1 | on | 2 | 300000 | 27000 | 1.000 | 5.000 | 10.000 |",
		"| 10 % | GET P1 | on | 3 | failed: timeout |",
		"Each figure is the median of the runs",
		"| 0.0 … 10.0 | 0.8 … 4.0 | 2.0 | 200 | 30000 | 30.4 KB | 10000 → 0 |",
		"| 1 % | node1 | 5 | 100 | 90 | 0 | 150 | 10000 | 20000 |",
		"| node4 | 64 | 75000 | 16.0 MB | 0 | 0 B |",
		"| 3 × 100000 = 300000 | 75000 | 0.250 | 0.250 | 0.083 | 20.0 s |",
		"Note: n1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
