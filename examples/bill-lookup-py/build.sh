#!/usr/bin/env bash
# Builds bill-lookup.wasm (world inbound-flow) with componentize-py; offline once the SDK's tools
# are installed (plugin-sdk/python/install.sh). Usage: examples/bill-lookup-py/build.sh [out.wasm]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:-$here/bill-lookup.wasm}"
"$repo/plugin-sdk/python/componentize-py" -d "$repo/wit" -w inbound-flow componentize app \
    -p "$here" -p "$repo/plugin-sdk/python" -o "$out"
