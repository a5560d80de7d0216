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

    # a module that takes kubernetes.core's connection options at the top level (meta/runtime.yml)
    K8S_GROUP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/vextrus.deploy.k8s) in C(module_defaults) to set the connection options
      (O(kubeconfig), O(context), ...) once for every module of the group.
    support: full
    membership:
      - vextrus.deploy.k8s
"""
