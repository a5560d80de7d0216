"""Merge the JUnit XML reports of the passes of one test run (tests/pytest.sh: the tests run in
parallel, then the tests that run alone) into one report, which tests/summary.py reads, and print
the run's totals line: 'tests: N passed, N failed, N skipped'.

A pass whose report is missing or unreadable is named and counts as one failed test.
"""

import sys
import xml.etree.ElementTree as ET

USAGE = "usage: python tests/merge_results.py OUT.xml PASS.xml [PASS.xml ...]"


def merge(paths: list[str]) -> tuple[ET.Element, list[str]]:
    """A <testsuites> element holding every <testsuite> of the reports, and the reports that could
    not be read."""
    merged = ET.Element("testsuites")
    unreadable = []
    for path in paths:
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError):
            unreadable.append(path)
            continue
        merged.extend([root] if root.tag == "testsuite" else list(root.iter("testsuite")))
    return merged, unreadable


def totals(merged: ET.Element) -> tuple[int, int, int]:
    """(passed, failed, skipped) over every suite; failed counts failures and errors."""
    suites = list(merged.iter("testsuite"))
    tests = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return tests - failed - skipped, failed, skipped


def main(argv: list[str]) -> int:
    """Writes the merged report; 0 when every report was read and no test failed, else 1."""
    if len(argv) < 2:
        print(USAGE, file=sys.stderr)
        return 2
    out, inputs = argv[0], argv[1:]
    merged, unreadable = merge(inputs)
    ET.ElementTree(merged).write(out, encoding="utf-8", xml_declaration=True)
    for path in unreadable:
        print(f"tests: no report {path}")
    passed, failed, skipped = totals(merged)
    print(f"tests: {passed} passed, {failed + len(unreadable)} failed, {skipped} skipped")
    return 1 if failed or unreadable else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
