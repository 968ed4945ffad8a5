#!/usr/bin/env bash
# Provide helm (v4) for the chart tests, built from the Go module proxy and cached.
#
# Usage:  export PHIGUARD_HELM="$(bash scripts/helm.sh | tail -n1)"
#
# The last line on stdout is the path of a helm binary; progress goes to stderr.
# Order: a preset PHIGUARD_HELM, then `helm` on PATH, each only if it is the pinned major
# (v4: chart rendering and lint rules differ between majors, and the snapshots are v4's);
# then the cached build; else `go install helm.sh/helm/v4/cmd/helm@VERSION` into the cache
# (about 4 min cold on 2 busy cores, see docs/development.md), never again afterwards.
#
# Environment:
#   PHIGUARD_HELM          a helm binary to use as is (if it is v4)
#   PHIGUARD_CACHE         cache root (default $HOME/.cache/phiguard)
#   PHIGUARD_HELM_VERSION  helm.sh/helm/v4 version to build (default below)
set -euo pipefail

VERSION="${PHIGUARD_HELM_VERSION:-v4.3.2}"
MAJOR="${VERSION%%.*}"
CACHE_ROOT="${PHIGUARD_CACHE:-$HOME/.cache/phiguard}"
DIR="$CACHE_ROOT/helm/$VERSION"

log() { printf 'helm.sh: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# major_ok BIN: BIN runs and reports the pinned major (`helm version --short` prints v4.3.2+g...).
major_ok() {
  local v
  v="$("$1" version --short 2>/dev/null)" || return 1
  [[ "$v" == "$MAJOR".* ]]
}

if [[ -n "${PHIGUARD_HELM:-}" ]]; then
  if [[ -x "$PHIGUARD_HELM" ]] && major_ok "$PHIGUARD_HELM"; then
    log "using preset PHIGUARD_HELM=$PHIGUARD_HELM"
    printf '%s\n' "$PHIGUARD_HELM"
    exit 0
  fi
  log "preset PHIGUARD_HELM=$PHIGUARD_HELM is not a working helm $MAJOR; ignoring it"
fi
if on_path="$(command -v helm 2>/dev/null)" && major_ok "$on_path"; then
  log "using $on_path from PATH"
  printf '%s\n' "$on_path"
  exit 0
fi
if [[ -x "$DIR/helm" ]] && major_ok "$DIR/helm"; then
  log "reusing cached $DIR/helm"
  printf '%s\n' "$DIR/helm"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "the go command is needed to build helm $VERSION (or set PHIGUARD_HELM)"
mkdir -p "$DIR"
# One build at a time per version (parallel test binaries, two terminals).
exec {lock_fd}>"$DIR/.lock"
command -v flock >/dev/null 2>&1 && flock "$lock_fd"
if [[ -x "$DIR/helm" ]] && major_ok "$DIR/helm"; then
  printf '%s\n' "$DIR/helm"
  exit 0
fi

# Go's caches live in the PhiGuard cache so CI (which keeps $HOME) reuses them.
export GOCACHE="${GOCACHE_PHIGUARD:-$CACHE_ROOT/go/build}" GOMODCACHE="$CACHE_ROOT/go/mod"
# Build into a temp dir and rename at the end: an interrupted build leaves no half binary.
tmp="$(mktemp -d "$DIR/.build.XXXXXX")"
trap 'rm -rf -- "$tmp"' EXIT
start=$SECONDS
log "building helm $VERSION with $(go version | cut -d' ' -f3) (go install, CGO off) ..."
# helm's version string comes from ldflags in its release build; set it the same way so
# `helm version` names the pinned release instead of a dev string.
GOBIN="$tmp" CGO_ENABLED=0 nice -n 10 go install -trimpath \
  -ldflags "-s -w -X helm.sh/helm/$MAJOR/internal/version.version=$VERSION" \
  "helm.sh/helm/$MAJOR/cmd/helm@$VERSION"
mv -f -- "$tmp/helm" "$DIR/helm"
major_ok "$DIR/helm" || die "built $DIR/helm does not report $MAJOR: $("$DIR/helm" version --short 2>&1)"
log "built helm $VERSION in $((SECONDS - start))s ($(du -h "$DIR/helm" | cut -f1))"
printf '%s\n' "$DIR/helm"
