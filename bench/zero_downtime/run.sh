#!/usr/bin/env bash
# Requests lost while the chain changes pods: constant load through the Service across every transition
# (weeks, abort, rollback, a failed week's rollback) on the local cluster's real node. See zero.py.
# Needs `make cluster-up` (real node, registry, Prometheus). Takes ~10 min.
#   bench/zero_downtime/run.sh [--rate N] [--json FILE] [--keep]
exec bash "$(dirname "${BASH_SOURCE[0]}")/../python.sh" zero_downtime zero.py "$@"
