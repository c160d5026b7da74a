# Courtyard: the two commands in README are `make demo` and `make test`.
CARGO ?= cargo
E2E_THREADS ?= 4
PLUGIN_WASM_DIR := plugins/target/wasm32-wasip2/release
BIN := target/release/courtyard

.PHONY: deps plugins examples runtime build demo test test-runtime test-plugins test-console bench fuzz clean

## Install system packages and the wasm32-wasip2 target (idempotent).
deps:
	bash scripts/install-deps.sh

## Build every shipped plugin as a WebAssembly component.
plugins:
	cd plugins && $(CARGO) build --release

## Build the Python and JS example flows (componentize-py / componentize-js, see scripts/polyglot.sh).
examples:
	bash scripts/polyglot.sh build

## Build the host runtime (binary `courtyard`).
runtime:
	$(CARGO) build --release -p courtyard

build: plugins runtime

## Install everything, build, and start the demo call center (SIP on 0.0.0.0:5060, console on 127.0.0.1:8080).
demo: deps build
	$(BIN) demo --plugins $(PLUGIN_WASM_DIR)

## Run every test: runtime unit + end-to-end tests, then every plugin simulator script.
## The runtime binary used by the sims and console tests is the one `cargo test --workspace` builds:
## a separate `cargo build -p courtyard` would resolve features differently (dev-dependencies widen
## wasmparser's) and compile the whole wasmtime/cranelift stack a second time (~5 min on 2 cores).
test: plugins examples test-runtime test-plugins test-console

## The end-to-end tests (the courtyard package's `e2e` target) spend most of their time waiting on
## real-time audio and timers, so they run 4 at a time even on 2 cores (214 s -> ~100 s); every
## other test binary keeps cargo's default. All runs reuse the one build (same features, same
## TEST_CONFIG).
##
## TEST_CONFIG compiles *our* crates at opt-level $(TEST_OPT) for the tests (dependencies —
## wasmtime, cranelift, tokio … — stay at release's 3): on the 2-core CI machine that saves ~2 of
## the ~20 build minutes, and our code's speed is not what the tests measure (`make bench` and
## `make demo` build everything at 3). `make test TEST_OPT=3` tests the shipped optimisation.
TEST_OPT ?= 1
OUR_CRATES := courtyard courtyard-sip courtyard-media courtyard-tts courtyard-flows courtyard-store \
	courtyard-api courtyard-acd courtyard-packages courtyard-orders courtyard-console \
	courtyard-campaigns courtyard-plugin-sdk
TEST_CONFIG := $(foreach c,$(OUR_CRATES),--config 'profile.release.package.$(c).opt-level=$(TEST_OPT)')
test-runtime:
	$(CARGO) test --release --workspace $(TEST_CONFIG) --no-run
	$(CARGO) test --release --workspace $(TEST_CONFIG) --exclude courtyard
	$(CARGO) test --release --workspace $(TEST_CONFIG) --bins
	$(CARGO) test --release --workspace $(TEST_CONFIG) --test e2e -- --test-threads=$(E2E_THREADS)

test-plugins:
	cd plugins && $(CARGO) test --target x86_64-unknown-linux-gnu -p flows-common
	bash plugins/run-sims.sh $(BIN)
	bash scripts/polyglot.sh sims $(BIN)

test-console:
	bash tests/console/run.sh

## Benchmarks (not tests): print figures.
bench: build
	bash tests/bench/run-all.sh

## Fuzz every parser target for SECS seconds each (cargo-fuzz; see fuzz/run.sh).
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz
	CARGO_TARGET_DIR=$(CURDIR)/target/fuzz bash fuzz/run.sh $(or $(SECS),60)

clean:
	$(CARGO) clean
	cd plugins && $(CARGO) clean
