"""The finance service's alert rules (resource_apply's PrometheusRule), written as a Prometheus rules
file by the role itself (entry point rules_file, no cluster) and checked by Debian's promtool:
`promtool check rules` accepts every rule, and `promtool test rules` (finance_alerts_test.yml) fires
each tested alert on the series that should fire it and on nothing else."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
ALERT_TESTS = HERE / "finance_alerts_test.yml"


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if not found:
        pytest.fail("promtool is not installed: `make promtool` installs Debian's prometheus package, which has it")
    return found


def write_rules(rules: Path, *extra: str) -> int:
    """Run resource_apply's rules_file entry point for ``rules``; the play's changed count."""
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ansible-playbook"), str(HERE / "render_rules.yml"), "-e", f"rules_file={rules}", *extra],
        cwd=ROOT, env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1"),
        capture_output=True, text=True, check=False, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    recap = [line for line in done.stdout.splitlines() if line.startswith("localhost") and "changed=" in line]
    assert len(recap) == 1, done.stdout[-3000:]
    return int(recap[0].split("changed=", 1)[1].split()[0])


def render(directory: Path, *extra: str) -> Path:
    """rules.yml in ``directory``, rendered by resource_apply, beside a copy of the alert tests."""
    directory.mkdir(parents=True, exist_ok=True)
    rules = directory / "rules.yml"
    write_rules(rules, *extra)
    shutil.copy(ALERT_TESTS, directory / ALERT_TESTS.name)
    return rules


@pytest.fixture(scope="module")
def rules(tmp_path_factory) -> Path:
    return render(tmp_path_factory.mktemp("rules"))


def promtool_run(promtool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=120)


def test_promtool_accepts_every_rule(promtool, rules):
    groups = yaml.safe_load(rules.read_text())["groups"]
    alerts = [rule["alert"] for group in groups for rule in group["rules"]]
    assert len(alerts) >= 10 and len(set(alerts)) == len(alerts), alerts
    checked = promtool_run(promtool, "check", "rules", rules.name, cwd=rules.parent)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(alerts)} rules found" in checked.stdout


def test_each_tested_alert_fires_when_it_should_and_not_otherwise(promtool, rules):
    tested = promtool_run(promtool, "test", "rules", ALERT_TESTS.name, cwd=rules.parent)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_the_tests_cover_six_alerts_firing_and_silent(rules):
    cases = [case for test in yaml.safe_load(ALERT_TESTS.read_text())["tests"] for case in test["alert_rule_test"]]
    firing = {case["alertname"] for case in cases if case["exp_alerts"]}
    silent = {case["alertname"] for case in cases if not case["exp_alerts"]}
    groups = yaml.safe_load(rules.read_text())["groups"]
    alerts = {rule["alert"] for group in groups for rule in group["rules"]}
    assert firing <= alerts and silent <= alerts, (firing | silent) - alerts
    assert len(firing & silent) >= 6, sorted(firing & silent)


def test_a_threshold_of_the_inventory_reaches_the_rules(promtool, tmp_path):
    # at a 20 % threshold the 10 %-errors series no longer fires: the tests fail, on that alert only
    rules = render(tmp_path, "-e", '{"resource_apply_alert_error_rate": 0.2}')
    tested = promtool_run(promtool, "test", "rules", ALERT_TESTS.name, cwd=rules.parent)
    assert tested.returncode != 0
    report = tested.stdout + tested.stderr
    failing = {line.split("alertname: ", 1)[1].split(",")[0] for line in report.splitlines() if "alertname: " in line}
    assert failing == {"FinanceServiceHigh5xxRate"}, report


def test_the_rules_file_is_written_only_when_its_content_differs(tmp_path):
    # the directory is created, the file written; the same rules again change nothing; a file edited by
    # hand is written again
    rules = tmp_path / "new" / "dir" / "rules.yml"
    assert write_rules(rules) == 2, "the directory and the file were not both written"
    first = rules.read_text()
    assert yaml.safe_load(first)["groups"], first
    assert (rules.stat().st_mode & 0o777, rules.parent.stat().st_mode & 0o777) == (0o644, 0o755)
    assert write_rules(rules) == 0, "the same rules were written again"
    rules.write_text(first.replace("FinanceServiceHigh5xxRate", "Edited"))
    assert write_rules(rules) == 1
    assert rules.read_text() == first
