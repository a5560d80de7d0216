#!/usr/bin/env bash
# Faults during a week (API server restarts, registry down, a killed run, a concurrent run): the verdict
# class, the seconds to it and the objects left different from the intended state. See recover.py.
# Needs the local cluster with its real node and the registry: make cluster-up.
#   bench/fault_recovery/run.sh [--rows gate,apply,registry,node,kill,concurrent] [--json FILE]
exec bash "$(dirname "${BASH_SOURCE[0]}")/../python.sh" fault_recovery recover.py "$@"
