#!/usr/bin/env bash
# Docker engine for localcluster image builds.
#   docker.sh up      install Debian's docker.io if dockerd is missing; start
#                     dockerd unless a daemon already answers; wait for it
#   docker.sh down    stop dockerd, but only if this script started it
#   docker.sh status  print the daemon state; exit 0 when it answers
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOCKERD_PIDFILE="${STATE_DIR}/dockerd.pid"
DOCKERD_LOG="${STATE_DIR}/dockerd.log"
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
  if pid_alive "${DOCKERD_PIDFILE}" "${DOCKERD_BIN}"; then
    log "dockerd (pid $(<"${DOCKERD_PIDFILE}")) is running but does not answer yet; waiting"
  else
    rm -f "${DOCKERD_PIDFILE}"
    drop_stale_containerd_pidfile
    log "starting dockerd (log: ${DOCKERD_LOG#"${REPO_ROOT}"/})"
    # dockerd writes and removes the pid file itself; setsid detaches it from
    # this shell's session so it outlives the calling make/CI step.
    setsid "${DOCKERD_BIN}" --pidfile "${DOCKERD_PIDFILE}" \
      >>"${DOCKERD_LOG}" 2>&1 </dev/null &
  fi
  if ! wait_until "${START_TIMEOUT}" docker_answers; then
    tail -n 20 "${DOCKERD_LOG}" >&2 || true
    die "dockerd did not answer within ${START_TIMEOUT}s (see ${DOCKERD_LOG})"
  fi
  log "docker engine up in $(elapsed "$t0")s (client $(docker version --format '{{.Client.Version}}'), server $(docker version --format '{{.Server.Version}}'), API $(docker version --format '{{.Server.APIVersion}}'))"
}

cmd_down() {
  if pid_alive "${DOCKERD_PIDFILE}" "${DOCKERD_BIN}"; then
    stop_pidfile "${DOCKERD_PIDFILE}" "${DOCKERD_BIN}" dockerd "${STOP_TIMEOUT}"
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
    pid_alive "${DOCKERD_PIDFILE}" "${DOCKERD_BIN}" && owner="started by localcluster, pid $(<"${DOCKERD_PIDFILE}")"
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
