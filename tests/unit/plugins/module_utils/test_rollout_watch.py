import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_watch import (
    RolloutGateError,
    first_error_line,
    label_selector,
)

SEED_LOG = [
    "node:internal/modules/cjs/loader:1143",
    "  throw err;",
    "  ^",
    "",
    "Error: Cannot find module '@nestjs/core'",
    "Require stack:",
    "- /app/dist/main.js",
]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (SEED_LOG, "Error: Cannot find module '@nestjs/core'"),
        (["starting", "FATAL: database unreachable", "bye"], "FATAL: database unreachable"),
        (["[Nest] 1 - ERROR [ExceptionHandler] Nest can't resolve dependencies"], "[Nest] 1 - ERROR [ExceptionHandler] Nest can't resolve dependencies"),
        (["connect ECONNREFUSED 10.0.0.1:5432 refused"], "connect ECONNREFUSED 10.0.0.1:5432 refused"),
        (["warn: x", "  TypeError: Cannot read properties of undefined"], "TypeError: Cannot read properties of undefined"),
        (["listening on 3014", "all good"], None),
        ([], None),
    ],
)
def test_first_error_line(lines, expected):
    assert first_error_line(lines) == expected


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({"matchLabels": {"track": "stable", "app.kubernetes.io/name": "finance"}}, "app.kubernetes.io/name=finance,track=stable"),
        ({"matchExpressions": [{"key": "track", "operator": "In", "values": ["stable", "canary"]}]}, "track in (stable,canary)"),
        ({"matchExpressions": [{"key": "track", "operator": "NotIn", "values": ["canary"]}]}, "track notin (canary)"),
        ({"matchLabels": {"app": "f"}, "matchExpressions": [{"key": "beta", "operator": "Exists"}]}, "app=f,beta"),
        ({"matchExpressions": [{"key": "legacy", "operator": "DoesNotExist"}]}, "!legacy"),
    ],
)
def test_label_selector(selector, expected):
    assert label_selector({"spec": {"selector": selector}}) == expected


def test_label_selector_empty():
    with pytest.raises(RolloutGateError, match="has an empty spec.selector"):
        label_selector({"metadata": {"name": "x"}, "spec": {"selector": {}}})
