"""Loading the collection's filter files imports none of its module_utils (plugins/filter/README.md):
ansible-core loads every filter file of the collection to find any one filter, in each task's worker,
so a module_utils import at load time would cost every task that uses any vextrus.deploy filter."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import COLLECTIONS, ROOT

FILTERS = sorted((ROOT / "plugins" / "filter").glob("*.py"))
MODULE_UTILS = "ansible_collections.vextrus.deploy.plugins.module_utils"

# Loads each filter file the way ansible-core's plugin loader does (by path), asks it for its filters,
# and prints which of the collection's module_utils were imported by then.
_LOAD = """
import importlib.util, json, sys
sys.path.insert(0, sys.argv[1])
names = {}
for path in sys.argv[2:]:
    name = "ansible_collections.vextrus.deploy.plugins.filter." + path.rsplit("/", 1)[1][:-3]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    names[name] = sorted(module.FilterModule().filters())
print(json.dumps({"filters": names, "module_utils": sorted(m for m in sys.modules if m.startswith(%r + "."))}))
""" % MODULE_UTILS


def _load(*paths: Path) -> dict:
    answer = subprocess.run(
        [sys.executable, "-c", _LOAD, str(COLLECTIONS), *map(str, paths)], capture_output=True, text=True, check=True
    )
    return json.loads(answer.stdout)


def test_loading_every_filter_file_imports_no_module_utils():
    loaded = _load(*FILTERS)
    assert len(loaded["filters"]) == len(FILTERS) >= 10
    assert all(loaded["filters"].values())
    assert loaded["module_utils"] == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from ansible_collections.vextrus.deploy.plugins.module_utils.redact import redact_value\n",
         [f"{MODULE_UTILS}.redact"]),
        ("def later():\n    from ansible_collections.vextrus.deploy.plugins.module_utils.redact import redact_value\n", []),
    ],
    ids=["import-at-load", "import-in-function"],
)
def test_the_check_sees_an_import_at_load_time(tmp_path, source, expected):
    probe = tmp_path / "probe.py"
    probe.write_text(source + "class FilterModule:\n    def filters(self):\n        return {'probe': print}\n")
    assert _load(probe)["module_utils"] == expected
