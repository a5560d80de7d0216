# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load what the chain's templates need in the controller's main process, before the workers are
forked.

Ansible forks one worker process per task, and a worker that renders a template builds the Jinja
lexer and loads the filter, test and lookup plugins the template names: it lists and wraps every
``ansible.builtin`` filter and test, and it executes every filter file of this collection when one
of its filters is named. What a worker loads is lost when it exits, so a week did that over a
hundred times. Loaded once in the main process, every fork inherits them (``sys.modules``, the
loaders' caches and the environment's lexer cache). Nothing changes but when they load: the same
loaders find the same plugins, and a plugin that fails to load here fails again, with its message,
in the task that uses it.

``in_worker`` calls :func:`load_before_forks` when the strategy first loads one of the
collection's action plugins, which happens in the main process at the first API task of a play.
"""

from __future__ import annotations

from ansible.plugins.loader import filter_loader, lookup_loader, test_loader
from ansible.template import Templar, trust_as_template
from ansible.utils.display import Display

COLLECTION = "vextrus.deploy"
# one filter of the collection: naming one loads every filter file of the collection
COLLECTION_FILTER = f"{COLLECTION}.run_plan"
# the lookups the chain's roles and playbooks use
LOOKUPS = ("ansible.builtin.env", "ansible.builtin.pipe", "ansible.builtin.file", "ansible.builtin.template",
           f"{COLLECTION}.vault_file")

_loaded: list[str] = []


def load_before_forks() -> list[str]:
    """Build the default Jinja lexer and load the builtin filters and tests, the collection's filters
    and the chain's lookups into this process (once); returns what it loaded. What cannot be loaded
    is skipped."""
    if _loaded:
        return list(_loaded)
    try:
        Templar().template(trust_as_template("{{ 0 }}"))  # the lexer is cached per environment settings
        _loaded.append("lexer")
    except Exception as exc:  # as below
        Display().vvvv(f"{COLLECTION}: the Jinja lexer not built ahead of the workers: {exc}")
    wanted = [
        (filter_loader, "ansible.builtin.to_json"),  # every builtin filter is wrapped on the first lookup
        (test_loader, "ansible.builtin.success"),  # every builtin test, likewise
        (filter_loader, COLLECTION_FILTER),
        *((lookup_loader, name) for name in LOOKUPS),
    ]
    for loader, name in wanted:
        try:
            found = loader.get(name) is not None
        except Exception as exc:  # the task that uses it reports it; loading ahead must never fail a run
            Display().vvvv(f"{COLLECTION}: {name} not loaded ahead of the workers: {exc}")
            continue
        if found:
            _loaded.append(name)
    return list(_loaded)
