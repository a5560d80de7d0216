#!/usr/bin/env bash
# Stops the local cluster: exactly the processes recorded in .local/cluster/run/*.pid (TERM, then
# KILL after $GRACE_SECONDS), in reverse start order. A no-op when nothing runs.
#   --purge   also deletes the cluster state: etcd data, PKI, kubeconfigs, logs (.local/cluster)
#             and the admin kubeconfig (.local/kubeconfig). The compiled binaries stay cached.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

purge=0
for arg in "$@"; do
  case $arg in
    --purge) purge=1 ;;
    -h | --help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (usage: down.sh [--purge])" ;;
  esac
done

# Prometheus and metrics-server first (they watch the API server), then the real node: its pods'
# mounts and network must go before the control plane does (each a no-op when it does not run).
bash "$LC_DIR/metrics/down.sh"
if (( purge )); then bash "$LC_DIR/node/down.sh" --purge; else bash "$LC_DIR/node/down.sh"; fi

stopped=0
for (( i = ${#COMPONENTS[@]} - 1; i >= 0; i-- )); do
  c=${COMPONENTS[$i]}
  component_alive "$c" && stopped=$(( stopped + 1 ))
  daemon_stop "$c" "$BIN/$c"
done
if (( stopped )); then log "stopped $stopped component(s)"; else log "the cluster is not running"; fi

if (( purge )); then
  if [[ -e $STATE || -e $ADMIN_KUBECONFIG ]]; then
    rm -rf -- "$STATE" "$ADMIN_KUBECONFIG"
    log "purged ${STATE#"$ROOT/"} and ${ADMIN_KUBECONFIG#"$ROOT/"}"
  fi
fi
