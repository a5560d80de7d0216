#!/usr/bin/env bash
# Starts the local Kubernetes cluster: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler and kwok, all on 127.0.0.1, plus simulated nodes.
#
#   NODES=kwok (default)  $KWOK_NODE_COUNT simulated nodes kwok-node-0.. managed by kwok
#   NODES=real            one real node (kubelet + containerd + CNI + kube-proxy, node/up.sh), no
#                         simulated nodes
#   NODES=both            the simulated nodes and the real node
# With the real node it also starts Prometheus and metrics-server (metrics/up.sh).
#
# Idempotent: when the cluster is already up it prints the status and returns. Builds the
# binaries first if needed (localcluster/build.sh) and creates the PKI once (pki.sh).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NODES="${NODES:-kwok}"
case $NODES in
  kwok | both) ;;
  real) KWOK_NODE_COUNT=0 ;;
  *) die "NODES must be kwok, real or both (got '$NODES')" ;;
esac

START=$(now_ms)
KUBECONFIG_DIR="$STATE/kubeconfigs"
KWOK_HOME="$STATE/kwok"

readyz() { url_ok "$APISERVER_URL/readyz"; }

all_running() {
  local c
  for c in "${COMPONENTS[@]}"; do component_alive "$c" || return 1; done
  readyz
}

if [[ -x $BIN/kubectl && -s $ADMIN_KUBECONFIG ]] && all_running &&
   [[ $(kubectl_admin get nodes -l type=kwok -o name 2>/dev/null | wc -l) -ge $KWOK_NODE_COUNT ]]; then
  log "the cluster is already up"
  # binaries added since the cluster started (a no-op when every one is up to date)
  bash "$LC_DIR/build.sh"
  [[ $NODES == kwok ]] || { bash "$LC_DIR/node/up.sh"; bash "$LC_DIR/metrics/up.sh"; }
  bash "$LC_DIR/status.sh" || true
  log "kubeconfig: $ADMIN_KUBECONFIG   (export KUBECONFIG=$ADMIN_KUBECONFIG)"
  exit 0
fi

bash "$LC_DIR/build.sh"
require_binaries
bash "$LC_DIR/pki.sh"
mkdir -p "$RUN_DIR" "$LOG_DIR" "$ETCD_DATA" "$KWOK_HOME"
chmod 700 "$ETCD_DATA"

# --- etcd: mutual TLS with its own CA; plain-HTTP metrics/health endpoint on loopback only.
P=$PKI_DIR
daemon_start etcd "$BIN/etcd" \
  --name=vextrus-local \
  --data-dir="$ETCD_DATA" \
  --listen-client-urls="https://$LISTEN_IP:$ETCD_CLIENT_PORT" \
  --advertise-client-urls="https://$LISTEN_IP:$ETCD_CLIENT_PORT" \
  --listen-peer-urls="https://$LISTEN_IP:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls="https://$LISTEN_IP:$ETCD_PEER_PORT" \
  --initial-cluster="vextrus-local=https://$LISTEN_IP:$ETCD_PEER_PORT" \
  --initial-cluster-state=new \
  --listen-metrics-urls="http://$LISTEN_IP:$ETCD_METRICS_PORT" \
  --client-cert-auth --trusted-ca-file="$P/etcd-ca.crt" \
  --cert-file="$P/etcd-server.crt" --key-file="$P/etcd-server.key" \
  --peer-client-cert-auth --peer-trusted-ca-file="$P/etcd-ca.crt" \
  --peer-cert-file="$P/etcd-server.crt" --peer-key-file="$P/etcd-server.key" \
  --snapshot-count=10000
daemon_wait "etcd /health" 60 etcd "$BIN/etcd" \
  sh -c "curl -fsS --max-time 2 http://$LISTEN_IP:$ETCD_METRICS_PORT/health | grep -q '\"health\":\"true\"'"

# --- kube-apiserver
apiserver_start

# --- cluster objects that must exist before kwok starts (RBAC for kwok etc.)
kubectl_admin apply -f "$LC_DIR/config/bootstrap.yaml" >/dev/null

# --- kube-controller-manager
KCM_KUBECONFIG="$KUBECONFIG_DIR/kube-controller-manager.kubeconfig"
daemon_start kube-controller-manager "$BIN/kube-controller-manager" \
  --kubeconfig="$KCM_KUBECONFIG" \
  --authentication-kubeconfig="$KCM_KUBECONFIG" \
  --authorization-kubeconfig="$KCM_KUBECONFIG" \
  --bind-address="$LISTEN_IP" --secure-port="$KCM_PORT" \
  --tls-cert-file="$P/kube-controller-manager-serving.crt" \
  --tls-private-key-file="$P/kube-controller-manager-serving.key" \
  --client-ca-file="$P/ca.crt" \
  --use-service-account-credentials=true \
  --root-ca-file="$P/ca.crt" \
  --service-account-private-key-file="$P/sa.key" \
  --cluster-signing-cert-file="$P/ca.crt" --cluster-signing-key-file="$P/ca.key" \
  --leader-elect=false \
  --allocate-node-cidrs=true --cluster-cidr="$CLUSTER_CIDR" --node-cidr-mask-size=24 \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --profiling=false

# --- kube-scheduler
SCHED_KUBECONFIG="$KUBECONFIG_DIR/kube-scheduler.kubeconfig"
daemon_start kube-scheduler "$BIN/kube-scheduler" \
  --kubeconfig="$SCHED_KUBECONFIG" \
  --authentication-kubeconfig="$SCHED_KUBECONFIG" \
  --authorization-kubeconfig="$SCHED_KUBECONFIG" \
  --bind-address="$LISTEN_IP" --secure-port="$SCHEDULER_PORT" \
  --tls-cert-file="$P/kube-scheduler-serving.crt" \
  --tls-private-key-file="$P/kube-scheduler-serving.key" \
  --client-ca-file="$P/ca.crt" \
  --leader-elect=false \
  --profiling=false

# --- kwok: manages only nodes annotated kwok.x-k8s.io/node=fake (kwok/kwok.yaml) with the
# stages in kwok/stages. HOME points into the state dir so that no ~/.kwok/kwok.yaml of the
# user is merged into the configuration.
kwok_args=(--kubeconfig="$KUBECONFIG_DIR/kwok.kubeconfig" --config="$LC_DIR/kwok/kwok.yaml")
for f in "$LC_DIR"/kwok/stages/*.yaml; do kwok_args+=(--config="$f"); done
HOME="$KWOK_HOME" daemon_start kwok "$BIN/kwok" "${kwok_args[@]}"

daemon_wait "kube-controller-manager /healthz" 60 kube-controller-manager "$BIN/kube-controller-manager" \
  url_ok "https://$LISTEN_IP:$KCM_PORT/healthz"
daemon_wait "kube-scheduler /healthz" 60 kube-scheduler "$BIN/kube-scheduler" \
  url_ok "https://$LISTEN_IP:$SCHEDULER_PORT/healthz"

# --- simulated nodes
node_manifest() { # $1 = index
  local name="$KWOK_NODE_PREFIX$1" zones=(a b c)
  cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: $name
    kubernetes.io/os: linux
    node-role.kubernetes.io/worker: ""
    topology.kubernetes.io/region: local
    topology.kubernetes.io/zone: local-${zones[$(( $1 % 3 ))]}
spec: {}
status:
  addresses:
  - type: InternalIP
    address: 127.0.1.$(( $1 + 1 ))
  - type: Hostname
    address: $name
  capacity: &resources
    cpu: "$KWOK_NODE_CPU"
    memory: $KWOK_NODE_MEMORY
    pods: "$KWOK_NODE_PODS"
    ephemeral-storage: 100Gi
  allocatable: *resources
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    osImage: kwok simulated node
    kernelVersion: kwok-$KWOK_VERSION
    containerRuntimeVersion: kwok://$KWOK_VERSION
    kubeletVersion: $K8S_VERSION
    kubeProxyVersion: ""
    bootID: ""
    machineID: ""
    systemUUID: ""
EOF
}
existing=" $(kubectl_admin get nodes -l type=kwok -o jsonpath='{.items[*].metadata.name}') "
for (( i = 0; i < KWOK_NODE_COUNT; i++ )); do
  if [[ $existing != *" $KWOK_NODE_PREFIX$i "* ]]; then
    node_manifest "$i" | kubectl_admin create -f - >/dev/null
    log "created simulated node $KWOK_NODE_PREFIX$i ($KWOK_NODE_CPU CPU, $KWOK_NODE_MEMORY, $KWOK_NODE_PODS pods)"
  fi
done
if (( KWOK_NODE_COUNT > 0 )); then
  daemon_wait "simulated nodes Ready" 90 kwok "$BIN/kwok" \
    kubectl_admin wait --for=condition=Ready node -l type=kwok --timeout=2s
fi
# Pods of Deployments need the namespace's default ServiceAccount (made by kube-controller-manager).
daemon_wait "ServiceAccount default/default" 60 kube-controller-manager "$BIN/kube-controller-manager" \
  kubectl_admin get serviceaccount default -n default

# the real node, then what observes its pods: Prometheus and metrics-server
[[ $NODES == kwok ]] || { bash "$LC_DIR/node/up.sh"; bash "$LC_DIR/metrics/up.sh"; }

log "cluster up in $(elapsed_since "$START")"
bash "$LC_DIR/status.sh" || true
log "kubeconfig: $ADMIN_KUBECONFIG   (export KUBECONFIG=$ADMIN_KUBECONFIG)"
