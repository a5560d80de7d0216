#!/usr/bin/env bash
# Prints the state of Prometheus and metrics-server; exit status 3 when one does not run.
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

rc=0
for entry in "prometheus $BIN/prometheus" "metrics-server $BIN/metrics-server"; do
  read -r name exe <<<"$entry"
  if pid=$(daemon_pid "$name" "$exe"); then
    printf '%-25s %-8s %s\n' "$name" "$pid" running
  else
    printf '%-25s %-8s %s\n' "$name" - stopped
    rc=3
  fi
done
if targets=$(curl -fsS --max-time 3 "$PROMETHEUS_URL/api/v1/targets?state=active" 2>/dev/null); then
  printf '%-25s %s\n' "prometheus targets" "$(grep -o '"health":"[a-z]*"' <<<"$targets" | sort | uniq -c | tr -s ' \n' ' ')"
fi
exit "$rc"
