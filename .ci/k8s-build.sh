#!/usr/bin/env bash
# Builds a local Kubernetes control plane (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl v1.37.2, etcd v3.6.16, kwok v0.8.0) from the Go module
# proxy into a cache directory outside the repository, so a second run costs
# nothing. Prints the bin directory on the last line of stdout.
set -euo pipefail
K8S_VERSION=v1.37.2
K8S_STAGING_VERSION=v0.37.2
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
CACHE=${CHAPTERHOUSE_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/chapterhouse-k8s}
BIN=$CACHE/bin
mkdir -p "$BIN" "$CACHE/src"
export GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=0

stamp() { printf '%s %s %s' "$K8S_VERSION" "$ETCD_VERSION" "$KWOK_VERSION"; }
log() { echo "[k8s-build] $*" >&2; }

build_kube() {
  local want=(kube-apiserver kube-controller-manager kube-scheduler kubectl) missing=() b
  for b in "${want[@]}"; do [ -x "$BIN/$b" ] && [ "$(cat "$BIN/$b.version" 2>/dev/null)" = "$K8S_VERSION" ] || missing+=("$b"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local src=$CACHE/src/kubernetes
  mkdir -p "$src"
  if [ ! -f "$src/go.sum" ] || ! grep -q "k8s.io/kubernetes $K8S_VERSION" "$src/go.mod"; then
    log "resolving k8s.io/kubernetes $K8S_VERSION"
    local dir
    dir=$(cd "$src" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    {
      echo "module chapterhouse.local/k8sbuild"
      echo
      echo "go 1.26.0"
      echo
      echo "require k8s.io/kubernetes $K8S_VERSION"
      echo
      # every staging module the kubernetes go.mod requires at v0.0.0
      awk '$2=="v0.0.0" && $1 ~ /^k8s.io\// {print "replace " $1 " => " $1 " '"$K8S_STAGING_VERSION"'"}' "$dir/go.mod" | sort -u
    } > "$src/go.mod"
    rm -f "$src/go.sum"
    (cd "$src" && for b in "${want[@]}"; do go get "k8s.io/kubernetes/cmd/$b@$K8S_VERSION" >&2; done)
  fi
  log "building ${missing[*]} (several minutes on a cold cache)"
  local pkgs=()
  for b in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  (cd "$src" && go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37" -o "$BIN/" "${pkgs[@]}")
  for b in "${missing[@]}"; do echo "$K8S_VERSION" > "$BIN/$b.version"; done
}

build_etcd() {
  [ -x "$BIN/etcd" ] && [ "$(cat "$BIN/etcd.version" 2>/dev/null)" = "$ETCD_VERSION" ] && return 0
  local src=$CACHE/src/etcd
  mkdir -p "$src"
  if [ ! -f "$src/go.sum" ]; then
    printf 'module chapterhouse.local/etcdbuild\n\ngo 1.26.0\n' > "$src/go.mod"
    (cd "$src" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2)
  fi
  log "building etcd $ETCD_VERSION"
  (cd "$src" && go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3)
  echo "$ETCD_VERSION" > "$BIN/etcd.version"
}

build_kwok() {
  [ -x "$BIN/kwok" ] && [ -s "$CACHE/kwok-stages.yaml" ] && [ "$(cat "$BIN/kwok.version" 2>/dev/null)" = "$KWOK_VERSION" ] && return 0
  local src=$CACHE/src/kwok
  mkdir -p "$src"
  if [ ! -f "$src/go.sum" ]; then
    printf 'module chapterhouse.local/kwokbuild\n\ngo 1.26.0\n' > "$src/go.mod"
    (cd "$src" && go get "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >&2)
  fi
  log "building kwok $KWOK_VERSION"
  (cd "$src" && go build -trimpath -ldflags "-s -w" -o "$BIN/kwok" sigs.k8s.io/kwok/cmd/kwok)
  echo "$KWOK_VERSION" > "$BIN/kwok.version"
}

kwok_stages() {
  [ -s "$CACHE/kwok-stages.yaml" ] && return 0
  local dir
  dir=$(cd "$CACHE/src/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
  "$BIN/kubectl" kustomize "$dir/kustomize/stage/fast" > "$CACHE/kwok-stages.yaml.tmp"
  mv "$CACHE/kwok-stages.yaml.tmp" "$CACHE/kwok-stages.yaml"
}

build_kube
build_etcd
build_kwok
kwok_stages
log "control plane binaries ready in $BIN ($(stamp))"
echo "$BIN"
