#!/usr/bin/env bash
# Time to detect a release that fails one API request in ten (tests/fixtures/faults/errors-10pct.js): week 2
# by the chain with the traffic analysis, beside the chain with the smoke test alone, on the local cluster's
# real node; prints seconds from the apply to each verdict. See analysis_case.py.
# Needs `make cluster-up` (real node, registry, Prometheus). Takes ~4 min (the first run builds the example).
#   bench/time_to_detect/run_analysis.sh [--json FILE]
exec bash "$(dirname "${BASH_SOURCE[0]}")/../python.sh" time_to_detect analysis_case.py "$@"
