#!/usr/bin/env bash
# `make bench`: every benchmark, one after the other (they would disturb each other in parallel),
# each printing its own figures. Benchmarks are not tests: nothing here asserts on speed.
set -uo pipefail
cd "$(dirname "$0")/../.."
run() {
  echo
  echo "=== $* ==="
  "$@" || echo "(benchmark exited with $?)"
}
run cargo run --release -q -p courtyard-flows --example bench-instantiate
run cargo run --release -q -p courtyard-tts --example bench-tts
run cargo run --release -q -p courtyard-media --example bench_media
run cargo run --release -q -p courtyard-acd --example bench_acd
run cargo run --release -q -p courtyard-store --example bench-store
run cargo run --release -q -p courtyard-api --example bench-api
run cargo run --release -q -p courtyard-packages --example package_figures
run bash tests/bench/sip-rate.sh
[ -x tests/bench/ivr-load.sh ] && run bash tests/bench/ivr-load.sh
exit 0
