"""tests/merge_results.py: the passes' JUnit reports of one run merged into one, and its totals line."""

import runpy
import xml.etree.ElementTree as ET
from pathlib import Path

main = runpy.run_path(str(Path(__file__).resolve().parents[2] / "merge_results.py"))["main"]

PARALLEL = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="3" failures="1" errors="0" skipped="1">
<testcase classname="tests.integration.chain.test_demo" name="test_demo@chain.test_demo" time="240.0"/>
<testcase classname="tests.integration.roles.test_secrets" name="test_s@roles.test_secrets" time="9.0"><failure message="x"/></testcase>
<testcase classname="tests.integration.test_molecule" name="test_m[chain]@molecule" time="1.0"><skipped/></testcase>
</testsuite></testsuites>
"""
SERIAL = """<?xml version="1.0" encoding="utf-8"?>
<testsuite name="pytest" tests="2" failures="0" errors="1" skipped="0">
<testcase classname="tests.integration.realnode.test_down_up" name="test_down_up" time="60.0"/>
<testcase classname="tests.integration.infra.test_registry" name="test_r" time="2.0"><error message="y"/></testcase>
</testsuite>
"""


def test_every_suite_and_case_in_one_report_and_the_totals_line(tmp_path, capsys):
    (tmp_path / "parallel.xml").write_text(PARALLEL)
    (tmp_path / "serial.xml").write_text(SERIAL)
    out = tmp_path / "results.xml"
    assert main([str(out), str(tmp_path / "parallel.xml"), str(tmp_path / "serial.xml")]) == 1
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites" and len(root.findall("testsuite")) == 2
    assert len(list(root.iter("testcase"))) == 5
    assert capsys.readouterr().out.splitlines()[-1] == "tests: 2 passed, 2 failed, 1 skipped"


def test_all_passed_exits_zero(tmp_path, capsys):
    (tmp_path / "serial.xml").write_text(SERIAL.replace('errors="1"', 'errors="0"').replace('<error message="y"/>', ""))
    assert main([str(tmp_path / "out.xml"), str(tmp_path / "serial.xml")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "tests: 2 passed, 0 failed, 0 skipped"


def test_a_missing_report_is_named_and_fails(tmp_path, capsys):
    (tmp_path / "parallel.xml").write_text(PARALLEL.replace('failures="1"', 'failures="0"'))
    assert main([str(tmp_path / "out.xml"), str(tmp_path / "parallel.xml"), str(tmp_path / "none.xml")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"tests: no report {tmp_path / 'none.xml'}"
    assert lines[-1] == "tests: 2 passed, 1 failed, 1 skipped"
