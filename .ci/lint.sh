#!/usr/bin/env bash
# golangci-lint (pinned in tools/lint; config .golangci.yml) over every module
# of the workspace in one run, so the shared dependencies are type-checked
# once, then over deploy/charttest and examples/signinclient, which are outside
# go.work.
set -euo pipefail
cd "$(dirname "$0")/.."
lint=$PWD/.bin/golangci-lint
[ -x "$lint" ] || make --no-print-directory tools
mapfile -t modules < <(go list -m -f '{{.Dir}}' | sed "s|^$PWD/|./|; s|\$|/...|")
"$lint" run "${modules[@]}"
(cd deploy/charttest && GOWORK=off "$lint" run ./...)
(cd examples/signinclient && GOWORK=off "$lint" run ./...)
echo "lint: golangci-lint clean over ${#modules[@]} modules, deploy/charttest and examples/signinclient"
