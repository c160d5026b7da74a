#!/usr/bin/env bash
# SIP rate benchmark (not a test): SIPp drives the courtyard-sip bench UAS on loopback.
#  - calls/s answered with 0 failed calls: INVITE -> 200 -> ACK -> BYE, no media
#  - REGISTER/s with digest auth (401 challenge + authenticated REGISTER per registration)
# Usage: tests/bench/sip-rate.sh [rates...]   (default rates: 1000 2000 3000 4000)
# Env: CALLS_SECONDS (default 10) seconds per rate step; CARGO_TARGET_DIR honoured.
set -euo pipefail
cd "$(dirname "$0")/../.."
RATES=("${@:-1000 2000 3000 4000}")
read -r -a RATES <<<"${RATES[*]}"
SECS=${CALLS_SECONDS:-10}
PORT=${BENCH_PORT:-5090}
cargo build --release -q -p courtyard-sip --example bench-uas
BIN="${CARGO_TARGET_DIR:-target}/release/examples/bench-uas"
"$BIN" "127.0.0.1:$PORT" 2>/dev/null &
UAS=$!
trap 'kill $UAS 2>/dev/null || true' EXIT
sleep 0.5
WORK=$(mktemp -d)

run() { # scenario rate count extra... -> prints "successful failed elapsed_s"
  local sf=$1 rate=$2 count=$3; shift 3
  local start end
  start=$(date +%s.%N)
  (cd "$WORK" && sipp "127.0.0.1:$PORT" -sf "$OLDPWD/tests/sipp/$sf" -i 127.0.0.1 \
     -r "$rate" -m "$count" -l $((rate * 4)) -nostdin -timeout $((SECS * 4 + 30)) -d 0 \
     -max_socket 50000 -buff_size 4194304 -trace_stat -stf stat.csv "$@" >"$WORK/out.txt" 2>&1) || true
  end=$(date +%s.%N)
  local ok fail
  ok=$(tail -1 "$WORK/stat.csv" | awk -F';' -v h="$(head -1 "$WORK/stat.csv")" 'BEGIN{n=split(h,H,";")} {for(i=1;i<=n;i++) if(H[i]=="SuccessfulCall(C)") print $i}')
  fail=$(tail -1 "$WORK/stat.csv" | awk -F';' -v h="$(head -1 "$WORK/stat.csv")" 'BEGIN{n=split(h,H,";")} {for(i=1;i<=n;i++) if(H[i]=="FailedCall(C)") print $i}')
  rm -f "$WORK"/stat.csv
  echo "$ok $fail $(echo "$end - $start" | bc)"
}

echo "== calls (INVITE/200/ACK/BYE), ${SECS}s per step =="
best_calls=0
for r in "${RATES[@]}"; do
  read -r ok fail el < <(run uac-call.xml "$r" $((r * SECS)) -s 4008123456)
  cps=$(echo "scale=0; $ok / $el" | bc)
  echo "offered ${r}/s: successful=$ok failed=$fail elapsed=${el}s -> ${cps} calls/s"
  if [ "${fail:-1}" = "0" ] && [ "$ok" -gt 0 ]; then
    [ "$cps" -gt "$best_calls" ] && best_calls=$cps
  else break; fi
done
echo "== REGISTER with digest, ${SECS}s per step =="
best_reg=0
for r in "${RATES[@]}"; do
  read -r ok fail el < <(run register-bench.xml "$r" $((r * SECS)) -s bench1 -au bench1 -ap pw)
  rps=$(echo "scale=0; $ok / $el" | bc)
  echo "offered ${r}/s: registrations=$ok failed=$fail elapsed=${el}s -> ${rps} REGISTER/s"
  if [ "${fail:-1}" = "0" ] && [ "$ok" -gt 0 ]; then
    [ "$rps" -gt "$best_reg" ] && best_reg=$rps
  else break; fi
done
echo "RESULT: best achieved rate in a step with 0 failures: ${best_calls} calls/s, ${best_reg} authenticated REGISTER/s"
echo "(achieved = successful / wall-clock time of the step, including SIPp start-up and the last calls' BYE)"
rm -rf "$WORK"
