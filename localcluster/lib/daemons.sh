# shellcheck shell=bash
# Daemons of the local cluster: started in their own session, one pid file and one log each,
# stopped by pid (never by name). Source it after lib/log.sh; do not run it.
#
#   DAEMON_RUN_DIR   where NAME.pid lives
#   DAEMON_LOG_DIR   where NAME.log lives (output is appended; each start writes a header first)
#   GRACE_SECONDS    how long daemon_stop waits after TERM before it sends KILL (default 15)
#
# A daemon counts as running only when its pid file names a live process whose executable is
# the expected one: a stale pid file (process gone, or the pid reused by another program) counts
# as not running. A binary replaced or removed while the daemon runs ("<path> (deleted)") still
# counts as the daemon's.

DAEMON_RUN_DIR="${DAEMON_RUN_DIR:-}"
DAEMON_LOG_DIR="${DAEMON_LOG_DIR:-}"

daemon_pidfile() { printf '%s/%s.pid' "$DAEMON_RUN_DIR" "$1"; }
daemon_logfile() { printf '%s/%s.log' "$DAEMON_LOG_DIR" "$1"; }

# daemon_pid NAME EXE: prints the pid of NAME when it runs EXE; fails otherwise.
daemon_pid() {
  local name=$1 want=$2 file pid exe
  file=$(daemon_pidfile "$name")
  [[ -r $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  _pid_alive "$pid" || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
  exe=${exe%" (deleted)"}
  [[ -n $exe && ( $exe == "$want" || $exe == "$(readlink -f "$want" 2>/dev/null)" ) ]] || return 1
  printf '%s\n' "$pid"
}

# daemon_running NAME EXE
daemon_running() { daemon_pid "$1" "$2" >/dev/null; }

# _pid_alive PID: the process exists and is not a zombie (an exited child nobody reaped yet).
_pid_alive() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  [[ ${stat##*) } != Z* ]]
}

# daemon_start [--writes-pidfile] NAME EXE ARGS...: starts EXE ARGS in its own session, stdin from
# /dev/null, output appended to NAME's log after a header, and records its pid. A no-op when NAME
# already runs EXE. With --writes-pidfile the daemon writes NAME's pid file itself (the caller
# passes its path in ARGS); daemon_start then waits until it has.
daemon_start() {
  local own=0
  [[ $1 == --writes-pidfile ]] && { own=1; shift; }
  local name=$1 exe=$2; shift 2
  local pidfile logfile pid i
  pidfile=$(daemon_pidfile "$name") logfile=$(daemon_logfile "$name")
  mkdir -p "$DAEMON_RUN_DIR" "$DAEMON_LOG_DIR"
  if pid=$(daemon_pid "$name" "$exe"); then
    log "$name already running (pid $pid)"
    return 0
  fi
  rm -f "$pidfile"
  {
    printf '\n==== %s start %s\n' "$name" "$(date -Is)"
    printf '==== command:'; printf ' %q' "$exe" "$@"; printf '\n'
  } >>"$logfile"
  setsid "$exe" "$@" </dev/null >>"$logfile" 2>&1 &
  pid=$!
  (( own )) || printf '%s\n' "$pid" >"$pidfile"
  # Returns once the new process runs EXE (a moment after the fork) and the pid file names it,
  # so that a check right after the start does not see the forked shell; or once it exited,
  # which the caller's daemon_wait reports with the log.
  for (( i = 0; i < 300; i++ )); do
    daemon_running "$name" "$exe" && break
    _pid_alive "$pid" || break
    sleep 0.1
  done
  if (( own )) && _pid_alive "$pid" && ! daemon_running "$name" "$exe"; then
    daemon_fail "$name" "$name did not write $pidfile within 30s"
  fi
  log "started $name (pid $pid, log ${logfile#"$PWD/"})"
}

# daemon_stop NAME EXE [GRACE_S]: TERM, then KILL when NAME still runs after GRACE_S (default
# $GRACE_SECONDS); removes the pid file. A no-op when NAME does not run EXE.
daemon_stop() {
  local name=$1 exe=$2 grace=${3:-${GRACE_SECONDS:-15}} pid i
  if ! pid=$(daemon_pid "$name" "$exe"); then
    rm -f "$(daemon_pidfile "$name")"
    return 0
  fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for (( i = 0; i < grace * 10; i++ )); do _pid_alive "$pid" || break; sleep 0.1; done
  if _pid_alive "$pid"; then
    log "$name did not stop within ${grace}s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    for (( i = 0; i < 50; i++ )); do _pid_alive "$pid" || break; sleep 0.1; done
  fi
  _pid_alive "$pid" && die "$name (pid $pid) is still running"
  rm -f "$(daemon_pidfile "$name")"
}

# daemon_fail NAME MESSAGE: the last 30 lines of NAME's log, then die with MESSAGE.
daemon_fail() {
  local logfile
  logfile=$(daemon_logfile "$1")
  tail -n 30 "$logfile" >&2 2>/dev/null || true
  die "$2 (log: $logfile)"
}

# daemon_wait WHAT TIMEOUT_S NAME EXE COMMAND...: runs COMMAND (quietly) until it succeeds; dies
# with NAME's last log lines when NAME stops running EXE or TIMEOUT_S pass first.
daemon_wait() {
  local what=$1 timeout=$2 name=$3 exe=$4; shift 4
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    daemon_running "$name" "$exe" || daemon_fail "$name" "$name exited while waiting for $what"
    (( $(date +%s) < deadline )) || daemon_fail "$name" "timed out after ${timeout}s waiting for $what"
    sleep 0.2
  done
}

# wait_until TIMEOUT_S COMMAND...: runs COMMAND (quietly) until it succeeds; fails when
# TIMEOUT_S pass first. For waits that watch no daemon of ours.
wait_until() {
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s) < deadline )) || return 1
    sleep 0.2
  done
}
