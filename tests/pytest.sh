#!/usr/bin/env bash
# pytest in two passes with one JUnit report (tests/conftest.py and tests/integration/conftest.py
# say which test goes where; docs/testing.md):
#  1. every test that may run beside others, on VEXTRUS_TEST_WORKERS pytest-xdist workers
#     (default 2; 0: in one process), the tests of one file (or of a directory that shares costly
#     fixtures, tests/conftest.py) together on one worker, the longest units first;
#  2. the tests marked serial, alone (the infrastructure's own tests, cluster-wide objects), and
#     beside them, in one background process, the tests that need no cluster (marker nocluster:
#     unit tests, the AWX configuration, image builds) and then VEXTRUS_BESIDE_SERIAL (a command
#     that needs no cluster, tests/check.sh's static checks).
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
run_pass parallel "$@" -n "$workers" --dist loadfile --no-loadscope-reorder -m "not serial and not nocluster"
# Beside the serial pass, whose tests leave a core mostly idle, in one background process: the tests
# that need no cluster (marker nocluster, tests/conftest.py), then VEXTRUS_BESIDE_SERIAL, a command
# that needs no cluster either (tests/check.sh: the static checks); their output is printed after the
# serial pass's, and a failure of either fails this script.
beside_report="${results%.xml}.nocluster.xml"
beside_log="${results%.xml}.nocluster.log"
rm -f "$beside_report"
(
  started=$SECONDS
  .venv/bin/pytest "$@" -v -rfE -p no:cacheprovider -m "nocluster and not serial" --junitxml="$beside_report" > "$beside_log" 2>&1
  status=$?
  printf '%6d s  pytest, nocluster (beside the serial pass)\n' $((SECONDS - started)) > "$beside_log.time"
  failed=0
  [ $status -eq 0 ] || [ $status -eq 5 ] || failed=1
  if [ -n "${VEXTRUS_BESIDE_SERIAL:-}" ]; then
    bash -c "$VEXTRUS_BESIDE_SERIAL" || failed=$((failed + 2))
  fi
  exit $failed
) &
beside_pid=$!
run_pass serial "$@" -m serial
wait "$beside_pid"
beside_status=$?
echo "== pytest, nocluster (beside the serial pass): $beside_log"
cat "$beside_log"
[ -f "$beside_log.time" ] && timings+=("$(cat "$beside_log.time")")
reports+=("$beside_report")
if (( beside_status & 1 )); then rc=1; echo "== pytest, nocluster: a test failed or the pass did not run to its end"; fi
if (( beside_status & 2 )); then rc=1; echo "== the command beside the serial pass failed: $VEXTRUS_BESIDE_SERIAL"; fi
echo "== time per pytest pass (run $VEXTRUS_TEST_RUN)"
printf '%s\n' "${timings[@]}"
.venv/bin/python tests/merge_results.py "$results" "${reports[@]}" || rc=1
exit $rc
