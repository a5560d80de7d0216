# shellcheck shell=bash
# Debian packages the local cluster's scripts need. Source it after lib/log.sh; do not run it.

apt_updated=0
# ensure_packages PKG... : apt-get install what is missing (runs apt-get update once first,
# since a fresh machine may have no package lists). Needs root only when something is missing.
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  (( ${#missing[@]} )) || return 0
  [[ $(id -u) -eq 0 ]] || die "packages missing (${missing[*]}) and not running as root"
  if (( apt_updated == 0 )); then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
    apt_updated=1
  fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
    die "apt-get install ${missing[*]} failed"
}
