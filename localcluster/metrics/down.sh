#!/usr/bin/env bash
# Stops what metrics/up.sh started: metrics-server, then Prometheus (their pid files). The APIService goes
# with the cluster's state; Prometheus' data and rule files stay until a purge.
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

daemon_stop metrics-server "$BIN/metrics-server"
daemon_stop prometheus "$BIN/prometheus"
