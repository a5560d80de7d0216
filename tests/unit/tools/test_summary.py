"""tests/summary.py: the slowest tests, the time per suite and the closing totals line of `make test`."""

import importlib.util
from pathlib import Path

import pytest

SUMMARY = Path(__file__).resolve().parents[2] / "summary.py"
spec = importlib.util.spec_from_file_location("summary", SUMMARY)
summary = importlib.util.module_from_spec(spec)
spec.loader.exec_module(summary)

REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="4" failures="1" errors="0" skipped="1">
<testcase classname="tests.unit.plugins.filter.test_rollout_plan" name="test_a" time="0.01"/>
<testcase classname="tests.integration.chain.test_chain_weeks" name="test_week[1]" time="120.5"/>
<testcase classname="tests.integration.chain.test_demo" name="test_demo" time="240.0">
<failure message="AssertionError: the week FAILed&#10;second line">trace</failure></testcase>
<testcase classname="tests.integration.test_molecule" name="test_molecule_scenario[chain]" time="90.0"><skipped/></testcase>
</testsuite></testsuites>
"""


@pytest.mark.parametrize(
    ("classname", "suite"),
    [
        ("tests.unit.plugins.filter.test_rollout_plan", "unit"),
        ("tests.integration.chain.test_chain_weeks", "integration/chain"),
        ("tests.integration.test_molecule", "integration"),
        ("tests.awx.test_controller_config", "awx"),
    ],
)
def test_suite_of(classname, suite):
    assert summary.suite_of(classname) == suite


def test_slowest_first_per_suite_and_totals_last(tmp_path, capsys):
    report = tmp_path / "results.xml"
    report.write_text(REPORT)
    assert summary.main(str(report)) == 0
    lines = capsys.readouterr().out.splitlines()
    slowest = lines[1 : lines.index("== time per suite")]
    assert slowest[0].endswith("tests.integration.chain.test_demo::test_demo")
    assert "240.0 s" in slowest[0] and len(slowest) == 4
    assert "360.5 s  integration/chain (2 tests)" in lines[lines.index("== time per suite") + 1]
    failed = lines[lines.index("== the 1 failed tests") + 1 :]
    assert failed == [
        "  tests.integration.chain.test_demo::test_demo",
        "      AssertionError: the week FAILed",
        "== the failed tests per file (1 files)",
        "    1  tests.integration.chain.test_demo: AssertionError: the week FAILed",
        "tests: 2 passed, 1 failed, 1 skipped",
    ]


def test_missing_report_says_so(tmp_path, capsys):
    assert summary.main(str(tmp_path / "none.xml")) == 1
    assert capsys.readouterr().out.startswith("tests: no results")


def test_failures_per_file_count_each_file_once_with_its_first_message(tmp_path, capsys):
    report = tmp_path / "results.xml"
    report.write_text(
        '<testsuite name="pytest" tests="3" failures="2" errors="1" skipped="0">'
        '<testcase classname="tests.integration.chain.test_api_faults" name="test_a" time="1">'
        f'<error message="AssertionError: week 1 rc=2 after 291 s: {"x" * 200}"/></testcase>'
        '<testcase classname="tests.integration.chain.test_week_tables" name="test_b" time="1">'
        '<failure message="AssertionError: week 0 rc=2"/></testcase>'
        '<testcase classname="tests.integration.chain.test_api_faults" name="test_c" time="1">'
        '<failure message="AssertionError: other"/></testcase>'
        "</testsuite>"
    )
    assert summary.main(str(report)) == 0
    lines = capsys.readouterr().out.splitlines()
    per_file = lines[lines.index("== the failed tests per file (2 files)") + 1 :]
    assert per_file[0].startswith("    2  tests.integration.chain.test_api_faults: AssertionError: week 1 rc=2 after 291 s: x")
    assert len(per_file[0]) == len("    2  tests.integration.chain.test_api_faults: ") + summary.FILE_MESSAGE_CHARS
    assert per_file[1:] == [
        "    1  tests.integration.chain.test_week_tables: AssertionError: week 0 rc=2",
        "tests: 0 passed, 3 failed, 0 skipped",
    ]
