#!/usr/bin/env bash
# Hot-swap memory benchmark (not a test): does a node give back the memory of plugin versions it
# no longer runs? Under light steady IVR load (CONCURRENT calls), CYCLES times: install a new
# signed version of ivr-main (a new digest each time), activate it, let calls run on it, roll
# back, and uninstall it once its calls ended. Prints the runtime's RSS after each cycle and the
# growth per cycle (least squares over the cycles after the first two): a version's compiled
# code and instance pool that are really freed show as a flat series; a leak as a steady climb.
#
# Usage: tests/bench/swap-memory.sh [CYCLES=10] [CONCURRENT=30]    (CARGO_TARGET_DIR honoured)
#        NO_SWAP=1: the same load and timing with no swap at all (the control: what RSS does
#        from the calls alone)
# COURTYARD_BIN / IVR_LOAD_BIN: use these binaries instead of building them.
set -uo pipefail
cd "$(dirname "$0")/../.."
CYCLES=${1:-10}
N=${2:-30}
source tests/bench/common.sh
[ -f "$PLUGINS/ivr_main.wasm" ] || { echo "build the plugins first (make plugins)"; exit 1; }
SERVER=
LOADPID=
cleanup() { [ -n "$LOADPID" ] && kill "$LOADPID" 2>/dev/null; [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
rss_kib() { awk '/VmRSS/{print $2}' "/proc/$SERVER/status"; }

bench_callers "$WORK/callers.txt"
export COURTYARD_STORE_CACHE_MB=8
bench_start_demo
bench_signing_key swap-2026 || { echo "keygen failed"; exit 1; }

SECS=$((CYCLES * 25 + 60))
"$LOAD" --sip "127.0.0.1:$SIP_PORT" --number 4008123456 --digit 1 --concurrent "$N" --seconds "$SECS" \
  --callers "$WORK/callers.txt" --pid "$SERVER" --prefix swap- >"$WORK/load.out" 2>"$WORK/load.err" &
LOADPID=$!
sleep 20 # warm-up: instance pool, TTS greetings
echo "# swap-memory: $CYCLES cycles under $N concurrent calls; RSS before the first: $(( $(rss_kib) / 1024 )) MiB"
: >"$WORK/rss"
for i in $(seq 1 "$CYCLES"); do
  if [ "${NO_SWAP:-0}" = 1 ]; then
    sleep 20
    kib=$(rss_kib); echo "$i $kib" >>"$WORK/rss"; echo "cycle $i (no swap): RSS $((kib / 1024)) MiB"
    continue
  fi
  bench_package swap-2026 "1.1.$i" || { echo "pack/sign failed"; exit 1; }
  NEW=$(bench_install)
  [ -n "$NEW" ] || { echo "install failed in cycle $i"; exit 1; }
  read -r a r u < <(bench_swap "$NEW" 8)
  sleep 5
  kib=$(rss_kib)
  echo "$i $kib" >>"$WORK/rss"
  echo "cycle $i: activate $a, rollback $r, uninstall $u; RSS $((kib / 1024)) MiB"
done
kill "$LOADPID" 2>/dev/null; wait "$LOADPID" 2>/dev/null; LOADPID=
python3 - "$WORK/rss" <<'EOF'
import sys
s = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if len(l.split()) == 2][2:]
if len(s) >= 3:
    mi = sum(i for i, _ in s) / len(s); mr = sum(r for _, r in s) / len(s)
    k = sum((i - mi) * (r - mr) for i, r in s) / (sum((i - mi) ** 2 for i, _ in s) or 1)
    print(f"RSS growth per swap cycle (cycles 3..): {k / 1024:+.2f} MiB")
EOF
