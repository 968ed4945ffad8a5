#!/usr/bin/env bash
# Refresh the third-party CRDs from the Go module proxy (no other download site is needed).
# Usage: bash deploy/crds/third-party/refresh.sh [OPENREPORTS_VERSION] [KYVERNO_VERSION] [PROMETHEUS_OPERATOR_VERSION]
# Writes the policy-report CRDs next to this script and the prometheus-operator ones into
# prometheus-operator/; README.md records the versions (update it too).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
openreports="${1:-v0.2.1}"
kyverno="${2:-v1.19.1}"
prometheus_operator="${3:-v0.85.0}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
export GOFLAGS=-mod=mod
go mod init phiguard-crd-fetch >/dev/null 2>&1
dir() { go mod download -json "$1@$2" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }

o="$(dir github.com/openreports/reports-api "$openreports")"
cp "$o/config/crd/openreports.io_clusterreports.yaml" "$here/openreports.io_clusterreports.yaml"

# sigs.k8s.io/wg-policy-prototypes is not served by the module proxy (403); Kyverno ships the
# same wgpolicyk8s.io/v1alpha2 CRDs, generated from that API, in its module.
k="$(dir github.com/kyverno/kyverno "$kyverno")"
cp "$k/config/crds/policyreport/wgpolicyk8s.io_clusterpolicyreports.yaml" "$here/wgpolicyk8s.io_clusterpolicyreports.yaml"

# Only the kinds the chart renders (ServiceMonitor, PrometheusRule); `example/prometheus-operator-crd/`
# is the operator's own install set (the `-full` variant differs only by a version annotation).
p="$(dir github.com/prometheus-operator/prometheus-operator "$prometheus_operator")"
mkdir -p "$here/prometheus-operator"
for kind in servicemonitors prometheusrules; do
  cp "$p/example/prometheus-operator-crd/monitoring.coreos.com_$kind.yaml" "$here/prometheus-operator/"
done
chmod u+w "$here"/*.yaml "$here"/prometheus-operator/*.yaml
echo "refreshed: openreports $openreports, kyverno $kyverno, prometheus-operator $prometheus_operator" >&2
