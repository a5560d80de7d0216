"""module_utils.resource_inputs: the resource_apply role's inputs checked in one call, as a table of cases;
each bad input fails with a message naming the inventory variable and saying nothing was written."""

from typing import Any

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.resource_inputs import InputError, check_inputs

GOOD: dict[str, Any] = {
    "namespace": "vextrus-local",
    "service_name": "finance",
    "image": "127.0.0.1:5000/vextrus/finance@sha256:" + "a" * 64,
    "replicas": 3,
    "hpa_min": 2,
    "hpa_max": 6,
    "max_replicas": 500,
    "pdb_min_available": "50%",
    "max_surge": 1,
    "max_unavailable": 0,
    "service_shape": {},
    "network_policy_sources": [{"namespaceSelector": {}}],
    "instance": "",
    "secret_name": "",
    "service_account": "",
}


def _with(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


def test_good_inputs_are_normalised_and_the_names_derived():
    checked = check_inputs(_with(replicas="3", hpa_min="2", hpa_max="6.0", max_surge="25%", pdb_min_available="2"))
    assert (checked["replicas"], checked["hpa_min"], checked["hpa_max"]) == (3, 2, 6)
    assert (checked["max_surge"], checked["max_unavailable"], checked["pdb_min_available"]) == ("25%", 0, 2)
    assert (checked["instance"], checked["secret_name"], checked["service_account"]) == (
        "finance", "finance-secrets", "finance")
    assert checked["shape"]["port"] == 3014 and checked["shape"]["health"]["readiness"] == "/health/ready"


def test_given_names_are_kept():
    checked = check_inputs(_with(instance="blue", secret_name="creds", service_account="runner"))
    assert (checked["instance"], checked["secret_name"], checked["service_account"]) == ("blue", "creds", "runner")


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"namespace": "Vextrus_Local"}, ("must be DNS-1123 labels", "namespace 'Vextrus_Local' (inventory deploy_namespace")),
        ({"namespace": "a" * 64}, ("must be DNS-1123 labels", "the namespace at most 63 characters")),
        ({"service_name": "finance_service"}, ("must be DNS-1123 labels", "service 'finance_service' (inventory deploy_service_name")),
        ({"service_name": "s" * 57}, ("the service at most 56",)),
        ({"service_name": "finance\n"}, ("must be DNS-1123 labels",)),
        ({"image": "not an image!"}, ("resource_apply_image must be set and be an image reference", "found 'not an image!'")),
        ({"image": ""}, ("resource_apply_image must be set", "found ''", "leave it empty in week 1")),
        ({"replicas": 0, "hpa_min": 0}, ("replicas 0 (inventory deploy_replicas", "must be >= 1")),
        ({"replicas": "many"}, ("replicas many (inventory deploy_replicas",)),
        ({"replicas": 8}, ("replicas 8 (inventory deploy_replicas", "within the HPA bounds 2..6")),
        ({"hpa_min": 5, "hpa_max": 3}, ("within the HPA bounds 5..3", "deploy_hpa_min / deploy_hpa_max")),
        ({"replicas": 600, "hpa_max": 600}, ("at most resource_apply_max_replicas (500)",)),
        ({"network_policy_sources": []}, ("resource_apply_network_policy_sources must not be empty",)),
        ({"service_shape": {"port": "http"}}, ("port",)),
    ],
    ids=["namespace-case", "namespace-long", "service-underscore", "service-long", "service-newline", "image-malformed",
         "image-empty", "replicas-0", "replicas-text", "replicas-above-hpa-max", "hpa-min-above-max", "above-max-replicas",
         "sources-empty", "shape-bad-port"],
)
def test_a_bad_input_fails_with_its_message(changes, says):
    with pytest.raises(InputError) as raised:
        check_inputs(_with(**changes))
    message = str(raised.value)
    assert all(text in message for text in says), message
    if "service_shape" not in changes:
        assert message.endswith("Nothing was written.")


def test_the_first_problem_in_reading_order_is_reported():
    with pytest.raises(InputError, match="DNS-1123"):
        check_inputs(_with(namespace="Bad", image="bad image", replicas=0))


@pytest.mark.parametrize(
    ("inputs", "says"),
    [("replicas: 3", "expects a mapping"), ({"namespace": "ns"}, "missing input(s) service_name, image")],
    ids=["not-a-mapping", "missing-keys"],
)
def test_a_wrong_call_says_what_is_wrong(inputs, says):
    with pytest.raises(InputError, match=says.replace("(", r"\(").replace(")", r"\)")):
        check_inputs(inputs)
