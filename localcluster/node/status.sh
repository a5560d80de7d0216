#!/usr/bin/env bash
# Prints the real node's state: its processes, the Node object, the pods the runtime holds and
# the host resources the node created (bridge, veths, netns, mounts, iptables chains).
# Exit status: 0 when containerd, the kubelet and kube-proxy run and the node is Ready, else 3.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONTAINERD_EXE=$(command -v containerd || echo /usr/bin/containerd)
rc=0
printf '%-25s %-8s %s\n' COMPONENT PID STATE
for spec in "node-containerd:$CONTAINERD_EXE" "kubelet:$BIN/kubelet" "kube-proxy:$BIN/kube-proxy"; do
  name=${spec%%:*} exe=${spec#*:}
  if pid=$(daemon_pid "$name" "$exe"); then
    mem=$(awk '/^VmRSS:/ {printf "RSS %d MiB", $2/1024}' "/proc/$pid/status" 2>/dev/null || true)
    printf '%-25s %-8s %s\n' "$name" "$pid" "running ($mem)"
  else
    state=stopped
    [[ -f $RUN_DIR/$name.pid ]] && state="dead (stale pid file $(<"$RUN_DIR/$name.pid"))"
    printf '%-25s %-8s %s\n' "$name" "-" "$state"
    rc=3
  fi
done

if [[ -s $ADMIN_KUBECONFIG && -x $BIN/kubectl ]] && url_ok "$APISERVER_URL/readyz" 2>/dev/null; then
  ready=$(kubectl_admin get node "$NODE_NAME" \
    -o jsonpath='{range .status.conditions[?(@.type=="Ready")]}{.status}{end} {.spec.podCIDR} {.status.nodeInfo.containerRuntimeVersion}' 2>/dev/null || true)
  if [[ -z $ready ]]; then
    printf '%-25s %s\n' "node $NODE_NAME" "not registered"; rc=3
  else
    read -r cond cidr runtime <<<"$ready"
    printf '%-25s %s\n' "node $NODE_NAME" "Ready=$cond podCIDR=$cidr runtime=$runtime"
    [[ $cond == True ]] || rc=3
  fi
else
  printf '%-25s %s\n' "node $NODE_NAME" "API server not reachable"; rc=3
fi

if daemon_pid node-containerd "$CONTAINERD_EXE" >/dev/null && [[ -x $CRICTL ]]; then
  printf '%-25s %s\n' "pod sandboxes (CRI)" "$(crictl_node pods -q 2>/dev/null | wc -l)"
  printf '%-25s %s\n' "containers (CRI)" "$(crictl_node ps -a -q 2>/dev/null | wc -l)"
  printf '%-25s %s\n' "images (CRI)" "$(crictl_node images -q 2>/dev/null | wc -l)"
fi
links=$(our_links | tr '\n' ' ')
printf '%-25s %s\n' "bridge + veths" "${links:-none}"
printf '%-25s %s\n' "pod netns" "$(our_netns | wc -l)"
printf '%-25s %s\n' "mounts under node state" "$(mounts_under "$NODE_STATE" | wc -l)"
printf '%-25s %s\n' "iptables lines (ours)" "$(our_iptables | wc -l)"
exit "$rc"
