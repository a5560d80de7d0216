# shellcheck shell=bash
# shellcheck disable=SC2034  # settings used by the scripts that source this file
# Shared settings and helpers for the real node (containerd + CNI + kubelet + kube-proxy).
# Source it; do not run it. It sources ../lib.sh for the cluster-wide paths and versions.
#
# Everything the node creates is named so that down.sh can find it again:
#   processes   pid files .local/cluster/run/{node-containerd,kubelet,kube-proxy}.pid
#   files       .local/cluster/node/ (containerd root/state, kubelet root, pod logs, CNI, PKI)
#   network     bridge vxbr0, CNI network "vextrus-pod-network", netns under the containerd state
#   cgroups     /vextrus-node in every cgroup v1 hierarchy (and the unified one, if used)
#   iptables    chains KUBE-* (kube-proxy, kubelet) and CNI-* (bridge ipMasq, portmap)

NODE_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib.sh
source "$NODE_LIB_DIR/../lib.sh"

LOG_PREFIX="localcluster node"

NODE_NAME="${REAL_NODE_NAME:-real-node-0}"
NODE_LABEL_KEY="vextrus.io/node"
NODE_LABEL_VALUE="real"
NODE_TAINT_KEY="vextrus.io/real-node"
NODE_TAINT="$NODE_TAINT_KEY=true:NoSchedule"
NODE_STATE="$STATE/node"
NODE_PKI="$NODE_STATE/pki"
CTRD_DIR="$NODE_STATE/containerd"
CTRD_CONFIG="$CTRD_DIR/config.toml"
CTRD_RUN="/run/vextrus-containerd"
CTRD_SOCKET="$CTRD_RUN/containerd.sock"
CTRD_ENDPOINT="unix://$CTRD_SOCKET"
CTRD_NAMESPACE="k8s.io"
CNI_BIN_DIR="/usr/lib/cni"
CNI_CONF_DIR="$NODE_STATE/cni/net.d"
CNI_TEMPLATE="$NODE_STATE/cni/bridge.conflist.tmpl"
CNI_IPAM_DIR="$NODE_STATE/cni/ipam"
CNI_NETWORK="vextrus-pod-network"
CNI_BRIDGE="vxbr0"
CNI_CACHE_DIR="/var/lib/cni"   # libcni's result cache (not configurable through containerd 1.6)
KUBELET_DIR="$NODE_STATE/kubelet"
KUBELET_CONFIG="$NODE_STATE/kubelet-config.yaml"
KUBELET_KUBECONFIG="$NODE_STATE/kubelet.kubeconfig"
POD_LOG_DIR="$NODE_STATE/pod-logs"
CONTAINER_LOG_LINKS="/var/log/containers"   # the kubelet's symlink dir; fixed in the kubelet
KUBE_PROXY_CONFIG="$NODE_STATE/kube-proxy-config.yaml"
KUBE_PROXY_KUBECONFIG="$NODE_STATE/kube-proxy.kubeconfig"
CGROUP_ROOT="/vextrus-node"
KUBELET_PORT=10250
KUBELET_HEALTHZ_PORT=10248
KUBE_PROXY_HEALTHZ_PORT=10256
KUBE_PROXY_METRICS_PORT=10249
PAUSE_IMAGE="${PAUSE_IMAGE:-127.0.0.1:5000/localcluster/pause:3.10}"
REGISTRY_HOST="127.0.0.1:5000"
CRI_TOOLS_VERSION="v1.34.0"
CRICTL="$BIN/crictl"
NODE_PACKAGES=(containerd runc containernetworking-plugins iptables conntrack socat ethtool)

# crictl against the node's containerd; its config file also serves users:
#   crictl --config .local/cluster/node/crictl.yaml ps
CRICTL_CONFIG="$NODE_STATE/crictl.yaml"
crictl_node() {
  if [[ ! -s $CRICTL_CONFIG ]]; then
    mkdir -p "$NODE_STATE"
    printf 'runtime-endpoint: %s\nimage-endpoint: %s\ntimeout: 20\n' "$CTRD_ENDPOINT" "$CTRD_ENDPOINT" >"$CRICTL_CONFIG"
  fi
  "$CRICTL" --config "$CRICTL_CONFIG" "$@"
}
ctr_node() { ctr --address "$CTRD_SOCKET" --namespace "$CTRD_NAMESPACE" "$@"; }

# Prints the lines of its input, the longest first: mount points, the deepest first.
_deepest_first() { awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2-; }

# Prints the mount points at or below DIR, deepest first.
mounts_under() {
  local dir=$1
  awk -v d="$dir" '{ p = $5; gsub(/\\040/, " ", p); if (p == d || index(p, d "/") == 1) print p }' \
    /proc/self/mountinfo | _deepest_first
}

# Prints the mount points under another checkout's .local/cluster/node (what a node of it left
# mounted), deepest first.
foreign_node_mounts() {
  awk -v ours="$NODE_STATE/" '{ p = $5; gsub(/\\040/, " ", p); if (index(p, "/.local/cluster/node/") && index(p, ours) != 1) print p }' \
    /proc/self/mountinfo | _deepest_first
}

# Mount namespaces under the containerd state (netns_mounts_under_state_dir) plus the kubelet's.
our_netns() { mounts_under "$NODE_STATE" | grep -E '/netns/' || true; }

# Prints our cgroup directories (every hierarchy), deepest first.
our_cgroups() {
  local h
  for h in /sys/fs/cgroup/*/; do
    [[ -d ${h}${CGROUP_ROOT#/} ]] && find "${h}${CGROUP_ROOT#/}" -depth -type d
  done
  return 0
}

# The veth peers on our bridge and the bridge itself.
our_links() {
  ip -o link show master "$CNI_BRIDGE" 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'
  ip -o link show "$CNI_BRIDGE" >/dev/null 2>&1 && printf '%s\n' "$CNI_BRIDGE"
  return 0
}

# kill_node_processes: kills the shims on our containerd socket and every process in our cgroups.
# The socket (under /run) and the cgroups are the same for every checkout of this machine.
kill_node_processes() {
  local pid d
  for pid in $(pgrep -f -- "containerd-shim-runc-v2 .*-address $CTRD_SOCKET" || true); do
    log "killing leftover shim $pid"; kill -KILL "$pid" 2>/dev/null || true
  done
  for d in $(our_cgroups); do
    [[ -r $d/cgroup.procs ]] || continue
    while read -r pid; do
      [[ -n $pid ]] || continue
      log "killing leftover container process $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-60))"
      kill -KILL "$pid" 2>/dev/null || true
    done <"$d/cgroup.procs"
  done
  return 0
}

# delete_node_links: deletes the veths on our bridge, then the bridge.
delete_node_links() {
  local l
  for l in $(our_links); do
    [[ $l == "$CNI_BRIDGE" ]] && continue
    ip link del "$l" 2>/dev/null && log "deleted veth $l"
  done
  if ip link show "$CNI_BRIDGE" >/dev/null 2>&1; then ip link del "$CNI_BRIDGE" && log "deleted bridge $CNI_BRIDGE"; fi
  return 0
}

# iptables/ip6tables rules and chains of ours: kube-proxy and kubelet chains (KUBE-*), the CNI
# chains (CNI-*) and any rule that names our bridge or pod network.
our_iptables() {
  local cmd
  for cmd in iptables ip6tables; do
    command -v "$cmd-save" >/dev/null || continue
    "$cmd-save" 2>/dev/null | grep -E "KUBE-|CNI-|$CNI_BRIDGE|$CNI_NETWORK" | sed "s/^/$cmd: /" || true
  done
}
