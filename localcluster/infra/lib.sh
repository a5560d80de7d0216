#!/usr/bin/env bash
# Shared helpers for the localcluster infrastructure scripts (Docker engine,
# local registry, base images). Sourced, never executed.
# shellcheck disable=SC2034  # variables are used by the scripts that source this

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${INFRA_DIR}/../.." && pwd)"
STATE_DIR="${REPO_ROOT}/.local/infra"
CACHE_DIR="${VEXTRUS_CACHE:-${HOME}/.cache/vextrus-localcluster}"
REGISTRY_ADDR="127.0.0.1:5000"

mkdir -p "${STATE_DIR}"

log() { printf '[infra %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[infra %s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }

# Seconds since the epoch with sub-second precision, for timings.
now() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1f", e - s }'; }

apt_updated=0
# ensure_packages PKG... : apt-get install what is missing (runs apt-get update
# once first, since a fresh machine may have no package lists).
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  [[ $(id -u) -eq 0 ]] || die "packages missing (${missing[*]}) and not running as root"
  if ((apt_updated == 0)); then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
    apt_updated=1
  fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
    || die "apt-get install ${missing[*]} failed"
}

# pid_alive PIDFILE EXE : true when the pid file names a live process whose
# executable is EXE (guards against a recycled pid).
pid_alive() {
  local pidfile=$1 exe=$2 pid
  [[ -s $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -e /proc/$pid ]] || return 1
  [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == "$exe" ]]
}

# stop_pidfile PIDFILE EXE NAME TIMEOUT : SIGTERM the process, wait for it to
# exit (SIGKILL after TIMEOUT seconds), remove the pid file.
stop_pidfile() {
  local pidfile=$1 exe=$2 name=$3 timeout=${4:-30} pid i
  if ! pid_alive "$pidfile" "$exe"; then
    rm -f "$pidfile"
    return 0
  fi
  pid=$(<"$pidfile")
  log "stopping ${name} (pid ${pid})"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 10; i++)); do
    [[ -e /proc/$pid ]] || break
    sleep 0.1
  done
  if [[ -e /proc/$pid ]]; then
    log "${name} did not exit within ${timeout}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do [[ -e /proc/$pid ]] || break; sleep 0.1; done
  fi
  rm -f "$pidfile"
  log "${name} stopped"
}

# wait_until TIMEOUT CMD... : poll CMD every 0.2 s for up to TIMEOUT seconds.
wait_until() {
  local timeout=$1 i
  shift
  for ((i = 0; i < timeout * 5; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  return 1
}
