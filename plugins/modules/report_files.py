#!/usr/bin/python
# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module report_files: documentation only, the action plugin plugins/action/report_files.py does the work."""

from __future__ import annotations

DOCUMENTATION = r"""
module: report_files
short_description: Write a run's report files on the controller in one step
version_added: 0.2.0
author: Vextrus Platform Engineering (@vextrus)
description:
  - Writes each of O(files) to C(<dir>/<stem>.<suffix>) on the controller, where the play runs, whatever the
    task's host is. One task and no module transfer for all the files of a report.
  - Reports quote logs and messages, so every file is written mode C(0600), through a temporary file in the
    same directory renamed into place. A directory that does not exist is created mode C(0700) (its parents
    as the umask makes them); one that exists keeps its mode.
  - Always reports C(changed=false) - a report records a run; it is not a change to what is deployed.
extends_documentation_fragment:
  - vextrus.deploy.attributes
attributes:
  check_mode:
    support: full
    details: In check mode nothing is written; the paths are returned as they would be.
  diff_mode:
    support: none
options:
  dir:
    description: Directory of the files on the controller; an absolute path.
    type: path
    required: true
  stem:
    description: File name of every file without its suffix, for example C(local-week2-20261203T101500Z).
    type: str
    required: true
  files:
    description: The content of each file (text) by its suffix (letters and digits), for example C({json, md}).
    type: dict
    required: true
notes:
  - Use C(no_log) on the task when the content is not for the output.
seealso:
  - module: ansible.builtin.copy
"""

EXAMPLES = r"""
- name: Write the JSON and Markdown reports
  vextrus.deploy.report_files:
    dir: /var/lib/rollouts/reports
    stem: "production-week2-{{ now(utc=true, fmt='%Y%m%dT%H%M%SZ') }}"
    files:
      json: "{{ report | to_nice_json }}\n"
      md: "{{ report | vextrus.deploy.rollout_report_markdown }}"
  no_log: true
  register: written
"""

RETURN = r"""
paths:
  description: The path of each file by its suffix.
  returned: success
  type: dict
  sample:
    json: /var/lib/rollouts/reports/production-week2-20261203T101500Z.json
    md: /var/lib/rollouts/reports/production-week2-20261203T101500Z.md
msg:
  description: What was done.
  returned: always
  type: str
  sample: report written
"""
