#!/usr/bin/env bash
# The checks that need no cluster: ansible-lint, ansible-test sanity, the example service's own
# tests. Each runs even when an earlier one failed; exits non-zero if any failed. tests/check.sh
# runs it beside pytest's serial pass.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
failed=()
timings=()
run() {
  local name=$1 started=$SECONDS; shift
  echo "== $name: $*"
  "$@" || failed+=("$name")
  timings+=("$(printf '%6d s  %s' $((SECONDS - started)) "$name")")
}
run lint make --no-print-directory lint
run sanity make --no-print-directory sanity
run example-test make --no-print-directory example-test
printf '%s\n' "${timings[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "== static checks failed: ${failed[*]}"
  exit 1
fi
echo "== static checks passed"
