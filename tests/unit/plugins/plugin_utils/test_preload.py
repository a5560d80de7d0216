"""preload: what the main process loads before the workers are forked, so that a worker rendering the
chain's templates loads nothing more. Each case runs in a new Python: the plugin loaders are global."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
COLLECTIONS = ROOT / ".local" / "collections"
FILTER_FILES = sorted(p.stem for p in (ROOT / "plugins" / "filter").glob("*.py"))

# a template naming a builtin filter and test, a filter of the collection and a lookup, as the roles' do
TEMPLATE = (
    "{{ [1] | to_json }} {{ 'a' is match('a') }} {{ 'a secret-value' | vextrus.deploy.redact(['secret-value']) }} "
    "{{ lookup('ansible.builtin.env', 'PRELOAD_TEST') }}"
)

SCRIPT = """
import json, os, sys
sys.path.insert(0, {collections!r})
from ansible.plugins.loader import init_plugin_loader
init_plugin_loader([{collections!r}])
from ansible.template import Templar, trust_as_template
from ansible_collections.vextrus.deploy.plugins.plugin_utils import preload
preload.LOOKUPS = tuple(preload.LOOKUPS) + tuple({extra_lookups!r})

def plugin_modules():
    # the plugin files (a filter's logic in module_utils is imported when the filter is called, by design)
    return {{name for name in sys.modules
             if any(kind in name for kind in (".plugins.filter", ".plugins.test", ".plugins.lookup"))}}

loaded, again = ([], [])
if {preload!r}:
    loaded = preload.load_before_forks()
    again = preload.load_before_forks()
before = plugin_modules()
os.environ["PRELOAD_TEST"] = "from the environment"
rendered = Templar().template(trust_as_template({template!r}))
print(json.dumps({{"loaded": loaded, "again": again, "before": sorted(before),
                   "loaded_by_template": sorted(plugin_modules() - before), "rendered": rendered}}))
"""


def _run(preload: bool, extra_lookups: tuple[str, ...] = ()) -> dict:
    code = SCRIPT.format(collections=str(COLLECTIONS), extra_lookups=extra_lookups, preload=preload, template=TEMPLATE)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_template_renders_without_loading_a_plugin_after_the_preload():
    result = _run(preload=True)
    assert result["rendered"] == '[1] True a ******** from the environment'
    assert result["loaded_by_template"] == []
    assert result["loaded"][0] == "lexer"
    assert {"ansible.builtin.to_json", "ansible.builtin.success", "vextrus.deploy.run_plan", "ansible.builtin.env"} <= set(result["loaded"])
    assert result["again"] == result["loaded"]
    collection_filters = {name.rsplit(".", 1)[1] for name in result["before"] if name.startswith("ansible_collections.vextrus.deploy.plugins.filter.")}
    assert collection_filters == set(FILTER_FILES)


def test_without_the_preload_the_same_template_loads_them():
    # the other side of the case above: what the preload spares each worker
    result = _run(preload=False)
    assert result["rendered"] == '[1] True a ******** from the environment'
    loaded = result["loaded_by_template"]
    assert any(name.startswith("ansible_collections.vextrus.deploy.plugins.filter.redact") for name in loaded)
    assert any(name.startswith("ansible.plugins.filter.core") for name in loaded)
    assert any(name.startswith("ansible.plugins.test.core") for name in loaded)
    assert "ansible_collections.ansible.builtin.plugins.lookup.env" in loaded


@pytest.mark.parametrize("missing", ["nosuch.collection.lookup", "ansible.builtin.nosuchlookup"])
def test_a_plugin_that_cannot_be_loaded_is_skipped(missing):
    result = _run(preload=True, extra_lookups=(missing,))
    assert missing not in result["loaded"]
    assert "ansible.builtin.env" in result["loaded"]
    assert result["loaded_by_template"] == []
