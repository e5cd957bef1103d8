#!/usr/bin/env bash
# What can be tested of the container images without a container engine:
#  1. every binary builds with CGO_ENABLED=0 and is a static ELF (no interpreter),
#     as deploy/Dockerfile builds it;
#  2. every binary prints its version as uid/gid 65532 (the distroless "nonroot"
#     user the image runs as), with a read-only root filesystem when this machine
#     allows a private mount namespace;
#  3. the whole system starts that way (four services on a real redis-server, the
#     gateway in front) and the gateway's /diagz/backends reports every backend serving,
#     then each process drains and exits cleanly on SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[images] %s\n' "$*"; }
fail() { printf '[images] FAIL: %s\n' "$*" >&2; exit 1; }

need=()
command -v file >/dev/null || need+=(file)
command -v setpriv >/dev/null || need+=(util-linux)
command -v openssl >/dev/null || need+=(openssl)
command -v redis-server >/dev/null || need+=(redis-server)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
fi

# The images build with the Go release go.work pins, as everything else does.
want=$(sed -n 's/^toolchain go//p' go.work)
got=$(sed -n 's/^ARG GO_VERSION=//p' deploy/Dockerfile)
[ "$got" = "$want" ] || fail "deploy/Dockerfile builds with Go $got, go.work pins $want"

make --no-print-directory binaries
read -ra bins <<<"$(make -s --no-print-directory list-binaries)"
services=()
for b in "${bins[@]}"; do [ "$b" = gateway ] || services+=("$b"); done

tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

# Run the binaries from a directory uid 65532 can reach: the checkout may
# sit below one it cannot (a private temp dir, a home directory), as an
# image's /usr/local/bin never would.
dir=$tmp/bin
install -d -m 0755 "$dir"
for b in "${bins[@]}"; do install -m 0755 "out/bin/$b" "$dir/$b"; done

# A read-only root: a private mount namespace with / bind-remounted read-only.
ro=()
if unshare --mount --propagation private sh -c 'mount -o bind,ro / / && ! touch /.chapterhouse-ro-probe 2>/dev/null' 2>/dev/null; then
  ro=(unshare --mount --propagation private)
  log "read-only root: yes (private mount namespace)"
else
  log "read-only root: not available on this machine (no mount namespace); testing non-root only"
fi
# run_nonroot CMD... (in a subshell: it execs): exec CMD as 65532:65532, no supplementary groups, empty environment
# except what is passed with env, on a read-only root when available.
run_nonroot() {
  if [ ${#ro[@]} -gt 0 ]; then
    exec "${ro[@]}" sh -c 'mount -o bind,ro / / && exec "$@"' sh setpriv --reuid=65532 --regid=65532 --clear-groups "$@"
  else
    exec setpriv --reuid=65532 --regid=65532 --clear-groups "$@"
  fi
}

for b in "${bins[@]}"; do
  f=$dir/$b
  go version -m "$f" | grep -q $'build\tCGO_ENABLED=0' || fail "$b: not built with CGO_ENABLED=0"
  desc=$(file -b "$f")
  case "$desc" in *"statically linked"*) ;; *) fail "$b: not static: $desc" ;; esac
  if readelf -l "$f" 2>/dev/null | grep -q 'INTERP'; then fail "$b: has an ELF interpreter"; fi
  out=$(cd / && run_nonroot env -i "$f" --version) || fail "$b --version failed as 65532"
  grep -q "^$b " <<<"$out" || fail "$b --version printed: $out"
  grep -q '^CGO_ENABLED=0' <<<"$out" || fail "$b --version does not report CGO_ENABLED=0: $out"
  log "$b: static ELF, CGO_ENABLED=0, --version as 65532 ok ($(head -1 <<<"$out"))"
done

# --- the whole system as 65532 on a read-only root -------------------------

free_port() {
  local p
  while :; do
    p=$(( 20000 + RANDOM % 20000 ))
    (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return; }
  done
}

openssl genpkey -algorithm ed25519 -out "$tmp/jwt.key" 2>/dev/null
openssl pkey -in "$tmp/jwt.key" -pubout -out "$tmp/jwt.pub" 2>/dev/null
chmod 644 "$tmp/jwt.pub"

rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" >"$tmp/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$rport) 2>/dev/null && break; sleep 0.1; done

start() { # start NAME ENV... : the binary as 65532, logs to $tmp/NAME.log (opened outside the namespace)
  local name=$1; shift
  ( cd / && run_nonroot env -i "$@" DRAIN_DELAY=1s LOG_LEVEL=warn "$dir/$name" ) >"$tmp/$name.log" 2>&1 &
  pids+=($!)
}
# Every process learns every service's address (<SERVICE>_ADDR), as the chart
# gives each the ones it calls.
addrs=()
for s in "${services[@]}"; do addrs+=("${s^^}_ADDR=127.0.0.1:$(free_port)"); done
# One page token key and one service call key for every service, as the
# chart's Secrets give them (the gateway gets neither).
page_key=$(head -c 32 /dev/urandom | base64 -w0)
call_key=$(head -c 32 /dev/urandom | base64 -w0)
for a in "${addrs[@]}"; do
  s=${a%%_ADDR=*}; s=${s,,}
  start "$s" LISTEN_ADDR="${a#*=}" REDIS_URL="redis://127.0.0.1:$rport/0" \
    AUTH_JWT_PUBLIC_KEYS_FILE="$tmp/jwt.pub" PAGE_TOKEN_KEYS="$page_key" SERVICE_CALL_KEYS="$call_key" POD_NAME="$s-0" "${addrs[@]}"
done
gport=$(free_port)
start gateway LISTEN_ADDR="127.0.0.1:$gport" REDIS_URL="redis://127.0.0.1:$rport/0" \
  AUTH_JWT_PUBLIC_KEYS_FILE="$tmp/jwt.pub" "${addrs[@]}"

ready=""
for _ in $(seq 1 150); do
  if curl -fsS "http://127.0.0.1:$gport/diagz/backends" >"$tmp/readyz" 2>/dev/null; then ready=yes; break; fi
  sleep 0.2
done
if [ -z "$ready" ]; then
  for f in "$tmp"/*.log; do echo "--- $f"; tail -20 "$f"; done
  curl -sS "http://127.0.0.1:$gport/diagz/backends" || true
  fail "gateway /diagz/backends never reported every backend serving with every process running as 65532"
fi
log "${#services[@]} services on redis-server and the gateway run as 65532 $([ ${#ro[@]} -gt 0 ] && echo 'on a read-only root'); gateway /diagz/backends: $(tr -d '\n' <"$tmp/readyz" | head -c 200)"

# Graceful stop: every process exits 0 on SIGTERM within DRAIN_DELAY + stop timeout.
for i in $(seq 1 ${#bins[@]}); do
  p=${pids[$i]}
  kill -TERM "$p"
  rc=0
  for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then fail "pid $p did not stop within 30s of SIGTERM"; fi
  wait "$p" || rc=$?
  [ "$rc" -eq 0 ] || { tail -n 20 "$tmp"/*.log; fail "pid $p exited $rc on SIGTERM"; }
done
log "every process drained and exited 0 on SIGTERM"
