# Shared by the benchmark scripts that run a `courtyard demo` and change its flows over the API
# (soak.sh, swap-memory.sh). Sourcing it from the repository root sets BIN and LOAD (building
# them unless COURTYARD_BIN / IVR_LOAD_BIN name them; CARGO_TARGET_DIR honoured), PLUGINS and
# WORK (a fresh temporary folder).

TARGET=${CARGO_TARGET_DIR:-target}
if [ -z "${COURTYARD_BIN:-}" ] || [ -z "${IVR_LOAD_BIN:-}" ]; then
  cargo build --release -q -p courtyard --bin courtyard --example ivr_load || exit 1
fi
BIN=$(realpath "${COURTYARD_BIN:-$TARGET/release/courtyard}")
LOAD=${IVR_LOAD_BIN:-$TARGET/release/examples/ivr_load}
PLUGINS=plugins/target/wasm32-wasip2/release
WORK=$(mktemp -d)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Owners' numbers from the demo directory (residents with role 业主) -> $1, for the callers.
bench_callers() {
  python3 - "$1" <<'PY'
import csv, sys
nums = [r["phones"].split(";")[0] for r in csv.DictReader(open("examples/demo-data/owners.csv", encoding="utf-8")) if r["role"] == "业主"]
open(sys.argv[1], "w").write("\n".join(nums[:200]) + "\n")
PY
}

# Starts the demo on free loopback ports with its data in $WORK/data; sets SERVER (pid), SIP_PORT,
# API (base URL) and auth (curl arguments with the admin's bearer token).
bench_start_demo() {
  SIP_PORT=$(free_port); HTTP_PORT=$(free_port)
  COURTYARD_LOG=warn "$BIN" demo --hours 24x7 --sip "127.0.0.1:$SIP_PORT" --http "127.0.0.1:$HTTP_PORT" \
    --data "$WORK/data" --plugins "$PLUGINS" >"$WORK/server.out" 2>"$WORK/server.log" &
  SERVER=$!
  for _ in $(seq 1 240); do curl -sf "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null 2>&1 && break; sleep 0.5; done
  API="http://127.0.0.1:$HTTP_PORT"
  local token
  token=$(curl -sf -XPOST "$API/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"username":"admin","password":"admin-demo"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
  auth=(-H "Authorization: Bearer $token")
}

# Every capability ivr-main uses, as plugin.toml lists them (CAPS) and as install grants (GRANTS).
CAPS='"call","directory.read","billing.read","work-orders.read","work-orders.write","notify.sms","notify.email","notify.webhook","notify.on-duty","kv","log","config","clock","content"'
GRANTS=$(echo "$CAPS" | tr -d '"')

# A signing key KEY_ID in $WORK/pkg, trusted by the demo node.
bench_signing_key() {
  mkdir -p "$WORK/pkg"
  ( cd "$WORK/pkg" && "$BIN" plugin keygen --key-id "$1" --vendor bench --out . >/dev/null 2>&1 &&
    "$BIN" plugin trust --trust "$WORK/data/trust.toml" add "$1.pub" >/dev/null 2>&1 )
}

# $WORK/pkg/ivr-main.cyp: ivr-main's code plus a custom section holding VERSION (so each VERSION
# has its own digest), packed as VERSION and signed with KEY_ID.   Usage: bench_package KEY_ID VERSION
bench_package() {
  local pkg="$WORK/pkg"
  printf 'name = "ivr-main"\nversion = "%s"\nvendor = "bench"\ndescription = "ivr-main rebuilt for a benchmark"\nwit = "courtyard:flow@0.1.0"\nworld = "inbound-flow"\ncapabilities = [%s]\nmemory-mib = 32\nconfig-schema = '"'"'{}'"'"'\n' "$2" "$CAPS" >"$pkg/plugin.toml"
  python3 - "$PLUGINS/ivr_main.wasm" "$pkg/ivr_main.wasm" "$2" <<'PY'
import sys
def leb(n):
    out = bytearray()
    while True:
        b = n & 0x7f; n >>= 7
        if n == 0: out.append(b); return bytes(out)
        out.append(b | 0x80)
name, payload = b"courtyard-bench", sys.argv[3].encode()
body = leb(len(name)) + name + payload
open(sys.argv[2], "wb").write(open(sys.argv[1], "rb").read() + b"\x00" + leb(len(body)) + body)
PY
  ( cd "$pkg" && "$BIN" plugin pack plugin.toml ivr_main.wasm -o ivr-main.cyp >/dev/null 2>&1 &&
    "$BIN" plugin sign ivr-main.cyp --key "$1.key" >/dev/null 2>&1 )
}

# Installs $WORK/pkg/ivr-main.cyp as a version of ivr-main; prints its version key.
bench_install() {
  curl -sf "${auth[@]}" -XPOST --data-binary @"$WORK/pkg/ivr-main.cyp" -H 'content-type: application/octet-stream' \
    "$API/api/v1/plugins/install?flow=ivr-main&grants=$GRANTS" | python3 -c 'import sys,json; v=json.load(sys.stdin); print(v.get("version") or v.get("key") or "")'
}

# Activates version NEW of ivr-main, lets calls run on it for SECONDS, rolls back, and uninstalls
# NEW once its last call ended (refused while calls still run on it), so its compiled code and
# instance pool are freed. Prints the three HTTP statuses.   Usage: bench_swap NEW SECONDS
bench_swap() {
  local a r u=000
  a=$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -XPOST -H 'content-type: application/json' -d "{\"version\":\"$1\"}" "$API/api/v1/flows/ivr-main/activate")
  sleep "$2"
  r=$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -XPOST "$API/api/v1/flows/ivr-main/rollback")
  for _ in $(seq 1 30); do
    u=$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -XDELETE "$API/api/v1/flows/ivr-main/versions/$1")
    [ "$u" = 200 ] && break
    sleep 1
  done
  echo "$a $r $u"
}
