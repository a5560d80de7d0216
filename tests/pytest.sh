#!/usr/bin/env bash
# pytest in two passes with one JUnit report (tests/conftest.py and tests/integration/conftest.py
# say which test goes where; docs/testing.md):
#  1. every test that may run beside others, on VEXTRUS_TEST_WORKERS pytest-xdist workers
#     (default 2; 0: in one process), the tests of one file (or of a directory that shares costly
#     fixtures, tests/conftest.py) together on one worker, the longest units first;
#  2. the tests marked serial, alone (the infrastructure's own tests, cluster-wide objects).
# Both passes push to the same registry repository (VEXTRUS_TEST_RUN, set once here).
#   tests/pytest.sh [PATH or pytest option ...]      (default: tests; no -m: the passes set it)
# Writes .local/test-results.xml (VEXTRUS_TEST_RESULTS) and ends with the totals line of both
# passes; exits non-zero when a test failed or a pass did not run to its end.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
workers=${VEXTRUS_TEST_WORKERS:-2}
results=${VEXTRUS_TEST_RESULTS:-.local/test-results.xml}
[ $# -gt 0 ] || set -- tests
VEXTRUS_TEST_RUN=${VEXTRUS_TEST_RUN:-$(.venv/bin/python -c 'import uuid; print(uuid.uuid4().hex[:10])')}
export VEXTRUS_TEST_RUN
mkdir -p "$(dirname "$results")"
reports=()
timings=()
rc=0
run_pass() {
  local name=$1 started=$SECONDS status report="${results%.xml}.$1.xml"; shift
  rm -f "$report"
  echo "== pytest, $name: $*"
  .venv/bin/pytest "$@" -v -rfE -p no:cacheprovider --junitxml="$report"
  status=$?
  # 5: this pass selected no test (a subset with no serial test, say)
  if [ $status -ne 0 ] && [ $status -ne 5 ]; then rc=1; fi
  reports+=("$report")
  timings+=("$(printf '%6d s  pytest, %s' $((SECONDS - started)) "$name")")
}
run_pass parallel "$@" -n "$workers" --dist loadfile --no-loadscope-reorder -m "not serial"
run_pass serial "$@" -m serial
echo "== time per pytest pass (run $VEXTRUS_TEST_RUN)"
printf '%s\n' "${timings[@]}"
.venv/bin/python tests/merge_results.py "$results" "${reports[@]}" || rc=1
exit $rc
