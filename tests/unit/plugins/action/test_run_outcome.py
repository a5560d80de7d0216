"""run_outcome: the task result of each verdict class, and what ansible-playbook makes of it."""

from types import SimpleNamespace

import pytest

from ansible_collections.vextrus.deploy.plugins.action.run_outcome import ActionModule, outcome


@pytest.mark.parametrize(
    ("verdict", "msg", "failed", "unreachable"),
    [
        ("PASS", "Week 2 PASSED", False, False),
        ("FAIL", "Week 2 FAILED: finance-canary: CrashLoopBackOff", True, False),
        ("ERROR", "Week 2 ERROR: Namespace, service account, deployer rights and secrets: forbidden", False, True),
    ],
)
def test_outcome_of_each_class(verdict, msg, failed, unreachable):
    result = outcome(verdict, msg)
    assert result["verdict"] == verdict
    assert result["msg"] == msg
    assert bool(result.get("failed")) is failed
    assert bool(result.get("unreachable")) is unreachable
    assert result["changed"] is False


@pytest.mark.parametrize("verdict", ["pass", "FAILED", None, "", 2])
def test_an_unknown_verdict_fails_naming_it(verdict):
    result = outcome(verdict, "the reason")
    assert result["failed"] is True
    assert "unreachable" not in result
    assert repr(verdict) in result["msg"]
    assert "the reason" in result["msg"]


def test_message_defaults_to_the_verdict():
    assert outcome("PASS", None)["msg"] == "verdict PASS"
    assert outcome("ERROR", "")["msg"] == "verdict ERROR"


@pytest.mark.parametrize(("verdict", "key"), [("FAIL", "failed"), ("ERROR", "unreachable"), ("PASS", "verdict")])
def test_action_plugin_returns_the_outcome(verdict, key):
    task = SimpleNamespace(args={"verdict": verdict, "msg": "why"}, async_val=0, check_mode=False,
                           action="vextrus.deploy.run_outcome", delegate_to=None, environment=None,
                           become=False, become_user=None, become_method=None)
    action = ActionModule(task, connection=SimpleNamespace(_shell=SimpleNamespace(tmpdir="/tmp"), become=None), play_context=SimpleNamespace(
        check_mode=False, diff=False), loader=None, templar=None, shared_loader_obj=None)
    result = action.run(task_vars={})
    assert result[key] is True or (key == "verdict" and not result.get("failed") and not result.get("unreachable"))
    assert result["_ansible_verbose_always"] is True
    # one line and a line break: shown as a block, the line never folded
    assert result["msg"] == "why\n"
    assert result["verdict"] == verdict
