"""Print what a `make test` run took and its totals from the pytest JUnit XML report: the 15
slowest tests, the time per test suite (the directory under tests/), the tests that failed with the
first line of their message, then a line per file with failures (how many, the first message),
and, as the closing line, how many tests passed and failed, so the end of `make test` (after the
infrastructure is stopped) still says which tests failed and why."""

import sys
import xml.etree.ElementTree as ET
from collections import defaultdict

SLOWEST = 15
MESSAGE_CHARS = 300
FILE_MESSAGE_CHARS = 120


def _failure_of(case: ET.Element) -> str | None:
    """The first line of a failed or errored test's message (None when the test did not fail)."""
    for tag in ("failure", "error"):
        found = case.find(tag)
        if found is not None:
            text = (found.get("message") or found.text or tag).strip()
            first = text.splitlines()[0] if text else tag
            return first[:MESSAGE_CHARS]
    return None


def suite_of(classname: str) -> str:
    """tests.integration.chain.test_chain_weeks -> integration/chain; tests.unit.plugins... -> unit."""
    parts = classname.split(".")
    if parts and parts[0] == "tests":
        parts = parts[1:]
    if parts[:1] == ["integration"] and len(parts) > 2:
        return "/".join(parts[:2])
    return parts[0] if parts else "?"


def main(path: str) -> int:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        print(f"tests: no results ({exc})")
        return 1
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    cases = [(float(c.get("time", 0) or 0), c.get("classname", ""), c.get("name", "")) for c in root.iter("testcase")]
    if cases:
        print(f"== the {min(SLOWEST, len(cases))} slowest tests")
        for seconds, classname, name in sorted(cases, reverse=True)[:SLOWEST]:
            print(f"{seconds:8.1f} s  {classname}::{name}")
        per_suite: dict[str, list[float]] = defaultdict(list)
        for seconds, classname, _name in cases:
            per_suite[suite_of(classname)].append(seconds)
        print("== time per suite")
        for suite, times in sorted(per_suite.items(), key=lambda item: -sum(item[1])):
            print(f"{sum(times):8.1f} s  {suite} ({len(times)} tests)")
    failures = [(c.get("classname", ""), c.get("name", ""), _failure_of(c)) for c in root.iter("testcase")]
    failures = [item for item in failures if item[2] is not None]
    if failures:
        print(f"== the {len(failures)} failed tests")
        for classname, name, message in failures:
            print(f"  {classname}::{name}")
            print(f"      {message}")
        # last, a line per file: what stays visible when a log keeps only its end
        per_file: dict[str, list[str]] = defaultdict(list)
        for classname, _name, message in failures:
            per_file[classname].append(message or "")
        print(f"== the failed tests per file ({len(per_file)} files)")
        for classname, messages in per_file.items():
            print(f"{len(messages):5d}  {classname}: {messages[0][:FILE_MESSAGE_CHARS]}")
    total = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    print(f"tests: {total - failed - skipped} passed, {failed} failed, {skipped} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
