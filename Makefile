# The two set-up commands of the README: `make serve` and `make test`.
SWIFT ?= swift
HOST ?= 127.0.0.1
PORT ?= 8080
DATA_DIR ?= ./.memoryplane
SERVE_FLAGS ?=
BIN := .build/debug/memoryplane

.PHONY: deps build serve test swift-test e2e-test bench clean

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

## Time to `available` for 1x0, 2x1 and 3x1 clusters beside `redis-cli --cluster create`.
bench: build
	@scripts/install-deps.sh --test
	python3 benchmarks/cluster_create.py --binary $(BIN)

clean:
	rm -rf .build
