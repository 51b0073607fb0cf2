# The two set-up commands of the README: `make serve` and `make test`.
SWIFT ?= swift
HOST ?= 127.0.0.1
PORT ?= 8080
DATA_DIR ?= ./.memoryplane
SERVE_FLAGS ?=
BIN := .build/debug/memoryplane

.PHONY: deps build serve test swift-test e2e-test bench chaos fuzz clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build --product memoryplane

## Install what is missing, build, and run the server in the foreground.
serve: build
	$(BIN) serve --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR) $(SERVE_FLAGS)

## Install what is missing, then run the whole suite: Swift unit and integration tests, then
## the end-to-end suite against the real binary.
test:
	@scripts/install-deps.sh --test
	$(SWIFT) build --build-tests
	$(MAKE) swift-test e2e-test

swift-test:
	$(SWIFT) test --skip-build

e2e-test:
	python3 -m pytest -q Tests/e2e

## Benchmarks on a release build, each beside its baseline measured in the same run:
## time to `available` (vs redis-cli --cluster create), AWS-door throughput (vs moto_server),
## supervision and reads at scale (vs unpolled nodes, moto_server), the endpoint (vs direct),
## mutating calls (vs moto_server), the console's clusters page with 100 nodes (drawn in headless chromium).
bench: deps
	@scripts/install-deps.sh --test
	@command -v wrk >/dev/null || { [ "$$(id -u)" -eq 0 ] && apt-get install -y -qq wrk >/dev/null; } || { echo "install wrk: sudo apt-get install -y wrk"; exit 1; }
	@python3 -c "import moto.server" 2>/dev/null || python3 -m pip install -q "moto[server]"
	$(SWIFT) build -c release --product memoryplane
	$(SWIFT) build -c release --product bench-hello
	python3 benchmarks/cluster_create.py --binary .build/release/memoryplane
	MEMORYPLANE_BINARY=.build/release/memoryplane python3 benchmarks/aws_door_throughput.py
	MEMORYPLANE_BINARY=.build/release/memoryplane python3 benchmarks/authorization.py
	MEMORYPLANE_BINARY=.build/release/memoryplane python3 benchmarks/connection_burst.py --binary .build/release/memoryplane
	MEMORYPLANE_BINARY=.build/release/memoryplane python3 benchmarks/failover.py
	MEMORYPLANE_BINARY=.build/release/memoryplane python3 benchmarks/snapshots.py
	MEMORYPLANE_BINARY=.build/release/memoryplane python3 benchmarks/stacks.py
	MEMORYPLANE_BINARY=.build/release/memoryplane python3 benchmarks/observability.py
	MEMORYPLANE_BINARY=.build/release/memoryplane python3 benchmarks/resharding.py
	MEMORYPLANE_BINARY=.build/release/memoryplane python3 benchmarks/scale.py
	MEMORYPLANE_BINARY=.build/release/memoryplane python3 benchmarks/endpoint.py
	MEMORYPLANE_BINARY=.build/release/memoryplane python3 benchmarks/writes.py
	MEMORYPLANE_BINARY=.build/release/memoryplane python3 benchmarks/console.py

## Every kind of shape change broken at each step boundary by each fault (kill -9 of the source
## primary, the target primary, a replica, serve; SIGSTOP of the target or the source): 180 cases, about 75
## minutes. `make test` runs a subset (Tests/e2e/test_chaos.py). CHAOS_ARGS=--only reshard-up.
chaos: build
	@scripts/install-deps.sh --test
	python3 scripts/chaos.py $(CHAOS_ARGS)

## schemathesis with every check against a live server and api-spec/openapi.yaml, bounded by
## FUZZ_SECONDS (default 600). Not part of `make test`.
fuzz: build
	@scripts/install-deps.sh --test
	@command -v schemathesis >/dev/null || python3 -m pip install -q schemathesis
	python3 scripts/fuzz.py --seconds $${FUZZ_SECONDS:-600}

clean:
	rm -rf .build
