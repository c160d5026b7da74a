#!/usr/bin/env bash
# Installs the Python flow build tool (componentize-py, pinned in requirements.txt) into
# plugin-sdk/python/.venv (git-ignored). Needs python3 >= 3.10 with venv; ~20 s, ~60 MB.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ ! -x "$here/.venv/bin/componentize-py" ]]; then
    python3 -m venv "$here/.venv"
    "$here/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi
"$here/.venv/bin/componentize-py" --version
