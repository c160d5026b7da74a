#!/usr/bin/env bash
# Builds bill-lookup.wasm (world inbound-flow) with componentize-js; offline once the SDK's tools
# are installed (plugin-sdk/js/install.sh). Usage: examples/bill-lookup-js/build.sh [out.wasm]
# componentize-js only reads modules inside the source's directory, so the sources and the SDK's
# courtyard.js are staged together in a temporary directory first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$(realpath -m "${1:-$here/bill-lookup.wasm}")"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp "$here"/*.js "$stage/"
cp "$repo/plugin-sdk/js/courtyard.js" "$stage/"
cd "$stage"
"$repo/plugin-sdk/js/componentize" app.js -w "$repo/wit" -n inbound-flow -o "$out"
