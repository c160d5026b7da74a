#!/usr/bin/env bash
# Installs the JS flow build tools (@bytecodealliance/componentize-js and jco, pinned by
# package-lock.json) into plugin-sdk/js/node_modules (git-ignored). Needs node >= 18 and npm.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
if [[ ! -x node_modules/.bin/componentize-js ]]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
node_modules/.bin/componentize-js --version
