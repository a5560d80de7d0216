#!/usr/bin/env bash
# Seconds per week at 10 and 25 pods on the local cluster's simulated nodes, gated as any week. See scale.py.
# Needs `make cluster-up NODES=both` (simulated nodes and the real node). Takes ~8 min.
#   bench/week_scale/run.sh [--json FILE]
exec bash "$(dirname "${BASH_SOURCE[0]}")/../python.sh" week_scale scale.py "$@"
