#!/usr/bin/env bash
# Adds the real node (real-node-0) to the running local cluster: a separate containerd with its
# CRI plugin, the CNI bridge network, the kubelet and kube-proxy from the cluster's build.
# Run it after localcluster/up.sh (the control plane must answer /readyz) and after
# localcluster/infra/up.sh (the registry on 127.0.0.1:5000 holds the pause image).
#
# Idempotent: running components are left alone (a component whose rendered configuration
# changed is restarted). Needs root (containerd, mounts, network, iptables).
#
#   Node:      real-node-0, label vextrus.io/node=real, taint vextrus.io/real-node=true:NoSchedule
#   Pods:      CNI bridge vxbr0 with the pod CIDR kube-controller-manager allocates to the node
#   Services:  kube-proxy (iptables) routes ClusterIPs from the host and from pods
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case ${1:-} in
  "") ;;
  -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (usage: up.sh)" ;;
esac

START=$(now_ms)
[[ $(id -u) -eq 0 ]] || die "the real node needs root (containerd, mounts, network namespaces, iptables)"

# --- packages (Debian): containerd is the package docker.io already depends on
# shellcheck source=../lib/packages.sh
source "$LC_DIR/lib/packages.sh"
ensure_packages "${NODE_PACKAGES[@]}"
for b in containerd containerd-shim-runc-v2 runc ctr iptables iptables-save iptables-restore conntrack socat; do
  command -v "$b" >/dev/null || die "$b is not on PATH after installing ${NODE_PACKAGES[*]}"
done
for p in bridge host-local loopback portmap; do
  [[ -x $CNI_BIN_DIR/$p ]] || die "CNI plugin $CNI_BIN_DIR/$p is missing (package containernetworking-plugins)"
done
CONTAINERD_EXE=$(command -v containerd)

# --- binaries of the cluster build, and crictl (cri-tools, a Go module; not packaged in bookworm)
for b in kubelet kube-proxy kubectl; do
  [[ -x $BIN/$b ]] || die "missing $BIN/$b; start the control plane first (localcluster/up.sh builds it)"
done
if [[ ! -x $CRICTL ]]; then
  command -v go >/dev/null || die "Go is required to build crictl"
  log "building crictl $CRI_TOOLS_VERSION (sigs.k8s.io/cri-tools) into $BIN (a few minutes, once)"
  t=$(now_ms)
  GOFLAGS="" GOBIN="$BIN" go install \
    -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRI_TOOLS_VERSION" \
    "sigs.k8s.io/cri-tools/cmd/crictl@$CRI_TOOLS_VERSION" >"$CACHE/build-crictl.log" 2>&1 ||
    { tail -n 20 "$CACHE/build-crictl.log" >&2; die "building crictl failed (log: $CACHE/build-crictl.log)"; }
  log "built crictl in $(elapsed_since "$t")"
fi
mkdir -p "$LOCAL_BIN"
[[ $(readlink "$LOCAL_BIN/crictl" 2>/dev/null) == "$CRICTL" ]] || ln -sfn "$CRICTL" "$LOCAL_BIN/crictl"

# --- the control plane must be up
[[ -s $ADMIN_KUBECONFIG && -s $PKI_DIR/ca.crt && -s $PKI_DIR/ca.key ]] ||
  die "no cluster PKI/kubeconfig under ${STATE#"$ROOT/"}; run localcluster/up.sh first"
url_ok "$APISERVER_URL/readyz" || die "the API server at $APISERVER_URL does not answer /readyz; run localcluster/up.sh first"

mkdir -p "$NODE_STATE" "$NODE_PKI" "$CTRD_DIR" "$CTRD_RUN" "$KUBELET_DIR" "$POD_LOG_DIR" \
  "$CNI_CONF_DIR" "$CNI_IPAM_DIR" "$RUN_DIR" "$LOG_DIR"
chmod 700 "$NODE_PKI"

# --- kernel settings the pod network and kube-proxy need (no modprobe: the kernel has them or not)
set_sysctl() { # PATH VALUE
  local f=/proc/sys/$1
  [[ -e $f ]] || die "$f does not exist: this kernel lacks what the pod network needs (no modprobe here)"
  if [[ $(<"$f") != "$2" ]]; then
    printf '%s\n' "$2" >"$f" || die "cannot set ${1//\//.}=$2"
    log "set ${1//\//.}=$2"
  fi
}
set_sysctl net/ipv4/ip_forward 1
set_sysctl net/bridge/bridge-nf-call-iptables 1
[[ -e /proc/sys/net/bridge/bridge-nf-call-ip6tables ]] && set_sysctl net/bridge/bridge-nf-call-ip6tables 1

# --- certificates signed by the cluster CA
# shellcheck source=../lib/certs.sh
source "$LC_DIR/lib/certs.sh"
# node_cert NAME SUBJECT USAGES [SANS]: in $NODE_PKI, signed by the cluster CA; (re)issued when
# missing, not signed by the current cluster CA, or expiring within 30 days.
node_cert() { cert_issue "$NODE_PKI" "$1" "$PKI_DIR/ca" "${@:2}"; }
# The Node authorizer and NodeRestriction admit exactly this identity for the node's own objects.
node_cert kubelet-client "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
node_cert kubelet-serving "/CN=$NODE_NAME" serverAuth "IP:127.0.0.1,DNS:localhost,DNS:$NODE_NAME"
# Bound to ClusterRole system:node-proxier by the default ClusterRoleBinding of that name.
node_cert kube-proxy "/CN=system:kube-proxy" clientAuth

# --- what a node left running when its run was killed before its down.sh (another checkout's, e.g.
# an earlier CI clone): its containers keep their pod IPs on the same bridge, in the same cgroups,
# and this node's fresh IPAM would hand those IPs out again. With no node of ours running and no
# container in our state, every such process, veth and mount is somebody else's leftover.
foreign_ctrd=$(pgrep -af -- "containerd --config .*/cluster/node/containerd/config.toml" | grep -vF -- "$CTRD_CONFIG" || true)
[[ -z $foreign_ctrd ]] ||
  die "another checkout's real node runs on this machine (${foreign_ctrd%%$'\n'*}); stop it with its localcluster/down.sh first"
if ! daemon_running node-containerd "$CONTAINERD_EXE" && ! daemon_running kubelet "$BIN/kubelet" &&
   ! compgen -G "$CTRD_DIR/state/io.containerd.runtime.v2.task/$CTRD_NAMESPACE/*" >/dev/null; then
  kill_node_processes
  delete_node_links
  mapfile -t stale < <(foreign_node_mounts)
  for m in "${stale[@]}"; do umount -l "$m" 2>/dev/null || true; done
  if (( ${#stale[@]} )); then log "unmounted ${#stale[@]} mount(s) another checkout's node left behind"; fi
fi

# --- rendered configuration; a component whose configuration changed is restarted
changed_files=()
# write_if_changed DEST CONTENT
write_if_changed() {
  if [[ ! -f $1 || $(<"$1") != "$2" ]]; then
    printf '%s\n' "$2" >"$1"
    changed_files+=("$1")
    log "wrote ${1#"$ROOT/"}"
  fi
}
# render TEMPLATE DEST: replaces every @VAR@ with the shell variable's value
render() {
  local content var
  content=$(<"$1")
  for var in $(grep -o '@[A-Z_]*@' "$1" | sort -u | tr -d @); do
    [[ -n ${!var+x} ]] || die "template $1 uses @$var@, which is not set"
    content=${content//@$var@/${!var}}
  done
  write_if_changed "$2" "$content"
}
node_kubeconfig() { # FILE USER CERT_NAME
  write_if_changed "$1" "apiVersion: v1
kind: Config
clusters:
- name: $CLUSTER_NAME
  cluster:
    server: $APISERVER_URL
    certificate-authority: $PKI_DIR/ca.crt
users:
- name: $2
  user:
    client-certificate: $NODE_PKI/$3.crt
    client-key: $NODE_PKI/$3.key
contexts:
- name: $CONTEXT_NAME
  context:
    cluster: $CLUSTER_NAME
    user: $2
current-context: $CONTEXT_NAME"
}
config_changed() { local f; for f in "${changed_files[@]}"; do [[ $f == "$1" ]] && return 0; done; return 1; }
# The certificates (and the cluster CA, which pki.sh re-creates after a purge) count as
# configuration of the kubelet and kube-proxy: a change restarts them.
pki_stamp=$(cat "$PKI_DIR/ca.crt" "$NODE_PKI"/*.crt | sha256sum | cut -d' ' -f1)
write_if_changed "$NODE_PKI/stamp" "$pki_stamp"

# overlayfs works on ext4 and xfs, not on top of another overlay mount; check it once here.
SNAPSHOTTER=overlayfs
check_dir="$CTRD_DIR/overlay-check"
rm -rf "$check_dir"; mkdir -p "$check_dir"/{lower,upper,work,merged}
if err=$(mount -t overlay overlay \
    -o "lowerdir=$check_dir/lower,upperdir=$check_dir/upper,workdir=$check_dir/work" "$check_dir/merged" 2>&1); then
  umount "$check_dir/merged"
else
  SNAPSHOTTER=native
  log "overlayfs cannot be mounted under ${CTRD_DIR#"$ROOT/"} ($err); using the native snapshotter (full copies, slower)"
fi
rm -rf "$check_dir"

render "$NODE_LIB_DIR/cni-bridge.conflist.in" "$CNI_TEMPLATE"
mkdir -p "$CTRD_DIR/certs.d/$REGISTRY_HOST"
render "$NODE_LIB_DIR/registry-hosts.toml.in" "$CTRD_DIR/certs.d/$REGISTRY_HOST/hosts.toml"
render "$NODE_LIB_DIR/containerd.toml.in" "$CTRD_CONFIG"
render "$NODE_LIB_DIR/kubelet-config.yaml.in" "$KUBELET_CONFIG"
render "$NODE_LIB_DIR/kube-proxy-config.yaml.in" "$KUBE_PROXY_CONFIG"
node_kubeconfig "$KUBELET_KUBECONFIG" "system:node:$NODE_NAME" kubelet-client
node_kubeconfig "$KUBE_PROXY_KUBECONFIG" system:kube-proxy kube-proxy

# --- cgroups: the kubelet's cgroup root must exist in every v1 hierarchy
for h in /sys/fs/cgroup/*/; do
  [[ $(stat -f -c %T "$h") == cgroupfs ]] || continue   # v1 hierarchies only
  d="${h}${CGROUP_ROOT#/}"
  [[ -d $d ]] && continue
  mkdir "$d"
  if [[ -f ${h}cpuset.cpus ]]; then   # a new cpuset cgroup starts empty
    cat "${h}cpuset.cpus" >"$d/cpuset.cpus"
    cat "${h}cpuset.mems" >"$d/cpuset.mems"
  fi
done

# --- containerd
if config_changed "$CTRD_CONFIG" || config_changed "$CTRD_DIR/certs.d/$REGISTRY_HOST/hosts.toml"; then
  daemon_stop kubelet "$BIN/kubelet"
  daemon_stop node-containerd "$CONTAINERD_EXE"
fi
daemon_start node-containerd "$CONTAINERD_EXE" --config "$CTRD_CONFIG"
daemon_wait "containerd's CRI on $CTRD_SOCKET" 60 node-containerd "$CONTAINERD_EXE" crictl_node info
if ! crictl_node inspecti "$PAUSE_IMAGE" >/dev/null 2>&1; then
  t=$(now_ms)
  crictl_node pull "$PAUSE_IMAGE" >/dev/null ||
    die "containerd cannot pull $PAUSE_IMAGE (is the registry up? localcluster/infra/up.sh); log: $LOG_DIR/node-containerd.log"
  log "pulled $PAUSE_IMAGE over plain HTTP in $(elapsed_since "$t")"
fi

# --- kubelet
# The node's InternalIP must be 127.0.0.1 (the kubelet listens on loopback only), but the kubelet
# refuses --node-ip=127.0.0.1 ("nodeIP can't be loopback address"). With --cloud-provider=external
# the kubelet leaves the node's addresses to a cloud controller; this script plays that part:
# it sets InternalIP 127.0.0.1 + Hostname once and removes the "uninitialized" taint.
# --maximum-dead-containers-per-container=2 (default 1): with 1, the kubelet deletes a crashed
# container (and its log) as soon as the next attempt dies, while the pod status still names it
# as lastState for a moment, so `kubectl logs --previous` answers "unable to retrieve container
# logs" in that window; a crash gate reading the last log lines must not race that.
kubelet_args=(
  --config="$KUBELET_CONFIG"
  --kubeconfig="$KUBELET_KUBECONFIG"
  --root-dir="$KUBELET_DIR"
  --cert-dir="$NODE_PKI"
  --hostname-override="$NODE_NAME"
  --cloud-provider=external
  --node-labels="$NODE_LABEL_KEY=$NODE_LABEL_VALUE"
  --register-with-taints="$NODE_TAINT"
  --maximum-dead-containers-per-container=2
  --v=1
)
write_if_changed "$NODE_STATE/kubelet.args" "${kubelet_args[*]}"
if config_changed "$KUBELET_CONFIG" || config_changed "$KUBELET_KUBECONFIG" || config_changed "$NODE_PKI/stamp" ||
   config_changed "$NODE_STATE/kubelet.args"; then
  daemon_stop kubelet "$BIN/kubelet"
elif daemon_pid kubelet "$BIN/kubelet" >/dev/null && ! kubectl_admin get node "$NODE_NAME" >/dev/null 2>&1; then
  # the kubelet registers its Node only when it starts (e.g. the cluster's etcd was purged)
  log "node $NODE_NAME is not registered although the kubelet runs; restarting the kubelet"
  daemon_stop kubelet "$BIN/kubelet"
fi
daemon_start kubelet "$BIN/kubelet" "${kubelet_args[@]}"
daemon_wait "kubelet /healthz" 60 kubelet "$BIN/kubelet" \
  curl -fsS --max-time 2 "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz"
daemon_wait "Node $NODE_NAME registered" 60 kubelet "$BIN/kubelet" kubectl_admin get node "$NODE_NAME"

want_addresses='[{"type":"InternalIP","address":"127.0.0.1"},{"type":"Hostname","address":"'"$NODE_NAME"'"}]'
have=$(kubectl_admin get node "$NODE_NAME" -o jsonpath='{range .status.addresses[*]}{.type}={.address} {end}')
if [[ $have != "InternalIP=127.0.0.1 Hostname=$NODE_NAME " ]]; then
  kubectl_admin patch node "$NODE_NAME" --subresource=status --type=merge \
    -p "{\"status\":{\"addresses\":$want_addresses}}" >/dev/null
  log "set the addresses of node $NODE_NAME: InternalIP 127.0.0.1, Hostname $NODE_NAME"
fi
uninit=node.cloudprovider.kubernetes.io/uninitialized
if [[ " $(kubectl_admin get node "$NODE_NAME" -o jsonpath='{.spec.taints[*].key}') " == *" $uninit "* ]]; then
  kubectl_admin taint node "$NODE_NAME" "$uninit-" >/dev/null
fi
daemon_wait "node $NODE_NAME Ready" 120 kubelet "$BIN/kubelet" \
  kubectl_admin wait --for=condition=Ready "node/$NODE_NAME" --timeout=2s
# The node lifecycle controller lifts the not-ready taint of a new Node up to its monitor period
# after Ready; until then the scheduler places no pod there.
schedulable() { [[ " $(kubectl_admin get node "$NODE_NAME" -o jsonpath='{.spec.taints[*].key}') " != *" node.kubernetes.io/not-ready "* ]]; }
daemon_wait "node $NODE_NAME without the not-ready taint" 60 kubelet "$BIN/kubelet" schedulable

# --- kube-proxy
if config_changed "$KUBE_PROXY_CONFIG" || config_changed "$KUBE_PROXY_KUBECONFIG" || config_changed "$NODE_PKI/stamp"; then
  daemon_stop kube-proxy "$BIN/kube-proxy"
fi
daemon_start kube-proxy "$BIN/kube-proxy" --config="$KUBE_PROXY_CONFIG" --v=1
daemon_wait "kube-proxy /healthz" 60 kube-proxy "$BIN/kube-proxy" \
  curl -fsS --max-time 2 "http://127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT/healthz"

pod_cidr=$(kubectl_admin get node "$NODE_NAME" -o jsonpath='{.spec.podCIDR}')
log "node $NODE_NAME Ready in $(elapsed_since "$START") (pod CIDR $pod_cidr on $CNI_BRIDGE, snapshotter $SNAPSHOTTER)"
log "schedule onto it with: nodeSelector {$NODE_LABEL_KEY: $NODE_LABEL_VALUE} + toleration $NODE_TAINT_KEY=true:NoSchedule"
