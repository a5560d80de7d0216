# shellcheck shell=bash
# Messages and timings for the local cluster's scripts. Source it; do not run it.
#
#   LOG_PREFIX   the tag in brackets: "[localcluster] ..." (each library or script sets its own)
#   LOG_CLOCK    1: the time of day follows the tag, "[infra 12:34:56] ..."
#   LOG_TAG      when set, "LOG_TAG: " precedes the message (e.g. one of several parallel jobs)
# Messages go to stderr; die exits the script (or the subshell it runs in) with status 1.

LOG_PREFIX="${LOG_PREFIX:-localcluster}"
LOG_CLOCK="${LOG_CLOCK:-0}"
LOG_TAG="${LOG_TAG:-}"

_log_line() { # LEVEL MESSAGE...
  local level=$1 clock=""; shift
  (( LOG_CLOCK )) && clock=" $(date +%H:%M:%S)"
  printf '[%s%s] %s%s%s\n' "$LOG_PREFIX" "$clock" "${LOG_TAG:+$LOG_TAG: }" "$level" "$*" >&2
}
log() { _log_line "" "$@"; }
die() { _log_line "ERROR: " "$@"; exit 1; }

# now_ms: milliseconds since the epoch; elapsed_since START_MS: the time since then, "12.3s".
now_ms() { date +%s%3N; }
elapsed_since() {
  local d=$(( $(now_ms) - $1 ))
  printf '%d.%ds' $(( d / 1000 )) $(( (d % 1000) / 100 ))
}
