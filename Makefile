# dynago — see README.md. Every target works on a fresh machine with Go.

GO        ?= go
BIN       := bin/dynago
ARGS      ?=
FUZZTIME  ?= 30s
# Packages whose tests exercise concurrency run under the race detector.
RACE_PKGS := ./version/... ./crdt/... ./engine/... ./ring/... ./coordinator/... ./resp/... ./antientropy/... ./node/... ./internal/...

.PHONY: all build run test test-short vet fuzz bench cluster cluster-stop clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/dynago

# One node on the embedded default: 127.0.0.1:6379, data in ./dynago-data.
run: build
	./$(BIN) $(ARGS)

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Unit, property and fuzz-seed tests (race detector on), then the
# integration tests against the real binary.
test: vet build
	$(GO) test -race -timeout 10m $(RACE_PKGS)
	$(GO) test -count=1 -timeout 15m ./cmd/... ./bench/... ./integration/...

# Each fuzz target for FUZZTIME (make fuzz FUZZTIME=5m).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

# dynago side by side with a stock redis-server (issue 5): one Markdown table,
# saved with the CSV in bench/results/. BENCH_QUICK=1 for a ~2-minute run;
# BENCH_ARGS for harness flags (BENCH_ARGS='--systems redis,single', or
# BENCH_ARGS=--help); BENCH_GO=1 to run the Go micro-benchmarks afterwards.
.PHONY: bench-go bench-scale bench-ae bench-cache
BENCH_ARGS ?=
bench:
	$(GO) build -o bin/dynago-bench ./bench/cmd/dynago-bench
	BENCH_QUICK='$(BENCH_QUICK)' GO='$(GO)' ./bin/dynago-bench $(BENCH_ARGS)
	@if [ -n "$(BENCH_GO)" ] && [ "$(BENCH_GO)" != 0 ]; then $(MAKE) --no-print-directory bench-go; fi

# Go micro-benchmarks of the hot paths; compare runs with benchstat.
bench-go: build
	$(GO) test -run '^$$' -bench . -benchmem ./version/... ./crdt/... ./engine/... ./ring/... ./resp/... ./coordinator/...

# 1M keys of 100 bytes in the 3-node cluster (BENCH_ARGS=--scale-10m: 10M):
# load and GET throughput, RSS per node, data dirs vs raw bytes. Not in CI.
bench-scale:
	$(GO) build -o bin/dynago-bench ./bench/cmd/dynago-bench
	GO='$(GO)' ./bin/dynago-bench --scale $(BENCH_ARGS)

# Anti-entropy and join of issue 4 on a 3-node cluster holding 100k keys of
# 100 bytes (about 10 minutes, deadline 15; BENCH_QUICK=1: about 2): AE bytes
# at 0.1/1/10 % of the keys diverged on one replica, a 3->4 join's moved data
# against the ideal 1/4, and foreground GET/SET p50/p99/p99.9 with AE repairing
# the replica next to AE off (median of 3 runs). Markdown in
# bench/results/<UTC>-ae.md. Not in CI.
# Cache mode (issue 14): redis-server and one dynago node under the same
# maxmemory (8mb) and allkeys-lru, each driven by a cache-aside Zipf
# workload over 10x the keys that fit: hit rate, throughput, CPU per
# request. Markdown in bench/results/<UTC>-cache.md. About 1 minute.
bench-cache:
	$(GO) build -o bin/dynago-bench ./bench/cmd/dynago-bench
	BENCH_QUICK='$(BENCH_QUICK)' GO='$(GO)' ./bin/dynago-bench --cache $(BENCH_ARGS)

bench-ae:
	$(GO) build -o bin/dynago-bench ./bench/cmd/dynago-bench
	BENCH_QUICK='$(BENCH_QUICK)' GO='$(GO)' ./bin/dynago-bench --ae $(BENCH_ARGS)

# A local 3-node cluster in background processes on 127.0.0.1:7001-7003
# (cluster ports 17001-17003), data in a temp dir, logs and PIDs in .cluster/;
# prints how to connect. Run again to restart nodes that died. Extra node
# flags: make cluster CLUSTER_ARGS='--w 3'. scripts/cluster.sh status: state.
cluster: build
	@CLUSTER_ARGS='$(CLUSTER_ARGS)' scripts/cluster.sh start

# Stops the nodes make cluster started (SIGTERM to the recorded PIDs only)
# and deletes their data; the logs stay in .cluster/.
cluster-stop:
	@scripts/cluster.sh stop

clean:
	rm -rf bin
