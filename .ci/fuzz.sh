#!/usr/bin/env bash
# A bounded fuzz pass: every Go fuzz target in the repository (found, not
# listed, so a new one runs without editing this file) fuzzes for
# FUZZTIME (default 8s). Their committed corpora already run as plain
# tests in `make test`; this pass looks for new failing inputs. A failure
# leaves the input under the package's testdata/fuzz/<Target>/ to commit
# with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-8s}
targets=0
while IFS=: read -r file name; do
  dir=$(dirname "$file")
  echo "--- fuzz $name in ./$dir for $fuzztime"
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "./$dir/"
  targets=$((targets + 1))
done < <(git ls-files '*_test.go' | xargs grep -o '^func Fuzz[A-Za-z0-9_]*' | sed 's/^\(.*\):func \(.*\)$/\1:\2/' | sort)
if [ "$targets" -eq 0 ]; then
  echo "no fuzz targets found"; exit 1
fi
echo "fuzzed $targets targets for $fuzztime each"
