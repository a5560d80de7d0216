"""The PrometheusRule is applied only when its CRD exists: both paths on the local cluster.

The CRD is cluster-wide and every run of resource_apply looks it up, so deleting it would change
what any other test running at the same time sees: these tests run alone (marker serial)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from rolekit import PlaybookRunner, crd_installed, install_crd, profile, uninstall_crd

pytestmark = pytest.mark.serial

REQUIRED_ALERTS = {
    "FinanceServiceUnavailable",
    "FinanceServiceHigh5xxRate",
    "FinanceServiceHighP95Latency",
    "FinanceServiceCrashLooping",
    "FinanceServiceFrequentRestarts",
    "FinanceServiceHPAAtMaximum",
    "FinanceServicePDBBudgetExhausted",
    "FinanceServiceMemoryNearLimit",
    "FinanceServicePodsNotReady",
    "FinanceServiceEventStoreLag",
}


@pytest.fixture
def crd_state(k8s_client: client.ApiClient, wait: Any) -> Iterator[None]:
    """Restores the CRD's presence as it was before the test."""
    was_installed = crd_installed(k8s_client)
    yield
    if was_installed:
        install_crd(k8s_client, wait)
    else:
        uninstall_crd(k8s_client, wait)


def _rule(api: client.ApiClient, namespace: str) -> dict[str, Any]:
    return client.CustomObjectsApi(api).get_namespaced_custom_object(
        "monitoring.coreos.com", "v1", namespace, "prometheusrules", "finance-service"
    )


def test_prometheus_rule_follows_the_crd(
    run_playbook: PlaybookRunner,
    role_namespace: str,
    k8s_client: client.ApiClient,
    wait: Any,
    tmp_path: Path,
    crd_state: None,
) -> None:
    extra = profile(role_namespace, tmp_path)

    uninstall_crd(k8s_client, wait)
    without = run_playbook(extra)
    assert without.rc == 0, without.output[-4000:]
    assert "The monitoring.coreos.com/v1 PrometheusRule API does not exist in this cluster" in without.flat

    install_crd(k8s_client, wait)
    with_crd = run_playbook(extra)
    assert with_crd.rc == 0, with_crd.output[-4000:]
    rule = _rule(k8s_client, role_namespace)
    alerts = [r["alert"] for group in rule["spec"]["groups"] for r in group["rules"]]
    assert len(alerts) >= 10
    assert REQUIRED_ALERTS <= set(alerts)
    assert all(r["labels"]["severity"] in {"critical", "warning"} for g in rule["spec"]["groups"] for r in g["rules"])
    again = run_playbook(extra)
    assert again.recap()["changed"] == 0, again.output[-4000:]

    # deleting the CRD again: the role notices (no stale discovery) and still succeeds
    uninstall_crd(k8s_client, wait)
    with pytest.raises(ApiException):
        _rule(k8s_client, role_namespace)
    after = run_playbook(extra)
    assert after.rc == 0, after.output[-4000:]
