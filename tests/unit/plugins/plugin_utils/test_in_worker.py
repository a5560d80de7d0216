"""in_worker: when a module may run in the task's worker process, and what its main() returns there."""

import json
import sys
import types

import pytest

from ansible.module_utils import basic
from ansible_collections.vextrus.deploy.plugins.plugin_utils.in_worker import _same_python, run_main, why_not_in_worker

GOOD = {
    "transport": "local",
    "interpreter": sys.executable,
    "become": False,
    "async_val": 0,
    "delegate_to": None,
    "environment": [],
    "switch": None,
    "hook": True,
}


def test_the_controller_itself_runs_it_in_the_worker():
    assert why_not_in_worker(**GOOD) is None
    assert why_not_in_worker(**{**GOOD, "switch": True, "environment": [{}]}) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"hook": False}, "no AnsibleModule result hook"),
        ({"switch": False}, "vextrus_deploy_run_in_worker is false"),
        ({"switch": "false"}, "vextrus_deploy_run_in_worker is false"),
        ({"transport": "ssh"}, "the connection is ssh, not local"),
        ({"interpreter": "/usr/bin/python3-other"}, "is not the controller's"),
        ({"interpreter": None}, "(discovered) is not the controller's"),
        ({"interpreter": "python3"}, "is not the controller's"),
        ({"become": True}, "become"),
        ({"async_val": 60}, "async"),
        ({"delegate_to": "bastion"}, "delegated"),
        ({"environment": [{"HTTPS_PROXY": "http://proxy:3128"}]}, "environment"),
    ],
)
def test_anything_else_runs_as_a_module(change, reason):
    assert reason in why_not_in_worker(**{**GOOD, **change})


def test_same_python_is_the_same_file_in_the_same_directory(tmp_path):
    venv, other = tmp_path / "venv" / "bin", tmp_path / "other" / "bin"
    venv.mkdir(parents=True)
    other.mkdir(parents=True)
    (venv / "python3").symlink_to(sys.executable)
    (venv / "python").symlink_to(venv / "python3")
    (other / "python3").symlink_to(sys.executable)
    assert _same_python(str(venv / "python"), str(venv / "python3"))
    # another virtualenv on the same base Python: other packages
    assert not _same_python(str(other / "python3"), str(venv / "python3"))
    assert not _same_python(str(venv / "missing"), str(venv / "python3"))


def _module(main):
    module = types.ModuleType("fake_module")
    module.main = main
    return module


def _spec_module(body):
    def main():
        module = basic.AnsibleModule(
            argument_spec={"name": {"type": "str", "required": True}, "token": {"type": "str", "no_log": True}},
            supports_check_mode=True,
        )
        body(module)

    return _module(main)


ARGS = {"name": "finance", "token": "s3cr3t-value", "_ansible_check_mode": True, "_ansible_diff": False}


def test_main_gets_the_arguments_and_check_mode_and_its_result_comes_back_masked():
    module = _spec_module(
        lambda m: m.exit_json(changed=False, name=m.params["name"], check=m.check_mode, echo="token " + m.params["token"])
    )
    output, _stdout, _stderr = run_main(module, dict(ARGS))
    result = json.loads(output)
    assert result["name"] == "finance"
    assert result["check"] is True
    assert "s3cr3t-value" not in output
    assert result["invocation"]["module_args"]["token"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_fail_json_comes_back_as_a_failure_with_its_message():
    module = _spec_module(lambda m: m.fail_json(msg="cannot read ConfigMap ns/x: 403 Forbidden"))
    result = json.loads(run_main(module, dict(ARGS))[0])
    assert result["failed"] is True
    assert result["msg"] == "cannot read ConfigMap ns/x: 403 Forbidden"


def test_bad_arguments_fail_as_in_a_module():
    module = _spec_module(lambda m: m.exit_json(changed=False))
    result = json.loads(run_main(module, {"token": "x"})[0])
    assert result["failed"] is True
    assert "missing required arguments: name" in result["msg"]


def test_a_main_without_a_result_returns_none_and_its_output():
    def main():
        print("no JSON here")

    output, stdout, _stderr = run_main(_module(main), {})
    assert output is None
    assert "no JSON here" in stdout


def test_an_exception_is_raised_and_the_module_globals_are_restored():
    before = basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, basic.AnsibleModule._record_module_result

    def main():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_main(_module(main), {})
    assert (basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, basic.AnsibleModule._record_module_result) == before
