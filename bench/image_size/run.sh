#!/usr/bin/env bash
# Image size and build time of the image_build role; see run.py. Needs the Docker engine, the
# registry and the base images (make cluster-up, or localcluster/infra/up.sh).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [[ ! -x $top/.venv/bin/python ]]; then
  echo "image_size: $top/.venv is missing; run \`make venv\` first" >&2
  exit 1
fi
export ANSIBLE_CONFIG="$top/ansible.cfg"
exec "$top/.venv/bin/python" "$top/bench/image_size/run.py" "$@"
