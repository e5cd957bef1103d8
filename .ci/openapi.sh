#!/usr/bin/env bash
# The OpenAPI document the gateway serves (proto/gen/go/openapi, embedded in
# the gateway) against Redocly's recommended ruleset: no error may remain.
# Redocly CLI is pinned in tools/redocly (package.json, package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/.."
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1
npm ci --prefix tools/redocly --no-fund --no-audit --loglevel=error >/dev/null
tools/redocly/node_modules/.bin/redocly lint --extends=recommended --format=summary \
  proto/gen/go/openapi/chapterhouse.openapi.json 2>&1 | grep -v '^ *[║╔╚]' | sed '/^ *$/d'
