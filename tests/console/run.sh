#!/usr/bin/env bash
# Browser tests of the web console. Installs the npm deps if missing (npm ci), picks the server
# (target/release/courtyard when built — the real demo with SIP — else builds the console-dev
# example), runs `node --test`, and prints "N passed, N failed" as its last line.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
[ -x /usr/bin/chromium ] || [ -n "${CHROMIUM:-}" ] || { echo "chromium missing: apt-get install -y chromium"; echo "0 passed, 1 failed"; exit 1; }
if [ ! -d node_modules/playwright-core ]; then npm ci --no-audit --no-fund >/dev/null || { echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }; fi
target="${CARGO_TARGET_DIR:-$root/target}"
if [ -z "${COURTYARD_BIN:-}" ] && [ ! -x "$target/release/courtyard" ] && [ "${CONSOLE_SERVER:-}" != real ]; then
  export CONSOLE_SERVER=dev
  if [ -z "${CONSOLE_DEV_BIN:-}" ]; then
    (cd "$root" && cargo build --release -q -p courtyard-console --example console-dev) || { echo "cannot build console-dev"; echo "0 passed, 1 failed"; exit 1; }
    export CONSOLE_DEV_BIN="$target/release/examples/console-dev"
  fi
fi
out="$(mktemp)"
node --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout --test-reporter=tap --test-reporter-destination="$out" "$here"/*.test.mjs
rc=$?
pass=$(grep -cE '^ok [0-9]+' "$out" | tr -d ' ')
skip=$(grep -cE '^ok [0-9]+ .*# SKIP' "$out" | tr -d ' ')
fail=$(grep -cE '^not ok [0-9]+' "$out" | tr -d ' ')
rm -f "$out"
[ "$skip" -gt 0 ] && echo "($skip skipped)"
echo "$((pass - skip)) passed, $fail failed"
[ "$rc" -eq 0 ] && [ "$fail" -eq 0 ]
