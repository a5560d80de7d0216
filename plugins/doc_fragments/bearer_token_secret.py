# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Paired with BEARER_TOKEN_SECRET_ARG_SPEC in plugins/module_utils/args_common.py: the option of the modules that
# mint a bearer token themselves from a Secret (smoke_checks, analysis_gate).


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  bearer_token_secret:
    description:
      - Mint the bearer token (a JWT signed with HS256) from a key of a Kubernetes Secret, read with the
        connection options given here. The signing key and the token never appear in the task's arguments
        or result; every value of that Secret is masked.
    type: dict
    suboptions:
      namespace:
        description: Namespace of the Secret.
        type: str
        required: true
      name:
        description: Name of the Secret.
        type: str
        required: true
      key:
        description: The key of the Secret's data that holds the signing key (at least 32 characters).
        type: str
        required: true
      claims:
        description: The token's claims; C(iat) and C(exp) are added unless given.
        type: dict
        required: true
      ttl:
        description: Seconds the token is valid.
        type: int
        default: 300
      kubeconfig:
        description:
          - Path to the kubeconfig to read the Secret with, or its content as a dict; unset takes
            E(K8S_AUTH_KUBECONFIG) or the default kubeconfig, as M(kubernetes.core.k8s) does.
          - The other connection settings come from the kubeconfig or the E(K8S_AUTH_*) environment variables.
        type: raw
      context:
        description: The kubeconfig's context; unset takes E(K8S_AUTH_CONTEXT) or the current context.
        type: str
"""
