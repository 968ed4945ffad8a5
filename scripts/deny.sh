#!/usr/bin/env bash
# Supply-chain checks of every crate PhiGuard builds, with cargo-deny (deny.toml):
#   bash scripts/deny.sh
# licenses, bans and sources always; advisories (RustSec) when the advisory database is at
# hand (docs/security.md, "Supply chain"):
#   PHIGUARD_ADVISORY_DB=/path/to/advisory-db   a local git clone of the RustSec advisory-db
#       (e.g. copied in from a machine that has GitHub); used as the database's origin, so
#       cargo-deny "fetches" from it and needs no network.
#   PHIGUARD_ADVISORY_DB=fetch                  fetch from GitHub (where the network allows).
#   unset                                       advisories skipped, and the output says so.
# Installs cargo-deny (pinned) into the tool cache, like scripts/fuzz.sh does cargo-fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cache.sh
cache="${PHIGUARD_CACHE:-$HOME/.cache/phiguard}"
version=0.20.2
deny="$cache/tools/bin/cargo-deny"
if ! { [ -x "$deny" ] && [ "$("$deny" --version 2>/dev/null)" = "cargo-deny $version" ]; }; then
  echo "deny: installing cargo-deny $version into $cache/tools (once per machine)" >&2
  # A throw-away target dir: the tool's build is not worth keeping next to PhiGuard's.
  build="$(mktemp -d)"
  trap 'rm -rf "$build"' EXIT
  started=$(date +%s)
  env -u CARGO_BUILD_BUILD_DIR CARGO_TARGET_DIR="$build" \
    cargo install --locked --root "$cache/tools" "cargo-deny@$version" >&2
  echo "deny: installed in $(( $(date +%s) - started ))s" >&2
fi

checks=(licenses bans sources)
case "${PHIGUARD_ADVISORY_DB:-}" in
  "")
    echo "deny: advisories SKIPPED — no RustSec advisory database here (it is a GitHub repository" \
      "and this machine reaches only package registries); set PHIGUARD_ADVISORY_DB to a local" \
      "clone, or to 'fetch' where GitHub is reachable (docs/security.md)"
    ;;
  fetch)
    checks+=(advisories)
    ;;
  *)
    [ -d "$PHIGUARD_ADVISORY_DB/.git" ] || { echo "deny: PHIGUARD_ADVISORY_DB=$PHIGUARD_ADVISORY_DB is not a git clone"; exit 2; }
    # cargo-deny clones and fetches the database (branch `main`) with the git CLI: git's
    # insteadOf sends that URL to the local clone, for this process only.
    export GIT_CONFIG_COUNT=1
    export GIT_CONFIG_KEY_0="url.file://$(cd "$PHIGUARD_ADVISORY_DB" && pwd)/.insteadOf"
    export GIT_CONFIG_VALUE_0="https://github.com/RustSec/advisory-db"
    checks+=(advisories)
    ;;
esac

started=$(date +%s)
status=0
"$deny" --locked check --show-stats --hide-inclusion-graph "${checks[@]}" || status=$?
echo "deny: ${checks[*]}: $([ $status = 0 ] && echo ok || echo FAILED) in $(( $(date +%s) - started ))s"
exit $status
