# shellcheck shell=bash
# shellcheck disable=SC2034  # variables are used by the scripts that source this file
# Shared settings and helpers for the local cluster scripts. Source it; do not run it.
#
# Everything the cluster writes lives under $STATE (inside the checkout, git-ignored); the
# compiled binaries live in $CACHE (outside the checkout) so that a fresh clone or a purge
# never recompiles Kubernetes.

LC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$LC_DIR")"

K8S_VERSION="v1.34.4"
K8S_MAJOR="1"
K8S_MINOR="34"
ETCD_VERSION="v3.6.4"
KWOK_VERSION="v0.7.0"
# the traffic analysis' tools (module localcluster/tools; go.mod pins them)
VEGETA_VERSION="v12.13.0"
METRICS_SERVER_VERSION="v0.8.0"
PROMETHEUS_VERSION="v3.16.0"   # module github.com/prometheus/prometheus v0.316.0 (localcluster/prometheus)

CACHE="${VEXTRUS_CACHE:-$HOME/.cache/vextrus-localcluster}"
BIN="$CACHE/$K8S_VERSION/bin"
export GOMODCACHE="$CACHE/gomod"
export GOCACHE="$CACHE/gobuild"
export GOFLAGS="-mod=mod"

LOCAL="$ROOT/.local"
LOCAL_BIN="$LOCAL/bin"
STATE="$LOCAL/cluster"
RUN_DIR="$STATE/run"
LOG_DIR="$STATE/log"
PKI_DIR="$STATE/pki"
ETCD_DATA="$STATE/etcd"
ADMIN_KUBECONFIG="$LOCAL/kubeconfig"
CONTEXT_NAME="vextrus-local"
CLUSTER_NAME="vextrus-local"

# Network layout. Everything listens on the loopback interface only.
LISTEN_IP="127.0.0.1"
APISERVER_PORT=6443
APISERVER_URL="https://$LISTEN_IP:$APISERVER_PORT"
ETCD_CLIENT_PORT=2379
ETCD_PEER_PORT=2380
ETCD_METRICS_PORT=2381
KCM_PORT=10257
SCHEDULER_PORT=10259
SERVICE_CIDR="10.96.0.0/16"
SERVICE_FIRST_IP="10.96.0.1"
CLUSTER_CIDR="10.244.0.0/16"
# The host's own address on its default route: the API server reaches metrics-server there (an
# APIService's endpoints may not be loopback addresses).
HOST_IP="${HOST_IP:-$(ip -4 route get 203.0.113.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')}"
HOST_IP="${HOST_IP:-$(ip -4 -o addr show scope global 2>/dev/null | awk '{sub(/\/.*/, "", $4); print $4; exit}')}"
# The traffic analysis' Prometheus and metrics-server (metrics/up.sh).
PROMETHEUS_PORT=9090
PROMETHEUS_URL="http://$LISTEN_IP:$PROMETHEUS_PORT"
PROMETHEUS_STATE="$STATE/prometheus"
PROMETHEUS_RULES_DIR="$PROMETHEUS_STATE/rules"
METRICS_SERVER_PORT=4443

# Simulated nodes.
KWOK_NODE_COUNT="${KWOK_NODE_COUNT:-3}"
KWOK_NODE_PREFIX="kwok-node-"
KWOK_NODE_CPU="${KWOK_NODE_CPU:-4}"
KWOK_NODE_MEMORY="${KWOK_NODE_MEMORY:-16Gi}"
KWOK_NODE_PODS="${KWOK_NODE_PODS:-110}"

# Control-plane components in start order; down.sh stops them in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

GRACE_SECONDS="${GRACE_SECONDS:-15}"

# Messages "[localcluster] ...", timings, daemons with pid files in $RUN_DIR and logs in $LOG_DIR.
LOG_PREFIX="localcluster"
DAEMON_RUN_DIR="$RUN_DIR"
DAEMON_LOG_DIR="$LOG_DIR"
# shellcheck source=lib/log.sh
source "$LC_DIR/lib/log.sh"
# shellcheck source=lib/daemons.sh
source "$LC_DIR/lib/daemons.sh"

# The control-plane components run the binary of their name from $BIN.
component_pid() { daemon_pid "$1" "$BIN/$1"; }
component_alive() { daemon_running "$1" "$BIN/$1"; }

# url_ok URL: an HTTPS/HTTP GET that answers 200 "ok", checked against the cluster CA.
url_ok() {
  local body
  body=$(curl -fsS --max-time 3 --cacert "$PKI_DIR/ca.crt" "$1") || return 1
  [[ $body == ok* ]]
}

kubectl_admin() { "$BIN/kubectl" --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }

require_binaries() {
  local b
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok; do
    [[ -x $BIN/$b ]] || die "missing $BIN/$b; run localcluster/build.sh"
  done
}

# apiserver_start: kube-apiserver (etcd must run), then wait for /readyz. up.sh starts it with the
# control plane; apiserver.sh starts it again after a stop (the fault tests).
apiserver_start() {
  daemon_start kube-apiserver "$BIN/kube-apiserver" \
    --advertise-address="$LISTEN_IP" \
    --bind-address="$LISTEN_IP" \
    --secure-port="$APISERVER_PORT" \
    --etcd-servers="https://$LISTEN_IP:$ETCD_CLIENT_PORT" \
    --etcd-cafile="$PKI_DIR/etcd-ca.crt" \
    --etcd-certfile="$PKI_DIR/apiserver-etcd-client.crt" --etcd-keyfile="$PKI_DIR/apiserver-etcd-client.key" \
    --tls-cert-file="$PKI_DIR/apiserver.crt" --tls-private-key-file="$PKI_DIR/apiserver.key" \
    --client-ca-file="$PKI_DIR/ca.crt" \
    --authorization-mode=Node,RBAC \
    --enable-admission-plugins=NodeRestriction \
    --service-account-issuer="https://kubernetes.default.svc.cluster.local" \
    --service-account-key-file="$PKI_DIR/sa.pub" \
    --service-account-signing-key-file="$PKI_DIR/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --kubelet-client-certificate="$PKI_DIR/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI_DIR/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    --requestheader-client-ca-file="$PKI_DIR/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$PKI_DIR/front-proxy-client.crt" --proxy-client-key-file="$PKI_DIR/front-proxy-client.key" \
    --enable-aggregator-routing=true \
    --endpoint-reconciler-type=none \
    --allow-privileged=true \
    --profiling=false \
    --cert-dir="$RUN_DIR/kube-apiserver-certs"
  daemon_wait "kube-apiserver /readyz" 180 kube-apiserver "$BIN/kube-apiserver" url_ok "$APISERVER_URL/readyz"
}

# apiserver_stop [GRACE_S]: TERM, KILL after GRACE_S (default $GRACE_SECONDS). The API server stops
# listening at once but drains its open requests (watches, log streams) for up to the whole grace.
apiserver_stop() { daemon_stop kube-apiserver "$BIN/kube-apiserver" "${1:-}"; }
