#!/usr/bin/env bash
# IVR load benchmark (not a test): N concurrent calls through a real `courtyard demo`, each with
# RTP both ways and one RFC 4733 digit, stepping N up until a step has a failed call.
#
# Driver: runtime/courtyard/examples/ivr_load.rs (our own load generator; why not SIPp: see its
# header). A call counts as successful only if it was answered, prompt audio was heard, the BYE
# was answered, the runtime decoded its digit (courtyard_dtmf_digits_received_total) AND its CDR
# is in the store, finished.
#
# Usage: tests/bench/ivr-load.sh [N...]            (default steps: 100 250 500 750 1000 1250 1500)
# Env:   SECONDS_PER_STEP (30)  HOLD (call length after answer, s; 6)  DIGIT_AT (2.5)
#        MODES ("main")  main  = ivr-main: owner lookup, personalised greeting, estate notices,
#                                menu (key 1 typed ahead);
#                        bills = bill-lookup: owner lookup and the amount owed spoken (key 1);
#                        menu  = ivr-menu: the same menu with no lookup at all (key 4).
#                        Comparing CPU per call of bills/main against menu at the same N gives
#                        the cost of the business logic.
#        MEDIA_THREADS (default: the config's, half the CPUs)  [media] threads; 0 = RTP on the
#                               main runtime
#        MEDIA_PRIORITY (high)  [media] priority: normal | high | realtime
#        MEDIA_MAX_LOAD (default: the config's, 0.9)  [media] max_load: new calls get 503 while
#                               every media thread is this busy; 0 = never refuse
#        GEN_NICE (0)           nice value of the load generator. On a one-machine bench the
#                               generator competes with the runtime for the same CPUs; 19 stands
#                               in for callers on other machines (the runtime's send-lateness
#                               figures then measure the runtime, but the generator's own
#                               INVITE→audio and rx-gap figures get worse: it is starved).
#        GEN_THREADS (1)        tokio worker threads of the load generator (1 = current-thread).
#        LIMIT (step)           at most this many calls at once, as SIPp's -l: "step" = the step's
#                               N (a call due while N are up waits for one to end, so the step
#                               measures N concurrent calls); 0 = no cap (calls start on schedule,
#                               and when set-up slows they overlap beyond N).
#        CARGO_TARGET_DIR honoured.
# Prints one table row per step; the exact command is in the header it prints.
set -uo pipefail
cd "$(dirname "$0")/../.."
STEPS=("${@:-100 250 500 750 1000 1250 1500}")
read -r -a STEPS <<<"${STEPS[*]}"
SECS=${SECONDS_PER_STEP:-30}
HOLD=${HOLD:-6}
DIGIT_AT=${DIGIT_AT:-2.5}
MODES=${MODES:-main}
MEDIA_THREADS=${MEDIA_THREADS:-auto}
MEDIA_PRIORITY=${MEDIA_PRIORITY:-high}
MEDIA_MAX_LOAD=${MEDIA_MAX_LOAD:-auto}
GEN_NICE=${GEN_NICE:-0}
GEN_THREADS=${GEN_THREADS:-1}
LIMIT=${LIMIT:-step}
TARGET=${CARGO_TARGET_DIR:-target}

# COURTYARD_BIN / IVR_LOAD_BIN: use these binaries instead of building them.
if [ -z "${COURTYARD_BIN:-}" ] || [ -z "${IVR_LOAD_BIN:-}" ]; then
  cargo build --release -q -p courtyard --bin courtyard --example ivr_load || exit 1
fi
# TIMER_FLOOR_BIN: the machine's own wake-up lateness (runtime/media/examples/timer_floor.rs).
FLOOR=${TIMER_FLOOR_BIN:-$TARGET/release/examples/timer_floor}
[ -x "$FLOOR" ] || cargo build --release -q -p courtyard-media --example timer_floor || exit 1
BIN=${COURTYARD_BIN:-$TARGET/release/courtyard}
LOAD=${IVR_LOAD_BIN:-$TARGET/release/examples/ivr_load}
PLUGINS=plugins/target/wasm32-wasip2/release
[ -f "$PLUGINS/ivr_main.wasm" ] || { echo "build the plugins first (make plugins)"; exit 1; }

WORK=$(mktemp -d)
SERVER=
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; [ -n "${SAMPLER:-}" ] && kill "$SAMPLER" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n 20000 2>/dev/null || true

# Owners' numbers from the demo directory (residents with role 业主), cycled by the callers.
python3 - "$WORK/callers.txt" <<'EOF'
import csv, sys
nums = []
with open("examples/demo-data/owners.csv", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        if row["role"] == "业主":
            nums.append(row["phones"].split(";")[0])
open(sys.argv[1], "w").write("\n".join(nums[:200]) + "\n")
EOF

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_server() { # data_dir -> sets SERVER, SIP, HTTP
  SIP_PORT=$(free_port); HTTP_PORT=$(free_port)
  local mt=(); [ "$MEDIA_THREADS" != auto ] && mt=(COURTYARD_MEDIA_THREADS="$MEDIA_THREADS")
  [ "$MEDIA_MAX_LOAD" != auto ] && mt+=(COURTYARD_MEDIA_MAX_LOAD="$MEDIA_MAX_LOAD")
  env "${mt[@]}" COURTYARD_MEDIA_PRIORITY="$MEDIA_PRIORITY" COURTYARD_LOG=warn "$BIN" demo --hours 24x7 \
    --sip "127.0.0.1:$SIP_PORT" --http "127.0.0.1:$HTTP_PORT" --data "$1" --plugins "$PLUGINS" \
    >"$WORK/server.out" 2>"$WORK/server.log" &
  SERVER=$!
  for _ in $(seq 1 240); do
    curl -sf "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "server did not become healthy"; tail -20 "$WORK/server.log"; return 1
}

stop_server() {
  kill -TERM "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; SERVER=
}

# CDR check + /metrics figures for the step -> JSON on stdout
step_figures() { # digit call-id-prefix
  python3 - "$HTTP_PORT" "$1" "$2" <<'EOF'
import json, sys, urllib.request
port, digit, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
base = f"http://127.0.0.1:{port}"
def req(path, body=None, token=None):
    r = urllib.request.Request(base + path, data=json.dumps(body).encode() if body else None,
                               headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(r, timeout=30) as resp:
        return resp.read().decode()
tok = json.loads(req("/api/v1/auth/login", {"username": "admin", "password": "admin-demo"}))["token"]
seen = finished = 0
off = 0
while True:
    page = json.loads(req(f"/api/v1/cdrs?limit=500&offset={off}", token=tok))
    for c in page["items"]:
        if not c["call_id"].startswith(prefix):
            continue
        seen += 1
        if c.get("end") and not c.get("interrupted"):
            finished += 1
    off += 500
    if off >= page["total"]:
        break
m = req("/metrics")
def metric(name):
    for line in m.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            yield line
q = {l.split('quantile="')[1].split('"')[0]: float(l.split()[-1]) for l in metric("courtyard_rtp_send_late_seconds") if "quantile" in l}
val = lambda n: sum(float(l.split()[-1]) for l in metric(n))
print(json.dumps({"cdrs": seen, "cdrs_finished": finished, "digits": val("courtyard_dtmf_digits_received_total"),
                  "send_late_p50_ms": q.get("0.5", 0) * 1000, "send_late_p99_ms": q.get("0.99", 0) * 1000,
                  "send_late_p999_ms": q.get("0.999", 0) * 1000,
                  "rtp_lost": val("courtyard_rtp_packets_lost_total"), "rtp_received": val("courtyard_rtp_packets_received_total"),
                  "ticks_skipped": val("courtyard_rtp_ticks_skipped_total"),
                  "tts_synth": val("courtyard_tts_synthesized_total"), "tts_hits": val("courtyard_tts_cache_hits_total"),
                  "cdr_writes": val("courtyard_cdr_writes_total"), "cdr_groups": val("courtyard_cdr_write_groups_total")}))
EOF
}

echo "# machine: $(nproc) cores; load before start: $(uptime | sed 's/.*load average/load average/')"
# The floor: how late this machine wakes an idle thread sleeping 1 ms at a time (a VM's halted
# vCPU can take milliseconds to run again); the send-lateness columns cannot go below it.
echo "# timer floor (idle machine, 1 ms sleeps, 5 s): $("$FLOOR" --seconds 5 | sed 's/^TIMER_FLOOR //')"
echo "# command: MODES=\"$MODES\" MEDIA_THREADS=$MEDIA_THREADS MEDIA_PRIORITY=$MEDIA_PRIORITY MEDIA_MAX_LOAD=$MEDIA_MAX_LOAD GEN_NICE=$GEN_NICE GEN_THREADS=$GEN_THREADS LIMIT=$LIMIT SECONDS_PER_STEP=$SECS HOLD=$HOLD DIGIT_AT=$DIGIT_AT bash tests/bench/ivr-load.sh ${STEPS[*]}"
echo "| flow | media threads/priority/generator nice | N target | N max seen (calls that waited for the cap) | calls | ok | failed | calls/s | CPU % server/generator (2 cores=200) | RSS MiB | RSS KiB/call | INVITE→200 p50/p99 ms | INVITE→audio p50/p99 ms | send late p50/p99/p99.9 ms (server) | rx gap dev p99 ms (client) | RFC 3550 jitter p50/p99/p99.9 ms, per-call max p99/max ms (client) | RTP lost (caller→runtime) / send ticks skipped (runtime) | TTS synthesized/cache hits | call records/store transactions | media thread load peak | load avg |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for mode in $MODES; do
  case $mode in
    main) NUMBER=4008123456; DIGIT=1 ;;
    menu) NUMBER=4008123400; DIGIT=4 ;;
    bills) NUMBER=4008123401; DIGIT=1 ;;
    *) echo "unknown mode $mode"; continue ;;
  esac
  DATA="$WORK/data-$mode"
  for n in "${STEPS[@]}"; do
    start_server "$DATA" || break
    sleep 2
    rss0=$(awk '/VmRSS/{print $2}' /proc/$SERVER/status)
    # Peak of the busiest media thread's load (/metrics, once a second) during the step.
    python3 - "$HTTP_PORT" "$WORK/load-peak" <<'EOF' &
import sys, time, urllib.request
port, out = sys.argv[1], sys.argv[2]
peak = 0.0
while True:
    try:
        m = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        for l in m.splitlines():
            if l.startswith("courtyard_media_thread_load{"):
                peak = max(peak, float(l.split()[-1]))
        open(out, "w").write(f"{peak:.2f}")
    except Exception:
        pass
    time.sleep(1)
EOF
    SAMPLER=$!
    limit=$LIMIT; [ "$limit" = step ] && limit=$n
    line=$(nice -n "$GEN_NICE" "$LOAD" --limit "$limit" --sip "127.0.0.1:$SIP_PORT" --number $NUMBER --digit $DIGIT --digit-at "$DIGIT_AT" --hold "$HOLD" \
      --concurrent "$n" --seconds "$SECS" --callers "$WORK/callers.txt" --pid "$SERVER" --threads "$GEN_THREADS" --prefix "load-$mode-$n-$MEDIA_THREADS-" 2>"$WORK/load.err" | grep '^RESULT ' | sed 's/^RESULT //')
    sleep 2 # final CDR writes
    figs=$(step_figures "$DIGIT" "load-$mode-$n-$MEDIA_THREADS-" 2>"$WORK/figs.err" || echo '{}')
    load=$(uptime | sed 's/.*load average: //' | cut -d, -f1)
    kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null
    peak=$(cat "$WORK/load-peak" 2>/dev/null || echo "?"); rm -f "$WORK/load-peak"
    stop_server
    if [ -z "$line" ]; then echo "| $mode | $MEDIA_THREADS | $n | load generator failed: $(tail -3 "$WORK/load.err") |"; break; fi
    row=$(python3 - "$line" "$figs" "$rss0" "$mode" "$MEDIA_THREADS/$MEDIA_PRIORITY/nice$GEN_NICE" "$load" "$peak" <<'EOF'
import json, sys
r, f = json.loads(sys.argv[1]), json.loads(sys.argv[2] or "{}")
rss0, mode, mt, load, peak = int(sys.argv[3] or 0), sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
# Every answered call must have a finished CDR, and the runtime must have decoded one digit per
# call that lasted past the digit (all successful ones).
missing_cdr = max(0, r.get("answered", r["ok"]) - f.get("cdrs_finished", 0))
missing_digit = max(0, r["ok"] - int(f.get("digits", 0)))
failed = r["failed"] + max(missing_cdr, missing_digit)
ok = r["ok"] - max(missing_cdr, missing_digit)
per_call = (r["server_rss_kib"] - rss0) / max(1, r["max_concurrent_seen"])
reasons = dict(r["failure_reasons"])
if missing_digit:
    reasons["digits not decoded by the runtime"] = missing_digit
if missing_cdr:
    reasons["answered calls without a finished CDR"] = missing_cdr
cpu = r["server_cpu_pct"]
gen = r.get("generator_cpu_pct") or 0
cap = f' ({r.get("waited_for_limit", 0)})' if r.get("limit") else ' (no cap)'
print(f'| {mode} | {mt} | {r["concurrent_target"]} | {r["max_concurrent_seen"]}{cap} | {r["calls"]} | {ok} | {failed}'
      f'{" " + json.dumps(reasons, ensure_ascii=False) if reasons else ""} | {r["achieved_cps"]:.1f} | '
      f'{cpu:.0f}/{gen:.0f} | {r["server_rss_kib"]/1024:.0f} | {per_call:.0f} | {r.get("answer_ms_p50", 0):.0f}/{r.get("answer_ms_p99", 0):.0f} | '
      f'{r["first_audio_ms_p50"]:.0f}/{r["first_audio_ms_p99"]:.0f} | '
      f'{f.get("send_late_p50_ms",0):.1f}/{f.get("send_late_p99_ms",0):.1f}/{f.get("send_late_p999_ms",0):.1f} | '
      f'{r["rx_gap_dev_ms_p99"]:.1f} | {r.get("rfc3550_jitter_ms_p50",0):.1f}/{r.get("rfc3550_jitter_ms_p99",0):.1f}/{r.get("rfc3550_jitter_ms_p999",0):.1f}, {r.get("rfc3550_call_max_jitter_ms_p99",0):.1f}/{r.get("rfc3550_call_max_jitter_ms_max",0):.1f} | {int(f.get("rtp_lost",0))}/{int(f.get("ticks_skipped",0))} | {int(f.get("tts_synth",0))}/{int(f.get("tts_hits",0))} | '
      f'{int(f.get("cdr_writes",0))}/{int(f.get("cdr_groups",0))} | {peak} | {load} |')
print("FAILED" if failed else "OK")
EOF
)
    echo "$row" | head -1
    if [ "$(echo "$row" | tail -1)" != "OK" ]; then break; fi
  done
done
