#!/usr/bin/env bash
# Chart checks: helm lint --strict and helm template for every values set in
# charts/chapterhouse/ci, then the strict-decode and policy test
# (deploy/charttest, its own module outside go.work, run with GOWORK=off).
set -euo pipefail
cd "$(dirname "$0")/.."
HELM=${HELM:-$PWD/.bin/helm}
[ -x "$HELM" ] || make --no-print-directory tools
chart=charts/chapterhouse
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for values in "$chart"/ci/*-values.yaml; do
  name=$(basename "$values" -values.yaml)
  echo "[chart] $name: helm lint --strict"
  "$HELM" lint --strict "$chart" -f "$values" --kube-version 1.37.2 --namespace chapterhouse
  echo "[chart] $name: helm template"
  "$HELM" template ch "$chart" -f "$values" --namespace chapterhouse --kube-version 1.37.2 >"$out/$name.yaml"
  echo "[chart] $name: $(grep -c '^kind:' "$out/$name.yaml") objects: $(grep '^kind:' "$out/$name.yaml" | sort | uniq -c | awk '{printf "%s %s, ", $1, $3}')"
done

echo "[chart] strict decode into k8s.io/api types and policy test (deploy/charttest)"
(
  cd deploy/charttest
  export GOWORK=off
  unformatted=$(gofmt -l .)
  [ -z "$unformatted" ] || { echo "not gofmt-ed: $unformatted"; exit 1; }
  go mod tidy && git diff --quiet -- go.mod go.sum || { echo "go mod tidy changes deploy/charttest"; git diff -- go.mod go.sum; exit 1; }
  go vet .
  HELM=$HELM go test -count=1 -v . 2>&1 | grep -E '^\s*(--- |ok|FAIL|PASS)|_test.go' 
  exit "${PIPESTATUS[0]}"
)
