#!/usr/bin/env bash
# Side-by-side bench, PhiGuard vs Cloud Custodian, on the moto emulator (docs/benchmarks.md).
#   bash scripts/bench-custodian.sh [--sizes 200,1000,5000] [--events 200] [--out FILE]
# Installs moto (scripts/moto.sh) and c7n + matplotlib into the cache, builds phiguard in
# release mode unless PHIGUARD_BIN names a binary, runs benches/custodian/bench.py, then plots.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cache.sh
C7N_VERSION="0.9.53"
cache="${PHIGUARD_CACHE:-$HOME/.cache/phiguard}"
venv="$cache/c7n-venv"
moto="$(bash scripts/moto.sh install)"
if ! "$venv/bin/python" -c "import c7n.version as v, matplotlib, sys; sys.exit(v.version != '$C7N_VERSION')" 2>/dev/null; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "c7n==$C7N_VERSION" matplotlib >&2
fi
if [ -n "${PHIGUARD_BIN:-}" ]; then
  bin="$PHIGUARD_BIN"
else
  cargo build --release -q -p phiguard
  bin="${CARGO_TARGET_DIR:-target}/release/phiguard"
fi
out="benches/custodian/results.json"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do [ "${args[$i]}" = "--out" ] && out="${args[$((i + 1))]}"; done
"$venv/bin/python" benches/custodian/bench.py --phiguard "$bin" --custodian "$venv/bin/custodian" --moto "$moto" --out "$out" "$@"
"$venv/bin/python" benches/custodian/plot.py "$out" docs/img/custodian-bench.png
