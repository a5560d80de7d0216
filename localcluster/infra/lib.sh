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

# Messages "[infra 12:34:56] ..."; daemons (dockerd, registry) with pid file and log in $STATE_DIR.
LOG_PREFIX="infra"
LOG_CLOCK=1
DAEMON_RUN_DIR="${STATE_DIR}"
DAEMON_LOG_DIR="${STATE_DIR}"
# shellcheck source=../lib/log.sh
source "${INFRA_DIR}/../lib/log.sh"
# shellcheck source=../lib/daemons.sh
source "${INFRA_DIR}/../lib/daemons.sh"

# t0=$(now) ... "$(elapsed "$t0")s": the timings of the scripts here. (The recipe hashes of
# base-image.sh cover the bodies of its build functions, which call these two by name.)
now() { now_ms; }
elapsed() { local e; e=$(elapsed_since "$1"); printf '%s' "${e%s}"; }

# shellcheck source=../lib/packages.sh
source "${INFRA_DIR}/../lib/packages.sh"
