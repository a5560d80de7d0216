#!/usr/bin/env bash
# Runs a benchmark's Python script with the checkout's venv and ansible.cfg:
#   bench/python.sh NAME SCRIPT [ARGS...]   (SCRIPT relative to bench/NAME)
# The benchmarks' run.sh files call it.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
name=$1 script=$2
shift 2
if [[ ! -x $top/.venv/bin/python ]]; then
  echo "$name: $top/.venv is missing; run \`make venv\` first" >&2
  exit 1
fi
export ANSIBLE_CONFIG="$top/ansible.cfg"
exec "$top/.venv/bin/python" "$top/bench/$name/$script" "$@"
