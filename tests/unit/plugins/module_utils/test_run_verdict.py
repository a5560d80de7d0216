"""The verdict is decided once (run_verdict), before the report and the record take it."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vextrus.deploy.plugins.filter.run_verdict import FilterModule
from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_report import (
    FAIL,
    PASS,
    ReportError,
    build_report,
    decide,
    run_verdict,
)

GATE_OK = {"failed": False, "elapsed": 4.2, "ready": {"finance-service-stable": "2/2"}}
SMOKE_OK = {"passed": True, "checks": []}
BASE = {"environment": "local", "week": 2, "image": "img"}


@pytest.mark.parametrize(("results", "verdict", "says"), [
    ({"gate": GATE_OK, "smoke": SMOKE_OK, "rollback": None, "failure": ""}, PASS, "every gate passed"),
    ({"gate": GATE_OK, "smoke": SMOKE_OK, "rollback": {"ran": True}}, FAIL, "a rollback ran"),
    ({"gate": None, "failure": "Build: no space left"}, FAIL, "the rollout gate did not run: Build: no space left"),
    ({}, FAIL, "the rollout gate did not run"),
])
def test_the_verdict_is_decided_from_the_results(results, verdict, says):
    got = run_verdict(results)
    assert got == {"verdict": verdict, "reason": got["reason"]} and says in got["reason"]
    decided = decide(results.get("gate"), results.get("smoke"), results.get("rollback") or {"ran": False},
                     results.get("failure"))
    assert (got["verdict"], got["reason"]) == decided


def test_the_report_takes_the_verdict_it_is_given():
    given = run_verdict({"gate": GATE_OK, "smoke": SMOKE_OK})
    report = build_report({**BASE, "gate": GATE_OK, "smoke": SMOKE_OK, **given})
    assert (report["verdict"], report["reason"]) == (PASS, "every gate passed")
    # without one it decides the same way
    assert build_report({**BASE, "gate": GATE_OK, "smoke": SMOKE_OK})["verdict"] == PASS
    with pytest.raises(ReportError, match="verdict must be PASS or FAIL"):
        build_report({**BASE, "verdict": "OK"})


def test_the_filter():
    run = FilterModule().filters()["run_verdict"]
    assert run({"gate": GATE_OK, "smoke": SMOKE_OK})["verdict"] == PASS
    with pytest.raises(AnsibleFilterError, match="must be a mapping"):
        run("PASS")
