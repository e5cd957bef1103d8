#!/usr/bin/env bash
# Runs the README's walkthrough verbatim against `make run` and checks what
# it printed, so the README can never drift from the system.
set -euo pipefail
cd "$(dirname "$0")/.."

port=18080
log=$(mktemp)
script=$(mktemp)
out=$(mktemp)
tokens=.devstack/tokens.env
rm -f "$tokens"

report=$(mktemp)
# The README says `make run`; run exactly that, on a free port, with every
# request and response held to the served OpenAPI document.
make run ARGS="--http-addr 127.0.0.1:$port --check-openapi $report --issuer-addr 127.0.0.1:0" >"$log" 2>&1 &
pid=$!
cleanup() {
  kill -INT "$pid" 2>/dev/null || true
  # make forwards SIGINT to the process group; wait for a clean stop.
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  pkill -INT -f "devstack --http-addr 127.0.0.1:$port" 2>/dev/null || true
  rm -f "$script" "$out" "$report"
}
trap cleanup EXIT

for _ in $(seq 1 600); do
  [ -f "$tokens" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then cat "$log"; echo "walkthrough: make run exited"; exit 1; fi
  sleep 0.5
done
[ -f "$tokens" ] || { cat "$log"; echo "walkthrough: no tokens after 300s"; exit 1; }

# Extract the shell block between the walkthrough markers.
# Every block between walkthrough markers, in order, as one script.
awk '/<!-- walkthrough:start -->/{on=1; next} /<!-- walkthrough:end -->/{on=0} on' README.md \
  | sed '/^```/d' > "$script"
bash -euo pipefail "$script" | tee "$out"

# protojson may put a space after a colon; match either way.
check() {
  if ! grep -Eq -- "$1" "$out"; then echo "walkthrough: expected output to match: $1"; exit 1; fi
}
check '"state": ?"APPLICATION_STATE_AWAITING_GENERAL_MEMBERSHIP"'
check '"rules": ?"M2"'
check '"message": ?"请求违反分会章程（M2）：M2：organizations/binhai-robotics 须先成为总会会员'
check '^HTTP 400$'
check '"state": ?"APPLICATION_STATE_SUBMITTED"'
check '"state": ?"APPLICATION_STATE_APPROVED"'
check '"organization": ?"organizations/binhai-robotics"'
check '"state": ?"MEMBER_STATE_ACTIVE"'
# Activities: place taken, waitlist, refusal, promotion, certificate.
check '"state": ?"REGISTRATION_STATE_WAITLISTED"'
check '"reason": ?"NOT_A_MEMBER"'
check '^HTTP 403$'
check '"promoteTime"'
check '"state": ?"REGISTRATION_STATE_ATTENDED"'
check '"checkInRecorder": ?"people/admin"'
check '"state": ?"ACTIVITY_STATE_COMPLETED"'
check '"valid": ?true'
check '"holderDisplayName": ?"李娜"'
check '"requiredCount": ?2'
# Governance: the chair's route, a refusal with every rule, the council,
# a resolution passed by vote, the compliance report.
check '"state": ?"NOMINATION_STATE_QUALIFIED"'
check '"officer": ?"branches/ai/terms/1/officers/chair"'
check '"rules": ?"G2,G3,G4,G5"'
check 'PROPOSER_NOT_GENERAL_SECRETARY'
check 'AGE_LIMIT_EXCEEDED'
check 'OFFICE_ALREADY_FILLED'
check '"position": ?"POSITION_SECRETARY_GENERAL"'
check '"recorder": ?"people/admin"'
check '"method": ?"BALLOT_METHOD_SHOW_OF_HANDS"'
check '"meeting": ?"branches/ai/meetings/council-'
check '"state": ?"RESOLUTION_STATE_PASSED"'
check '"yesCount": ?2'
check '"adoptingResolution": ?"branches/ai/resolutions/adopt-plan-'
check '"compliant": ?true'
check '"assignedCount": ?1'
# Standards: the refused close, the summary, the review, the code, the
# promotion (once, though asked twice).
check '"reason": ?"COMMENTS_UNDISPOSED"'
check '"partiallyAccepted": ?1'
check '"commenterOrganization": ?"天津某大学"'
check '"conclusion": ?"REVIEW_CONCLUSION_PASS"'
check '"state": ?"STANDARD_STATE_APPROVED"'
check "\"code\": ?\"T/TJSIA 001—$(date +%Y)\""
check '"state": ?"STANDARD_STATE_PUBLISHED"'
check '"activity": ?"branches/ai/activities/promo-'
# Signing in: PKCE at the embedded provider, unlinked, then linked by the
# invitation the secretariat made.
check '^caller: issuer http://127\.0\.0\.1:[0-9]+, subject [0-9a-f]+, person ""$'
check '^GET /v1/branches/ai/terms: HTTP 403 ACCOUNT_NOT_LINKED$'
check '^invitation claimed: linked to person people/chen-lao, roles \[\]$'
check '^GET /v1/branches/ai/terms: HTTP 200$'
# The client generated from /openapi.json, built and run against it.
check '^branch branches/ai: 人工智能分会, at least 2 exchange activities a year$'
check '^members: [0-9]+$'
check '^a missing person: HTTP 404 NOT_FOUND'
# The TypeScript client: a change with If-Match, then a stale one refused.
check '^updated with If-Match "[^"]+": HTTP 200'
check '^a stale If-Match: HTTP 412 ETAG_MISMATCH'
[ "$(grep -o '"activity": *"branches/ai/activities/promo-[0-9a-f]*"' "$out" | sort -u | wc -l)" = 1 ] ||
  { echo "walkthrough: the retried promotion created a second activity"; exit 1; }
grep -q 'embedded in-memory Redis' "$log" || { echo "walkthrough: devstack did not say its store is in memory"; exit 1; }

# Stop the devstack, which writes the OpenAPI check's report: every
# exchange of the walkthrough, errors included, matched the document.
kill -INT "$pid" 2>/dev/null || true
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
pkill -INT -f "devstack --http-addr 127.0.0.1:$port" 2>/dev/null || true
for _ in $(seq 1 100); do grep -q '"checked"' "$report" 2>/dev/null && break; sleep 0.1; done
checked=$(sed -n 's/.*"checked": *\([0-9]*\).*/\1/p' "$report")
if ! grep -q '"failures": *null' "$report" && ! grep -q '"failures": *\[\]' "$report"; then
  cat "$report"; echo "walkthrough: exchanges that do not match /openapi.json (above)"; exit 1
fi
[ "${checked:-0}" -ge 50 ] || { cat "$report"; echo "walkthrough: only ${checked:-0} exchanges went through the OpenAPI check"; exit 1; }
echo "walkthrough: README walkthrough passed against make run; all $checked exchanges matched /openapi.json"
