# dynago — see README.md. Every target works on a fresh machine with Go.

GO        ?= go
BIN       := bin/dynago
ARGS      ?=
FUZZTIME  ?= 30s
# Packages whose tests exercise concurrency run under the race detector.
RACE_PKGS := ./version/... ./engine/... ./ring/... ./coordinator/... ./resp/... ./antientropy/... ./node/...

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
	$(GO) test -timeout 15m ./cmd/... ./integration/...

# Each fuzz target for FUZZTIME (make fuzz FUZZTIME=5m).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./version/... ./engine/... ./ring/... ./resp/... ./coordinator/...

clean:
	rm -rf bin
