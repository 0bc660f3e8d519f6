package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/dynago/dynago/bench"
)

// cacheRun is `make bench-cache` (issue 14): redis-server and one dynago
// node under the same maxmemory and policy, each driven by the same
// cache-aside Zipf workload over about ten times more keys than fit, with
// the hit rate, throughput and CPU per request of each.
func (h *harness) cacheRun(ctx context.Context) error {
	h.cfg.systems = []string{bench.Redis, bench.Single}
	if err := h.setup(ctx); err != nil {
		return err
	}
	start := time.Now().UTC()
	limit := h.cfg.cacheMaxMemory
	bytesLimit, err := strconv.ParseInt(limit[:len(limit)-2], 10, 64)
	if err != nil || limit[len(limit)-2:] != "mb" {
		return fmt.Errorf("--cache-maxmemory %q: want <n>mb", limit)
	}
	bytesLimit <<= 20
	w := bench.CacheWorkload{Skew: h.cfg.cacheSkew, Workers: 16, Requests: h.cfg.cacheRequests, ValueSize: h.cfg.dataSize}
	// About 200 bytes of used_memory per key in both (docs/eviction.md).
	w.Keys = int(10 * bytesLimit / 200)

	srv := h.servers()
	mem := []string{"--maxmemory", limit, "--maxmemory-policy", h.cfg.cachePolicy}
	type row struct {
		label                 string
		res                   bench.CacheResult
		cpu                   time.Duration
		used, evicted, dbsize string
	}
	var rows []row
	for _, id := range []string{bench.Redis, bench.Single} {
		var sys *bench.System
		if id == bench.Redis {
			sys, err = srv.StartRedis(ctx, mem...)
		} else {
			sys, err = srv.StartSingle(ctx, append(mem, "--durability", "none")...)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(h.log, "bench: cache workload on %s: %d GETs over %d keys, Zipf s=%.2f\n", sys.Label, w.Requests, w.Keys, w.Skew)
		cpu0, _ := systemCPU(sys)
		res, err := bench.RunCache(ctx, sys.Endpoint.Addr, w)
		if err != nil {
			return err
		}
		cpu1, _ := systemCPU(sys)
		c := bench.NewClient(sys.Endpoint.Addr, 1)
		m, _ := info(ctx, c, "memory")
		st, _ := info(ctx, c, "stats")
		n, _ := c.DBSize(ctx).Result()
		c.Close()
		rows = append(rows, row{sys.Label, res, cpu1 - cpu0, m["used_memory"], st["evicted_keys"], strconv.FormatInt(n, 10)})
		if err := bench.StopAll(sys.Procs, h.cfg.stopGrace); err != nil {
			return err
		}
	}

	var rep bytes.Buffer
	fmt.Fprintf(&rep, "# dynago cache mode next to redis-server (%s)\n\n", start.Format(time.RFC3339))
	fmt.Fprintf(&rep, "maxmemory %s, %s; cache-aside (GET, SET on a miss) with 16 connections over %d keys drawn Zipf s=%.2f, %d-byte values; %d GETs, figures over the second half. dynago runs with --durability none (a cache); redis-server without persistence. Load average: %s.\n\n",
		limit, h.cfg.cachePolicy, w.Keys, w.Skew, w.ValueSize, w.Requests, loadAvg())
	fmt.Fprintln(&rep, "| system | hit rate | requests/s | CPU µs/request | used_memory | keys held | evicted | errors |")
	fmt.Fprintln(&rep, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		reqs := r.res.Gets + r.res.Gets - r.res.Hits
		cpuPer := "n/a"
		if reqs > 0 && r.cpu > 0 {
			// CPU over the whole run, requests of both halves.
			cpuPer = fmt.Sprintf("%.1f", float64(r.cpu.Microseconds())/float64(2*reqs))
		}
		fmt.Fprintf(&rep, "| %s | %.1f %% | %.0f | %s | %s | %s | %s | %d |\n", r.label, 100*r.res.HitRate(),
			r.res.OpsPerSec(), cpuPer, r.used, r.dbsize, r.evicted, r.res.Errors)
	}
	if len(rows) == 2 {
		fmt.Fprintf(&rep, "\nHit rate difference (dynago − redis): %+.1f points (goal: within 5).\n",
			100*(rows[1].res.HitRate()-rows[0].res.HitRate()))
	}
	if err := os.MkdirAll(h.cfg.resultsDir, 0o755); err == nil {
		path := filepath.Join(h.cfg.resultsDir, start.Format("20060102T150405Z")+"-cache.md")
		if os.WriteFile(path, rep.Bytes(), 0o644) == nil {
			fmt.Fprintf(&rep, "\nSaved: %s\n", path)
		}
	}
	h.out.Write(rep.Bytes())
	return nil
}
