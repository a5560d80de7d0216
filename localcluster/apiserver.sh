#!/usr/bin/env bash
# Stops and starts kube-apiserver of the running local cluster; the rest of it keeps running.
# The tests of API outages use it (tests/integration/chain/test_api_faults.py).
#
#   apiserver.sh stop
#   apiserver.sh start              starts it again and waits for /readyz
#   apiserver.sh restart [SECONDS]  stop, SECONDS down (default 10), start; prints the outage
#
# restart gives the API server 1 s after TERM, then kills it: it refuses new connections at once,
# and draining the open watches and log streams (up to the 15 s grace of a stop, measured) would
# make the outage that much longer than SECONDS.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_again() {
  component_alive etcd || die "etcd is not running: start the cluster (make cluster-up)"
  apiserver_start
}

case ${1:-} in
  stop) apiserver_stop ;;
  start) start_again ;;
  restart)
    down=${2:-10}
    [[ $down =~ ^[0-9]+$ ]] || die "restart takes whole seconds to stay down, got '$down'"
    component_alive kube-apiserver || die "kube-apiserver is not running: start the cluster (make cluster-up)"
    began=$(now_ms)
    apiserver_stop 1
    sleep "$down"
    start_again
    log "kube-apiserver was unavailable for $(elapsed_since "$began")"
    ;;
  *) die "usage: $0 stop | start | restart [SECONDS]" ;;
esac
