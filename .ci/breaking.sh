#!/usr/bin/env bash
# buf breaking (WIRE_JSON) against the previous commit's protos, so no
# landed change breaks a client silently. Without a schema registry the
# google/api imports are not in git, so the previous tree is built into an
# image here, with this checkout's third_party protos beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
against=${BREAKING_AGAINST:-HEAD~1}
# Every proto package is checked. Governance (issue 8) and standards
# (issue 9) were each reshaped once, openly, before they were first served;
# the exceptions that allowed it are gone, so every change to them is
# checked from here on.
if ! git rev-parse --verify -q "$against^{commit}" >/dev/null; then
  echo "breaking: $against does not exist (first commit or shallow clone); nothing to compare"
  exit 0
fi
if ! git ls-tree -r --name-only "$against" -- proto/chapterhouse | grep -q '\.proto$'; then
  echo "breaking: $against has no protos yet; nothing to compare"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git archive "$against" proto/chapterhouse buf.yaml | tar -x -C "$tmp"
cp -r third_party "$tmp/"
(cd "$tmp" && "$OLDPWD/.bin/buf" build -o image.binpb)
# Compare image to image: a two-module workspace input would be split into
# one image per module and not line up with the single previous image.
.bin/buf build -o "$tmp/current.binpb"
.bin/buf breaking "$tmp/current.binpb" --against "$tmp/image.binpb" --config buf.yaml --exclude-imports
echo "breaking: no breaking changes against $against ($(git rev-parse --short "$against"))"
