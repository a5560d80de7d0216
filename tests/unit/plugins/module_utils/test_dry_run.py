"""What a server-side dry run of several manifests says would change: one result per manifest in the
order they were dry-run, a single manifest always counted as changed, a mismatch refused."""

from __future__ import annotations

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.dry_run import (
    DryRunError,
    apply_calls,
    changed_manifests,
    dry_run_changes,
    manifest_names,
    resource_changes,
)


def manifest(kind: str, name: str) -> dict:
    return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": "ns"}, "spec": {"x": name}}


SERVICE = manifest("Service", "finance-service")
STABLE = manifest("Deployment", "finance-service-stable")
CANARY = manifest("Deployment", "finance-service-canary")


def dry_run(*changed: tuple[dict, bool]) -> dict:
    """What kubernetes.core.k8s registers for a list of definitions (the task's changed_when: false)."""
    results = [{"changed": flag, "method": "apply", "result": dict(m, status={})} for m, flag in changed]
    return {"changed": False, "result": {"results": results}}


def objects_dry_run(*changed: tuple[dict, bool]) -> dict:
    """What vextrus.deploy.write_objects registers in check mode (the chain's dry runs)."""
    objects = [{"api_version": m["apiVersion"], "kind": m["kind"], "name": m["metadata"]["name"], "namespace": "ns",
                "changed": flag, "result": dict(m, status={})} for m, flag in changed]
    return {"changed": any(flag for _m, flag in changed), "objects": objects}


@pytest.mark.parametrize("register", [dry_run, objects_dry_run], ids=["kubernetes.core.k8s", "write_objects"])
@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ((False, False, False), []),
        ((True, False, False), [SERVICE]),
        ((False, True, True), [STABLE, CANARY]),
        ((True, True, True), [SERVICE, STABLE, CANARY]),
    ],
    ids=["nothing", "first", "last-two", "all"],
)
def test_only_what_the_dry_run_found_different_is_applied(flags, expected, register):
    manifests = [SERVICE, STABLE, CANARY]
    result = register(*zip(manifests, flags))
    assert changed_manifests(manifests, result) == expected
    assert resource_changes(manifests, result) == [
        {"kind": "Service", "name": "finance-service", "changed": flags[0]},
        {"kind": "Deployment", "name": "finance-service-stable", "changed": flags[1]},
        {"kind": "Deployment", "name": "finance-service-canary", "changed": flags[2]},
    ]


def test_the_manifests_are_applied_not_the_servers_answers():
    (applied,) = changed_manifests([SERVICE, STABLE], dry_run((SERVICE, True), (STABLE, False)))
    assert applied is SERVICE and "status" not in applied


@pytest.mark.parametrize(
    "registered",
    [
        {"changed": False, "method": "apply", "result": SERVICE},  # one definition: the task's changed overridden
        {"changed": False, "skipped": True},
    ],
    ids=["single-result", "skipped"],
)
def test_a_single_manifest_always_counts_as_changed(registered):
    assert changed_manifests([SERVICE], registered) == [SERVICE]
    assert dry_run_changes([], registered) == []


@pytest.mark.parametrize(
    ("manifests", "registered", "message"),
    [
        ([SERVICE, STABLE], {"changed": False, "result": SERVICE}, "expected one result per manifest"),
        ([SERVICE, STABLE], dry_run((SERVICE, True)), "expected 2 dry-run results, one per manifest, got 1"),
        ([SERVICE, STABLE], dry_run((STABLE, True), (SERVICE, True)), "expected the dry-run result of Service/finance-service, got Deployment"),
        ([SERVICE], "not a result", "expected the registered result of a kubernetes.core.k8s dry run, got str"),
        ([SERVICE, STABLE], objects_dry_run((SERVICE, True)), "expected 2 dry-run results, one per manifest, got 1"),
        ([SERVICE, STABLE], objects_dry_run((STABLE, True), (SERVICE, True)), "expected the dry-run result of Service/finance-service, got Deployment"),
    ],
    ids=["no-per-object-results", "too-few", "other-order", "not-a-dict", "objects-too-few", "objects-other-order"],
)
def test_a_dry_run_that_does_not_match_the_manifests_is_refused(manifests, registered, message):
    with pytest.raises(DryRunError, match=message):
        changed_manifests(manifests, registered)


def test_a_looped_task_is_read_per_item():
    """An apply looped over the manifests in check mode registers one entry per manifest under results."""
    looped = {"changed": True, "results": [
        {"changed": False, "result": SERVICE, "_manifest": SERVICE},
        {"changed": True, "result": STABLE, "_manifest": STABLE},
    ]}
    assert changed_manifests([SERVICE, STABLE], looped) == [STABLE]
    assert [r["changed"] for r in resource_changes([SERVICE, STABLE], looped)] == [False, True]
    # a loop of one item is read too: its item's changed is the module's own
    assert changed_manifests([SERVICE], {"results": [{"changed": False, "result": SERVICE}]}) == []


@pytest.mark.parametrize(
    ("manifests", "per_object", "calls"),
    [
        ([], False, []),
        ([], True, []),
        ([SERVICE], False, [[SERVICE]]),
        ([SERVICE, STABLE, CANARY], False, [[SERVICE, STABLE, CANARY]]),
        ([SERVICE, STABLE, CANARY], True, [SERVICE, STABLE, CANARY]),
    ],
    ids=["nothing", "nothing-diff", "one", "all-in-one-call", "one-call-each-with-diff"],
)
def test_apply_calls_are_one_for_all_or_one_per_object(manifests, per_object, calls):
    assert apply_calls(manifests, per_object) == calls


@pytest.mark.parametrize(
    ("item", "label"),
    [
        (SERVICE, "Service/finance-service"),
        ([STABLE, CANARY], "Deployment/finance-service-stable, Deployment/finance-service-canary"),
        ([], ""),
    ],
)
def test_manifest_names_label_an_apply_item(item, label):
    assert manifest_names(item) == label
