#!/usr/bin/env bash
# The local demo: no AWS account, no cluster. Starts the AWS emulator (moto), wires the event
# queue with `phiguard setup`, creates a small hospital estate, sends the events AWS would
# send for it through EventBridge, and runs `phiguard run` until the queue is empty.
# Ends by itself and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cache.sh
moto="$(bash scripts/moto.sh install)"
python="$(dirname "$moto")/python"
# CI passes the binary its test run already built (a `cargo build -p phiguard` resolves
# features differently from `cargo test --workspace` and would rebuild every AWS crate).
if [ -n "${PHIGUARD_BIN:-}" ] && [ -x "$PHIGUARD_BIN" ]; then
  bin="$PHIGUARD_BIN"
else
  echo "== building phiguard" >&2
  cargo build -q -p phiguard
  bin="${CARGO_TARGET_DIR:-target}/debug/phiguard"
fi

port="$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$moto" -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null; wait "$moto_pid" 2>/dev/null || true' EXIT
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" PHIGUARD_ENDPOINT_URL="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  "$python" -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
  sleep 0.2
done

echo; echo "== 1. phiguard setup: event queue, dead-letter queue, EventBridge rules"
"$bin" setup --queue-name phiguard-demo | tee /tmp/phiguard-demo-setup.$$
queue_url="$(sed -n 's/^queue url *//p' /tmp/phiguard-demo-setup.$$)"
rm -f /tmp/phiguard-demo-setup.$$

echo; echo "== 2. a small hospital estate, and the change events AWS would send for it"
"$python" scripts/demo_estate.py

echo; echo "== 3. phiguard run: findings as the events arrive (built-in HIPAA baseline)"
RUST_LOG="${RUST_LOG:-warn}" "$bin" run --mode file --queue-url "$queue_url" --until-idle --format table "$@"
echo "== done: the emulator is stopped; nothing was left running"
