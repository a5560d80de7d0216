"""tests/integration/playbookrun.py: the first line of a failed run's message names why it failed,
since that line is all a summary of failures shows."""

import importlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "integration"))
playbookrun = importlib.import_module("playbookrun")
Run, WeekRun = playbookrun.Run, playbookrun.WeekRun

FATAL = (
    'TASK [Wait for the rollout] ***\n'
    'fatal: [localhost]: FAILED! => {"changed": false, "msg": "Week 1 ERROR: the rollout did not finish. '
    'Cause: rollout-timeout."}\n'
    'PLAY RECAP ***\n'
    'localhost : ok=10 changed=1 unreachable=0 failed=1\n'
)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (FATAL, "Week 1 ERROR: the rollout did not finish. Cause: rollout-timeout."),
        ('failed: [localhost] (item=a) => {"msg": "it\'\'s \\"a\\""}\n', 'it\'s \\"a\\"'),
        ("fatal: [localhost]: UNREACHABLE! no message here\n", "fatal: [localhost]: UNREACHABLE! no message here"),
        ("PLAY RECAP ***\nlocalhost : ok=3 failed=0\n", ""),
    ],
)
def test_why_is_the_message_of_the_last_failed_task(output: str, expected: str) -> None:
    assert Run(rc=2, output=output).why() == expected


def test_why_is_cut_to_its_length() -> None:
    run = Run(rc=2, output=f'fatal: [localhost]: FAILED! => {{"msg": "{"x" * 500}"}}\n')
    assert run.why(chars=50) == "x" * 47 + "..."


def _week(report: dict | None):
    return WeekRun(rc=2, output=FATAL, args=["ansible-playbook"], seconds=291.4, week=1, report=report,
                   report_path=None, extra={"rollout_image": "img"})


def test_a_week_heading_names_the_report_verdict_before_the_extra_vars() -> None:
    heading = _week({"verdict": "FAIL", "cause": "gate", "reason": "the gate failed"}).heading()
    assert heading == "week 1 rc=2 after 291 s: FAIL (gate): the gate failed; extra vars {'rollout_image': 'img'}"


def test_a_week_without_a_report_names_its_failed_task() -> None:
    heading = _week(None).heading()
    assert heading.startswith("week 1 rc=2 after 291 s: Week 1 ERROR: the rollout did not finish. "), heading
    assert heading.endswith("; extra vars {'rollout_image': 'img'}"), heading
