#!/usr/bin/python
# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: image_build_context
short_description: Check a pnpm workspace and stage the build context of one of its packages
version_added: 0.1.0
author:
  - Vextrus Platform Engineering (@vextrus)
description:
  - Reads the pnpm workspace at O(path) (C(package.json) with a pinned C(packageManager),
    C(pnpm-workspace.yaml), C(pnpm-lock.yaml)) and fails with one message saying what was expected,
    what was found and what to do when the workspace is missing, O(service) is not one of its packages,
    or the lockfile is out of date with a C(package.json) (a dependency range that differs from the
    specifier recorded in the lockfile's C(importers), or a dependency only one of them has).
  - Returns the service's production dependencies (the keys of its C(dependencies)), which the image
    verification then resolves inside the built image.
  - With O(dest), mirrors the files Docker would send from the workspace (the patterns of
    O(dockerignore) applied) into O(dest), adds O(dockerfile) as C(.image_build.Dockerfile) and the
    patterns as C(.dockerignore), removes anything else there, and returns a content digest of the
    staged files, the Dockerfile, the patterns and O(extra_inputs). Modification times do not count,
    so the digest is stable across runs and checkouts; RV(content_tag) is derived from it.
  - The task reports a change when staging wrote or removed files in O(dest).
extends_documentation_fragment:
  - vextrus.deploy.attributes
attributes:
  check_mode:
    support: full
    details:
      - In check mode nothing is written to O(dest); the task reports whether staging would change it.
  diff_mode:
    support: none
options:
  path:
    description: Root of the pnpm workspace.
    type: path
    required: true
  service:
    description: Name (the C(name) in its C(package.json)) of the workspace package the image is built for.
    type: str
    required: true
  check_lockfile:
    description: Fail when C(pnpm-lock.yaml) is out of date with a C(package.json) of the workspace.
    type: bool
    default: true
  dest:
    description:
      - Directory to stage the build context in. Its content is managed by this module; anything not
        part of the context is removed. Omit to only inspect the workspace.
    type: path
  dockerfile:
    description: The Dockerfile to stage; required with O(dest).
    type: path
  dockerignore:
    description: A file with C(.dockerignore) patterns selecting the context; required with O(dest).
    type: path
  extra_inputs:
    description:
      - Further build inputs folded into the content digest, such as base image IDs and build arguments.
    type: dict
    default: {}
  tag_length:
    description: Number of hex digits of the digest in RV(content_tag).
    type: int
    default: 16
requirements:
  - "python >= 3.11"
  - PyYAML
seealso:
  - module: vextrus.deploy.image_verify
"""

EXAMPLES = r"""
- name: Check the workspace
  vextrus.deploy.image_build_context:
    path: "{{ playbook_dir }}/../examples/finance-service"
    service: finance
  register: workspace

- name: Stage the build context
  vextrus.deploy.image_build_context:
    path: "{{ playbook_dir }}/../examples/finance-service"
    service: finance
    dest: /var/cache/image_build/finance/context
    dockerfile: /var/cache/image_build/finance/Dockerfile
    dockerignore: /var/cache/image_build/finance/dockerignore
    extra_inputs:
      base_image: sha256:0123abcd
  register: context
"""

RETURN = r"""
pnpm_version:
  description: The pnpm version pinned by C(packageManager) in the workspace's root C(package.json).
  returned: always
  type: str
  sample: 10.34.8
packages:
  description: Workspace packages, name to directory relative to the root.
  returned: always
  type: dict
  sample: {"finance": "services/finance", "@vextrus/money": "packages/money"}
service:
  description: The service package.
  returned: always
  type: dict
  contains:
    name:
      description: Package name.
      type: str
    dir:
      description: Directory relative to the workspace root.
      type: str
    version:
      description: The C(version) of its C(package.json).
      type: str
    dependencies:
      description: Names of its production dependencies.
      type: list
      elements: str
    dev_dependencies:
      description: Names of its devDependencies.
      type: list
      elements: str
    workspace_dependencies:
      description: Production dependencies that are workspace packages (C(workspace:) ranges).
      type: list
      elements: str
staged:
  description: What was staged in O(dest).
  returned: when O(dest) is set
  type: dict
  contains:
    dest:
      description: The staging directory (the build context).
      type: str
    dockerfile:
      description: Name of the staged Dockerfile, relative to O(dest).
      type: str
    files:
      description: Number of files in the context.
      type: int
    updated:
      description: Files written or changed.
      type: int
    removed:
      description: Files removed.
      type: int
content_digest:
  description: sha256 of the build inputs (hex).
  returned: when O(dest) is set
  type: str
content_tag:
  description: Image tag derived from RV(content_digest).
  returned: when O(dest) is set
  type: str
  sample: src-3f2a9c0e1b2d4e5f
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.vextrus.deploy.plugins.module_utils.image_build_context import (
    STAGED_DOCKERFILE,
    STAGED_DOCKERIGNORE,
    HAS_YAML,
    YAML_IMPORT_ERROR,
    BuildInputError,
    check_lockfile,
    content_digest,
    content_tag,
    context_files,
    inspect_workspace,
    parse_dockerignore,
    stage,
    staged_dockerignore,
)

ARGUMENT_SPEC = {
    "path": {"type": "path", "required": True},
    "service": {"type": "str", "required": True},
    "check_lockfile": {"type": "bool", "default": True},
    "dest": {"type": "path"},
    "dockerfile": {"type": "path"},
    "dockerignore": {"type": "path"},
    "extra_inputs": {"type": "dict", "default": {}},
    "tag_length": {"type": "int", "default": 16},
}


def _read_text(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise BuildInputError(f"cannot read the {what} {path}: {exc.strerror}; check the path.") from exc


def run_module(module: AnsibleModule) -> dict:
    params = module.params
    workspace = inspect_workspace(params["path"])
    service = workspace.service(params["service"])
    if params["check_lockfile"]:
        check_lockfile(workspace)
    result = {
        "changed": False,
        "pnpm_version": workspace.pnpm_version,
        "packages": dict(workspace.packages),
        "service": service,
    }
    if not params["dest"]:
        return result
    dockerfile = _read_text(params["dockerfile"], "Dockerfile")
    ignore_text = staged_dockerignore(_read_text(params["dockerignore"], "ignore file"))
    patterns = parse_dockerignore(ignore_text)
    root = Path(params["path"]).resolve()
    dest = Path(params["dest"]).resolve()
    if dest == root or root in dest.parents:
        raise BuildInputError(
            f"the staging directory {dest} lies inside the workspace {root}; it must be outside it "
            f"(set image_build_work_dir elsewhere)."
        )
    plan = context_files(root, patterns)
    counts = stage(
        root,
        dest,
        plan,
        {STAGED_DOCKERFILE: dockerfile, STAGED_DOCKERIGNORE: ignore_text},
        check_mode=module.check_mode,
    )
    digest = content_digest(plan, dockerfile, ignore_text, params["extra_inputs"])
    result.update(
        changed=bool(counts["updated"] or counts["removed"]),
        staged={"dest": str(dest), "dockerfile": STAGED_DOCKERFILE, **counts},
        content_digest=digest,
        content_tag=content_tag(digest, params["tag_length"]),
    )
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        required_by={"dest": ("dockerfile", "dockerignore")},
        supports_check_mode=True,
    )
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=YAML_IMPORT_ERROR)
    try:
        result = run_module(module)
    except BuildInputError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
