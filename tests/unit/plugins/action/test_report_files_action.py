"""report_files: the action writes both files of a report in one step, nothing in check mode."""

import os
import stat
from types import SimpleNamespace

import pytest

from ansible_collections.vextrus.deploy.plugins.action.report_files import ActionModule


def run_action(args: dict, check_mode: bool = False) -> dict:
    task = SimpleNamespace(args=args, async_val=0, check_mode=check_mode, action="vextrus.deploy.report_files",
                           delegate_to=None, environment=None, become=False, become_user=None, become_method=None)
    action = ActionModule(task, connection=SimpleNamespace(_shell=SimpleNamespace(tmpdir="/tmp"), become=None),
                          play_context=SimpleNamespace(check_mode=check_mode, diff=False), loader=None, templar=None,
                          shared_loader_obj=None)
    return action.run(task_vars={})


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check-mode"])
def test_writes_both_files_unless_in_check_mode(tmp_path, check_mode):
    directory = tmp_path / "reports"
    result = run_action({"dir": str(directory), "stem": "local-week2-20261203T101500Z",
                         "files": {"json": "{}\n", "md": "# report\n"}}, check_mode)
    assert result["changed"] is False and not result.get("failed"), result
    assert result["paths"] == {"json": f"{directory}/local-week2-20261203T101500Z.json",
                               "md": f"{directory}/local-week2-20261203T101500Z.md"}
    if check_mode:
        assert not directory.exists() and result["msg"] == "report not written in check mode"
    else:
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
        assert [stat.S_IMODE(os.stat(p).st_mode) for p in result["paths"].values()] == [0o600, 0o600]
        assert open(result["paths"]["md"], encoding="utf-8").read() == "# report\n"


def test_a_bad_stem_fails_naming_it(tmp_path):
    result = run_action({"dir": str(tmp_path), "stem": "../escape", "files": {"json": "{}"}})
    assert result["failed"] is True and "'../escape'" in result["msg"]
    assert list(tmp_path.iterdir()) == []
