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

# Simulated nodes.
KWOK_NODE_COUNT="${KWOK_NODE_COUNT:-3}"
KWOK_NODE_PREFIX="kwok-node-"
KWOK_NODE_CPU="${KWOK_NODE_CPU:-4}"
KWOK_NODE_MEMORY="${KWOK_NODE_MEMORY:-16Gi}"
KWOK_NODE_PODS="${KWOK_NODE_PODS:-110}"

# Control-plane components in start order; down.sh stops them in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

GRACE_SECONDS="${GRACE_SECONDS:-15}"

log() { printf '[localcluster] %s\n' "$*" >&2; }
die() { printf '[localcluster] ERROR: %s\n' "$*" >&2; exit 1; }

now_ms() { date +%s%3N; }
elapsed_since() { # $1 = start in ms -> "12.3s"
  local d=$(( $(now_ms) - $1 ))
  printf '%d.%ds' $(( d / 1000 )) $(( (d % 1000) / 100 ))
}

pidfile() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }

# Prints the pid of a component when its pid file names a live process that runs our binary.
# A stale pid file (process gone, or pid reused by something else) counts as not running.
component_pid() {
  local name=$1 file pid exe want
  file=$(pidfile "$name")
  [[ -r $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -d /proc/$pid ]] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
  # A replaced or removed binary shows up as "<path> (deleted)"; the process is still ours.
  exe=${exe%" (deleted)"}
  want=$(readlink -f "$BIN/$name" 2>/dev/null || true)
  [[ $exe == "$BIN/$name" || ( -n $want && $exe == "$want" ) ]] || return 1
  printf '%s\n' "$pid"
}

component_alive() { component_pid "$1" >/dev/null; }

# Starts "$@" in its own session with output to $LOG_DIR/<name>.log and records its pid.
start_component() {
  local name=$1; shift
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  if component_alive "$name"; then
    log "$name already running (pid $(component_pid "$name"))"
    return 0
  fi
  rm -f "$(pidfile "$name")"
  {
    printf '\n==== %s start %s\n' "$name" "$(date -Is)"
    printf '==== %q ' "$@"; printf '\n'
  } >>"$LOG_DIR/$name.log"
  setsid "$@" </dev/null >>"$LOG_DIR/$name.log" 2>&1 &
  local pid=$!
  printf '%s\n' "$pid" >"$(pidfile "$name")"
  log "started $name (pid $pid, log ${LOG_DIR#"$ROOT/"}/$name.log)"
}

# Stops a component: TERM, then KILL after $GRACE_SECONDS. No-op when it is not running.
stop_component() {
  local name=$1 pid i
  if ! pid=$(component_pid "$name"); then
    rm -f "$(pidfile "$name")"
    return 0
  fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for (( i = 0; i < GRACE_SECONDS * 10; i++ )); do
    [[ -d /proc/$pid ]] || break
    sleep 0.1
  done
  if [[ -d /proc/$pid ]]; then
    log "$name did not stop within ${GRACE_SECONDS}s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    for (( i = 0; i < 50; i++ )); do [[ -d /proc/$pid ]] || break; sleep 0.1; done
  fi
  [[ -d /proc/$pid ]] && die "$name (pid $pid) is still running"
  rm -f "$(pidfile "$name")"
}

# wait_for NAME TIMEOUT_S COMMAND...: retries COMMAND until it succeeds; fails with the
# component's last log lines when the time is up or the component died.
wait_for() {
  local name=$1 timeout=$2; shift 2
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    if [[ -n ${WAIT_COMPONENT:-} ]] && ! component_alive "$WAIT_COMPONENT"; then
      tail -n 30 "$LOG_DIR/$WAIT_COMPONENT.log" >&2 || true
      die "$WAIT_COMPONENT exited while waiting for $name (log: $LOG_DIR/$WAIT_COMPONENT.log)"
    fi
    if (( $(date +%s) >= deadline )); then
      [[ -n ${WAIT_COMPONENT:-} ]] && { tail -n 30 "$LOG_DIR/$WAIT_COMPONENT.log" >&2 || true; }
      die "timed out after ${timeout}s waiting for $name"
    fi
    sleep 0.3
  done
}

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
