#!/usr/bin/env bash
# Builds every cargo-fuzz target, replays the regression inputs in fuzz/regressions/<target>/,
# then fuzzes each target for a bounded time. Exits non-zero if any input crashes a target.
#
#   fuzz/run.sh [seconds-per-target]        (default 60; `make fuzz` calls this)
#   FUZZ_TARGETS="sdp manifest" fuzz/run.sh 30
#
# Only stable Rust is installed: cargo-fuzz's nightly-only flags are enabled with
# RUSTC_BOOTSTRAP=1. Needs `cargo install cargo-fuzz` and python3 (seed corpora).
# Crashing inputs land in fuzz/artifacts/<target>/; copy them to fuzz/regressions/<target>/.
set -u
secs="${1:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$root"
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"
corpus="${FUZZ_CORPUS:-$CARGO_TARGET_DIR/corpus}"
# libFuzzer's own parallelism would take cores from everyone else on the machine: one job.
flags=(-s none -a -O)

python3 "$here/make_seeds.py" "$corpus" >/dev/null || { echo "seed generation failed" >&2; exit 2; }
targets="${FUZZ_TARGETS:-$(cargo fuzz list)}"
cargo fuzz build "${flags[@]}" || { echo "cargo fuzz build failed" >&2; exit 2; }

status=0
summary=()
for t in $targets; do
    if compgen -G "$here/regressions/$t/*" >/dev/null; then
        if ! cargo fuzz run "${flags[@]}" "$t" "$here/regressions/$t" -- -runs=0 >"$CARGO_TARGET_DIR/$t.regressions.log" 2>&1; then
            echo "REGRESSION: a saved input crashes $t (see $CARGO_TARGET_DIR/$t.regressions.log)" >&2
            status=1
        fi
    fi
    mkdir -p "$corpus/$t"
    log="$CARGO_TARGET_DIR/$t.fuzz.log"
    cargo fuzz run "${flags[@]}" "$t" "$corpus/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 >"$log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    if [ "$rc" -ne 0 ]; then
        status=1
        summary+=("$t: CRASH (exit $rc) after ${execs:-?} execs — $log, artifacts in fuzz/artifacts/$t/")
        grep -m1 -A12 "panicked at\|ERROR: libFuzzer" "$log" >&2
    else
        summary+=("$t: ok, ${execs:-?} execs in ${secs}s (${rate:-?} execs/s), ${cov:-cov ?}, corpus $(ls "$corpus/$t" | wc -l)")
    fi
done
printf '%s\n' "${summary[@]}"
exit "$status"
