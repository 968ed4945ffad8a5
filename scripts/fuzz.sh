#!/usr/bin/env bash
# Fuzz every decoder entry point and the policy parser with cargo-fuzz (libFuzzer + ASan).
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     default: 60 s each, all targets
# Needs a nightly toolchain (rustup's `nightly`); installs cargo-fuzz into the cache. The
# growing corpus lives in the cache ($cache/fuzz-corpus/<target>), seeded from the repo's
# own examples and fixtures (the small corpus kept in git); crashes land in
# fuzz/artifacts/<target>/ and fail this script: fix, then add the input as a test fixture.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cache.sh
cache="${PHIGUARD_CACHE:-$HOME/.cache/phiguard}"
seconds="${1:-60}"; shift || true
targets=("$@")
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz: SKIPPED — no nightly toolchain (cargo-fuzz needs one: rustup toolchain install nightly)"
  exit 0
fi
fuzz_bin="$cache/tools/bin/cargo-fuzz"
if [ ! -x "$fuzz_bin" ]; then
  CARGO_TARGET_DIR="$cache/tools/build" cargo +nightly install --locked --root "$cache/tools" cargo-fuzz@0.13.2 >&2
fi
# Own target dir: nightly + sanitizer artifacts cannot share the stable build's.
export CARGO_TARGET_DIR="$cache/fuzz-target"
source fuzz/targets.sh
[ ${#targets[@]} -gt 0 ] || targets=("${FUZZ_TARGETS[@]}")
status=0
for t in "${targets[@]}"; do
  corpus="$cache/fuzz-corpus/$t"
  mkdir -p "$corpus" "fuzz/artifacts/$t"
  # shellcheck disable=SC2046
  if ! (cd fuzz && "$fuzz_bin" run --target-dir "$CARGO_TARGET_DIR" "$t" "$corpus" $(for d in $(seeds_for "$t"); do echo "../$d"; done) \
      -- -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 $(flags_for "$t") 2>&1 |
      grep -E "^(#[0-9]+ +DONE|stat::|==[0-9]+==|SUMMARY|Done|INFO: seed corpus)|panicked" ); then
    echo "fuzz: $t FAILED (see fuzz/artifacts/$t/)"; status=1
  fi
  echo "fuzz: $t corpus $(ls "$corpus" | wc -l) inputs"
done
exit $status
