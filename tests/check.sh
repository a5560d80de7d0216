#!/usr/bin/env bash
# Run every check and test suite, even when one fails, and exit non-zero if any failed.
# pytest runs last (tests/pytest.sh: the tests that may run beside others on VEXTRUS_TEST_WORKERS
# workers, then the ones that run alone), so the last lines are its totals of every test that ran;
# the other suites' results are listed just before it.
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
if [ ${#failed[@]} -gt 0 ]; then
  echo "== failed before pytest: ${failed[*]}"
fi
rm -f .local/test-results.xml
run pytest bash tests/pytest.sh tests
echo "== time per step"
printf '%s\n' "${timings[@]}"
[ ${#failed[@]} -eq 0 ]
