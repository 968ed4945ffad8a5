#!/usr/bin/env bash
# The moto server (AWS API emulator) that the tests and the local demo use.
#   scripts/moto.sh install   create/update the venv in the cache and print the launcher's path
# The launcher runs moto_server through scripts/moto_shim.py (fixes for responses the Rust SDK
# rejects; see that file).
# Reuses $PHIGUARD_CACHE/venv (default ~/.cache/phiguard/venv) when moto is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
MOTO_VERSION="5.2.5"
cache="${PHIGUARD_CACHE:-$HOME/.cache/phiguard}"
venv="$cache/venv"
case "${1:-install}" in
  install)
    if ! "$venv/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
      mkdir -p "$cache"
      python3 -m venv "$venv" >&2
      "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
    fi
    cp scripts/moto_shim.py "$venv/phiguard_moto_shim.py"
    printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$venv/bin/python" "$venv/phiguard_moto_shim.py" > "$venv/bin/phiguard-moto"
    chmod +x "$venv/bin/phiguard-moto"
    echo "$venv/bin/phiguard-moto"
    ;;
  *)
    echo "usage: scripts/moto.sh install" >&2
    exit 2
    ;;
esac
