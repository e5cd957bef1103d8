#!/usr/bin/env bash
# Installs the chart into a real, local Kubernetes control plane and checks how
# it behaves. etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
# kwok run on free loopback ports; kwok simulates three nodes in three zones and
# marks pods Running/Ready (no containers run). Everything else is real:
# admission and validation, Deployment/ReplicaSet/StatefulSet controllers, the
# scheduler with topology spread, EndpointSlices, HPA floors and the eviction
# API enforcing PodDisruptionBudgets.
#
# For every values set in charts/chapterhouse/ci:
#   1. helm install --wait; every Deployment and StatefulSet becomes Available
#      at its HPA floor; every Service has ready endpoints;
#   2. helm upgrade changing every component's image tag rolls out, and no
#      component ever reports zero ready pods or zero ready endpoints meanwhile;
#   3. with every node cordoned, kubectl drain of the nodes holding a
#      component's pods evicts only what its PodDisruptionBudget allows and is
#      then held back;
#   4. helm uninstall leaves nothing behind but the Redis volume (the
#      PersistentVolumeClaim the chart marks to keep).
# Binaries are built once into ${XDG_CACHE_HOME:-$HOME/.cache}/chapterhouse-k8s.
# Every process started here is stopped by its pid when the script ends.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
log() { printf '[k8s] %s\n' "$*"; }

command -v openssl >/dev/null && command -v curl >/dev/null || {
  DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssl curl
}
HELM=${HELM:-$repo/.bin/helm}
[ -x "$HELM" ] || make --no-print-directory tools
BIN=$(bash .ci/k8s-build.sh | tail -1)
CACHE=$(dirname "$BIN")
STAGES=$CACHE/kwok-stages.yaml

W=$(mktemp -d "${TMPDIR:-/tmp}/chapterhouse-k8s.XXXXXX")
pids=()
names=()
failed=1
cleanup() {
  local i p
  set +e
  for (( i=${#pids[@]}-1; i>=0; i-- )); do kill -TERM "${pids[$i]}" 2>/dev/null; done
  for (( i=${#pids[@]}-1; i>=0; i-- )); do
    p=${pids[$i]}
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then kill -KILL "$p" 2>/dev/null; fi
    wait "$p" 2>/dev/null
  done
  if [ "$failed" = 1 ]; then
    for n in "${names[@]}"; do echo "--- last lines of $n.log"; tail -n 15 "$W/$n.log" 2>/dev/null; done
  fi
  rm -rf "$W"
}
trap cleanup EXIT

# start NAME CMD...: run CMD in the background, log to $W/NAME.log, remember its pid.
start() {
  local name=$1; shift
  "$@" >"$W/$name.log" 2>&1 &
  pids+=($!)
  names+=("$name")
}
used_ports=" "
free_port() {
  local p
  while :; do
    p=$(( 21000 + RANDOM % 19000 ))
    case "$used_ports" in *" $p "*) continue ;; esac
    if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then used_ports+="$p "; echo "$p"; return; fi
  done
}
wait_for() { # wait_for SECONDS DESCRIPTION CMD...
  local secs=$1 what=$2; shift 2
  local end=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$end" ]; then log "timed out after ${secs}s waiting for $what"; return 1; fi
    sleep 0.5
  done
}

ETCD_PORT=$(free_port); ETCD_PEER=$(free_port); API_PORT=$(free_port)
CM_PORT=$(free_port); SCHED_PORT=$(free_port); KWOK_PORT=$(free_port)

# --- credentials ------------------------------------------------------------
openssl genrsa -out "$W/sa.key" 2048 2>/dev/null
openssl rsa -in "$W/sa.key" -pubout -out "$W/sa.pub" 2>/dev/null
TOKEN=$(openssl rand -hex 24)
echo "$TOKEN,chapterhouse-ci,chapterhouse-ci,system:masters" >"$W/tokens.csv"
export KUBECONFIG=$W/kubeconfig
cat >"$KUBECONFIG" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "https://127.0.0.1:$API_PORT", insecure-skip-tls-verify: true}
users:
- name: ci
  user: {token: "$TOKEN"}
contexts:
- name: local
  context: {cluster: local, user: ci}
current-context: local
EOF
k() { "$BIN/kubectl" "$@"; }
helm() { "$HELM" "$@"; }

# --- control plane ----------------------------------------------------------
log "etcd on 127.0.0.1:$ETCD_PORT"
start etcd "$BIN/etcd" --name ci --data-dir "$W/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER" \
  --initial-cluster "ci=http://127.0.0.1:$ETCD_PEER" --unsafe-no-fsync --log-level warn
wait_for 30 etcd curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

log "kube-apiserver on 127.0.0.1:$API_PORT"
start kube-apiserver "$BIN/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
  --cert-dir "$W/certs" \
  --service-account-key-file "$W/sa.pub" --service-account-signing-key-file "$W/sa.key" \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-cluster-ip-range 10.96.0.0/16 \
  --token-auth-file "$W/tokens.csv" --authorization-mode RBAC \
  --endpoint-reconciler-type none
wait_for 120 kube-apiserver k get --raw /readyz

log "kube-controller-manager and kube-scheduler"
start kube-controller-manager "$BIN/kube-controller-manager" \
  --kubeconfig "$KUBECONFIG" --authentication-kubeconfig "$KUBECONFIG" --authorization-kubeconfig "$KUBECONFIG" \
  --bind-address 127.0.0.1 --secure-port "$CM_PORT" --cert-dir "$W/cm-certs" \
  --controllers '*,-nodeipam' --use-service-account-credentials=false \
  --service-account-private-key-file "$W/sa.key" --leader-elect=false \
  --node-monitor-grace-period 40s --horizontal-pod-autoscaler-sync-period 2s
start kube-scheduler "$BIN/kube-scheduler" \
  --kubeconfig "$KUBECONFIG" --authentication-kubeconfig "$KUBECONFIG" --authorization-kubeconfig "$KUBECONFIG" \
  --bind-address 127.0.0.1 --secure-port "$SCHED_PORT" --cert-dir "$W/sched-certs" --leader-elect=false

log "kwok (simulated nodes)"
start kwok "$BIN/kwok" --kubeconfig "$KUBECONFIG" --config "$STAGES" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --cidr 10.244.0.1/16 --node-ip 10.0.0.1 --server-address "127.0.0.1:$KWOK_PORT" \
  --node-lease-duration-seconds 40

nodes=(kwok-a kwok-b kwok-c)
zones=(zone-a zone-b zone-c)
for i in 0 1 2; do
  cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: ${nodes[$i]}
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels:
    kubernetes.io/hostname: ${nodes[$i]}
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    topology.kubernetes.io/zone: ${zones[$i]}
    type: kwok
status:
  allocatable: {cpu: "8", memory: 16Gi, pods: "110"}
  capacity: {cpu: "8", memory: 16Gi, pods: "110"}
  nodeInfo: {architecture: amd64, operatingSystem: linux, kubeletVersion: fake, kubeProxyVersion: fake, bootID: "", machineID: "", kernelVersion: "", osImage: "", containerRuntimeVersion: "", systemUUID: ""}
EOF
done >"$W/nodes.yaml"
k apply -f "$W/nodes.yaml" >/dev/null
wait_for 60 "nodes Ready" k wait --for=condition=Ready node --all --timeout=2s
wait_for 60 "default ServiceAccount" k get serviceaccount default -n default
log "control plane up: $(k version -o json | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tr '\n' ' ')· nodes: ${nodes[*]}"

# --- helpers over the release -------------------------------------------------
sel() { echo "app.kubernetes.io/instance=$REL"; }

# Every Deployment Available with all replicas ready at least at its HPA floor,
# every StatefulSet fully ready, every Service with a ready endpoint.
check_available() {
  local d want ready replicas
  for d in $(k -n "$NS" get deploy -l "$(sel)" -o name); do
    want=$(k -n "$NS" get hpa "${d#deployment.apps/}" -o jsonpath='{.spec.minReplicas}' 2>/dev/null || true)
    want=${want:-1}
    wait_for 120 "$d at $want ready replicas" bash -c \
      "r=\$('$BIN/kubectl' -n '$NS' get '$d' -o jsonpath='{.spec.replicas} {.status.readyReplicas} {.status.updatedReplicas} {.status.availableReplicas}'); set -- \$r; [ \"\${1:-0}\" -ge $want ] && [ \"\${2:-0}\" = \"\$1\" ] && [ \"\${3:-0}\" = \"\$1\" ] && [ \"\${4:-0}\" = \"\$1\" ]"
    k -n "$NS" wait --for=condition=Available "$d" --timeout=60s >/dev/null
    log "  $d Available: $(k -n "$NS" get "$d" -o jsonpath='{.status.readyReplicas}/{.spec.replicas} ready') on $(k -n "$NS" get pods -l "$(sel),app.kubernetes.io/component=$(k -n "$NS" get "$d" -o jsonpath='{.spec.template.metadata.labels.app\.kubernetes\.io/component}')" -o jsonpath='{range .items[*]}{.spec.nodeName} {end}')"
  done
  for d in $(k -n "$NS" get statefulset -l "$(sel)" -o name); do
    wait_for 120 "$d ready" bash -c \
      "r=\$('$BIN/kubectl' -n '$NS' get '$d' -o jsonpath='{.spec.replicas} {.status.readyReplicas} {.status.availableReplicas}'); set -- \$r; [ \"\${2:-0}\" = \"\$1\" ] && [ \"\${3:-0}\" = \"\$1\" ]"
    log "  $d ready: $(k -n "$NS" get "$d" -o jsonpath='{.status.readyReplicas}/{.spec.replicas}'), volume $(k -n "$NS" get pvc -l "$(sel)" -o jsonpath='{range .items[*]}{.metadata.name}={.status.phase} {end}')"
  done
  local s
  for s in $(k -n "$NS" get svc -l "$(sel)" -o jsonpath='{range .items[*]}{.metadata.name} {end}'); do
    wait_for 60 "ready endpoints of Service $s" bash -c \
      "'$BIN/kubectl' -n '$NS' get endpointslices -l kubernetes.io/service-name=$s -o jsonpath='{range .items[*].endpoints[*]}{.conditions.ready} {end}' | grep -q true"
  done
  log "  every Service has ready endpoints: $(k -n "$NS" get svc -l "$(sel)" -o jsonpath='{range .items[*]}{.metadata.name} {end}')"
}

# helm upgrade that changes every component's image tag, watched for a moment
# with zero ready pods (Deployment status) or zero ready endpoints (EndpointSlices).
check_upgrade() {
  local values=$1 tag=0.1.1-ci
  local sets=() c
  for c in $(make -s --no-print-directory list-binaries); do sets+=(--set "$c.image.tag=$tag"); done
  "$BIN/kubectl" -n "$NS" get deploy -l "$(sel)" --watch -o jsonpath='{.metadata.name} {.status.readyReplicas}{"\n"}' >"$W/watch-deploy.log" 2>&1 &
  local w1=$!; pids+=($w1); names+=(watch-deploy)
  "$BIN/kubectl" -n "$NS" get endpointslices -l "$(sel)" --watch \
    -o jsonpath='{.metadata.labels.kubernetes\.io/service-name} {.endpoints[*].conditions.ready}{"\n"}' >"$W/watch-eps.log" 2>&1 &
  local w2=$!; pids+=($w2); names+=(watch-eps)
  sleep 2
  helm upgrade "$REL" charts/chapterhouse -n "$NS" -f "$values" "${sets[@]}" --wait --timeout 5m >/dev/null
  check_available
  sleep 2
  kill -TERM "$w1" "$w2" 2>/dev/null || true
  wait "$w1" "$w2" 2>/dev/null || true
  # Every pod of every component runs the new tag.
  local old
  old=$(k -n "$NS" get pods -l "$(sel),app.kubernetes.io/component!=redis" -o jsonpath='{range .items[*]}{.metadata.name} {.spec.containers[0].image}{"\n"}{end}' | grep -v ":$tag\$" || true)
  [ -z "$old" ] || { log "pods still on the old image after the upgrade:"; echo "$old"; return 1; }
  local zero
  zero=$(awk 'NF<2 || $2=="0" {print}' "$W/watch-deploy.log" | grep -v redis || true)
  [ -z "$zero" ] || { log "a Deployment reported zero ready pods during the upgrade:"; echo "$zero"; return 1; }
  zero=$(awk '$1 !~ /redis$/ && $0 !~ /true/ {print}' "$W/watch-eps.log" || true)
  [ -z "$zero" ] || { log "a Service had no ready endpoint during the upgrade:"; echo "$zero"; return 1; }
  [ -s "$W/watch-eps.log" ] && [ -s "$W/watch-deploy.log" ] || { log "the upgrade watch saw nothing"; return 1; }
  local rs
  rs=$(k -n "$NS" get rs -l "$(sel)" --no-headers | wc -l)
  log "  upgrade to :$tag rolled out; $(wc -l <"$W/watch-deploy.log") Deployment and $(wc -l <"$W/watch-eps.log") EndpointSlice updates watched, none with zero ready ($rs ReplicaSets)"
}

# With every node cordoned (evicted pods cannot be replaced), drain the nodes
# holding each component's pods: the PDB lets exactly disruptionsAllowed pods
# go, then holds the drain back.
check_drain() {
  local n c pdb allowed healthy nodes_of left blocked
  for n in "${nodes[@]}"; do k cordon "$n" >/dev/null; done
  for pdb in $(k -n "$NS" get pdb -l "$(sel)" -o jsonpath='{range .items[*]}{.metadata.name} {end}'); do
    c=$(k -n "$NS" get pdb "$pdb" -o jsonpath='{.metadata.labels.app\.kubernetes\.io/component}')
    wait_for 60 "PDB $pdb status" bash -c "[ -n \"\$('$BIN/kubectl' -n '$NS' get pdb '$pdb' -o jsonpath='{.status.disruptionsAllowed}')\" ]"
    allowed=$(k -n "$NS" get pdb "$pdb" -o jsonpath='{.status.disruptionsAllowed}')
    healthy=$(k -n "$NS" get pdb "$pdb" -o jsonpath='{.status.currentHealthy}')
    nodes_of=$(k -n "$NS" get pods -l "$(sel),app.kubernetes.io/component=$c" --field-selector=status.phase=Running -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort -u)
    blocked=0
    for n in $nodes_of; do
      if k drain "$n" --pod-selector="$(sel),app.kubernetes.io/component=$c" --ignore-daemonsets --delete-emptydir-data --timeout=12s >"$W/drain.out" 2>&1; then
        grep -E 'evicted|drained' "$W/drain.out" | sed 's/^/[k8s]     /' || true
      else
        if ! grep -q "disruption budget" "$W/drain.out"; then
          log "drain of $n failed for another reason:"; tail -n 5 "$W/drain.out"; return 1
        fi
        grep -E 'evicted|budget' "$W/drain.out" | sort -u | sed 's/^/[k8s]     /' || true
        blocked=1
      fi
    done
    left=$(k -n "$NS" get pods -l "$(sel),app.kubernetes.io/component=$c" -o jsonpath='{range .items[*]}{.metadata.name} {.status.phase} {.metadata.deletionTimestamp}{"\n"}{end}' | awk '$2=="Running" && NF==2' | wc -l)
    if [ "$blocked" != 1 ] || [ "$left" -ne $(( healthy - allowed )) ] || [ "$left" -lt 1 ]; then
      log "drain of $c: PDB $pdb allowed $allowed of $healthy; $left pods left, drain held back: $blocked"
      k -n "$NS" get pdb "$pdb" -o yaml | sed -n '/^status:/,$p'
      k -n "$NS" get pods -l "$(sel),app.kubernetes.io/component=$c" -o wide
      return 1
    fi
    log "  drain held back by PDB $pdb: evicted $allowed of $healthy $c pods, $left left running"
  done
  for n in "${nodes[@]}"; do k uncordon "$n" >/dev/null; done
  check_available
}

# helm uninstall leaves only the Redis PVC (helm.sh/resource-policy: keep).
check_uninstall() {
  helm uninstall "$REL" -n "$NS" --wait --timeout 3m >/dev/null
  local kinds left expected
  kinds=$(k api-resources --verbs=list --namespaced -o name | grep -v -E '^(events|events\.events\.k8s\.io)$' | paste -sd, -)
  expected=""
  if [ "$INTERNAL" = 1 ]; then expected="persistentvolumeclaim/data-$REL-chapterhouse-redis-0"; fi
  left_now() {
    local all
    all=$(k -n "$NS" get "$kinds" --ignore-not-found -o name) || { echo "(listing failed)"; return 0; }
    grep -v -E '^(configmap/kube-root-ca.crt|serviceaccount/default|secret/chapterhouse-jwt-keys)$' <<<"$all" | sort | paste -sd' ' -
  }
  local end=$(( $(date +%s) + 90 ))
  while left=$(left_now); [ "$left" != "$expected" ]; do
    if [ "$(date +%s)" -ge "$end" ]; then log "after helm uninstall, want only [$expected], found [$left]"; return 1; fi
    sleep 1
  done
  if [ "$INTERNAL" = 1 ]; then
    local phase
    phase=$(k -n "$NS" get pvc "data-$REL-chapterhouse-redis-0" -o jsonpath='{.status.phase}')
    log "  uninstall left only the Redis volume: $expected ($phase)"
    k -n "$NS" delete pvc "data-$REL-chapterhouse-redis-0" --wait >/dev/null
    k delete pv "pv-$NS" --wait >/dev/null
  else
    log "  uninstall left nothing behind"
  fi
}

# --- the values sets ------------------------------------------------------------
for values in charts/chapterhouse/ci/*-values.yaml; do
  set_name=$(basename "$values" -values.yaml)
  NS=ch-$set_name
  REL=ch
  INTERNAL=0
  grep -q '^  mode: external' "$values" || INTERNAL=1
  log "values set $set_name → namespace $NS"
  k create namespace "$NS" >/dev/null
  # What the operator provides outside the chart: an existing JWT key Secret,
  # and for the in-chart Redis a volume (there is no storage provisioner here).
  k -n "$NS" create secret generic chapterhouse-jwt-keys --from-file=jwt-public-keys.pem=<(openssl genpkey -algorithm ed25519 2>/dev/null | openssl pkey -pubout) >/dev/null
  if [ "$INTERNAL" = 1 ]; then
    k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-$NS}
spec:
  capacity: {storage: 8Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: /var/lib/chapterhouse-ci/$NS}
  claimRef: {namespace: $NS, name: data-$REL-chapterhouse-redis-0}
EOF
  fi
  t0=$(date +%s)
  helm install "$REL" charts/chapterhouse -n "$NS" -f "$values" --wait --timeout 5m >/dev/null
  log "  helm install --wait: $(( $(date +%s) - t0 ))s"
  helm get notes "$REL" -n "$NS" | grep -q "Get a token" || { log "NOTES.txt did not render"; exit 1; }
  check_available
  check_upgrade "$values"
  check_drain
  check_uninstall
  k -n "$NS" delete secret chapterhouse-jwt-keys >/dev/null
done

failed=0
log "every values set installed, rolled out, upgraded without a gap, held drains by its PDBs and uninstalled cleanly"
