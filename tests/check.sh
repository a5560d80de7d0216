#!/usr/bin/env bash
# Run every check and test suite, even when one fails, and exit non-zero if any failed.
# pytest (tests/pytest.sh) runs the tests that may run beside others on VEXTRUS_TEST_WORKERS
# workers, then the ones that run alone; the static checks (lint, sanity, the example's own tests)
# need no cluster and run beside that second pass, which leaves a core mostly idle
# (VEXTRUS_BESIDE_SERIAL). Their output is printed after pytest's, then the time of every step.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
static_log=.local/static-checks.log
mkdir -p .local
rm -f .local/test-results.xml "$static_log"
started=$SECONDS
export VEXTRUS_BESIDE_SERIAL="bash tests/static_checks.sh > $static_log 2>&1"
echo "== pytest: bash tests/pytest.sh tests (the static checks beside its serial pass: $static_log)"
bash tests/pytest.sh tests
pytest_rc=$?
pytest_seconds=$((SECONDS - started))
echo "== static checks (run beside pytest's serial pass)"
cat "$static_log" 2>/dev/null || echo "no output of the static checks: they did not run"
echo "== time per step"
grep -h '^ *[0-9]* s  ' "$static_log" 2>/dev/null | grep -v pytest
printf '%6d s  pytest (the static checks included)\n' "$pytest_seconds"
# pytest.sh's status includes the static checks' (VEXTRUS_BESIDE_SERIAL)
[ $pytest_rc -eq 0 ]
