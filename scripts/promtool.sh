#!/usr/bin/env bash
# Provide promtool (Prometheus's rule checker and rule unit-test runner) for the alert tests.
#
# Usage:  export PHIGUARD_PROMTOOL="$(bash scripts/promtool.sh | tail -n1)"
#
# The last line on stdout is the path of a promtool binary; progress goes to stderr.
# Order: a preset PHIGUARD_PROMTOOL, then `promtool` on PATH, then the cached copy; else
# fetch it (PHIGUARD_PROMTOOL_SOURCE):
#   apt (default): `apt-get download prometheus` + `dpkg -x` into the cache. Debian's
#       package is a ~19 MB download; nothing is installed system-wide. Measured ~10 s.
#   go: `go install github.com/prometheus/prometheus/cmd/promtool@VERSION` (promtool links
#       every service discovery plugin: measured 578 s cold on 2 busy cores).
# See docs/development.md for the measurements behind the default.
#
# Environment:
#   PHIGUARD_PROMTOOL          a promtool binary to use as is
#   PHIGUARD_CACHE             cache root (default $HOME/.cache/phiguard)
#   PHIGUARD_PROMTOOL_SOURCE   apt (default) or go
#   PHIGUARD_PROMTOOL_VERSION  module version for the go source (default below)
set -euo pipefail

SOURCE="${PHIGUARD_PROMTOOL_SOURCE:-apt}"
GO_VERSION="${PHIGUARD_PROMTOOL_VERSION:-v0.316.0}"
CACHE_ROOT="${PHIGUARD_CACHE:-$HOME/.cache/phiguard}"

log() { printf 'promtool.sh: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# works BIN: BIN runs and knows `test rules` (every promtool since 2.x does).
works() { "$1" --version >/dev/null 2>&1 && "$1" test rules --help >/dev/null 2>&1; }

if [[ -n "${PHIGUARD_PROMTOOL:-}" ]]; then
  if [[ -x "$PHIGUARD_PROMTOOL" ]] && works "$PHIGUARD_PROMTOOL"; then
    log "using preset PHIGUARD_PROMTOOL=$PHIGUARD_PROMTOOL"
    printf '%s\n' "$PHIGUARD_PROMTOOL"
    exit 0
  fi
  log "preset PHIGUARD_PROMTOOL=$PHIGUARD_PROMTOOL does not run; ignoring it"
fi
if on_path="$(command -v promtool 2>/dev/null)" && works "$on_path"; then
  log "using $on_path from PATH"
  printf '%s\n' "$on_path"
  exit 0
fi

case "$SOURCE" in
apt) DIR="$CACHE_ROOT/promtool/apt" ;;
go) DIR="$CACHE_ROOT/promtool/go-$GO_VERSION" ;;
*) die "PHIGUARD_PROMTOOL_SOURCE must be apt or go, got '$SOURCE'" ;;
esac
if [[ -x "$DIR/promtool" ]] && works "$DIR/promtool"; then
  log "reusing cached $DIR/promtool"
  printf '%s\n' "$DIR/promtool"
  exit 0
fi

mkdir -p "$DIR"
exec {lock_fd}>"$DIR/.lock"
command -v flock >/dev/null 2>&1 && flock "$lock_fd"
if [[ -x "$DIR/promtool" ]] && works "$DIR/promtool"; then
  printf '%s\n' "$DIR/promtool"
  exit 0
fi
# Work in a temp dir and rename at the end: an interrupted fetch leaves no half binary.
tmp="$(mktemp -d "$DIR/.fetch.XXXXXX")"
trap 'rm -rf -- "$tmp"' EXIT
start=$SECONDS

if [[ "$SOURCE" == apt ]]; then
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found (use PHIGUARD_PROMTOOL_SOURCE=go)"
  # A fresh machine may have no package lists yet; `apt-get download` needs them.
  if ! apt-cache show prometheus >/dev/null 2>&1; then
    log "no package lists yet: apt-get update"
    apt-get update -qq >&2 || die "apt-get update failed (are you root? else PHIGUARD_PROMTOOL_SOURCE=go)"
  fi
  log "apt-get download prometheus ($(apt-cache policy prometheus | sed -n 's/^ *Candidate: //p')) ..."
  # _apt cannot write into root's temp dir; the download then runs unsandboxed (warning only).
  (cd "$tmp" && apt-get download -q prometheus >&2) || die "apt-get download prometheus failed"
  dpkg -x "$tmp"/prometheus_*.deb "$tmp/root"
  mv -f -- "$tmp/root/usr/bin/promtool" "$DIR/promtool"
else
  command -v go >/dev/null 2>&1 || die "the go command is needed for PHIGUARD_PROMTOOL_SOURCE=go"
  export GOCACHE="$CACHE_ROOT/go/build" GOMODCACHE="$CACHE_ROOT/go/mod"
  log "building promtool $GO_VERSION with $(go version | cut -d' ' -f3) (go install, CGO off) ..."
  # promtool's --version reads prometheus/common's version variables (set by its release build).
  GOBIN="$tmp" CGO_ENABLED=0 nice -n 10 go install -trimpath \
    -ldflags "-s -w -X github.com/prometheus/common/version.Version=$GO_VERSION" \
    "github.com/prometheus/prometheus/cmd/promtool@$GO_VERSION"
  mv -f -- "$tmp/promtool" "$DIR/promtool"
fi
works "$DIR/promtool" || die "$DIR/promtool does not run"
log "promtool ready in $((SECONDS - start))s: $("$DIR/promtool" --version 2>&1 | head -n1)"
printf '%s\n' "$DIR/promtool"
