#!/usr/bin/env bash
# Python and JavaScript flows (issue 12): build the example components and run their simulator
# scripts with the real `courtyard flow test`.
#
#   scripts/polyglot.sh install        install componentize-py (venv) and componentize-js (npm ci)
#   scripts/polyglot.sh build          build examples/bill-lookup-{py,js}/bill-lookup.wasm and the
#                                      faulty test flows (Python and JS builds run in parallel)
#   scripts/polyglot.sh sims [BIN]     run the sims: both examples against the Rust bill-lookup's
#                                      scripts (plugins/bill-lookup/sim), the faulty flows against
#                                      their containment scripts
# Builds are offline once the tools are installed. The last line of `sims` is "N passed, N failed".
set -u
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py_sdk="$repo/plugin-sdk/python"
js_sdk="$repo/plugin-sdk/js"

build_py() {
    "$repo/examples/bill-lookup-py/build.sh" \
        && (cd "$py_sdk/tests/faulty" && "$py_sdk/componentize-py" -d "$repo/wit" -w inbound-flow componentize app \
            -p . -p "$py_sdk" -o "$py_sdk/tests/faulty/faulty.wasm" >/dev/null)
}

build_js() {
    "$repo/examples/bill-lookup-js/build.sh" || return 1
    local stage
    stage="$(mktemp -d)"
    cp "$js_sdk/tests/faulty/app.js" "$js_sdk/courtyard.js" "$stage/"
    (cd "$stage" && "$js_sdk/componentize" app.js -w "$repo/wit" -n inbound-flow -o "$js_sdk/tests/faulty/faulty.wasm")
    local rc=$?
    rm -rf "$stage"
    return $rc
}

case "${1:-}" in
install)
    bash "$py_sdk/install.sh" && bash "$js_sdk/install.sh"
    ;;
build)
    start=$SECONDS
    build_py >/tmp/polyglot-py.log 2>&1 &
    py=$!
    build_js >/tmp/polyglot-js.log 2>&1
    js=$?
    wait $py
    pyrc=$?
    if ((pyrc != 0)); then echo "Python build failed:"; cat /tmp/polyglot-py.log; fi
    if ((js != 0)); then echo "JS build failed:"; cat /tmp/polyglot-js.log; fi
    echo "polyglot components built in $((SECONDS - start)) s"
    ((pyrc == 0 && js == 0))
    ;;
sims)
    bin="${2:-$repo/target/release/courtyard}"
    passed=0
    failed=0
    run() { # wasm script
        local out
        if [[ ! -f "$1" ]]; then
            echo "FAIL $2: component $1 missing (scripts/polyglot.sh build)"
            failed=$((failed + 1))
        elif out="$("$bin" flow test "$1" --script "$2" 2>&1)"; then
            echo "ok   ${1#"$repo"/} < ${2#"$repo"/}"
            passed=$((passed + 1))
        else
            echo "FAIL ${1#"$repo"/} < ${2#"$repo"/}"
            printf '%s\n' "$out" | sed 's/^/     /'
            failed=$((failed + 1))
        fi
    }
    for lang in py js; do
        for script in "$repo"/plugins/bill-lookup/sim/*.toml; do
            run "$repo/examples/bill-lookup-$lang/bill-lookup.wasm" "$script"
        done
    done
    for sdk in "$py_sdk" "$js_sdk"; do
        for script in "$sdk"/tests/faulty/*.toml; do
            run "$sdk/tests/faulty/faulty.wasm" "$script"
        done
    done
    echo "$passed passed, $failed failed"
    ((failed == 0))
    ;;
*)
    sed -n '2,12p' "$0"
    exit 2
    ;;
esac
