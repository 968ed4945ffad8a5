#!/usr/bin/env bash
# Provide a real kube-apiserver and etcd for integration tests, envtest style
# (no kubelet, no controller-manager), built from source through the Go module
# proxy: no Docker, no download site.
#
# Usage:  export KUBEBUILDER_ASSETS="$(bash scripts/envtest.sh | tail -n1)"
#
# The last line on stdout is the assets directory (holds kube-apiserver, etcd
# and, unless disabled, kubectl). Progress goes to stderr. See docs/envtest.md.
#
# Environment:
#   KUBEBUILDER_ASSETS            if it already holds kube-apiserver and etcd: print it, do nothing else
#   PHIGUARD_CACHE                cache root (default $HOME/.cache/phiguard)
#   PHIGUARD_ENVTEST_K8S_VERSION  k8s.io/kubernetes version (default v1.34.4)
#   PHIGUARD_ENVTEST_ETCD_VERSION go.etcd.io/etcd/server/v3 version (default v3.6.16)
#   PHIGUARD_ENVTEST_KUBECTL      auto (default: build kubectl with a cold build only),
#                                 1 (also build it if the cache lacks it), 0 (never)
#   PHIGUARD_ENVTEST_TIME         1: run each `go build` under /usr/bin/time -v
set -euo pipefail

K8S_VERSION="${PHIGUARD_ENVTEST_K8S_VERSION:-v1.34.4}"
ETCD_VERSION="${PHIGUARD_ENVTEST_ETCD_VERSION:-v3.6.16}"
KUBECTL_MODE="${PHIGUARD_ENVTEST_KUBECTL:-auto}"
CACHE_ROOT="${PHIGUARD_CACHE:-$HOME/.cache/phiguard}"
ASSETS="$CACHE_ROOT/envtest/$K8S_VERSION-$ETCD_VERSION"

log() { printf 'envtest: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# has_assets DIR: DIR holds executable kube-apiserver and etcd.
has_assets() { [[ -x "$1/kube-apiserver" && -x "$1/etcd" ]]; }

# assets_run DIR: both binaries start and report a version.
assets_run() {
  "$1/kube-apiserver" --version >/dev/null 2>&1 && "$1/etcd" --version >/dev/null 2>&1
}

# 1. A preset KUBEBUILDER_ASSETS wins.
if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  if has_assets "$KUBEBUILDER_ASSETS"; then
    log "using preset KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
    printf '%s\n' "$KUBEBUILDER_ASSETS"
    exit 0
  fi
  log "preset KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks kube-apiserver or etcd; ignoring it"
fi

[[ "$K8S_VERSION" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] ||
  die "PHIGUARD_ENVTEST_K8S_VERSION must look like v1.34.4, got '$K8S_VERSION'"
K8S_MINOR="${BASH_REMATCH[1]}"
# Staging modules (k8s.io/api, k8s.io/apiserver, ...) are published as v0.MINOR.PATCH.
STAGING_VERSION="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"
[[ "$ETCD_VERSION" =~ ^v3\.[0-9]+\.[0-9]+$ ]] ||
  die "PHIGUARD_ENVTEST_ETCD_VERSION must look like v3.6.16, got '$ETCD_VERSION'"
case "$KUBECTL_MODE" in auto | 0 | 1) ;; *) die "PHIGUARD_ENVTEST_KUBECTL must be auto, 0 or 1" ;; esac

want_kubectl() { # $1: "cold" when kube-apiserver is being built anyway
  [[ "$KUBECTL_MODE" == 1 || ("$KUBECTL_MODE" == auto && "${1:-}" == cold) ]]
}

# 2. Warm path: never touches the network (no go command at all).
if has_assets "$ASSETS" && assets_run "$ASSETS" &&
  { [[ -x "$ASSETS/kubectl" ]] || ! want_kubectl warm; }; then
  log "reusing cached $ASSETS"
  printf '%s\n' "$ASSETS"
  exit 0
fi

# 3. Cold path: build what is missing.
command -v go >/dev/null 2>&1 || die "the go command is needed to build the envtest binaries"
mkdir -p "$ASSETS"

# One build per assets dir at a time (parallel test jobs, two terminals).
exec {lock_fd}>"$ASSETS/.lock"
if command -v flock >/dev/null 2>&1; then
  flock "$lock_fd"
fi

# Leftovers of a build that was killed before its trap ran.
rm -f -- "$ASSETS"/.*.tmp.*

TMPFILES=()
cleanup() {
  local f
  for f in "${TMPFILES[@]}"; do rm -f -- "$f"; done
}
trap cleanup EXIT

TIME_CMD=()
if [[ "${PHIGUARD_ENVTEST_TIME:-0}" == 1 && -x /usr/bin/time ]]; then
  TIME_CMD=(/usr/bin/time -v)
fi

# go_build MODDIR OUT PKG LDFLAGS: build PKG from module MODDIR into OUT via a
# temp name, renamed only once the build succeeded.
go_build() {
  local moddir="$1" out="$2" pkg="$3" ldflags="$4" tmp start
  tmp="$(dirname "$out")/.$(basename "$out").tmp.$$"
  TMPFILES+=("$tmp")
  start=$SECONDS
  log "building $(basename "$out") ($pkg) ..."
  (cd "$moddir" && CGO_ENABLED=0 "${TIME_CMD[@]}" nice -n 10 \
    go build -trimpath -ldflags="$ldflags" -o "$tmp" "$pkg")
  mv -f -- "$tmp" "$out"
  log "built $(basename "$out") in $((SECONDS - start))s ($(du -h "$out" | cut -f1))"
}

# go_mod_field MODULE@VERSION FIELD: a field of `go mod download -json`.
go_mod_field() {
  go mod download -json "$1" | sed -n "s/^[[:space:]]*\"$2\": \"\(.*\)\",\{0,1\}\$/\1/p"
}

prepare_kube_module() {
  local dir="$ASSETS/.build/kube" gomod gov godebug staging m
  mkdir -p "$dir"
  printf 'module phiguard.local/envtest/kube\n\ngo 1.24.0\n' >"$dir/go.mod"
  rm -f "$dir/go.sum"
  log "fetching k8s.io/kubernetes@$K8S_VERSION go.mod ..."
  gomod="$(cd "$dir" && go_mod_field "k8s.io/kubernetes@$K8S_VERSION" GoMod)"
  [[ -f "$gomod" ]] || die "could not download k8s.io/kubernetes@$K8S_VERSION"
  gov="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")"
  godebug="$(grep -E '^godebug ' "$gomod" || true)"
  # The staging modules: k8s.io/kubernetes replaces them with ./staging/src/...;
  # that replace is ignored for a dependency, so map each to its published version.
  staging="$(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/src/.*#\1#p' "$gomod")"
  [[ -n "$staging" ]] || die "no staging replace block in $gomod"
  {
    printf 'module phiguard.local/envtest/kube\n\ngo %s\n\n' "$gov"
    [[ -z "$godebug" ]] || printf '%s\n\n' "$godebug"
    printf 'require k8s.io/kubernetes %s\n\nreplace (\n' "$K8S_VERSION"
    for m in $staging; do printf '\t%s => %s %s\n' "$m" "$m" "$STAGING_VERSION"; done
    printf ')\n'
  } >"$dir/go.mod"
  cat >"$dir/tools.go" <<'EOF'
//go:build tools

// Package tools pins the commands that scripts/envtest.sh builds.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
EOF
  log "resolving kubernetes dependencies (go mod tidy) ..."
  (cd "$dir" && go mod tidy)
}

prepare_etcd_module() {
  local dir="$ASSETS/.build/etcd" gomod gov
  mkdir -p "$dir"
  printf 'module phiguard.local/envtest/etcd\n\ngo 1.24.0\n' >"$dir/go.mod"
  rm -f "$dir/go.sum"
  log "fetching go.etcd.io/etcd/server/v3@$ETCD_VERSION go.mod ..."
  gomod="$(cd "$dir" && go_mod_field "go.etcd.io/etcd/server/v3@$ETCD_VERSION" GoMod)"
  [[ -f "$gomod" ]] || die "could not download go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  gov="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")"
  printf 'module phiguard.local/envtest/etcd\n\ngo %s\n\nrequire go.etcd.io/etcd/server/v3 %s\n' \
    "$gov" "$ETCD_VERSION" >"$dir/go.mod"
  cat >"$dir/main.go" <<'EOF'
// Command etcd is upstream etcd's own main: etcdmain.Main.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  log "resolving etcd dependencies (go mod tidy) ..."
  (cd "$dir" && go mod tidy)
}

kube_ldflags() {
  local p flags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$K8S_MINOR"
    flags+=" -X $p.gitTreeState=clean"
  done
  printf '%s' "$flags"
}

kube_ready=0
build_kube() { # $1: binary name under cmd/
  if [[ $kube_ready == 0 ]]; then
    prepare_kube_module
    kube_ready=1
  fi
  go_build "$ASSETS/.build/kube" "$ASSETS/$1" "k8s.io/kubernetes/cmd/$1" "$(kube_ldflags)"
}

total_start=$SECONDS
cold=warm
if ! { [[ -x "$ASSETS/kube-apiserver" ]] && "$ASSETS/kube-apiserver" --version >/dev/null 2>&1; }; then
  cold=cold
  build_kube kube-apiserver
fi
if ! { [[ -x "$ASSETS/etcd" ]] && "$ASSETS/etcd" --version >/dev/null 2>&1; }; then
  prepare_etcd_module
  go_build "$ASSETS/.build/etcd" "$ASSETS/etcd" . \
    "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-$ETCD_VERSION"
fi
if [[ ! -x "$ASSETS/kubectl" ]] && want_kubectl "$cold"; then
  build_kube kubectl
fi

assets_run "$ASSETS" || die "built binaries in $ASSETS do not run"
log "kube-apiserver: $("$ASSETS/kube-apiserver" --version 2>&1)"
log "etcd: $("$ASSETS/etcd" --version 2>&1 | head -n1)"
log "assets ready in $((SECONDS - total_start))s"
printf '%s\n' "$ASSETS"
