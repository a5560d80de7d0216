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
    C(pnpm-workspace.yaml), C(pnpm-lock.yaml)) and fails with one message saying which file and setting,
    what was expected, what was found and what to do, before anything is built. It fails when
  - the workspace is missing, or O(service) is neither the name nor the directory of one of its
    packages (packages are found with the globs of C(pnpm-workspace.yaml), C(**) included);
  - the pinned pnpm and the lockfile disagree (pnpm 8 writes C(lockfileVersion) C('6.0'), pnpm 9 and
    later C('9.0')), or pnpm is older than 8;
  - a C(catalog:) or C(catalog:<name>) dependency has no entry in the catalogs of C(pnpm-workspace.yaml)
    (or the pinned pnpm is older than 9.5, which has no catalogs);
  - the lockfile is out of date with a C(package.json) (a dependency range that differs from the
    specifier recorded in the lockfile's C(importers), or a dependency only one of them has), with the
    catalogs (an entry's range differs from the lockfile's C(catalogs)), or with the settings pnpm
    records in it (C(autoInstallPeers), C(excludeLinksFromLockfile), C(injectWorkspacePackages));
  - >-
    pnpm 10 or 11 is pinned without C(injectWorkspacePackages: true) (or C(forceLegacyDeploy: true)) in
    C(pnpm-workspace.yaml) (or C(.npmrc) for pnpm 10): C(pnpm deploy) would stop with
    C(ERR_PNPM_DEPLOY_NONINJECTED_WORKSPACE);
  - >-
    the settings that choose which dependencies may run build scripts would not be honoured: pnpm 11
    and later read only C(allowBuilds) (not C(onlyBuiltDependencies) / C(neverBuiltDependencies)), and
    a C(pnpm) field of a C(package.json) other than the root's has no effect;
  - a file the install reads (C(patchedDependencies), C(pnpmfile), C(onlyBuiltDependenciesFile)) is missing;
  - with O(check_imports), the service's sources (C(src/), tests and type-only imports left out) import
    a package that its C(package.json) has only in C(devDependencies);
  - with O(node_bases), no configured base satisfies the Node version the service declares.
  - Returns facts about the service for the image build, among them its production dependencies (the
    keys of its C(dependencies)), which the image verification then resolves inside the built image,
    its start command, its module type and the Node version it declares, and with O(node_bases) the
    chosen base images.
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
    description:
      - The workspace package the image is built for, by name (the C(name) in its C(package.json)) or by
        directory relative to the workspace root (C(apps/api) or C(./apps/api)). RV(service.name) and
        RV(service.dir) return both.
    type: str
    required: true
  check_lockfile:
    description: Fail when C(pnpm-lock.yaml) is out of date with a C(package.json) of the workspace.
    type: bool
    default: true
  check_imports:
    description:
      - Fail when a source file under the service's C(src/) (C(.ts), C(.tsx), C(.mts), C(.cts), C(.js),
        C(.jsx), C(.mjs), C(.cjs); test and spec files, C(test)/C(__tests__) directories and C(.d.ts) files
        left out) imports a package at run time (C(import ... from), C(import 'x'), C(export ... from),
        C(require('x')), C(import('x'))) that the service's C(package.json) has in C(devDependencies) but
        not in C(dependencies), C(peerDependencies) or C(optionalDependencies). C(import type) and imports
        of types only do not count; relative paths and Node's builtins are never packages.
      - A static check of the source text; an import used only for types but not written as such is
        reported too.
    type: bool
    default: false
  node_bases:
    description:
      - >-
        Base images per Node major, C({major: {runtime: image, builder: image}}). When given, the module
        chooses the highest major some released version of which satisfies every Node version the service
        declares (C(engines.node) of its C(package.json), else of the root C(package.json); and the first of
        C(.nvmrc) and C(.node-version) in its directory, else the root), and returns it as RV(node_base);
        with no declaration, the highest major. No fitting major is an error naming the ranges, their files
        and the majors there are.
      - Ranges are npm semver ranges (C(>=22), C(^20.11), C(20.x), C(>=18 <23), C(20 || 22), C(~20.11),
        hyphen ranges, exact versions). C(lts/<name>) in a version file stands for that LTS line; C(node)
        and C(lts/*) for any version.
    type: dict
    default: {}
  builder_env:
    description:
      - Environment variables the role sets in the builder stage only. Names must be environment variable
        names; values single-line strings, numbers or booleans. Returned as RV(builder_env) with string values.
    type: dict
    default: {}
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

- name: Check a service given by its directory, its sources' imports, and choose its Node base
  vextrus.deploy.image_build_context:
    path: /srv/checkout/shop
    service: ./apps/api
    check_imports: true
    node_bases:
      22: {runtime: "node:22-alpine", builder: "node:22-alpine"}
      24: {runtime: "node:24-alpine", builder: "node:24-alpine"}
    builder_env:
      DO_NOT_TRACK: "1"
  register: api
# api.service.name is the package name, api.node_base.runtime the chosen runtime image

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
pnpm_major:
  description: The major version of RV(pnpm_version).
  returned: always
  type: int
  sample: 10
lockfile_version:
  description: The C(lockfileVersion) of C(pnpm-lock.yaml), which agrees with RV(pnpm_major).
  returned: always
  type: str
  sample: "9.0"
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
    selected_by:
      description: How O(service) named the package, C(name) or C(path).
      type: str
      sample: path
    module_type:
      description: C(esm) when the C(type) of its C(package.json) is C(module), else C(commonjs).
      type: str
    start_command:
      description:
        - The command that starts the service in its deployed folder (exec form), from the workspace,
          C([node, <main>]) when C(package.json) has C(main), else a C(start) or C(start:prod) script of
          the form C(node [options] <file> [arguments]), else C([node, dist/main.js]).
      type: list
      elements: str
      sample: ["node", "dist/main.js"]
    start_command_source:
      description: Where RV(service.start_command) came from, e.g. C(services/finance/package.json "main"), or C(default).
      type: str
    engines_node:
      description: The C(engines.node) range of its C(package.json), else of the root C(package.json); empty when neither has one.
      type: str
      sample: ">=20.11"
    engines_node_source:
      description: The file RV(service.engines_node) came from, relative to the workspace root; empty without one.
      type: str
    node_version_file:
      description: The range the first of C(.nvmrc) and C(.node-version) in its directory, else the root, stands for; empty without one.
      type: str
      sample: "22"
    node_version_file_source:
      description: That file, relative to the workspace root; empty without one.
      type: str
node_base:
  description:
    - The base chosen from O(node_bases) for the service's Node version; empty when O(node_bases) is empty.
  returned: always
  type: dict
  contains:
    major:
      description: The Node major.
      type: int
    runtime:
      description: The runtime base image of that major.
      type: str
    builder:
      description: The builder base image of that major.
      type: str
    reason:
      description: Why this major, naming the ranges and their files.
      type: str
  sample: {"major": 24, "runtime": "node:24-alpine", "builder": "node:24-alpine",
           "reason": "highest configured major satisfying engines.node '>=20.11' (services/finance/package.json)"}
install_files:
  description:
    - The files besides the C(package.json) files that C(pnpm install) reads, relative to the root, that is
      C(pnpm-lock.yaml), C(pnpm-workspace.yaml), and when present C(.npmrc), C(.pnpmfile.cjs),
      C(.pnpmfile.mjs), the C(pnpmfile) setting's file, the patch files of C(patchedDependencies) and an
      C(onlyBuiltDependenciesFile).
  returned: always
  type: list
  elements: str
dependency_builds:
  description: Which dependencies may run build scripts in the install, as the workspace sets it.
  returned: always
  type: dict
  contains:
    source:
      description: C(pnpm-workspace.yaml), C(package.json "pnpm" field), or empty when nothing is set.
      type: str
    only_built:
      description: C(onlyBuiltDependencies); null when unset (pnpm 10 then runs no dependency build script, pnpm 8 and 9 all).
      type: list
      elements: str
    never_built:
      description: C(neverBuiltDependencies).
      type: list
      elements: str
    allow_builds:
      description: C(allowBuilds) (pnpm 11 and later), package to true or false.
      type: dict
builder_env:
  description: O(builder_env), checked, with string values.
  returned: always
  type: dict
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
    builder_environment,
    check_catalogs,
    check_deploy,
    check_dev_only_imports,
    check_lockfile,
    check_lockfile_version,
    choose_node_base,
    content_digest,
    content_tag,
    context_files,
    dependency_builds,
    inspect_workspace,
    install_files,
    parse_dockerignore,
    stage,
    staged_dockerignore,
)

ARGUMENT_SPEC = {
    "path": {"type": "path", "required": True},
    "service": {"type": "str", "required": True},
    "check_lockfile": {"type": "bool", "default": True},
    "check_imports": {"type": "bool", "default": False},
    "node_bases": {"type": "dict", "default": {}},
    "builder_env": {"type": "dict", "default": {}},
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
    lockfile_version = check_lockfile_version(workspace)
    check_catalogs(workspace)
    check_deploy(workspace)
    if params["check_lockfile"]:
        check_lockfile(workspace)
    builds = dependency_builds(workspace)
    files = install_files(workspace)
    if params["check_imports"]:
        check_dev_only_imports(workspace, service["name"])
    env = builder_environment(params["builder_env"])
    node_base = (
        choose_node_base(workspace.node_constraints(service["dir"]), params["node_bases"], root=workspace.root)
        if params["node_bases"]
        else {}
    )
    result = {
        "changed": False,
        "pnpm_version": workspace.pnpm_version,
        "pnpm_major": workspace.pnpm_major,
        "lockfile_version": lockfile_version,
        "packages": dict(workspace.packages),
        "service": service,
        "node_base": node_base,
        "install_files": files,
        "dependency_builds": builds,
        "builder_env": env,
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
