#!/usr/bin/env bash
# Prints the local cluster's state: each component's pid and liveness, the API server's
# /readyz and the nodes. Exit status: 0 when every component runs and /readyz is ok, else 3.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rc=0
total_rss=0 total_hwm=0
printf '%-25s %-8s %s\n' COMPONENT PID STATE
for c in "${COMPONENTS[@]}"; do
  if pid=$(component_pid "$c"); then
    mem=$(awk '/^VmRSS:/ {r=$2} /^VmHWM:/ {h=$2} END {printf "RSS %d MiB, peak %d MiB", r/1024, h/1024}' \
      "/proc/$pid/status" 2>/dev/null || true)
    printf '%-25s %-8s %s\n' "$c" "$pid" "running ($mem)"
    read -r r h < <(awk '/^VmRSS:/ {r=$2} /^VmHWM:/ {h=$2} END {print r+0, h+0}' "/proc/$pid/status" 2>/dev/null || echo 0 0)
    total_rss=$(( total_rss + r )) total_hwm=$(( total_hwm + h ))
  else
    state=stopped
    [[ -f $(daemon_pidfile "$c") ]] && state="dead (stale pid file $(<"$(daemon_pidfile "$c")"))"
    printf '%-25s %-8s %s\n' "$c" "-" "$state"
    rc=3
  fi
done
(( total_rss )) && printf '%-25s %-8s %s\n' "total" "" "RSS $(( total_rss / 1024 )) MiB, sum of peaks $(( total_hwm / 1024 )) MiB"

if [[ -s $PKI_DIR/ca.crt ]] && readyz=$(curl -fsS --max-time 3 --cacert "$PKI_DIR/ca.crt" "$APISERVER_URL/readyz" 2>&1); then
  printf '%-25s %s\n' "readyz ($APISERVER_URL)" "$readyz"
  echo
  kubectl_admin get nodes -o wide || rc=3
else
  printf '%-25s %s\n' "readyz ($APISERVER_URL)" "not reachable"
  rc=3
fi
if [[ -e $RUN_DIR/kubelet.pid || -e $RUN_DIR/node-containerd.pid ]]; then
  echo
  bash "$LC_DIR/node/status.sh" || rc=3
fi
if [[ -e $RUN_DIR/prometheus.pid || -e $RUN_DIR/metrics-server.pid ]]; then
  echo
  bash "$LC_DIR/metrics/status.sh" || rc=3
fi
exit "$rc"
