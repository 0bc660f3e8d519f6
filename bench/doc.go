// Package bench is the harness behind `make bench` and `make bench-scale`
// (issue 5) and `make bench-ae` (issue 4): it measures dynago against a stock redis-server on the same
// machine, in the same run, with the same client, so that speed is a
// number with a baseline rather than an impression. The command is
// bench/cmd/dynago-bench; this package holds its parts.
//
// # What runs
//
// Three systems on loopback, each on its own free ports and temporary
// data directory (systems.go): redis-server with persistence off
// (--save "" --appendonly no); one dynago node with its defaults; and a
// three-node dynago cluster (N=3, R=2, W=2, default durability) whose
// nodes 2 and 3 --join node 1, ready once CLUSTER INFO on every node says
// cluster_state:ok and cluster_known_nodes:3. Every process is started by
// StartProc and stopped by PID (SIGTERM, SIGKILL after a grace period),
// also on error, Ctrl-C or the global deadline.
//
// The cluster is driven two ways. "via node 1": redis-benchmark sends all
// 50 connections to node 1, as a cluster-unaware client does; node 1
// coordinates reads and forwards writes it is not a home replica for.
// "--cluster": redis-benchmark --cluster reads CLUSTER NODES and spreads
// its connections over the masters listed, each connection sending keys
// hash-tagged for its master's first slot, which is the paper's
// client-driven coordination (§6.4) with an off-the-shelf client. That row
// appears only if it works against dynago's replies; otherwise the report
// says why.
//
// # What is measured
//
// redis-benchmark (redis-tools 7) with 50 connections, 100-byte values and
// keys drawn uniformly from key:000000000000 … key:000000099999 (its -r
// format: 12-digit zero padding). Before any run every one of those keys is
// written (Load), so GET always hits; with --cluster the keys carry
// redis-benchmark's hash tags, which ProbeClusterPrefixes learns from
// redis-benchmark itself. Workloads: SET and GET at -P 1 and -P 16, and
// PING_MBULK (the protocol ceiling: no storage, no replication); then INCR,
// HSET, SADD and ZADD at -P 1 and -P 16 (quick runs: -P 16 only), each
// compared with SET on the same system.
//
// INCR is redis-benchmark's own test (-t incr): keys counter:<rand>, drawn
// from the same -r keyspace as SET's and not preloaded (INCR creates them).
// HSET, SADD and ZADD are sent as command lines, because redis-benchmark's
// own hset/sadd/zadd tests write a single collection (myhash, myset,
// myzset) that grows by every request, which is neither realistic nor,
// in a cluster, spread over the nodes:
//
//	redis-benchmark … -r 1000 HSET bench:h:__rand_int__ f:__rand_int__ <100 × x>
//	redis-benchmark … -r 1000 SADD bench:s:__rand_int__ m:__rand_int__
//	redis-benchmark … -r 1000 ZADD bench:z:__rand_int__ __rand_int__ m:__rand_int__
//
// (with --cluster the key is bench:h:{tag}:__rand_int__, as redis-benchmark
// requires). redis-benchmark draws every __rand_int__ of a command anew
// (checked with MONITOR), so with -r 1000 (--collection-keys) the requests
// spread uniformly over 1000 collections of each type, each holding up to
// 1000 fields or members, a million pairs in all: within a run the
// collections grow to hundreds of members, and later requests increasingly
// overwrite a field or re-score a member rather than add one. The HSET
// value has SET's -d size; members and scores are 12-digit numbers. As
// runs are sized by time, a faster system sends more requests and so
// reaches larger collections (at most 1000): the comparison favours slow
// systems slightly, where a collection's cost grows with its size.
//
// The report's "vs SET" table holds, per system and depth, INCR's ops/s
// and HSET's, SADD's and ZADD's CPU µs/op and ops/s divided by SET's in the
// same run (VsSet), against the goals: INCR at least as fast as SET, the
// collections within 1.5x SET's CPU per request. redis-server's line is
// the reference.
//
// The machine is shared and noisy, so within each workload the systems are
// interleaved (A B C A B C …) and each cell is the median of 3 runs
// (Schedule, Median). A warm-up per cell, not measured, sizes -n so that a
// run takes a few seconds whatever the system's speed (SizeRequests).
//
// p50 and p99 are redis-benchmark's own summary figures. p99.9, the
// paper's SLA percentile, is not in redis-benchmark's CSV output, so the
// harness parses its default output and reads p99.9 from the printed HDR
// latency distribution (ParseOutput, quantile): the smallest latency whose
// cumulative count reaches 99.9 % of the requests, which lies between the
// true p99.9 and p99.902.
//
// CPU µs/op is the server side's cost of a request: utime+stime of every
// process of the system under test (the three nodes of the cluster), read
// from /proc/PID/stat before and after each measured run (ReadCPU,
// ParseProcStat: fields counted after the last ')', as comm may hold
// spaces and parentheses; 100 ticks per second), divided by the requests
// the run completed. It includes whatever the servers did meanwhile in the
// background (pebble compactions, gossip), also work left over from the
// previous run; the tick is 10 ms, i.e. well under 1 % of a run's CPU.
//
// The report is one Markdown table (system × workload: ops/s, CPU µs/op,
// p50, p99, p99.9, and each row's ratio to redis-server's ops/s and p99.9), the
// issue's targets with PASS/FAIL, the machine, versions and commit, and the
// RSS (VmRSS, VmHWM) and data directory size of every server after the
// run. The table is also written as CSV to bench/results/ (not committed).
// redis-benchmark 7 stops at the first error reply and exits 1: such a run
// is a failure, listed under Failures with redis-benchmark's message, and
// the plan goes on. A cell none of whose runs succeeded is a "failed" row
// in the table; once a server has answered "unknown command" the cell's
// remaining runs are skipped (UnknownCommand). Failures make the exit
// status 1, after the report. redis-benchmark --cluster, though, counts
// error replies as answers without a word (a refused HSET showed 331k
// ops/s): for that row the nodes' INFO stats total_error_replies are read
// around every run, and a run during which they grew fails with what the
// harness itself is answered for one request of the workload
// (Workload.Probe).
//
// # The anti-entropy run
//
// `make bench-ae` (dynago-bench --ae, bench/cmd/dynago-bench/ae.go)
// measures what issue 4's note reports, on a three-node cluster (N=3,
// R=2, W=2, --test-no-handoff, --probe-interval 200ms) holding --keyspace
// keys (100k, the ring's 256 partitions). The nodes keep their ports for
// the whole run because a data directory holds the ring; each state is a
// set of stopped nodes' data directories (CopyDir), copied before every
// run that starts from it:
//
//   - base: the keys loaded with anti-entropy on, then 3 rounds on every
//     node without a repair; the cost of an exchange that finds equal
//     roots is measured there (IdleBytesPerExchange).
//   - div-P for each divergence P: base with node3 stopped while P % of
//     the keys (every k-th) are overwritten through node1, anti-entropy
//     off; restarted once to count node3's stale keys (DYNAGO LOCAL
//     contexts against node1's) and the partitions whose tree roots
//     differ (DYNAGO AE).
//
// Bytes: each div-P restarted with anti-entropy on and no client, INFO
// antientropy polled on every node (every 200 ms) until every node has
// run 3 rounds without a repair (SummarizeRepairs). Join: base restarted,
// a fourth node started with --join, until every node's ring has 4
// members, nothing pending, streaming or left to hand off; keys streamed
// in against the ideal 1/4 of the 3 × keys copies. Foreground, --runs
// times (3; each cell's median is reported): each div-P of
// --ae-foreground restarted with anti-entropy off and with it on (the
// order alternating from run to run), once per workload (SET and GET at
// -P 1, 50 clients, -n sized for --run-seconds, 10, from a warm-up on
// base), redis-benchmark started against node 1 as soon as the cluster
// has formed and its trees are built, the repairs watched meanwhile and
// until they stop. The Markdown report (AEReport) goes to stdout and
// bench/results/<UTC>-ae.md.
//
// # Usage
//
//	make bench                                  # all systems, ~20 minutes today
//	make bench BENCH_QUICK=1                    # ~2 minutes, 1 run per cell
//	make bench BENCH_ARGS='--systems redis,single'
//	make bench-scale                            # 1M keys in the cluster
//	make bench-ae                               # anti-entropy and join, ~10 minutes
//	make bench-ae BENCH_QUICK=1                 # ~2 minutes, 1 run per cell of 2 s
//	make bench-ae BENCH_ARGS='--ae-foreground 10 --runs 5'
//	make bench BENCH_ARGS='--workloads set-p16,hset-p16,sadd-p16,zadd-p16'
//	bin/dynago-bench --attach single=127.0.0.1:7000 --workloads get-p1 --runs 5
//
// The last form benchmarks systems started elsewhere (e.g. under a
// profiler) without starting or stopping anything.
package bench
