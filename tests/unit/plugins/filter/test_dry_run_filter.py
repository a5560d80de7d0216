"""The dry_run_changed, dry_run_resources, apply_calls and manifest_names filters: registered, and a
mismatched dry run is an AnsibleFilterError with the reason."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vextrus.deploy.plugins.filter.dry_run import (
    FilterModule,
    apply_calls,
    dry_run_changed,
    dry_run_resources,
    manifest_names,
    without_replicas,
)

SERVICE = {"kind": "Service", "metadata": {"name": "svc"}}
PDB = {"kind": "PodDisruptionBudget", "metadata": {"name": "svc"}}
DRY_RUN = {"result": {"results": [{"changed": True, "result": SERVICE}, {"changed": False, "result": PDB}]}}


def test_filters_are_registered():
    assert FilterModule().filters() == {"dry_run_changed": dry_run_changed, "dry_run_resources": dry_run_resources,
                                        "apply_calls": apply_calls, "manifest_names": manifest_names,
                                        "without_replicas": without_replicas}


def test_filters_read_the_dry_run():
    assert dry_run_changed([SERVICE, PDB], DRY_RUN) == [SERVICE]
    assert dry_run_resources([SERVICE, PDB], DRY_RUN) == [
        {"kind": "Service", "name": "svc", "changed": True},
        {"kind": "PodDisruptionBudget", "name": "svc", "changed": False},
    ]


def test_apply_filters_give_the_calls_and_their_labels():
    assert apply_calls([SERVICE, PDB]) == [[SERVICE, PDB]]
    assert apply_calls([SERVICE, PDB], True) == [SERVICE, PDB]
    assert manifest_names([SERVICE, PDB]) == "Service/svc, PodDisruptionBudget/svc"


@pytest.mark.parametrize("name", ["dry_run_changed", "dry_run_resources"])
def test_a_mismatch_is_a_filter_error(name):
    with pytest.raises(AnsibleFilterError, match="expected 3 dry-run results, one per manifest, got 2"):
        FilterModule().filters()[name]([SERVICE, PDB, SERVICE], DRY_RUN)
