#!/usr/bin/env bash
# The whole test suite. A fresh machine needs only the Rust toolchain (pinned in
# rust-toolchain.toml); cargo fetches the locked dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cache.sh
cargo test --workspace --locked "$@"
