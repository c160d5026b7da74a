#!/usr/bin/env bash
# Soak benchmark (not a test): MINUTES of steady IVR load (the ivr_load generator, calls with RTP
# both ways and a digit) at CONCURRENT calls — run it at about half the maximum found by
# ivr-load.sh — with, in the middle, a plugin hot swap (a signed new version of ivr-main is
# installed, activated, then rolled back through the API) and agent churn (every agent logged in,
# made ready, not-ready, on break and logged out, twice). RSS of the runtime is sampled every
# 10 s. Prints the RSS series, whether it is flat (least-squares slope over the last third, after
# the swap and churn, under 0.5 MiB/min), and the failed-call count (must be 0).
# The store's page cache ([data] store_cache_mb, env COURTYARD_STORE_CACHE_MB) fills with call
# records at ~1.2 KiB per call until it reaches its bound (runtime/store/examples/store-memory.rs):
# with the default 128 MiB that takes ~100,000 calls, longer than a 10-minute soak, so run with a
# small bound (e.g. COURTYARD_STORE_CACHE_MB=8) to see whether anything else grows.
#
# Usage: tests/bench/soak.sh [CONCURRENT=500] [MINUTES=10]      (CARGO_TARGET_DIR honoured)
set -uo pipefail
cd "$(dirname "$0")/../.."
N=${1:-500}
MIN=${2:-10}
SECS=$((MIN * 60))
source tests/bench/common.sh
SERVER=
LOADPID=
cleanup() { [ -n "$LOADPID" ] && kill "$LOADPID" 2>/dev/null; [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n 20000 2>/dev/null || true

bench_callers "$WORK/callers.txt"
bench_start_demo

# A signed new version of ivr-main (same code plus a custom section, so a new digest), trusted by
# this node, installed before the load; activation and rollback happen under load.
bench_signing_key soak-2026 || { echo "keygen failed"; exit 1; }
bench_package soak-2026 1.1.0 || { echo "pack/sign failed"; exit 1; }
NEW=$(bench_install)
echo "installed ivr-main version: ${NEW:-<install failed>}"

echo "# soak: $N concurrent calls for $MIN min; store page cache ${COURTYARD_STORE_CACHE_MB:-128 (default)} MiB; machine load before: $(uptime | sed 's/.*load average/load average/')"
"$LOAD" --sip "127.0.0.1:$SIP_PORT" --number 4008123456 --digit 1 --concurrent "$N" --seconds "$SECS" \
  --callers "$WORK/callers.txt" --pid "$SERVER" --prefix soak- >"$WORK/load.out" 2>"$WORK/load.err" &
LOADPID=$!

churn() {
  for round in 1 2; do
    for a in 8001 8002 8003 8004 8005; do
      for s in login ready not-ready break ready logout; do
        curl -s -o /dev/null "${auth[@]}" -XPOST -H 'content-type: application/json' -d "{\"state\":\"$s\"}" "$API/api/v1/acd/agents/$a/state"
      done
    done
  done
}

t0=$(date +%s)
swapped=0
: >"$WORK/rss"
while kill -0 "$LOADPID" 2>/dev/null; do
  el=$(( $(date +%s) - t0 ))
  echo "$el $(awk '/VmRSS/{print $2}' /proc/$SERVER/status)" >>"$WORK/rss"
  if [ $swapped = 0 ] && [ $el -ge $((SECS / 2)) ]; then
    swapped=1
    if [ -n "$NEW" ]; then
      read -r a r u < <(bench_swap "$NEW" 20)
      echo "hot swap at ${el}s: activate -> $a, rollback 20 s later -> $r, uninstall -> $u"
    fi
    churn; echo "agent churn done at $(( $(date +%s) - t0 ))s"
  fi
  sleep 10
done
wait "$LOADPID"; LOADPID=
echo "RSS samples (s KiB):"; tr '\n' ';' <"$WORK/rss"; echo
python3 - "$WORK/rss" <<'EOF'
import sys
s = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if len(l.split()) == 2]
n = len(s)
def slope(part):  # least-squares MiB per minute
    mt = sum(t for t, _ in part) / len(part); mr = sum(r for _, r in part) / len(part)
    var = sum((t - mt) ** 2 for t, _ in part) or 1
    return sum((t - mt) * (r - mr) for t, r in part) / var * 60 / 1024
mid = [r for _, r in s[n // 3: 2 * n // 3]]
last = s[2 * n // 3:]
if mid and len(last) > 2:
    a, b = sum(mid) / len(mid), sum(r for _, r in last) / len(last)
    k = slope(last)
    # Flat: the last third (after warm-up, swap and churn) grows less than 0.5 MiB/min.
    print(f"RSS middle third {a/1024:.0f} MiB, last third {b/1024:.0f} MiB ({(b - a) / a * 100:+.1f}%); "
          f"slope over the last third {k:+.2f} MiB/min -> {'FLAT' if k < 0.5 else 'NOT FLAT'}")
EOF
grep '^RESULT' "$WORK/load.out" | sed 's/"call_ids":null,//'
python3 -c 'import sys,json; r=json.loads(open(sys.argv[1]).read().split("RESULT ",1)[1]); print("failed calls:", r["failed"], r["failure_reasons"], "of", r["calls"])' "$WORK/load.out"
