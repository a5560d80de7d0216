#!/usr/bin/env bash
# How long a week takes when there is nothing to change, beside what the same objects cost with
# kubernetes.core.k8s (apply + wait) and with kubectl (server-side apply + rollout status); and a
# week 1 whose image is already in the registry, less the gate's and the smoke test's own waiting.
# See noop.py. Needs the local cluster with its real node and the registry: make cluster-up.
#   bench/noop_week/run.sh [--runs N] [--json FILE]
exec bash "$(dirname "${BASH_SOURCE[0]}")/../python.sh" noop_week noop.py "$@"
