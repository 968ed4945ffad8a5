#!/usr/bin/env bash
# The whole test suite. A fresh machine needs the Rust toolchain (pinned in
# rust-toolchain.toml), python3, openssl and Go; cargo fetches the locked dependencies,
# scripts/moto.sh installs the moto server (PyPI) into the cache, and scripts/envtest.sh
# builds kube-apiserver and etcd into the cache (once: ~11 min cold, then ~0.1 s; Go is
# only needed for that first build). See docs/envtest.md. scripts/helm.sh and
# scripts/promtool.sh provide helm and promtool the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cache.sh
corpus="${PHIGUARD_CORPUS:-../shared/corpus/aws-events}"
if [ -f "$corpus/MANIFEST.tsv" ]; then
  echo "conformance corpus: $corpus ($(($(wc -l < "$corpus/MANIFEST.tsv") - 1)) payloads)"
  # Absolute, so both crates' suites read the same corpus whatever their working directory.
  PHIGUARD_CORPUS="$(cd "$corpus" && pwd)"
  export PHIGUARD_CORPUS
else
  echo "conformance corpus not found at $corpus: the conformance suites will skip"
fi
# AWS peers for the tests: the moto server, installed into the cache on first use.
PHIGUARD_MOTO_SERVER="${PHIGUARD_MOTO_SERVER:-$(bash scripts/moto.sh install)}"
export PHIGUARD_MOTO_SERVER
echo "moto server: $PHIGUARD_MOTO_SERVER"
# A real SQS server fast enough for the volume chaos tests (ElasticMQ, Maven Central via mvn).
PHIGUARD_ELASTICMQ="${PHIGUARD_ELASTICMQ:-$(bash scripts/elasticmq.sh install | tail -n1)}"
export PHIGUARD_ELASTICMQ
echo "elasticmq: $PHIGUARD_ELASTICMQ"
# A real kube-apiserver and etcd for the controller's tests (envtest), so each test does
# not have to run the script itself. A preset KUBEBUILDER_ASSETS with both binaries wins.
if ! KUBEBUILDER_ASSETS="$(bash scripts/envtest.sh | tail -n1)" ||
  [ ! -x "$KUBEBUILDER_ASSETS/kube-apiserver" ] || [ ! -x "$KUBEBUILDER_ASSETS/etcd" ]; then
  echo "scripts/envtest.sh failed: no kube-apiserver and etcd for the controller's tests (see its messages above and docs/envtest.md)" >&2
  exit 1
fi
export KUBEBUILDER_ASSETS
echo "envtest assets: $KUBEBUILDER_ASSETS"
# helm for the chart tests (built from the Go module proxy once, ~5 min cold) and promtool
# for the alert tests (Debian's prometheus package, ~5 s): both cached, see docs/development.md.
for tool in helm promtool; do
  var="PHIGUARD_$(echo "$tool" | tr '[:lower:]' '[:upper:]')"
  if ! path="$(bash "scripts/$tool.sh" | tail -n1)" || [ ! -x "$path" ]; then
    echo "scripts/$tool.sh failed: no $tool for the chart and alert tests (see its messages above)" >&2
    exit 1
  fi
  export "$var=$path"
  echo "$tool: $path"
done
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --locked --no-fail-fast "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line over every test binary (cargo prints one summary per binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log" | tee "${PHIGUARD_TEST_SUMMARY:-/dev/null}"
exit "$status"
