#!/usr/bin/python
# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module run_outcome: documentation only, the action plugin plugins/action/run_outcome.py does the work."""

from __future__ import annotations

DOCUMENTATION = r"""
module: run_outcome
short_description: End a play with the exit code of a run's verdict class
version_added: 0.2.0
author: Vextrus Platform Engineering (@vextrus)
description:
  - The last task of the rollout chain's playbooks. It turns the run's verdict class into the result
    C(ansible-playbook) exits with, C(ansible-playbook) having only two codes for a play that did not
    succeed.
  - C(PASS) - the task is ok, C(ansible-playbook) exits 0.
  - C(FAIL) (the release is at fault) - the task fails, C(ansible-playbook) exits 2.
  - C(ERROR) (the environment or the configuration is at fault) - the host is reported unreachable with
    O(msg), C(ansible-playbook) exits 4. Later tasks and plays do not run for the host.
  - Any other verdict fails the task with a message naming what was given.
  - Runs on the controller; it needs no connection to the host.
extends_documentation_fragment:
  - vextrus.deploy.attributes
attributes:
  check_mode:
    support: full
    details: It changes nothing, so it ends a play in check mode the same way.
  diff_mode:
    support: none
options:
  verdict:
    description: The verdict class of the run.
    type: str
    required: true
    choices: [PASS, FAIL, ERROR]
  msg:
    description: The message of the last line; for C(FAIL) and C(ERROR) the reason.
    type: str
notes:
  - AWX and ansible-runner report the job C(failed) for both C(FAIL) and C(ERROR); the class is in the
    job's last lines (the message) and in the run's report.
seealso:
  - module: ansible.builtin.fail
"""

EXAMPLES = r"""
- name: End the run with its verdict
  vextrus.deploy.run_outcome:
    verdict: "{{ verdict.verdict }}"
    msg: "Week 2 {{ verdict.verdict }}: {{ verdict.reason }}"

- name: A configuration problem ends the play with exit code 4
  vextrus.deploy.run_outcome:
    verdict: ERROR
    msg: "{{ ansible_failed_task.name }}: {{ ansible_failed_result.msg }}"
"""

RETURN = r"""
verdict:
  description: The verdict class the play ended with (C(ERROR) when the verdict given was not one of the choices).
  returned: always
  type: str
  sample: FAIL
msg:
  description: The message.
  returned: always
  type: str
  sample: "Week 2 FAILED: finance-canary: container api CrashLoopBackOff"
"""
