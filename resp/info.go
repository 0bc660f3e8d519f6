package resp

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// INFO [section ...]: Redis's sections (server, clients, memory, stats,
// replication, commandstats, latencystats) followed by the Backend's
// (keyspace, persistence, and in a cluster cluster/replication/hints/
// antientropy). Deviation: the default set includes latencystats, the
// per-command p50/p99/p99.9 that docs/architecture.md §8 puts in INFO (Redis shows them
// only for INFO all/latencystats).
func (s *Server) cmdInfo(ctx context.Context, c *Client, args [][]byte, w *Writer) {
	want := map[string]bool{}
	all, everything := len(args) == 1, false
	for _, a := range args[1:] {
		switch sec := strings.ToLower(string(a)); sec {
		case "all", "everything":
			everything = true
		case "default":
			all = true
		default:
			want[sec] = true
		}
	}
	pick := func(name string, inDefault bool) bool {
		return everything || (all && inDefault) || want[strings.ToLower(name)]
	}

	var sections []InfoSection
	own := []struct {
		name      string
		inDefault bool
		fields    func() []InfoField
	}{
		{"Server", true, s.infoServer},
		{"Clients", true, s.infoClients},
		{"Memory", true, s.infoMemory},
		{"Stats", true, s.infoStats},
		{"Commandstats", false, s.infoCommandStats},
		{"Latencystats", true, s.infoLatencyStats},
	}
	for _, sec := range own {
		if pick(sec.name, sec.inDefault) {
			sections = append(sections, InfoSection{Name: sec.name, Fields: sec.fields()})
		}
	}
	backend := s.b.Info(ctx)
	hasReplication := slices.ContainsFunc(backend, func(b InfoSection) bool { return strings.EqualFold(b.Name, "replication") })
	if !hasReplication && pick("Replication", true) {
		// Clients (and redis-cli --stat) look for role:master here.
		sections = append(sections, InfoSection{Name: "Replication", Fields: []InfoField{
			{"role", "master"}, {"connected_slaves", "0"},
		}})
	}
	hasCluster := slices.ContainsFunc(backend, func(b InfoSection) bool { return strings.EqualFold(b.Name, "cluster") })
	if !hasCluster && pick("Cluster", true) {
		sections = append(sections, s.withClusterEnabled(InfoSection{Name: "Cluster"}))
	}
	for _, sec := range backend {
		if pick(sec.Name, true) {
			if strings.EqualFold(sec.Name, "cluster") {
				sec = s.withClusterEnabled(sec)
			}
			sections = append(sections, sec)
		}
	}
	w.WriteVerbatim(renderInfo(sections))
}

// withClusterEnabled puts Redis's cluster_enabled:0|1 first in the Cluster
// section unless the backend wrote it: redis-cli --cluster refuses a node
// whose INFO lacks cluster_enabled:1. The backend's slice is not modified.
func (s *Server) withClusterEnabled(sec InfoSection) InfoSection {
	if slices.ContainsFunc(sec.Fields, func(f InfoField) bool { return f.Key == "cluster_enabled" }) {
		return sec
	}
	enabled := "0"
	if s.cluster != nil {
		enabled = "1"
	}
	sec.Fields = append([]InfoField{{"cluster_enabled", enabled}}, sec.Fields...)
	return sec
}

// renderInfo writes sections as INFO does: "# Name" then "key:value"
// lines, CRLF-terminated, a blank line between sections.
func renderInfo(sections []InfoSection) string {
	var b strings.Builder
	for i, sec := range sections {
		if i > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + sec.Name + "\r\n")
		writeInfoFields(&b, sec.Fields)
	}
	return b.String()
}

// writeInfoFields writes "key:value" lines, CRLF-terminated.
func writeInfoFields(b *strings.Builder, fields []InfoField) {
	for _, f := range fields {
		b.WriteString(f.Key + ":" + f.Value + "\r\n")
	}
}

func (s *Server) infoServer() []InfoField {
	now := s.cfg.now()
	up := now.Sub(s.started)
	_, port, _ := net.SplitHostPort(s.cfg.Addr)
	exe, _ := os.Executable()
	return []InfoField{
		{"redis_version", redisVersion},
		{"dynago_version", s.cfg.Version},
		{"redis_git_sha1", "00000000"},
		{"redis_git_dirty", "0"},
		{"redis_mode", s.redisMode()},
		{"os", runtime.GOOS + " " + runtime.GOARCH},
		{"arch_bits", strconv.Itoa(strconv.IntSize)},
		{"go_version", runtime.Version()},
		{"process_id", strconv.Itoa(os.Getpid())},
		{"run_id", s.cfg.NodeID},
		{"tcp_port", port},
		{"server_time_usec", strconv.FormatInt(now.UnixMicro(), 10)},
		{"uptime_in_seconds", strconv.FormatInt(int64(up/time.Second), 10)},
		{"uptime_in_days", strconv.FormatInt(int64(up/(24*time.Hour)), 10)},
		{"executable", exe},
	}
}

// redisMode is INFO's redis_mode: "cluster" once EnableCluster ran.
func (s *Server) redisMode() string {
	if s.cluster != nil {
		return "cluster"
	}
	return "standalone"
}

func (s *Server) infoClients() []InfoField {
	s.mu.Lock()
	n := len(s.mu.conns)
	s.mu.Unlock()
	return []InfoField{
		{"connected_clients", strconv.Itoa(n)},
		{"cluster_connections", "0"},
		{"maxclients", strconv.FormatInt(s.maxClients.Load(), 10)},
		{"blocked_clients", "0"},
		{"tracking_clients", "0"},
	}
}

// infoMemory reports the data's size against maxmemory (used_memory is
// the logical size of the live data, what maxmemory limits), the Go
// runtime's view, and the RSS from /proc/self/statm (Linux; 0 elsewhere).
func (s *Server) infoMemory() []InfoField {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss := residentBytes()
	limit := s.infoMemoryLimit()
	return append(limit[:2:2], []InfoField{
		{"used_memory_rss", strconv.FormatUint(rss, 10)},
		{"used_memory_rss_human", humanBytes(rss)},
		{"used_memory_sys", strconv.FormatUint(ms.Sys, 10)},
		{"go_heap_alloc", strconv.FormatUint(ms.HeapAlloc, 10)},
		{"go_heap_objects", strconv.FormatUint(ms.HeapObjects, 10)},
		{"go_gc_cycles", strconv.FormatUint(uint64(ms.NumGC), 10)},
		{"go_goroutines", strconv.Itoa(runtime.NumGoroutine())},
		limit[2], limit[3], limit[4],
		{"mem_allocator", "go"},
	}...)
}

func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

func humanBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2fG", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2fM", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2fK", float64(n)/(1<<10))
	}
	return strconv.FormatUint(n, 10) + "B"
}

func (s *Server) infoStats() []InfoField {
	st := &s.stats
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	var expired, evicted int64
	if s.mem != nil {
		expired, evicted = s.mem.ExpiredKeys(), s.mem.EvictedKeys()
	}
	return []InfoField{
		{"total_connections_received", i(st.connsReceived.Load())},
		{"total_commands_processed", i(st.commands.Load())},
		{"instantaneous_ops_per_sec", i(st.opsPerSec(s.cfg.now().UnixNano()))},
		{"total_net_input_bytes", i(st.netIn.Load())},
		{"total_net_output_bytes", i(st.netOut.Load())},
		{"rejected_connections", i(st.rejectedConns.Load())},
		{"expired_keys", i(expired)},
		{"evicted_keys", i(evicted)},
		{"keyspace_hits", i(st.hits.Load())},
		{"keyspace_misses", i(st.misses.Load())},
		{"total_error_replies", i(st.errorReplies.Load())},
		{"dynago_protocol_errors", i(st.protoErrors.Load())},
		{"dynago_output_limit_disconnections", i(st.outputLimitKills.Load())},
		{"dynago_auth_failures", i(st.authFailures.Load())},
	}
}

// eachCommand calls fn for every command and subcommand, sorted by name.
func (s *Server) eachCommand(fn func(*Command)) {
	names := make([]string, 0, len(s.cmds))
	for n := range s.cmds {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		cmd := s.cmds[n]
		fn(cmd)
		subs := make([]string, 0, len(cmd.Subcommands))
		for sn := range cmd.Subcommands {
			subs = append(subs, sn)
		}
		slices.Sort(subs)
		for _, sn := range subs {
			fn(cmd.Subcommands[sn])
		}
	}
}

// infoCommandStats is Redis's cmdstat_<name> lines for commands called
// at least once.
func (s *Server) infoCommandStats() []InfoField {
	var out []InfoField
	s.eachCommand(func(cmd *Command) {
		st := cmd.stats
		calls := st.calls.Load()
		if calls == 0 && st.rejected.Load() == 0 {
			return
		}
		usec := st.nanos.Load() / 1000
		per := 0.0
		if calls > 0 {
			per = float64(usec) / float64(calls)
		}
		out = append(out, InfoField{"cmdstat_" + cmd.fullName, fmt.Sprintf(
			"calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d",
			calls, usec, per, st.rejected.Load(), st.failed.Load())})
	})
	return out
}

// infoLatencyStats is Redis 7's latency_percentiles_usec_<name> lines.
func (s *Server) infoLatencyStats() []InfoField {
	var out []InfoField
	s.eachCommand(func(cmd *Command) {
		p, n := cmd.stats.hist.percentiles(0.5, 0.99, 0.999)
		if n == 0 {
			return
		}
		out = append(out, InfoField{"latency_percentiles_usec_" + cmd.fullName, fmt.Sprintf(
			"p50=%.3f,p99=%.3f,p99.9=%.3f", float64(p[0])/1000, float64(p[1])/1000, float64(p[2])/1000)})
	})
	return out
}
