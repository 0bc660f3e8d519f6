package bench

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The parts of `make bench-ae` (issue 4) that need no process: reading a
// node's INFO antientropy, transfers and cluster sections and its DYNAGO
// AE tree roots, deciding when anti-entropy repairs have stopped, and
// copying a stopped node's data directory. The run itself is
// bench/cmd/dynago-bench/ae.go.

// AECounters are the counters of one node's INFO antientropy section.
// They start at zero when the process starts.
type AECounters struct {
	TreesReady     bool
	Rounds         int64
	Exchanges      int64 // exchanges this node started and completed
	ExchangesEqual int64 // ... that found the roots equal
	ExchangeErrors int64
	KeysRepaired   int64 // objects merged here or pushed to a peer by this node's exchanges
	BytesSent      int64 // counted by the node that started the exchange
	BytesReceived  int64
}

// Bytes is what this node's exchanges moved in both directions.
func (a AECounters) Bytes() int64 { return a.BytesSent + a.BytesReceived }

// Add sums counters (trees are ready when both are).
func (a AECounters) Add(b AECounters) AECounters {
	return AECounters{
		TreesReady:     a.TreesReady && b.TreesReady,
		Rounds:         a.Rounds + b.Rounds,
		Exchanges:      a.Exchanges + b.Exchanges,
		ExchangesEqual: a.ExchangesEqual + b.ExchangesEqual,
		ExchangeErrors: a.ExchangeErrors + b.ExchangeErrors,
		KeysRepaired:   a.KeysRepaired + b.KeysRepaired,
		BytesSent:      a.BytesSent + b.BytesSent,
		BytesReceived:  a.BytesReceived + b.BytesReceived,
	}
}

// infoInts reads the named integer fields of an INFO section.
func infoInts(section string, info map[string]string, fields map[string]*int64) error {
	for name, dst := range fields {
		v, ok := info[name]
		if !ok {
			return fmt.Errorf("bench: INFO %s has no %s", section, name)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return fmt.Errorf("bench: INFO %s %s:%q: %v", section, name, v, err)
		}
		*dst = n
	}
	return nil
}

// ParseAECounters reads INFO antientropy (as parsed by ParseInfo).
func ParseAECounters(info map[string]string) (AECounters, error) {
	var a AECounters
	var ready int64
	err := infoInts("antientropy", info, map[string]*int64{
		"trees_ready":     &ready,
		"rounds":          &a.Rounds,
		"exchanges":       &a.Exchanges,
		"exchanges_equal": &a.ExchangesEqual,
		"exchange_errors": &a.ExchangeErrors,
		"keys_repaired":   &a.KeysRepaired,
		"bytes_sent":      &a.BytesSent,
		"bytes_received":  &a.BytesReceived,
	})
	a.TreesReady = ready == 1
	return a, err
}

// TransferCounters are one node's INFO transfers section.
type TransferCounters struct {
	ToSync, ToHandOff, Streaming int64 // Streaming: the partition being streamed in, -1 none
	KeysIn, BytesIn              int64 // streamed in from other nodes
	KeysOut, BytesOut            int64 // handed off to other nodes
	Commits                      int64
}

// ParseTransferCounters reads INFO transfers.
func ParseTransferCounters(info map[string]string) (TransferCounters, error) {
	var t TransferCounters
	err := infoInts("transfers", info, map[string]*int64{
		"partitions_to_sync":     &t.ToSync,
		"partitions_to_hand_off": &t.ToHandOff,
		"partition_streaming":    &t.Streaming,
		"keys_streamed_in":       &t.KeysIn,
		"bytes_streamed_in":      &t.BytesIn,
		"keys_handed_off":        &t.KeysOut,
		"bytes_handed_off":       &t.BytesOut,
		"commits":                &t.Commits,
	})
	return t, err
}

// Idle reports whether the node has nothing left to stream in or hand off.
func (t TransferCounters) Idle() bool { return t.ToSync == 0 && t.ToHandOff == 0 && t.Streaming < 0 }

// ClusterView is what one node's INFO cluster says about the ring.
type ClusterView struct {
	Name       string
	Partitions int64
	Members    int64 // ring members not removed
	Pending    int64 // partitions pending to a new owner
	Owned      int64 // partitions this node is the first home replica of
	// Alive is the node's failure detector's view, by member name.
	Alive map[string]bool
}

// ParseClusterView reads INFO cluster.
func ParseClusterView(info map[string]string) (ClusterView, error) {
	v := ClusterView{Name: info["node_name"], Alive: map[string]bool{}}
	err := infoInts("cluster", info, map[string]*int64{
		"partitions":         &v.Partitions,
		"ring_members":       &v.Members,
		"partitions_pending": &v.Pending,
		"partitions_owned":   &v.Owned,
	})
	for k, val := range info {
		if !strings.HasPrefix(k, "member") {
			continue
		}
		var name string
		alive := false
		for _, kv := range strings.Split(val, ",") {
			switch {
			case strings.HasPrefix(kv, "name="):
				name = strings.TrimPrefix(kv, "name=")
			case kv == "alive=1":
				alive = true
			}
		}
		if name != "" {
			v.Alive[name] = alive
		}
	}
	return v, err
}

// ParseAERoots reads the per-partition lines of DYNAGO AE
// ("p17:root=00ab…,last_exchange=…"): partition → tree root, for the
// partitions the node replicates.
func ParseAERoots(text string) (map[int]uint64, error) {
	roots := map[int]uint64{}
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || len(k) < 2 || k[0] != 'p' {
			continue
		}
		p, err := strconv.Atoi(k[1:])
		if err != nil {
			continue // another field starting with p
		}
		hex, _, _ := strings.Cut(strings.TrimPrefix(v, "root="), ",")
		if !strings.HasPrefix(v, "root=") {
			return nil, fmt.Errorf("bench: DYNAGO AE line %q: no root", line)
		}
		r, err := strconv.ParseUint(hex, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("bench: DYNAGO AE line %q: %v", line, err)
		}
		roots[p] = r
	}
	return roots, nil
}

// DifferingPartitions compares the tree roots of several nodes (ParseAERoots
// of each): of the partitions two or more of them replicate (compared),
// how many do not have the same root on all of those (differ). Equal roots
// mean equal replicas (up to XOR cancellation, antientropy/doc.go).
func DifferingPartitions(views []map[int]uint64) (differ, compared int) {
	seen := map[int][]uint64{}
	for _, v := range views {
		for p, r := range v {
			seen[p] = append(seen[p], r)
		}
	}
	for _, rs := range seen {
		if len(rs) < 2 {
			continue
		}
		compared++
		for _, r := range rs[1:] {
			if r != rs[0] {
				differ++
				break
			}
		}
	}
	return differ, compared
}

// AESample is one poll of INFO antientropy on every node, At after the
// start of what is watched.
type AESample struct {
	At    time.Duration
	Nodes []AECounters
}

// Total sums the nodes' counters: each exchange is counted once, by the
// node that started it.
func (s AESample) Total() AECounters {
	var t AECounters
	for i, n := range s.Nodes {
		if i == 0 {
			t = n
			continue
		}
		t = t.Add(n)
	}
	return t
}

// RepairSummary is what a series of samples says about the repairs.
type RepairSummary struct {
	Repaired int64 // keys repaired by every node, at the last sample
	// Start is the time of the last sample showing no repair before the
	// first that shows one (that first sample's own time if none came
	// before it); Bulk is the time of the first sample showing 90 % of
	// the final count, BulkRepaired that sample's count; Last the time
	// of the first sample showing the final count. Repairs ran between
	// Start and Last. All -1 when nothing was repaired.
	Start, Bulk, Last time.Duration
	BulkRepaired      int64
	// AtLast is the sample at Last (the first if nothing was repaired).
	AtLast AESample
	// Settled: every node ran at least the quiet rounds asked for since
	// AtLast without repairing anything.
	Settled bool
	End     AESample // the last sample
}

// Rate is the keys repaired per second while the first 90 % of the
// repairs ran (Start to Bulk): the rate of the repair itself, without the
// trickle a concurrent writer adds (an exchange that lists a key between
// a write's arrival at one replica and at the other repairs it). 0 when
// Bulk is the first sample.
func (r RepairSummary) Rate() float64 {
	if r.Bulk <= r.Start || r.Start < 0 {
		return 0
	}
	return float64(r.BulkRepaired) / (r.Bulk - r.Start).Seconds()
}

// SummarizeRepairs finds when the repairs in samples (in time order, every
// one with the same nodes, counters starting at zero) began and stopped
// growing, and whether they have settled: every node has completed
// quietRounds rounds since the count last grew. A round in progress at the
// last growth may still repair; quietRounds of 2 or more rules it out.
func SummarizeRepairs(samples []AESample, quietRounds int64) RepairSummary {
	s := RepairSummary{Start: -1, Bulk: -1, Last: -1}
	if len(samples) == 0 {
		return s
	}
	s.End = samples[len(samples)-1]
	s.Repaired = s.End.Total().KeysRepaired
	bulk := (s.Repaired*9 + 9) / 10 // 90 %, rounded up
	last := 0
	for i, smp := range samples {
		n := smp.Total().KeysRepaired
		if n > 0 && s.Start < 0 {
			s.Start = smp.At
			if i > 0 {
				s.Start = samples[i-1].At
			}
		}
		if n > 0 && n >= bulk && s.Bulk < 0 {
			s.Bulk, s.BulkRepaired = smp.At, n
		}
		if n == s.Repaired {
			last = i
			break
		}
	}
	s.AtLast = samples[last]
	if s.Repaired > 0 {
		s.Last = s.AtLast.At
	}
	s.Settled = len(s.End.Nodes) == len(s.AtLast.Nodes) && len(s.End.Nodes) > 0
	for i, n := range s.End.Nodes {
		if s.Settled && n.Rounds-s.AtLast.Nodes[i].Rounds < quietRounds {
			s.Settled = false
		}
	}
	return s
}

// IdleBytesPerExchange is what an exchange that finds equal roots costs,
// from two samples between which every exchange found its roots equal and
// nothing was repaired (0, false if there is no such exchange between
// them).
func IdleBytesPerExchange(from, to AESample) (float64, bool) {
	a, b := from.Total(), to.Total()
	ex := b.Exchanges - a.Exchanges
	if ex <= 0 || b.ExchangesEqual-a.ExchangesEqual != ex || b.KeysRepaired != a.KeysRepaired {
		return 0, false
	}
	return float64(b.Bytes()-a.Bytes()) / float64(ex), true
}

// LocalContext reads the context token from a DYNAGO LOCAL reply (a map in
// RESP3, a flat key/value array in RESP2): the version vector of the
// node's own copy, "" when it holds nothing.
func LocalContext(v any) (string, error) {
	var get func(string) (any, bool)
	switch m := v.(type) {
	case map[any]any:
		get = func(k string) (any, bool) { x, ok := m[k]; return x, ok }
	case map[string]any:
		get = func(k string) (any, bool) { x, ok := m[k]; return x, ok }
	case []any:
		if len(m)%2 != 0 {
			return "", fmt.Errorf("bench: DYNAGO LOCAL reply: odd array of %d", len(m))
		}
		get = func(k string) (any, bool) {
			for i := 0; i < len(m); i += 2 {
				if s, _ := m[i].(string); s == k {
					return m[i+1], true
				}
			}
			return nil, false
		}
	default:
		return "", fmt.Errorf("bench: DYNAGO LOCAL reply is %T", v)
	}
	c, ok := get("context")
	if !ok {
		return "", fmt.Errorf("bench: DYNAGO LOCAL reply has no context")
	}
	s, ok := c.(string)
	if !ok && c != nil {
		return "", fmt.Errorf("bench: DYNAGO LOCAL context is %T", c)
	}
	return s, nil
}

// LocalContexts runs DYNAGO LOCAL for every key at addr, pipelined, and
// returns the context of the node's own copy of each (LocalContext).
func LocalContexts(ctx context.Context, addr string, keys []string) ([]string, error) {
	c := NewClient(addr, 1)
	defer c.Close()
	out := make([]string, len(keys))
	const batch = 500
	for lo := 0; lo < len(keys); lo += batch {
		hi := min(lo+batch, len(keys))
		pipe := c.Pipeline()
		for _, k := range keys[lo:hi] {
			pipe.Do(ctx, "DYNAGO", "LOCAL", k)
		}
		cmds, err := pipe.Exec(ctx)
		if err != nil {
			return nil, fmt.Errorf("bench: DYNAGO LOCAL at %s: %w", addr, err)
		}
		for i, cmd := range cmds {
			v, err := cmd.(interface{ Result() (any, error) }).Result()
			if err == nil {
				out[lo+i], err = LocalContext(v)
			}
			if err != nil {
				return nil, fmt.Errorf("bench: DYNAGO LOCAL %s at %s: %w", keys[lo+i], addr, err)
			}
		}
	}
	return out, nil
}

// CopyDir copies the tree at src to dst (created; it must not exist):
// regular files and directories only. It is how the anti-entropy run
// keeps a stopped node's data directory to start several runs from the
// same state. Pebble rewrites and recycles files in place, so a copy, not
// a hard link.
func CopyDir(src, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("bench: copy %s: %s exists", src, dst)
	}
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		case d.Type().IsRegular():
			return copyFile(path, to)
		default:
			return fmt.Errorf("bench: copy %s: %s is neither a file nor a directory", src, path)
		}
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
