# pyreplay — build, test, fidelity, bench.
# Go's build and module caches live inside the repository (.cache/), so a
# clean clone builds the same way everywhere and nothing is cached outside it.
export GOCACHE    ?= $(CURDIR)/.cache/go-build
export GOMODCACHE ?= $(CURDIR)/.cache/go-mod
export GOFLAGS    ?= -mod=mod
export CGO_ENABLED = 1

BIN := $(CURDIR)/bin/pyreplay
GO_SOURCES := $(shell find . -name '*.go' -not -path './.cache/*' -not -path './editors/*') \
              $(shell find pyshim -name '*.py') recording/schema.sql go.mod go.sum

.PHONY: all build test test-go test-vscode fidelity bench demo clean criu

all: build

build: $(BIN)

$(BIN): $(GO_SOURCES)
	go build -o $(BIN) ./cmd/pyreplay

# The whole suite: Go tests (unit and end-to-end, every installed CPython),
# the fast fidelity subset, a short fuzzing of the DAP adapter's input (the
# seed corpus in dap/testdata/fuzz also runs as plain tests; budgets count
# executions: a -fuzztime duration races Go 1.26's fuzz coordinator,
# golang/go#75804, and fails at its end with "context deadline exceeded"), and the VS
# Code DebugClient test. CRIU (for the checkpoint tests) is built first when
# no usable one is found (see `criu` below).
test: build
	@sh checkpoint/build-criu.sh --if-missing "$(abspath $(CRIU_SRC))" "$(CRIU_DIR)" || echo "make test: no usable CRIU could be had; the CRIU tests will skip"
	PYREPLAY_BIN=$(BIN) go test -count=1 -timeout 20m ./...
	go test ./dap -run '^$$' -fuzz '^FuzzWire$$' -fuzztime 70000x
	go test ./dap -run '^$$' -fuzz '^FuzzDispatch$$' -fuzztime 5000x
	$(MAKE) --no-print-directory test-vscode

test-vscode: build
	@if [ -f editors/vscode/test/run.sh ]; then PYREPLAY_BIN=$(BIN) sh editors/vscode/test/run.sh; fi

# Every line of every fixture, several hits each, on every installed CPython.
fidelity: build
	@PYREPLAY_BIN=$(BIN) PYREPLAY_FIDELITY=full go test -count=1 -timeout 60m -v -run TestFidelity ./reconstruct/fidelity/ > fidelity.log 2>&1; rc=$$?; \
	grep -E '^\s+(WRONG|fidelity_test)|^--- FAIL' fidelity.log | head -50; \
	awk '/fidelity \(exact/{p=1} p&&/^(---|===|ok|FAIL|PASS)/{p=0} p' fidelity.log | head -150; \
	echo "full log: fidelity.log"; exit $$rc

bench: build
	PYREPLAY_BIN=$(BIN) go run ./bench

# Record a shipped example and resume it from its snapshot.
demo: build
	cd fixtures/demo && rm -rf .pyreplay && $(BIN) record -b counter.py:11@6 counter.py && $(BIN) ls && $(BIN) resume snap-1

# CRIU >= 4.1 for the checkpoint fallback (issue 13), built from a source
# tarball into .cache/criu/criu. Debian's build packages are installed first
# (apt-get, non-interactive, only those missing; needs root). Nothing is done
# when .cache/criu/criu is already there and `criu --version` says >= 4.1.
CRIU_SRC ?= ../shared/vendor/criu-4.2.tar.xz
CRIU_DIR := $(CURDIR)/.cache/criu
criu:
	@sh checkpoint/build-criu.sh "$(abspath $(CRIU_SRC))" "$(CRIU_DIR)"

clean:
	rm -rf bin .cache/go-build
