# Sourced by scripts: reuse a build cache between clean clones when one exists
# (CI runs each submission in a fresh clone on a machine that keeps $HOME).
# Override with PHIGUARD_CACHE=/path, or PHIGUARD_CACHE= to build in ./target.
cache="${PHIGUARD_CACHE-$HOME/.cache/phiguard}"
if [ -n "$cache" ] && mkdir -p "$cache" 2>/dev/null; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$cache/target}"
fi
# CI builds once per clone: incremental state would only cost time and disk.
if [ "${CI:-}" = "true" ]; then export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"; fi
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
