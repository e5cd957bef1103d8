#!/usr/bin/env bash
# Kubernetes CI for Chapterhouse (issue 4), called from .ci/run:
#   1. images:  the five binaries build static (CGO_ENABLED=0), run as uid
#               65532 on a read-only root, and serve (.ci/images.sh);
#   2. chart:   helm lint --strict and helm template for every values set, the
#               strict-decode and policy test (.ci/chart.sh);
#   3. install: the chart on a local kube-apiserver/etcd/kwok control plane
#               (.ci/k8s-install.sh); the control-plane binaries are built once
#               into ${XDG_CACHE_HOME:-$HOME/.cache}/chapterhouse-k8s.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
section() { printf '\n--- %s (%ss)\n' "$*" "$(( $(date +%s) - t0 ))"; }
section "images: static, non-root, read-only root"
bash .ci/images.sh
section "chart: lint, template, strict decode, policies"
bash .ci/chart.sh
section "install into a local control plane"
bash .ci/k8s-install.sh
section "Kubernetes checks passed"
