#!/usr/bin/env bash
# A bounded fuzz pass: every Go fuzz target in the repository (found, not
# listed, so a new one runs without editing this file) fuzzes for
# FUZZTIME (default 10000x). The bound is a count of executions, not a
# duration: with a duration, Go 1.26's fuzz coordinator can fail a target
# with "context deadline exceeded" when the deadline races a starved
# worker (go.dev/issue/75804, fixed in Go 1.27), and CI's machines are
# shared. A count only slows down under load. Their committed corpora
# already run as plain tests in `make test`; this pass looks for new
# failing inputs. A failure leaves the input under the package's
# testdata/fuzz/<Target>/ to commit with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10000x}
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
