#!/usr/bin/env bash
# Docker engine for localcluster image builds.
#   docker.sh up      install Debian's docker.io if dockerd is missing; start
#                     dockerd unless a daemon already answers; wait for it
#   docker.sh down    stop dockerd, but only if this script started it
#   docker.sh status  print the daemon state; exit 0 when it answers
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOCKERD_PIDFILE=$(daemon_pidfile dockerd)   # .local/infra/dockerd.pid, written by dockerd
DOCKERD_BIN=/usr/sbin/dockerd
START_TIMEOUT=${DOCKERD_START_TIMEOUT:-60}
STOP_TIMEOUT=${DOCKERD_STOP_TIMEOUT:-60}

# dockerd reuses the containerd named in this pid file when that pid is alive;
# after a hard kill it may name a dead process, a zombie or a recycled pid, and
# dockerd then waits for a containerd that never answers.
CONTAINERD_PIDFILE=/var/run/docker/containerd/containerd.pid
drop_stale_containerd_pidfile() {
  [[ -s ${CONTAINERD_PIDFILE} ]] || return 0
  local pid state=""
  pid=$(<"${CONTAINERD_PIDFILE}")
  [[ -r /proc/${pid}/stat ]] && state=$(awk '{ print $3 }' "/proc/${pid}/stat" 2>/dev/null)
  if [[ -z $state || $state == Z || "$(readlink "/proc/${pid}/exe" 2>/dev/null)" != */containerd ]]; then
    log "removing stale ${CONTAINERD_PIDFILE} (pid ${pid} is not a live containerd)"
    rm -f "${CONTAINERD_PIDFILE}"
  fi
}

docker_answers() { docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; }

cmd_up() {
  local t0
  t0=$(now)
  if ! command -v docker >/dev/null 2>&1 || [[ ! -x ${DOCKERD_BIN} ]]; then
    ensure_packages docker.io
  fi
  if docker_answers; then
    log "docker engine already answers (server $(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    return 0
  fi
  if daemon_running dockerd "${DOCKERD_BIN}"; then
    log "dockerd (pid $(<"${DOCKERD_PIDFILE}")) is running but does not answer yet; waiting"
  else
    drop_stale_containerd_pidfile
    # dockerd writes and removes its pid file itself (a file naming a live pid stops it from
    # starting, so daemon_start must not write it first).
    daemon_start --writes-pidfile dockerd "${DOCKERD_BIN}" --pidfile "${DOCKERD_PIDFILE}"
  fi
  daemon_wait "the docker engine to answer" "${START_TIMEOUT}" dockerd "${DOCKERD_BIN}" docker_answers
  log "docker engine up in $(elapsed "$t0")s (client $(docker version --format '{{.Client.Version}}'), server $(docker version --format '{{.Server.Version}}'), API $(docker version --format '{{.Server.APIVersion}}'))"
}

cmd_down() {
  if daemon_running dockerd "${DOCKERD_BIN}"; then
    daemon_stop dockerd "${DOCKERD_BIN}" "${STOP_TIMEOUT}"
    log "dockerd stopped"
  else
    rm -f "${DOCKERD_PIDFILE}"
    if docker_answers; then
      log "docker engine was not started by localcluster; leaving it running"
    else
      log "docker engine not running"
    fi
  fi
}

cmd_status() {
  if docker_answers; then
    local owner="started outside localcluster"
    daemon_running dockerd "${DOCKERD_BIN}" && owner="started by localcluster, pid $(<"${DOCKERD_PIDFILE}")"
    echo "docker: up (server $(docker version --format '{{.Server.Version}}'), ${owner})"
  else
    echo "docker: down"
    return 1
  fi
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 {up|down|status}" >&2; exit 2 ;;
esac
