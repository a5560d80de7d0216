import copy
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.vextrus.deploy.plugins.filter.manifest_lint import FilterModule, manifest_lint
from ansible_collections.vextrus.deploy.plugins.module_utils.manifest_lint import (
    ManifestLintError,
    lint_manifests,
    parse_quantity,
    selector_matches,
)

FIXTURES = Path(__file__).parent / "fixtures" / "manifests"
DIGEST = "sha256:" + "ab" * 32


def seed() -> list[dict]:
    # one YAML document holding the list of manifests (a multi-document stream is built from it where needed)
    manifests = yaml.safe_load((FIXTURES / "seed_production.yml").read_text())
    assert isinstance(manifests, list)
    return manifests


def by_kind(manifests: list[dict], kind: str) -> dict:
    return next(m for m in manifests if m["kind"] == kind)


def fixed_seed() -> list[dict]:
    manifests = seed()
    by_kind(manifests, "HorizontalPodAutoscaler")["spec"]["metrics"][1]["type"] = "Pods"
    return manifests


def test_seed_hpa_typo_is_found_with_a_suggestion():
    findings = lint_manifests(seed())
    assert findings == [
        {
            "kind": "HorizontalPodAutoscaler",
            "name": "finance-service-production-hpa",
            "field": "spec.metrics[1].type",
            "message": "HorizontalPodAutoscaler finance-service-production-hpa: spec.metrics[1].type is 'Pod', "
            "which autoscaling/v2 does not accept; did you mean 'Pods'? "
            "Use one of Resource, Pods, Object, External, ContainerResource.",
        }
    ]


def test_fixed_seed_is_clean_and_70_percent_of_10_is_fine():
    assert lint_manifests(fixed_seed()) == []


def test_seed_as_yaml_text_and_filter_wrapper():
    text = (FIXTURES / "seed_production.yml").read_text()
    assert manifest_lint(text) == lint_manifests(seed())
    multi_document = yaml.safe_dump_all(seed(), sort_keys=False)
    assert multi_document.count("\n---\n") == 3
    assert manifest_lint(multi_document) == lint_manifests(seed())
    assert FilterModule().filters() == {"manifest_lint": manifest_lint}


def test_require_digest_flags_the_seed_tag():
    findings = lint_manifests(fixed_seed(), require_digest=True)
    assert [f["field"] for f in findings] == ["spec.template.spec.containers[0].image"]
    message = findings[0]["message"]
    assert "Deployment finance-service-production" in message
    assert "'vextrus/finance:week4-prod-final'" in message
    assert "name@sha256:<64 hex digits>" in message


@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        (f"127.0.0.1:5000/finance@{DIGEST}", True),
        (f"finance:1.2@{DIGEST}", True),
        ("finance@sha256:" + "AB" * 32, False),  # digests are lower-case hex
        ("finance@sha256:" + "ab" * 31, False),  # 62 hex digits
        ("finance:latest", False),
        ("finance", False),
        ("", False),
    ],
)
def test_require_digest(image, pinned):
    manifests = fixed_seed()
    by_kind(manifests, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"] = image
    findings = lint_manifests(manifests, require_digest=True)
    assert (findings == []) is pinned
    # an empty image is no reference at all, digest or not
    assert (lint_manifests(manifests, require_digest=False) == []) is bool(image)


def test_require_digest_checks_init_containers():
    manifests = fixed_seed()
    deployment = by_kind(manifests, "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = f"finance@{DIGEST}"
    deployment["spec"]["template"]["spec"]["initContainers"] = [{"name": "migrate", "image": "finance:migrate"}]
    findings = lint_manifests(manifests, require_digest=True)
    # init containers need neither probes nor resources, only the digest
    assert [f["field"] for f in findings] == ["spec.template.spec.initContainers[0].image"]
    assert "init container 'migrate'" in findings[0]["message"]


@pytest.mark.parametrize(
    ("metric_type", "suggestion"),
    [
        ("Pod", "did you mean 'Pods'?"),
        ("pods", "did you mean 'Pods'?"),
        ("Resources", "did you mean 'Resource'?"),
        ("Externals", "did you mean 'External'?"),
        ("ContainerResources", "did you mean 'ContainerResource'?"),
        ("Memory", None),
        (None, None),
    ],
)
def test_hpa_metric_type(metric_type, suggestion):
    manifests = fixed_seed()
    by_kind(manifests, "HorizontalPodAutoscaler")["spec"]["metrics"][0]["type"] = metric_type
    findings = lint_manifests(manifests)
    assert len(findings) == 1
    assert findings[0]["field"] == "spec.metrics[0].type"
    assert f"is '{metric_type}'" in findings[0]["message"]
    if suggestion:
        assert suggestion in findings[0]["message"]
    else:
        assert "did you mean" not in findings[0]["message"]


@pytest.mark.parametrize("metric_type", ["Resource", "Pods", "Object", "External", "ContainerResource"])
def test_hpa_metric_without_its_block(metric_type):
    manifests = fixed_seed()
    by_kind(manifests, "HorizontalPodAutoscaler")["spec"]["metrics"] = [{"type": metric_type}]
    findings = lint_manifests(manifests)
    assert len(findings) == 1
    assert f"has type '{metric_type}' but no" in findings[0]["message"]


@pytest.mark.parametrize(
    ("min_replicas", "max_replicas", "bad"),
    [(10, 25, False), (25, 25, False), (26, 25, True), (None, 1, False), (None, 0, True)],
)
def test_hpa_min_above_max(min_replicas, max_replicas, bad):
    manifests = fixed_seed()
    spec = by_kind(manifests, "HorizontalPodAutoscaler")["spec"]
    spec.pop("minReplicas")
    if min_replicas is not None:
        spec["minReplicas"] = min_replicas
    spec["maxReplicas"] = max_replicas
    findings = lint_manifests(manifests)
    assert [f["field"] for f in findings] == (["spec.minReplicas"] if bad else [])
    if bad:
        assert f"above spec.maxReplicas {max_replicas}" in findings[0]["message"]


@pytest.mark.parametrize(
    ("replicas", "min_available", "blocks"),
    [
        (10, "70%", False),  # 7 of 10
        (10, 7, False),
        (10, 9, False),
        (10, 10, True),
        (10, 11, True),
        (10, "100%", True),
        (10, "91%", True),  # 9.1 rounds up to 10
        (10, "90%", False),
        (2, "70%", True),  # 1.4 rounds up to 2: the local 2-replica setup cannot drain
        (2, "50%", False),
        (2, 1, False),
        (2, 2, True),
        (1, 1, True),
        (3, "66%", False),
        (3, "67%", True),
    ],
)
def test_pdb_min_available(replicas, min_available, blocks):
    manifests = fixed_seed()
    by_kind(manifests, "Deployment")["spec"]["replicas"] = replicas
    by_kind(manifests, "PodDisruptionBudget")["spec"]["minAvailable"] = min_available
    findings = lint_manifests(manifests)
    assert [f["field"] for f in findings] == (["spec.minAvailable"] if blocks else [])
    if blocks:
        message = findings[0]["message"]
        assert message.startswith("PodDisruptionBudget finance-service-production-pdb: spec.minAvailable")
        assert f"the {replicas} replicas of Deployment finance-service-production" in message
        assert "blocks every eviction" in message


def test_pdb_sums_stable_and_canary():
    manifests = fixed_seed()
    stable = by_kind(manifests, "Deployment")
    stable["spec"]["replicas"] = 9
    canary = copy.deepcopy(stable)
    canary["metadata"]["name"] = "finance-service-production-canary"
    canary["spec"]["replicas"] = 1
    canary["spec"]["selector"]["matchLabels"]["track"] = "canary"
    canary["spec"]["template"]["metadata"]["labels"]["track"] = "canary"
    manifests.append(canary)
    pdb = by_kind(manifests, "PodDisruptionBudget")
    pdb["spec"]["minAvailable"] = 9
    assert lint_manifests(manifests) == []  # 9 of 9 + 1
    pdb["spec"]["minAvailable"] = 10
    findings = lint_manifests(manifests)
    assert len(findings) == 1
    assert "the 10 replicas of Deployment finance-service-production, Deployment finance-service-production-canary" in (
        findings[0]["message"]
    )


@pytest.mark.parametrize(("max_unavailable", "blocks"), [(0, True), ("0%", True), (1, False), ("30%", False)])
def test_pdb_max_unavailable(max_unavailable, blocks):
    manifests = fixed_seed()
    spec = by_kind(manifests, "PodDisruptionBudget")["spec"]
    spec.pop("minAvailable")
    spec["maxUnavailable"] = max_unavailable
    findings = lint_manifests(manifests)
    assert [f["field"] for f in findings] == (["spec.maxUnavailable"] if blocks else [])


@pytest.mark.parametrize("value", ["seventy", "70.5%", 7.5, True])
def test_pdb_unparsable_budget(value):
    manifests = fixed_seed()
    by_kind(manifests, "PodDisruptionBudget")["spec"]["minAvailable"] = value
    findings = lint_manifests(manifests)
    assert [f["field"] for f in findings] == ["spec.minAvailable"]
    assert "use an integer or a percentage" in findings[0]["message"]


@pytest.mark.parametrize("selector_check", [True, False])
def test_pdb_selector_matching_nothing(selector_check):
    manifests = fixed_seed()
    by_kind(manifests, "PodDisruptionBudget")["spec"]["selector"] = {"matchLabels": {"app": "finance"}}
    findings = lint_manifests(manifests, selector_check=selector_check)
    if selector_check:
        assert [f["field"] for f in findings] == ["spec.selector"]
        assert "protects nothing" in findings[0]["message"]
    else:
        assert findings == []


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ({"app": "finance-service"}, True),
        ({"app": "finance-service", "track": "stable"}, True),
        ({"app": "finance-service", "track": "canary"}, False),
        ({"app": "finance"}, False),
    ],
)
@pytest.mark.parametrize("selector_check", [True, False])
def test_service_selector(selector, matches, selector_check):
    manifests = fixed_seed()
    by_kind(manifests, "Service")["spec"]["selector"] = selector
    findings = lint_manifests(manifests, selector_check=selector_check)
    if matches or not selector_check:
        assert findings == []
    else:
        assert [f["field"] for f in findings] == ["spec.selector"]
        assert findings[0]["message"].startswith("Service finance-service-production: spec.selector")
        assert "matches no pod template" in findings[0]["message"]


def test_service_in_other_namespace_does_not_match():
    manifests = fixed_seed()
    by_kind(manifests, "Service")["metadata"]["namespace"] = "other"
    assert [f["kind"] for f in lint_manifests(manifests)] == ["Service"]


def test_service_without_selector_is_not_checked():
    manifests = fixed_seed()
    del by_kind(manifests, "Service")["spec"]["selector"]
    assert lint_manifests(manifests) == []


@pytest.mark.parametrize(
    ("remove", "fields"),
    [
        ("readinessProbe", ["spec.template.spec.containers[0].readinessProbe"]),
        ("livenessProbe", ["spec.template.spec.containers[0].livenessProbe"]),
        ("resources", ["spec.template.spec.containers[0].resources.requests", "spec.template.spec.containers[0].resources.limits"]),
        ("resources.requests", ["spec.template.spec.containers[0].resources.requests"]),
        ("resources.limits", ["spec.template.spec.containers[0].resources.limits"]),
        ("resources.requests.cpu", ["spec.template.spec.containers[0].resources.requests"]),
        ("resources.limits.memory", ["spec.template.spec.containers[0].resources.limits"]),
    ],
)
def test_container_probes_and_resources(remove, fields):
    manifests = fixed_seed()
    container = by_kind(manifests, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    *parents, leaf = remove.split(".")
    target = container
    for key in parents:
        target = target[key]
    del target[leaf]
    findings = lint_manifests(manifests)
    assert [f["field"] for f in findings] == fields
    for finding in findings:
        assert finding["message"].startswith("Deployment finance-service-production: container 'finance' has no")
    if remove.endswith(".cpu"):
        assert "resources.requests for cpu;" in findings[0]["message"]
    if remove == "resources":
        assert "for cpu and memory" in findings[0]["message"]


def test_job_needs_resources_but_no_probes():
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate"},
        "spec": {"template": {"spec": {"containers": [{"name": "migrate", "image": "finance"}]}}},
    }
    fields = [f["field"] for f in lint_manifests([job])]
    assert fields == ["spec.template.spec.containers[0].resources.requests", "spec.template.spec.containers[0].resources.limits"]


def test_cronjob_and_pod_paths():
    cronjob = {
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}}},
    }
    pod = {"kind": "Pod", "metadata": {"name": "debug"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    fields = [f["field"] for f in lint_manifests([cronjob, pod], require_digest=True)]
    assert fields[0] == "spec.jobTemplate.spec.template.spec.containers[0].image"
    assert "spec.containers[0].readinessProbe" in fields
    assert all(not f.startswith("spec.template") for f in fields)


def test_list_kind_and_empty_documents():
    manifests = [None, {"kind": "List", "apiVersion": "v1", "items": seed()}, None]
    assert lint_manifests(manifests) == lint_manifests(seed())
    assert lint_manifests([]) == []
    assert lint_manifests(None) == []
    assert lint_manifests(by_kind(seed(), "HorizontalPodAutoscaler"))[0]["field"] == "spec.metrics[1].type"


@pytest.mark.parametrize(("manifests", "message"), [(42, "expected a list of manifests"), (["kind: Service"], "item 0 is a str")])
def test_bad_input(manifests, message):
    with pytest.raises(ManifestLintError, match=message):
        lint_manifests(manifests)
    with pytest.raises(AnsibleFilterError, match=message):
        manifest_lint(manifests)


def test_filter_rejects_non_boolean_flags():
    with pytest.raises(AnsibleFilterError, match="must be booleans"):
        manifest_lint(seed(), require_digest="yes")


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ({"matchLabels": {"app": "a"}}, {"app": "a", "x": "y"}, True),
        ({"matchLabels": {"app": "a"}}, {"app": "b"}, False),
        ({"matchLabels": {"app": "a"}}, None, False),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["a", "b"]}]}, {"app": "b"}, True),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["a"]}]}, {}, False),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["a"]}]}, {"app": "b"}, True),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["a"]}]}, {"app": "a"}, False),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, {"app": "a"}, True),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, {}, False),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, {"app": "a"}, False),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, {"x": "a"}, True),
        ({"app": "a"}, {"app": "a"}, True),  # Service-style plain map
        ({}, {"app": "a"}, False),  # an empty selector selects nothing here
        (None, {"app": "a"}, False),
        ({"matchLabels": {}}, {"app": "a"}, False),
    ],
)
def test_selector_matches(selector, labels, expected):
    assert selector_matches(selector, labels) is expected


@pytest.mark.parametrize(
    ("image", "valid"),
    [
        (f"127.0.0.1:5000/vextrus/finance@{DIGEST}", True),
        ("registry.vextrus.example/vextrus/finance:1.2.3", True),
        ("localhost:5000/a/b_c/d--e:v1", True),
        ("finance", True),
        ("Finance:latest", False),  # repositories are lower-case
        ("127.0.0.1:5000/finance:", False),
        ("finance@sha256:abc", False),
        ("finance with spaces", False),
        ("https://registry/finance", False),
        ("", False),
    ],
)
def test_image_reference(image, valid):
    manifests = fixed_seed()
    by_kind(manifests, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"] = image
    findings = lint_manifests(manifests)
    assert (findings == []) is valid
    if not valid:
        assert findings[0]["field"].endswith(".containers[0].image")
        assert f"uses image '{image}', which is not a valid image reference" in findings[0]["message"]


@pytest.mark.parametrize(
    ("requests", "limits", "bad"),
    [
        ({"cpu": "250m", "memory": "512Mi"}, {"cpu": "1", "memory": "1Gi"}, []),
        ({"cpu": "1", "memory": "1Gi"}, {"cpu": "1000m", "memory": "1024Mi"}, []),
        ({"cpu": "500m", "memory": "512Mi"}, {"cpu": "100m", "memory": "1Gi"}, ["cpu"]),
        ({"cpu": "250m", "memory": "1G"}, {"cpu": "1", "memory": "512Mi"}, ["memory"]),
        ({"cpu": 2, "memory": "2e9"}, {"cpu": "1.5", "memory": "1Gi"}, ["cpu", "memory"]),
    ],
)
def test_limits_below_requests(requests, limits, bad):
    manifests = fixed_seed()
    container = by_kind(manifests, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    container["resources"] = {"requests": requests, "limits": limits}
    findings = lint_manifests(manifests)
    assert [f["field"].rsplit(".", 1)[-1] for f in findings] == bad
    for finding in findings:
        assert "below resources.requests." in finding["message"] and "Expected the limit at or above" in finding["message"]


@pytest.mark.parametrize("value", ["lots", "1.2.3", "-", True])
def test_a_resource_that_is_not_a_quantity(value):
    manifests = fixed_seed()
    container = by_kind(manifests, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    container["resources"]["limits"]["memory"] = value
    findings = lint_manifests(manifests)
    assert [f["field"].rsplit(".", 2)[-2:] for f in findings] == [["limits", "memory"]]
    assert "not a Kubernetes quantity" in findings[0]["message"]


@pytest.mark.parametrize(
    ("surge", "unavailable", "replicas", "stuck"),
    [(0, 0, 4, True), ("0%", 0, 4, True), ("10%", "10%", 4, False), (0, "10%", 4, True), (0, "10%", 10, False),
     (1, 0, 4, False), (0, 1, 4, False)],
)
def test_a_rolling_update_that_can_replace_no_pod(surge, unavailable, replicas, stuck):
    manifests = fixed_seed()
    deployment = by_kind(manifests, "Deployment")
    deployment["spec"]["replicas"] = replicas
    deployment["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}
    findings = [f for f in lint_manifests(manifests) if f["field"] == "spec.strategy.rollingUpdate"]
    assert bool(findings) is stuck
    if stuck:
        assert "are both 0" in findings[0]["message"] and "Expected at least one of them above 0" in findings[0]["message"]


QUANTITIES = [("250m", "0.250"), ("1", "1"), ("512Mi", str(512 * 2**20)), ("1e3", "1000"),
              ("1.5Gi", str(int(1.5 * 2**30))), (2, "2"), ("1k", "1000"), ("x", None), (None, None)]


@pytest.mark.parametrize(("value", "expected"), QUANTITIES)
def test_parse_quantity(value, expected):
    got = parse_quantity(value)
    assert (got is None) if expected is None else (got == Decimal(expected))
