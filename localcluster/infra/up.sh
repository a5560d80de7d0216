#!/usr/bin/env bash
# localcluster infrastructure: Docker engine -> local registry -> base images.
# Idempotent; a second run changes nothing and takes about a second.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "${here}/lib.sh"
t0=$(now)
bash "${here}/docker.sh" up
bash "${here}/registry.sh" up
bash "${here}/base-image.sh"
log "infrastructure up in $(elapsed "$t0")s"
