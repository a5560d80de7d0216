import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vextrus.deploy.plugins.filter.rollout_report import (
    FilterModule,
    rollout_report,
    rollout_report_markdown,
)


def test_filters_registered():
    assert set(FilterModule().filters()) == {"applied_resources", "rollout_report", "rollout_report_markdown"}


def test_filter_round_trip():
    report = rollout_report({"environment": "local", "week": 1, "image": "img"})
    assert (report["verdict"], report["cause"]) == ("ERROR", "internal")
    assert "did not run" in rollout_report_markdown(report)


@pytest.mark.parametrize("call", [lambda: rollout_report("x"), lambda: rollout_report_markdown({"week": 1})])
def test_filter_errors(call):
    with pytest.raises(AnsibleFilterError):
        call()
