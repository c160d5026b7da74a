#!/usr/bin/env bash
# Installs everything Courtyard needs to build, run the demo and run its tests on a fresh
# Debian machine with the Rust toolchain present. Idempotent; needs root (or sudo).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

PKGS=(
  pkg-config libclang-dev          # bindgen for espeakng-sys
  espeak-ng libespeak-ng-dev       # TTS (Mandarin voice cmn-latn-pinyin)
  sox                              # audio checks in tests
  sip-tester                       # SIPp: real SIP peer in tests and benchmarks
  baresip-core                     # real softphone: caller/agent in tests (core only: no GUI/video)
  docker-registry                  # a real OCI registry for plugin push/pull tests
  chromium fonts-wqy-microhei      # real browser (and a CJK font) for the console tests
  sipvicious                       # real scanners (svmap, svwar, svcrack) in the defence test
  python3-venv                     # venv for componentize-py (Python flows, scripts/polyglot.sh)
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  # No recommends: they pull GUI front ends and codecs the tests never load (minutes of CI time).
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
rustup target list --installed | grep -q '^wasm32-wasip2$' || rustup target add wasm32-wasip2
# Python/JS flow build tools from PyPI and npm, pinned, into git-ignored dirs of plugin-sdk/.
bash "$(dirname "${BASH_SOURCE[0]}")/polyglot.sh" install
echo "dependencies ready"
