#!/usr/bin/env bash
# Runs every simulator script plugins/<name>/sim/*.toml against its plugin's component
# plugins/target/wasm32-wasip2/release/<name with _>.wasm using `courtyard flow test`.
#
# Usage: plugins/run-sims.sh [path/to/courtyard] [filter]
#   courtyard  the runtime binary (default: target/release/courtyard of the repository)
#   filter     only scripts whose path contains this text (e.g. "ivr-main" or "sms")
# Environment: SIM_VERBOSE=1 prints the output of passing scripts too.
# The last line is "N passed, N failed"; the exit status is non-zero when any script failed or
# when a plugin's component is missing (build with: cd plugins && cargo build --release).
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
bin="${1:-$repo/target/release/courtyard}"
filter="${2:-}"
wasm_dir="$here/target/wasm32-wasip2/release"

if [[ ! -x "$bin" ]]; then
    echo "courtyard binary not found at $bin (build it: cargo build --release -p courtyard)" >&2
    echo "0 passed, 1 failed"
    exit 2
fi

passed=0
failed=0
failures=()
for script in "$here"/*/sim/*.toml; do
    [[ -e "$script" ]] || continue
    [[ -z "$filter" || "$script" == *"$filter"* ]] || continue
    plugin="$(basename "$(dirname "$(dirname "$script")")")"
    wasm="$wasm_dir/${plugin//-/_}.wasm"
    rel="${script#"$here"/}"
    if [[ ! -f "$wasm" ]]; then
        echo "FAIL $rel: component $wasm missing"
        failed=$((failed + 1))
        failures+=("$rel")
        continue
    fi
    if out="$("$bin" flow test "$wasm" --script "$script" 2>&1)"; then
        passed=$((passed + 1))
        echo "ok   $rel"
        if [[ "${SIM_VERBOSE:-0}" == 1 ]]; then
            printf '%s\n' "$out" | sed 's/^/     /'
        fi
    else
        failed=$((failed + 1))
        failures+=("$rel")
        echo "FAIL $rel"
        printf '%s\n' "$out" | sed 's/^/     /'
    fi
done

if ((failed > 0)); then
    echo "failed scripts:"
    printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
((failed == 0))
