#!/usr/bin/env bash
# Stops what localcluster/infra/up.sh started: the registry, then dockerd (only
# if localcluster started it). Images, registry data and caches are kept.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "${here}/lib.sh"
bash "${here}/registry.sh" down
bash "${here}/docker.sh" down
