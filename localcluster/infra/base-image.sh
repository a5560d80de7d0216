#!/usr/bin/env bash
# Base images for localcluster, made locally without pulling anything. For each
# (Node major, Debian suite) pair in NODE_BASES (default 20:trixie 24:forky):
#   127.0.0.1:5000/vextrus/node-runtime:<major>  Debian <suite> minbase + nodejs <major>,
#                                                ca-certificates (with the host's locally
#                                                added CA certificates), tini; no npm
#   127.0.0.1:5000/vextrus/node-build:<major>    the runtime plus Debian's npm, for builder stages
# and once:
#   127.0.0.1:5000/localcluster/pause:3.10       static pod sandbox binary (pause/pause.c)
# and, on demand only (--python; awx/ee/local.py asks for it, cluster-up does not):
#   127.0.0.1:5000/vextrus/python-base:<suite>   Debian <suite> minbase + python3, python3-pip,
#                                                ca-certificates (with the host's CAs) and
#                                                ee-pkgmgr: the base of the local build of
#                                                the execution environment (awx/README.md)
#
# Recipe: debootstrap --variant=minbase, apt-get in a chroot, tar | docker import,
# tag, push. Each image carries the label org.localcluster.recipe=<hash of its
# recipe> (see node_recipe/pause_recipe); the rootfs tarballs are cached under $VEXTRUS_CACHE/base-images keyed
# by the same hash. Nothing is rebuilt while the image with the current recipe
# exists locally and the registry serves the same digest; an image only missing
# from the registry is pushed again; an image only missing locally is imported
# again from the cached tarball. Pairs that need a debootstrap are built in
# parallel, each in its own subshell with its own log.
#
# Usage: base-image.sh [--force]     (--force rebuilds the tarballs)
#        base-image.sh --recipes     (prints "<major> <suite> <recipe>" per pair, builds nothing)
#        base-image.sh --python [--force]   (the Python base only)
# Env:   VEXTRUS_NODE_BASES (default "20:trixie 24:forky": space-separated major:suite pairs),
#        VEXTRUS_BASE_SUITE_<major> (overrides the suite of one listed major; the older
#        VEXTRUS_BASE_SUITE still sets Node 20's), VEXTRUS_DEBIAN_MIRROR,
#        VEXTRUS_DEBIAN_SECURITY_MIRROR (default: taken from the host's apt sources),
#        VEXTRUS_PYTHON_SUITE (default bookworm: python3.11, the EE's Python)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The Node bases: major:suite. Debian carries one nodejs major per suite (trixie
# 20.19, forky 24.x); a suite that ships another major fails the build loudly.
read -r -a NODE_BASES <<<"${VEXTRUS_NODE_BASES:-20:${VEXTRUS_BASE_SUITE:-trixie} 24:forky}"
# The pair being worked on: set by select_node_base, read by the recipe functions.
SUITE=""
NODE_MAJOR=""
RUNTIME_IMAGE=""
BUILD_IMAGE=""
PAUSE_IMAGE="${REGISTRY_ADDR}/localcluster/pause:3.10"
PAUSE_SRC="${INFRA_DIR}/pause/pause.c"
WORK="${CACHE_DIR}/base-images"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
HOST_CA_DIR=/usr/local/share/ca-certificates
LABEL_RECIPE=org.localcluster.recipe
MAIN_LOG="${STATE_DIR}/base-image.log"
BUILD_LOG="${MAIN_LOG}"
# The Python base of the execution environment's local build: the suite's python3 must satisfy
# ansible-core (>= 3.11 for 2.19); bookworm has 3.11, the Python of the production base's build.
PYTHON_SUITE="${VEXTRUS_PYTHON_SUITE:-bookworm}"
PYTHON_IMAGE="${REGISTRY_ADDR}/vextrus/python-base:${PYTHON_SUITE}"
PKGMGR_SHIM="${INFRA_DIR}/ee-pkgmgr"
FORCE=0
PRINT_RECIPES=0
PYTHON_ONLY=0
for arg in "$@"; do
  case $arg in
    --force) FORCE=1 ;;
    --recipes) PRINT_RECIPES=1 ;;
    --python) PYTHON_ONLY=1 ;;
    *) die "usage: base-image.sh [--force | --recipes | --python [--force]]" ;;
  esac
done

APT_BUILD_CONF=99-localcluster-build
IMAGE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

# ---------------------------------------------------------------- helpers ---

# The first URI of the host's apt sources whose path ends in $1 ("/debian" or
# "/debian-security"); deb822 .sources files first, then one-line .list files.
host_mirror() {
  local suffix=$1 uri
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$suffix" '
    tolower($1) == "uris:" { for (i = 2; i <= NF; i++) { u = $i; sub(/\/$/, "", u); if (u ~ s "$") { print u; exit } } }')
  if [[ -z $uri ]]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk -v s="$suffix" '
      $1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { u = $i; sub(/\/$/, "", u); if (u ~ s "$") { print u; exit } } }')
  fi
  echo "${uri:-http://deb.debian.org${suffix}}"
}

MIRROR="${VEXTRUS_DEBIAN_MIRROR:-$(host_mirror /debian)}"
SECURITY_MIRROR="${VEXTRUS_DEBIAN_SECURITY_MIRROR:-$(host_mirror /debian-security)}"

host_ca_files() { find "${HOST_CA_DIR}" -maxdepth 2 -type f -name '*.crt' 2>/dev/null | LC_ALL=C sort; }

# Recipe hashes cover what decides an image's content: the bodies of the
# functions that build it (as bash prints them, so comments do not count), the
# settings they use, the suite, and the CA certificates baked in (node images)
# or the C source (pause image).
NODE_RECIPE_FUNCTIONS=(build_node_rootfs configure_rootfs apt_install slim_rootfs tar_rootfs
  in_chroot with_proc node_labels import_image import_runtime import_build)
PAUSE_RECIPE_FUNCTIONS=(build_pause import_image import_pause)
PYTHON_RECIPE_FUNCTIONS=(build_python_rootfs configure_rootfs drop_node_user apt_install slim_rootfs
  tar_rootfs in_chroot with_proc import_image import_python)
node_recipe() {
  {
    declare -f "${NODE_RECIPE_FUNCTIONS[@]}"
    echo "suite=${SUITE} node=${NODE_MAJOR} path=${IMAGE_PATH} ca=${CA_BUNDLE} images=${RUNTIME_IMAGE},${BUILD_IMAGE}"
    host_ca_files | while read -r f; do sha256sum "$f" | cut -d' ' -f1; done
  } | sha256sum | cut -c1-16
}
python_recipe() {
  {
    declare -f "${PYTHON_RECIPE_FUNCTIONS[@]}"
    echo "suite=${PYTHON_SUITE} path=${IMAGE_PATH} ca=${CA_BUNDLE} image=${PYTHON_IMAGE}"
    cat "${PKGMGR_SHIM}"
    host_ca_files | while read -r f; do sha256sum "$f" | cut -d' ' -f1; done
  } | sha256sum | cut -c1-16
}
pause_recipe() {
  {
    declare -f "${PAUSE_RECIPE_FUNCTIONS[@]}"
    echo "image=${PAUSE_IMAGE}"
    cat "${PAUSE_SRC}"
  } | sha256sum | cut -c1-16
}

local_label() { docker image inspect --format "{{index .Config.Labels \"${LABEL_RECIPE}\"}}" "$1" 2>/dev/null || true; }
local_repo_digests() { docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$1" 2>/dev/null || true; }

# Digest the registry serves for IMAGE (host/repo:tag), empty when absent.
registry_digest() {
  local ref=$1 repo tag
  repo=${ref#"${REGISTRY_ADDR}"/}
  tag=${repo##*:}
  repo=${repo%:*}
  curl -sfI --max-time 10 \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://${REGISTRY_ADDR}/v2/${repo}/manifests/${tag}" 2>/dev/null |
    tr -d '\r' | awk -F': ' 'tolower($1) == "docker-content-digest" { print $2 }' || true
}

# in_registry IMAGE : the registry serves exactly the local image's digest.
in_registry() {
  local ref=$1 digest
  digest=$(registry_digest "$ref")
  [[ -n $digest ]] || return 1
  local_repo_digests "$ref" | grep -qx "${ref%:*}@${digest}"
}

push() {
  local ref=$1 t0
  t0=$(now)
  log "pushing ${ref}"
  docker push "$ref" >>"${BUILD_LOG}" 2>&1 || die "docker push ${ref} failed (see ${BUILD_LOG})"
  in_registry "$ref" || die "after the push the registry does not serve the digest of ${ref}"
  log "pushed ${ref} as $(registry_digest "$ref") in $(elapsed "$t0")s"
}

size_mb() { docker image inspect --format '{{.Size}}' "$1" | awk '{ printf "%.0f MB", $1 / 1000000 }'; }

# ensure_image IMAGE RECIPE TARBALL BUILDER IMPORT_FN : the decision table.
#   local image with RECIPE + registry has it  -> nothing
#   local image with RECIPE, registry not      -> push
#   no such local image, TARBALL cached        -> import, push
#   nothing cached                             -> BUILDER, import, push
ensure_image() {
  local ref=$1 recipe=$2 tarball=$3 builder=$4 importer=$5
  if [[ "$(local_label "$ref")" == "$recipe" ]]; then
    if in_registry "$ref"; then
      log "${ref} is current (recipe ${recipe}, $(size_mb "$ref")); nothing to do"
      return 0
    fi
    log "${ref} exists locally but the registry lacks it"
    push "$ref"
    return 0
  fi
  if [[ ! -s $tarball ]]; then
    "$builder"
  else
    log "using cached rootfs ${tarball}"
  fi
  "$importer"
  push "$ref"
}

# --------------------------------------------------------- node rootfs -----

ROOTFS=""
cleanup_rootfs() {
  [[ -n $ROOTFS && -d $ROOTFS ]] || return 0
  local m
  # Unmount anything still mounted below the rootfs (deepest first).
  while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done < <(awk -v r="$ROOTFS" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r)
  rm -rf --one-file-system "$ROOTFS"
}

in_chroot() { chroot "$ROOTFS" /usr/bin/env -i PATH="${IMAGE_PATH}" LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive HOME=/root "$@"; }

with_proc() {
  mount -t proc proc "$ROOTFS/proc"
  local rc=0
  "$@" || rc=$?
  umount "$ROOTFS/proc"
  return $rc
}

apt_install() {
  in_chroot apt-get update -qq &&
    in_chroot apt-get install -y -qq --no-install-recommends "$@"
}

# Remove what an image does not need; keeps copyright files (licences).
slim_rootfs() {
  in_chroot apt-get clean
  find "$ROOTFS/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$ROOTFS/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$ROOTFS"/usr/share/{man,info,groff,lintian,linda}/* "$ROOTFS"/usr/share/locale/*
  rm -rf "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/debconf/*-old "$ROOTFS"/var/lib/dpkg/*-old
  rm -rf "$ROOTFS"/tmp/* "$ROOTFS"/var/tmp/* "$ROOTFS"/root/.npm "$ROOTFS"/root/.cache
  find "$ROOTFS/var/log" -type f -delete
}

# tar_rootfs OUT : the rootfs as an import tarball, without apt lists and caches,
# kernel filesystems, device nodes, or the build host's resolver/hostname.
tar_rootfs() {
  local out=$1
  local saved_resolv
  saved_resolv=$(mktemp)
  cp "$ROOTFS/etc/resolv.conf" "$saved_resolv"
  : >"$ROOTFS/etc/resolv.conf"
  tar --numeric-owner --xattrs --acls -C "$ROOTFS" -cf "${out}.tmp" \
    --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' \
    --exclude='./var/lib/apt/lists/*' --exclude='./var/cache/apt/*' \
    --exclude="./etc/apt/apt.conf.d/${APT_BUILD_CONF}" .
  cp "$saved_resolv" "$ROOTFS/etc/resolv.conf"
  rm -f "$saved_resolv"
  mv "${out}.tmp" "$out"
}

configure_rootfs() {
  # No documentation or translations for anything installed later either.
  mkdir -p "$ROOTFS/etc/dpkg/dpkg.cfg.d"
  cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/01-localcluster-nodoc" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
CFG
  cat >"$ROOTFS/etc/apt/apt.conf.d/01-localcluster" <<'CFG'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
CFG
  # Build-time only (tar_rootfs leaves it out of the images).
  host_apt_date_checks >"$ROOTFS/etc/apt/apt.conf.d/${APT_BUILD_CONF}"
  rm -f "$ROOTFS/etc/apt/sources.list"
  cat >"$ROOTFS/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: ${MIRROR}
Suites: ${SUITE} ${SUITE}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${SECURITY_MIRROR}
Suites: ${SUITE}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  # Services never start inside an image build.
  printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
  chmod 755 "$ROOTFS/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
  echo localhost >"$ROOTFS/etc/hostname"
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOTFS/etc/hosts"
  : >"$ROOTFS/etc/machine-id"
  # The host's locally added CA certificates, so HTTPS works in containers;
  # ca-certificates' postinst folds them into ${CA_BUNDLE}.
  mkdir -p "$ROOTFS${HOST_CA_DIR}"
  local f n=0
  while read -r f; do
    [[ -n $f ]] || continue
    cp "$f" "$ROOTFS${HOST_CA_DIR}/"
    n=$((n + 1))
  done < <(host_ca_files)
  log "added ${n} locally added CA certificate(s) from ${HOST_CA_DIR}"
  # An unprivileged user for pods that run as non-root (uid/gid 1000).
  grep -q '^node:' "$ROOTFS/etc/group" || echo 'node:x:1000:' >>"$ROOTFS/etc/group"
  grep -q '^node:' "$ROOTFS/etc/passwd" ||
    echo 'node:x:1000:1000:node:/home/node:/bin/sh' >>"$ROOTFS/etc/passwd"
  grep -q '^node:' "$ROOTFS/etc/shadow" || echo 'node:*:20000:0:99999:7:::' >>"$ROOTFS/etc/shadow"
  install -d -o 1000 -g 1000 -m 755 "$ROOTFS/home/node"
  install -d -m 755 "$ROOTFS/app"
}

NODE_RECIPE=""

# select_node_base MAJOR:SUITE : makes that pair the current one (globals above);
# its debootstrap/apt/push output goes to its own log.
select_node_base() {
  local pair=$1
  [[ $pair =~ ^([0-9]+):([a-z][a-z0-9-]*)$ ]] ||
    die "bad entry '${pair}' in VEXTRUS_NODE_BASES (want major:suite, e.g. 24:forky)"
  NODE_MAJOR=${BASH_REMATCH[1]}
  local override="VEXTRUS_BASE_SUITE_${NODE_MAJOR}"
  SUITE=${!override:-${BASH_REMATCH[2]}}
  RUNTIME_IMAGE="${REGISTRY_ADDR}/vextrus/node-runtime:${NODE_MAJOR}"
  BUILD_IMAGE="${REGISTRY_ADDR}/vextrus/node-build:${NODE_MAJOR}"
  NODE_RECIPE=$(node_recipe)
  BUILD_LOG="${STATE_DIR}/base-image-node${NODE_MAJOR}.log"
}

# The debootstrap script for SUITE: none (debootstrap picks its own) when the
# host's debootstrap knows the suite, else Debian's generic "sid" script (a
# bookworm host has no script for forky; its trixie script is a link to sid).
# Host tooling, like debootstrap's own version, is not part of the recipe.
debootstrap_script() {
  local scripts=/usr/share/debootstrap/scripts
  [[ -e ${scripts}/${SUITE} || ! -e ${scripts}/sid ]] || echo "${scripts}/sid"
}

# The host's apt settings on release-file dates (Acquire::Check-Valid-Until,
# Acquire::Check-Date), as apt.conf lines. The host knows its mirror: one that
# syncs a testing suite late serves an expired Valid-Until, which the host's apt
# is told to accept; apt in the chroot does the same, during the build only.
host_apt_date_checks() {
  apt-config dump 2>/dev/null | grep -E '^Acquire::Check-(Valid-Until|Date) ' || true
}

runtime_tar() { echo "${WORK}/node-runtime-${SUITE}-${NODE_RECIPE}.tar"; }
build_tar() { echo "${WORK}/node-build-${SUITE}-${NODE_RECIPE}.tar"; }

build_node_rootfs() {
  local t0 t
  t0=$(now)
  ensure_packages debootstrap
  [[ -r ${KEYRING} ]] || ensure_packages debian-archive-keyring
  ROOTFS="${WORK}/rootfs-${NODE_RECIPE}.tmp"
  trap cleanup_rootfs EXIT
  cleanup_rootfs
  mkdir -p "$ROOTFS"
  # Build in RAM: dpkg's many fsyncs and removing the tree afterwards are slow
  # on disk. Falls back to the disk when tmpfs cannot be mounted.
  mount -t tmpfs -o size=4g,mode=755 localcluster-rootfs "$ROOTFS" 2>/dev/null ||
    log "tmpfs not available; building the rootfs on disk (slower)"

  log "debootstrap --variant=minbase ${SUITE} from ${MIRROR} (first run: about a minute)"
  t=$(now)
  local script=()
  mapfile -t script < <(debootstrap_script)
  debootstrap --variant=minbase --keyring="${KEYRING}" --components=main \
    "${SUITE}" "$ROOTFS" "${MIRROR}" "${script[@]}" >>"${BUILD_LOG}" 2>&1 ||
    die "debootstrap ${SUITE} failed (see ${BUILD_LOG})"
  log "debootstrap done in $(elapsed "$t")s"

  configure_rootfs
  t=$(now)
  log "chroot: apt-get install nodejs ca-certificates tini"
  with_proc apt_install nodejs ca-certificates tini >>"${BUILD_LOG}" 2>&1 ||
    die "apt-get install in the ${SUITE} chroot failed (see ${BUILD_LOG})"
  in_chroot update-ca-certificates >>"${BUILD_LOG}" 2>&1
  local node_version
  node_version=$(in_chroot node --version)
  [[ $node_version == v${NODE_MAJOR}.* ]] ||
    die "${SUITE} ships nodejs ${node_version}, need ${NODE_MAJOR}.x (set VEXTRUS_BASE_SUITE_${NODE_MAJOR})"
  echo "${node_version#v}" >"${WORK}/nodejs-version-${NODE_RECIPE}"
  slim_rootfs
  log "runtime packages installed in $(elapsed "$t")s (node ${node_version})"
  tar_rootfs "$(runtime_tar)"
  log "runtime rootfs: $(du -h "$(runtime_tar)" | cut -f1)"

  t=$(now)
  log "chroot: apt-get install npm"
  with_proc apt_install npm >>"${BUILD_LOG}" 2>&1 ||
    die "apt-get install npm in the ${SUITE} chroot failed (see ${BUILD_LOG})"
  slim_rootfs
  log "npm $(in_chroot npm --version) installed in $(elapsed "$t")s"
  tar_rootfs "$(build_tar)"
  log "build rootfs: $(du -h "$(build_tar)" | cut -f1)"

  cleanup_rootfs
  trap - EXIT
  ROOTFS=""
  log "node rootfs tarballs built in $(elapsed "$t0")s"
}

node_labels() {
  local nodejs
  nodejs=$(cat "${WORK}/nodejs-version-${NODE_RECIPE}" 2>/dev/null || echo unknown)
  printf '%s\n' \
    "LABEL ${LABEL_RECIPE}=${NODE_RECIPE}" \
    "LABEL org.localcluster.debian-suite=${SUITE}" \
    "LABEL org.localcluster.nodejs=${nodejs}"
}

# import_image TARBALL REF CHANGE... : docker import with Dockerfile changes.
import_image() {
  local tarball=$1 ref=$2 t0 c args=()
  shift 2
  for c in "$@"; do args+=(--change "$c"); done
  t0=$(now)
  docker import "${args[@]}" --message "localcluster base image" "$tarball" "$ref" >>"${BUILD_LOG}" 2>&1 ||
    die "docker import ${ref} failed (see ${BUILD_LOG})"
  log "imported ${ref} ($(size_mb "$ref")) in $(elapsed "$t0")s"
}

import_runtime() {
  local labels=()
  mapfile -t labels < <(node_labels)
  import_image "$(runtime_tar)" "${RUNTIME_IMAGE}" "${labels[@]}" \
    "LABEL org.opencontainers.image.title=vextrus/node-runtime" \
    "ENV PATH=${IMAGE_PATH}" \
    "ENV LANG=C.UTF-8" \
    "ENV NODE_EXTRA_CA_CERTS=${CA_BUNDLE}" \
    "WORKDIR /app" \
    'ENTRYPOINT ["/usr/bin/tini", "--"]' \
    'CMD ["node"]'
  [[ "$(docker run --rm "${RUNTIME_IMAGE}" node --version)" == v${NODE_MAJOR}.* ]] ||
    die "${RUNTIME_IMAGE} does not run node ${NODE_MAJOR}"
}

import_build() {
  local labels=()
  mapfile -t labels < <(node_labels)
  import_image "$(build_tar)" "${BUILD_IMAGE}" "${labels[@]}" \
    "LABEL org.opencontainers.image.title=vextrus/node-build" \
    "ENV PATH=${IMAGE_PATH}" \
    "ENV LANG=C.UTF-8" \
    "ENV NODE_EXTRA_CA_CERTS=${CA_BUNDLE}" \
    "ENV NPM_CONFIG_UPDATE_NOTIFIER=false" \
    "ENV NPM_CONFIG_FUND=false" \
    "WORKDIR /src" \
    'ENTRYPOINT ["/usr/bin/tini", "--"]' \
    'CMD ["bash"]'
  docker run --rm "${BUILD_IMAGE}" npm --version >/dev/null ||
    die "${BUILD_IMAGE} has no working npm"
}

# ----------------------------------------------------------- python --------

PYTHON_RECIPE=""
python_tar() { echo "${WORK}/python-base-${PYTHON_SUITE}-${PYTHON_RECIPE}.tar"; }

# configure_rootfs gives the Node images their unprivileged user; the Python base has none (the
# execution environment's build adds what it needs).
drop_node_user() {
  sed -i '/^node:/d' "$ROOTFS/etc/passwd" "$ROOTFS/etc/group" "$ROOTFS/etc/shadow"
  rm -rf "$ROOTFS/home/node" "$ROOTFS/app"
}

# python3 (the suite's python3.X) and python3-pip: Debian's system Python refuses ensurepip, so the
# execution environment's local build skips ansible-builder's pip bootstrap and uses this pip.
build_python_rootfs() {
  local t0 t
  t0=$(now)
  SUITE=${PYTHON_SUITE}
  ensure_packages debootstrap
  [[ -r ${KEYRING} ]] || ensure_packages debian-archive-keyring
  ROOTFS="${WORK}/rootfs-${PYTHON_RECIPE}.tmp"
  trap cleanup_rootfs EXIT
  cleanup_rootfs
  mkdir -p "$ROOTFS"
  mount -t tmpfs -o size=4g,mode=755 localcluster-rootfs "$ROOTFS" 2>/dev/null ||
    log "tmpfs not available; building the rootfs on disk (slower)"
  log "debootstrap --variant=minbase ${SUITE} from ${MIRROR} (first run: about a minute)"
  t=$(now)
  local script=()
  mapfile -t script < <(debootstrap_script)
  debootstrap --variant=minbase --keyring="${KEYRING}" --components=main \
    "${SUITE}" "$ROOTFS" "${MIRROR}" "${script[@]}" >>"${BUILD_LOG}" 2>&1 ||
    die "debootstrap ${SUITE} failed (see ${BUILD_LOG})"
  log "debootstrap done in $(elapsed "$t")s"

  configure_rootfs
  drop_node_user
  t=$(now)
  # debootstrap takes the suite's packages only: dist-upgrade brings in -updates and -security.
  log "chroot: apt-get dist-upgrade, install python3 python3-pip ca-certificates"
  with_proc apt_install python3 python3-pip ca-certificates >>"${BUILD_LOG}" 2>&1 ||
    die "apt-get install in the ${SUITE} chroot failed (see ${BUILD_LOG})"
  with_proc in_chroot apt-get dist-upgrade -y -qq >>"${BUILD_LOG}" 2>&1 ||
    die "apt-get dist-upgrade in the ${SUITE} chroot failed (see ${BUILD_LOG})"
  in_chroot update-ca-certificates >>"${BUILD_LOG}" 2>&1
  install -m 755 "${PKGMGR_SHIM}" "$ROOTFS/usr/local/bin/ee-pkgmgr"
  echo ee >"$ROOTFS/etc/hostname"
  slim_rootfs
  log "python packages installed in $(elapsed "$t")s ($(in_chroot python3 --version))"
  tar_rootfs "$(python_tar)"
  cleanup_rootfs
  trap - EXIT
  ROOTFS=""
  log "python rootfs $(du -h "$(python_tar)" | cut -f1) built in $(elapsed "$t0")s"
}

import_python() {
  import_image "$(python_tar)" "${PYTHON_IMAGE}" \
    "LABEL ${LABEL_RECIPE}=${PYTHON_RECIPE}" \
    "LABEL org.localcluster.debian-suite=${PYTHON_SUITE}" \
    "LABEL org.opencontainers.image.title=vextrus/python-base" \
    "ENV PATH=${IMAGE_PATH}" \
    "ENV LANG=C.UTF-8" \
    'CMD ["bash"]'
  docker run --rm "${PYTHON_IMAGE}" sh -c 'python3 -m pip --version && ee-pkgmgr install -y python3' \
    >>"${BUILD_LOG}" 2>&1 || die "${PYTHON_IMAGE} has no working python3, pip or ee-pkgmgr (see ${BUILD_LOG})"
}

ensure_python_base() {
  BUILD_LOG="${STATE_DIR}/base-image-python.log"
  PYTHON_RECIPE=$(python_recipe)
  if ((FORCE)); then
    log "--force: dropping the cached tarball and local image of recipe ${PYTHON_RECIPE}"
    rm -f "$(python_tar)"
    docker image rm -f "${PYTHON_IMAGE}" >/dev/null 2>&1 || true
  fi
  ensure_image "${PYTHON_IMAGE}" "${PYTHON_RECIPE}" "$(python_tar)" build_python_rootfs import_python
  find "${WORK}" -maxdepth 1 -type f -name "python-base-*.tar" -not -name "*${PYTHON_RECIPE}*" -delete
}

# ------------------------------------------------------------ pause --------

PAUSE_RECIPE=""
pause_tar() { echo "${WORK}/pause-${PAUSE_RECIPE}.tar"; }

build_pause() {
  local t0 dir
  t0=$(now)
  ensure_packages gcc libc6-dev
  dir=$(mktemp -d)
  gcc -static -Os -s -Wall -Wextra -Werror -o "$dir/pause" "${PAUSE_SRC}" ||
    { rm -rf "$dir"; die "compiling ${PAUSE_SRC} failed"; }
  tar --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$dir" -cf "$(pause_tar).tmp" pause
  mv "$(pause_tar).tmp" "$(pause_tar)"
  rm -rf "$dir"
  log "pause binary built ($(du -h "$(pause_tar)" | cut -f1) tarball) in $(elapsed "$t0")s"
}

import_pause() {
  import_image "$(pause_tar)" "${PAUSE_IMAGE}" \
    "LABEL ${LABEL_RECIPE}=${PAUSE_RECIPE}" \
    "LABEL org.opencontainers.image.title=localcluster/pause" \
    'ENTRYPOINT ["/pause"]'
}

# ------------------------------------------------------------- main --------

# node_pair_current : both images of the current pair carry its recipe and the
# registry serves them.
node_pair_current() {
  local ref
  for ref in "${RUNTIME_IMAGE}" "${BUILD_IMAGE}"; do
    [[ "$(local_label "$ref")" == "${NODE_RECIPE}" ]] && in_registry "$ref" || return 1
  done
}

# ensure_node_pair : the decision table for both images of the current pair.
# Both node tarballs come from one chroot session: the builder makes both.
ensure_node_pair() {
  ensure_image "${RUNTIME_IMAGE}" "${NODE_RECIPE}" "$(runtime_tar)" build_node_rootfs import_runtime
  ensure_image "${BUILD_IMAGE}" "${NODE_RECIPE}" "$(build_tar)" build_node_rootfs import_build
}

# ensure_node_pairs PAIR... : runs ensure_node_pair for each pair; with more
# than one, in parallel subshells whose progress lines say which major they
# are about. Fails when any pair failed.
ensure_node_pairs() {
  if (($# == 1)); then
    select_node_base "$1"
    ensure_node_pair
    return 0
  fi
  # Host packages first: two apt-get runs at once would fight over dpkg's lock.
  ensure_packages debootstrap
  [[ -r ${KEYRING} ]] || ensure_packages debian-archive-keyring
  local pair pids=() majors=() i failed=()
  for pair in "$@"; do
    (
      select_node_base "$pair"
      LOG_TAG="node ${NODE_MAJOR}/${SUITE}"
      # Background jobs ignore SIGINT; TERM (from the parent's trap) exits
      # through the EXIT trap, which removes a half-built rootfs.
      trap 'exit 143' TERM
      ensure_node_pair
    ) &
    pids+=("$!")
    majors+=("${pair%%:*}")
  done
  # shellcheck disable=SC2064  # the pids are known now
  trap "kill -TERM ${pids[*]} 2>/dev/null; wait; exit 130" INT TERM
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed+=("${majors[$i]}")
  done
  trap - INT TERM
  ((${#failed[@]} == 0)) || die "base images for Node ${failed[*]} failed (see the lines above and ${STATE_DIR}/base-image-node<major>.log)"
}

main() {
  local t0 pair pending=() recipes=() summary=() keep=()
  t0=$(now)
  if ((PRINT_RECIPES)); then
    for pair in "${NODE_BASES[@]}"; do
      select_node_base "$pair"
      echo "${NODE_MAJOR} ${SUITE} ${NODE_RECIPE}"
    done
    return 0
  fi
  if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
    die "docker engine not answering; run localcluster/infra/docker.sh up first"
  fi
  [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://${REGISTRY_ADDR}/v2/")" == 200 ]] ||
    die "registry ${REGISTRY_ADDR} not answering; run localcluster/infra/registry.sh up first"
  ((${#NODE_BASES[@]})) || die "VEXTRUS_NODE_BASES is empty"
  mkdir -p "${WORK}"
  # One builder at a time (make targets and test fixtures may race).
  exec 9>"${WORK}/.lock"
  flock -w 1800 9 || die "another base-image build holds ${WORK}/.lock"

  if ((PYTHON_ONLY)); then
    ensure_python_base
    log "python base ready in $(elapsed "$t0")s: ${PYTHON_IMAGE} ($(size_mb "${PYTHON_IMAGE}"))"
    return 0
  fi

  PAUSE_RECIPE=$(pause_recipe)
  for pair in "${NODE_BASES[@]}"; do
    select_node_base "$pair"
    recipes+=("node ${NODE_MAJOR} ${SUITE} ${NODE_RECIPE}")
    keep+=(-not -name "*${NODE_RECIPE}*")
  done
  log "base images: $(printf '%s, ' "${recipes[@]}")pause ${PAUSE_RECIPE}"

  for pair in "${NODE_BASES[@]}"; do
    select_node_base "$pair"
    if ((FORCE)); then
      log "--force: dropping cached tarballs and local images of recipe ${NODE_RECIPE}"
      rm -f "$(runtime_tar)" "$(build_tar)"
      docker image rm -f "${RUNTIME_IMAGE}" "${BUILD_IMAGE}" >/dev/null 2>&1 || true
    fi
    if node_pair_current; then
      ensure_node_pair # says "nothing to do" for both
    else
      pending+=("$pair")
    fi
  done
  ((${#pending[@]} == 0)) || ensure_node_pairs "${pending[@]}"

  BUILD_LOG="${MAIN_LOG}"
  if ((FORCE)); then
    rm -f "$(pause_tar)"
    docker image rm -f "${PAUSE_IMAGE}" >/dev/null 2>&1 || true
  fi
  ensure_image "${PAUSE_IMAGE}" "${PAUSE_RECIPE}" "$(pause_tar)" build_pause import_pause

  # Old tarballs of earlier recipes only take space.
  find "${WORK}" -maxdepth 1 -type f \( -name 'node-*.tar' -o -name 'pause-*.tar' -o -name 'nodejs-version-*' \) \
    "${keep[@]}" -not -name "*${PAUSE_RECIPE}*" -delete
  for pair in "${NODE_BASES[@]}"; do
    select_node_base "$pair"
    summary+=("${RUNTIME_IMAGE} ($(size_mb "${RUNTIME_IMAGE}"))" "${BUILD_IMAGE} ($(size_mb "${BUILD_IMAGE}"))")
  done
  summary+=("${PAUSE_IMAGE} ($(size_mb "${PAUSE_IMAGE}"))")
  log "base images ready in $(elapsed "$t0")s: $(printf '%s, ' "${summary[@]}" | sed 's/, $//')"
}

main "$@"
