# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
"""

    # a gate only observes; use together with the standard fragment
    GATE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state. In check mode it evaluates once and does not wait.
  diff_mode:
    support: none
"""
