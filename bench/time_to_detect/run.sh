#!/usr/bin/env bash
# Time to detect a broken rollout: the seed's image (Cannot find module '@nestjs/core') as a plain
# Deployment on the real node, watched by vextrus.deploy.rollout_gate, `kubectl rollout status
# --timeout=10m` (stopped at --cap seconds, 180 by default) and kubernetes.core.k8s `wait: true`
# at its defaults; prints seconds from the apply to each tool's failure verdict. See ttd.py.
# Needs the local cluster with its real node and the registry: make cluster-up. Takes ~5-6 min.
#   bench/time_to_detect/run.sh [--cap SECONDS] [--only gate|rollout-status|k8s-wait] [--json FILE]
exec bash "$(dirname "${BASH_SOURCE[0]}")/../python.sh" time_to_detect ttd.py "$@"
