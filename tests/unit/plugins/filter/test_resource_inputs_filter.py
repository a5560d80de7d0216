"""The resource_inputs filter: registered, and a bad input is an AnsibleFilterError with the message."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vextrus.deploy.plugins.filter.resource_inputs import FilterModule, resource_inputs

INPUTS = {
    "namespace": "ns", "service_name": "finance", "image": "registry.local/finance:1.0", "replicas": "2",
    "hpa_min": 2, "hpa_max": 4, "max_replicas": 500, "pdb_min_available": 1, "max_surge": 1, "max_unavailable": 0,
    "service_shape": None, "network_policy_sources": [{}],
}


def test_filter_is_registered():
    assert FilterModule().filters()["resource_inputs"] is resource_inputs


def test_filter_normalises():
    assert resource_inputs(INPUTS)["replicas"] == 2


def test_filter_raises_the_message():
    with pytest.raises(AnsibleFilterError, match="within the HPA bounds 2..4"):
        resource_inputs({**INPUTS, "replicas": 9})
