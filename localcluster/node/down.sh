#!/usr/bin/env bash
# Removes the real node and everything it created, so that the next up.sh starts clean:
# kube-proxy (and its iptables rules: kube-proxy --cleanup), the kubelet, every pod sandbox and
# container (through the CRI), the node's containerd, the mounts under .local/cluster/node, the
# pods' network namespaces, veths and the vxbr0 bridge, the KUBE-*/CNI-* iptables chains, the
# /vextrus-node cgroups, and the Node object. A no-op when nothing of the node exists.
#
#   --keep-node   leave the Node object in the API (it turns NotReady)
#   --purge       also delete .local/cluster/node (images, certificates, configuration)
# Without --purge the pulled images stay in containerd's root, so the next start is warm.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

keep_node=0 purge=0
for arg in "$@"; do
  case $arg in
    --keep-node) keep_node=1 ;;
    --purge) purge=1 ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (usage: down.sh [--keep-node] [--purge])" ;;
  esac
done
[[ $(id -u) -eq 0 ]] || die "removing the real node needs root"
START=$(now_ms)
CONTAINERD_EXE=$(command -v containerd || echo /usr/bin/containerd)

# --- kube-proxy, then its rules
daemon_stop kube-proxy "$BIN/kube-proxy"
if [[ -x $BIN/kube-proxy ]] && our_iptables | grep -q 'KUBE-'; then
  "$BIN/kube-proxy" --cleanup --v=0 >>"$LOG_DIR/kube-proxy.log" 2>&1 ||
    log "kube-proxy --cleanup reported errors (see ${LOG_DIR#"$ROOT/"}/kube-proxy.log); removing the rest below"
fi

# --- kubelet (it would recreate the pods we remove next)
daemon_stop kubelet "$BIN/kubelet" 15

# --- pods and containers, through the CRI so that CNI DEL runs (veths, IPAM, portmap, masquerade)
leftovers() {
  compgen -G "$CTRD_DIR/state/io.containerd.runtime.v2.task/$CTRD_NAMESPACE/*" >/dev/null && return 0
  [[ -n $(our_netns) ]] && return 0
  return 1
}
started_for_cleanup=0
if ! daemon_pid node-containerd "$CONTAINERD_EXE" >/dev/null && [[ -s $CTRD_CONFIG ]] && leftovers; then
  log "starting the node's containerd to remove the pods it left behind"
  mkdir -p "$CTRD_RUN"
  daemon_start node-containerd "$CONTAINERD_EXE" --config "$CTRD_CONFIG"
  started_for_cleanup=1
  wait_until 30 crictl_node info || log "the cleanup containerd does not answer on $CTRD_SOCKET"
fi
if daemon_pid node-containerd "$CONTAINERD_EXE" >/dev/null && [[ -x $CRICTL ]]; then
  mapfile -t pods < <(crictl_node pods -q 2>/dev/null || true)
  if (( ${#pods[@]} )); then
    log "removing ${#pods[@]} pod sandbox(es) and their containers"
    for p in "${pods[@]}"; do crictl_node stopp "$p" >/dev/null 2>&1 || log "could not stop pod sandbox $p"; done
    for p in "${pods[@]}"; do crictl_node rmp -f "$p" >/dev/null 2>&1 || log "could not remove pod sandbox $p"; done
  fi
  mapfile -t ctrs < <(crictl_node ps -a -q 2>/dev/null || true)
  for c in "${ctrs[@]}"; do crictl_node rm -f "$c" >/dev/null 2>&1 || log "could not remove container $c"; done
fi
daemon_stop node-containerd "$CONTAINERD_EXE" 20
(( started_for_cleanup )) && log "stopped the cleanup containerd"

# --- processes still left: shims of our containerd and processes in our cgroups (by pid)
kill_node_processes

# --- mounts under the node's state (netns, shm, rootfs, volumes), deepest first
for (( attempt = 0; attempt < 3; attempt++ )); do
  mapfile -t mounts < <(mounts_under "$NODE_STATE"; mounts_under "$CTRD_RUN")
  (( ${#mounts[@]} )) || break
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
done
mapfile -t mounts < <(mounts_under "$NODE_STATE"; mounts_under "$CTRD_RUN")
(( ${#mounts[@]} )) && log "WARNING: still mounted: ${mounts[*]}"

# --- network: veths on our bridge, the bridge
delete_node_links

# --- iptables: rules that jump to or name our chains/bridge/network, then the chains themselves
scrub_iptables() { # iptables | ip6tables
  local cmd=$1 script
  command -v "$cmd-save" >/dev/null || return 0
  script=$("$cmd-save" 2>/dev/null | awk -v br="$CNI_BRIDGE" -v net="$CNI_NETWORK" '
    /^\*/ { if (table != "") flush(); table = $0; n = 0; nc = 0; next }
    /^:/ { c = substr($1, 2); if (c ~ /^(KUBE-|CNI-)/) chains[nc++] = c; next }
    /^-A / {
      chain = $2
      if (chain ~ /^(KUBE-|CNI-)/) next
      if ($0 ~ / -j (KUBE-|CNI-)/ || $0 ~ / -g (KUBE-|CNI-)/ || index($0, br) || index($0, net)) {
        line = $0; sub(/^-A /, "-D ", line); dels[n++] = line
      }
      next
    }
    /^COMMIT/ { flush(); table = ""; next }
    function flush(   i) {
      if (n == 0 && nc == 0) return
      print table
      for (i = 0; i < n; i++) print dels[i]
      for (i = 0; i < nc; i++) print "-F " chains[i]
      for (i = 0; i < nc; i++) print "-X " chains[i]
      print "COMMIT"
      n = 0; nc = 0
    }')
  [[ -n $script ]] || return 0
  if ! printf '%s\n' "$script" | "$cmd-restore" -w 5 --noflush 2>"$LOG_DIR/iptables-cleanup.err"; then
    log "WARNING: $cmd-restore failed: $(tr '\n' ' ' <"$LOG_DIR/iptables-cleanup.err")"
  else
    log "removed the remaining KUBE-*/CNI-* $cmd chains and rules"
  fi
}
mkdir -p "$LOG_DIR"
scrub_iptables iptables
scrub_iptables ip6tables

# --- cgroups, CNI result cache, container log links, runtime dir
for d in $(our_cgroups); do rmdir "$d" 2>/dev/null || log "WARNING: cannot remove cgroup $d"; done
rm -f "$CNI_CACHE_DIR"/results/"$CNI_NETWORK"-* 2>/dev/null || true
if [[ -d $CONTAINER_LOG_LINKS ]]; then
  for l in "$CONTAINER_LOG_LINKS"/*; do
    [[ -L $l && $(readlink "$l") == "$POD_LOG_DIR"/* ]] && rm -f "$l"
  done
  rmdir "$CONTAINER_LOG_LINKS" 2>/dev/null || true
fi
rm -rf "$CTRD_RUN"

# --- state: keep images, PKI and configuration; drop everything that belongs to pods
if [[ -d $NODE_STATE ]]; then
  mapfile -t mounts < <(mounts_under "$NODE_STATE")
  if (( ${#mounts[@]} )); then
    log "WARNING: not deleting the node's state: still mounted"
  elif (( purge )); then
    rm -rf -- "$NODE_STATE"
    log "purged ${NODE_STATE#"$ROOT/"}"
  else
    rm -rf -- "$CTRD_DIR/state" "$KUBELET_DIR" "$POD_LOG_DIR" "$CNI_IPAM_DIR" "$CNI_CONF_DIR"
  fi
fi

# --- the Node object (its pods are then deleted by the pod garbage collector)
if (( ! keep_node )) && [[ -s $ADMIN_KUBECONFIG && -x $BIN/kubectl ]] &&
   url_ok "$APISERVER_URL/readyz" 2>/dev/null &&
   kubectl_admin get node "$NODE_NAME" >/dev/null 2>&1; then
  kubectl_admin delete node "$NODE_NAME" --wait=false >/dev/null && log "deleted Node $NODE_NAME"
fi

log "real node down in $(elapsed_since "$START")"
