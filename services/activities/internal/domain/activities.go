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

# The README says `make run`; run exactly that, on a free port.
make run ARGS="--http-addr 127.0.0.1:$port" >"$log" 2>&1 &
pid=$!
cleanup() {
  kill -INT "$pid" 2>/dev/null || true
  # make forwards SIGINT to the process group; wait for a clean stop.
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  pkill -INT -f "devstack --http-addr 127.0.0.1:$port" 2>/dev/null || true
  rm -f "$script" "$out"
}
trap cleanup EXIT

for _ in $(seq 1 600); do
  [ -f "$tokens" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then cat "$log"; echo "walkthrough: make run exited"; exit 1; fi
  sleep 0.5
done
[ -f "$tokens" ] || { cat "$log"; echo "walkthrough: no tokens after 300s"; exit 1; }

# Extract the shell block between the walkthrough markers.
awk '/<!-- walkthrough:start -->/{on=1; next} /<!-- walkthrough:end -->/{on=0} on' README.md \
  | sed '/^```/d' > "$script"
bash -euo pipefail "$script" | tee "$out"

# protojson may put a space after a colon; match either way.
check() {
  if ! grep -Eq -- "$1" "$out"; then echo "walkthrough: expected output to match: $1"; exit 1; fi
}
check '"state": ?"APPLICATION_STATE_AWAITING_GENERAL_MEMBERSHIP"'
check '"rules": ?"M2"'
check '^HTTP 400$'
check '"state": ?"APPLICATION_STATE_SUBMITTED"'
check '"state": ?"APPLICATION_STATE_APPROVED"'
check '"organization": ?"organizations/binhai-robotics"'
check '"state": ?"MEMBER_STATE_ACTIVE"'
grep -q 'embedded in-memory Redis' "$log" || { echo "walkthrough: devstack did not say its store is in memory"; exit 1; }
echo "walkthrough: README walkthrough passed against make run"
