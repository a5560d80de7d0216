"""write_objects: every object checked before the first write, applied or deleted in order, changed
only when the API server's answer differs from what it had (apart from the metadata it keeps)."""

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.write_objects import ObjectsApi, WriteObjectsError, differs, write_objects

RECORD = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "finance-release", "namespace": "vx"}, "data": {"record.json": "{}"}}
SNAPSHOT = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "finance-snap", "namespace": "vx"}, "data": {"snapshot.json": "c2VjcmV0"}}
RECORD_PATH = "/api/v1/namespaces/vx/configmaps/finance-release"
SNAPSHOT_PATH = "/api/v1/namespaces/vx/secrets/finance-snap"


class FakeApi:
    """The API server as a dict of path -> object; every call is logged."""

    def __init__(self, live=None):
        self.live = dict(live or {})
        self.calls = []
        self.version = 100

    def get(self, path, label):
        self.calls.append(("get", path, label))
        return self.live.get(path)

    def apply(self, path, label, obj):
        self.calls.append(("apply", path, label))
        before = self.live.get(path)
        body = {**obj, "metadata": {**obj["metadata"]}}
        if before is not None and differs(before, body):
            self.version += 1
        body["metadata"]["resourceVersion"] = str(self.version if before is None or differs(before, body) else before["metadata"]["resourceVersion"])
        self.live[path] = body
        return body

    def delete(self, path, label):
        self.calls.append(("delete", path, label))
        del self.live[path]

    def bound(self):
        return ObjectsApi(get=self.get, apply=self.apply, delete=self.delete)


def test_a_new_object_is_changed_the_same_again_is_not():
    api = FakeApi()
    first = write_objects([RECORD, SNAPSHOT], "present", api.bound(), check_mode=False)
    assert [(o["kind"], o["name"], o["namespace"], o["changed"]) for o in first] == [
        ("ConfigMap", "finance-release", "vx", True), ("Secret", "finance-snap", "vx", True)]
    assert first[0]["result"]["data"] == {"record.json": "{}"}
    again = write_objects([RECORD, SNAPSHOT], "present", api.bound(), check_mode=False)
    assert [o["changed"] for o in again] == [False, False]
    changed = write_objects([{**RECORD, "data": {"record.json": '{"runs": []}'}}], "present", api.bound(), check_mode=False)
    assert changed[0]["changed"] is True


@pytest.mark.parametrize("check_mode", [False, True])
def test_absent_deletes_what_exists_and_only_then_is_changed(check_mode):
    api = FakeApi({SNAPSHOT_PATH: SNAPSHOT})
    result = write_objects([SNAPSHOT, RECORD], "absent", api.bound(), check_mode=check_mode)
    assert [(o["name"], o["changed"], o["result"]) for o in result] == [("finance-snap", True, {}), ("finance-release", False, {})]
    assert (("delete", SNAPSHOT_PATH, "Secret vx/finance-snap") in api.calls) is not check_mode
    assert not any(call[0] == "delete" and call[1] == RECORD_PATH for call in api.calls)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"kind": "ConfigMap", "metadata": {"name": "x", "namespace": "vx"}},
         "object 2 to write needs apiVersion, kind and metadata.name; found ['kind', 'metadata']"),
        ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "vx"}}, "needs apiVersion, kind and metadata.name"),
        ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}, "object 2 to write (ConfigMap x) needs metadata.namespace"),
        ("not a mapping", "found str"),
    ],
)
def test_a_bad_object_fails_before_any_write_without_its_content(bad, message):
    api = FakeApi()
    with pytest.raises(WriteObjectsError) as err:
        write_objects([SNAPSHOT, bad], "present", api.bound(), check_mode=False)
    assert message in str(err.value)
    assert "c2VjcmV0" not in str(err.value)
    assert not api.calls


def test_a_cluster_scoped_kind_needs_no_namespace():
    api = FakeApi()
    result = write_objects([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "vx"}}], "present", api.bound(), check_mode=False)
    assert result[0]["namespace"] == "" and api.calls[0][1] == "/api/v1/namespaces/vx"


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (RECORD, {**RECORD, "metadata": {**RECORD["metadata"], "resourceVersion": "7", "generation": 2}}, False),
        # another field manager owned it: an apply takes the fields over, as kubernetes.core.k8s finds
        (RECORD, {**RECORD, "metadata": {**RECORD["metadata"], "managedFields": [{"manager": "vextrus-deploy"}]}}, True),
        (RECORD, {**RECORD, "metadata": {**RECORD["metadata"], "labels": {"a": "b"}}}, True),
        (RECORD, {**RECORD, "data": {}}, True),
    ],
)
def test_differs_ignores_only_the_resource_version_and_generation(before, after, expected):
    assert differs(before, after) is expected
