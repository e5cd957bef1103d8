#!/usr/bin/env bash
# govulncheck (pinned in tools/vuln) over every module of the workspace and
# deploy/charttest, against a database built on this machine: vuln.go.dev is
# not reachable from CI, so the OSV reports come from the golang.org/x/vulndb
# module at the version tools/vuln/go.mod pins, indexed by its indexdb
# command, and cached by that version outside the repository. To refresh the
# database: cd tools/vuln && go get golang.org/x/vulndb@latest && go mod tidy.
#
# The standard library is checked as the Go toolchain on PATH has it; .ci/run
# and the Makefile pin that toolchain (GOTOOLCHAIN), and so does
# deploy/Dockerfile, so what is checked is what ships.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/.bin
[ -x "$BIN/govulncheck" ] && [ -x "$BIN/indexdb" ] || make --no-print-directory tools
info=$(cd tools/vuln && GOWORK=off go list -m -json golang.org/x/vulndb)
version=$(sed -n 's/^[[:space:]]*"Version": "\(.*\)",$/\1/p' <<<"$info")
src=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$info")
[ -n "$version" ] && [ -d "$src/data/osv" ] || { echo "vulncheck: golang.org/x/vulndb is not in the module cache"; exit 1; }
db=${XDG_CACHE_HOME:-$HOME/.cache}/chapterhouse-vulndb/$version
if [ ! -s "$db/index/db.json" ]; then
  echo "vulncheck: indexing $(ls "$src/data/osv" | wc -l) OSV reports of golang.org/x/vulndb $version"
  rm -rf "$db.tmp" && mkdir -p "$(dirname "$db")"
  "$BIN/indexdb" -vulns "$src/data/osv" -out "$db.tmp"
  # govulncheck reads the .json files of a file:// database, not the .gz
  # twins meant for serving it over HTTP.
  find "$db.tmp" -name '*.json.gz' -delete
  # The OSV files carry no dates; stamp the index with the data's commit time.
  stamp=$(sed -n 's/^[[:space:]]*"Time": "\(.*\)",$/\1/p' <<<"$info")
  printf '{"modified":"%s"}' "${stamp:-1970-01-01T00:00:00Z}" >"$db.tmp/index/db.json"
  mv "$db.tmp" "$db"
fi
echo "vulncheck: $(go version | cut -d' ' -f3), database golang.org/x/vulndb $version"
# govulncheck needs a go.mod where it runs, and loads the patterns through
# go.work: from any workspace module, `work` covers them all.
(cd gateway && "$BIN/govulncheck" -db "file://$db" work)
(cd deploy/charttest && GOWORK=off "$BIN/govulncheck" -db "file://$db" -test ./...)
(cd examples/signinclient && GOWORK=off "$BIN/govulncheck" -db "file://$db" ./...)
echo "vulncheck: no known vulnerability is reachable"
