#!/usr/bin/env bash
# The whole test suite. A fresh machine needs only the Rust toolchain (pinned in
# rust-toolchain.toml); cargo fetches the locked dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cache.sh
corpus="${PHIGUARD_CORPUS:-../shared/corpus/aws-events}"
if [ -f "$corpus/MANIFEST.tsv" ]; then
  echo "conformance corpus: $corpus ($(($(wc -l < "$corpus/MANIFEST.tsv") - 1)) payloads)"
else
  echo "conformance corpus not found at $corpus: the conformance suites will skip"
fi
cargo test --workspace --locked "$@"
