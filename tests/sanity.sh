#!/usr/bin/env bash
# Run `ansible-test sanity` on the collection. ansible-test needs the collection to live at
# .../ansible_collections/vextrus/deploy, so the tracked and new (not ignored) files are copied
# into such a tree under .local/sanity first. The sanity tests' own requirements (pinned by
# ansible-test) are installed into a separate venv, .local/sanity-venv, so they cannot disturb
# the project's pinned venv.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dest="$top/.local/sanity/ansible_collections/vextrus/deploy"
rm -rf "$(dirname "$(dirname "$dest")")"
mkdir -p "$dest"
cd "$top"
# only what the collection ships: galaxy.yml's build_ignore leaves out the local cluster, the
# example service, molecule scenarios, integration tests and benchmarks
git ls-files -z --cached --others --exclude-standard \
  | "$top/.venv/bin/python" "$top/tests/collection_files.py" "$top/galaxy.yml" \
  | xargs -0 -r cp --parents -t "$dest"
# the collections this one depends on, from the pinned ansible package
bundled=$("$top/.venv/bin/python" -c 'import ansible_collections.kubernetes.core as c, os; print(os.path.dirname(os.path.dirname(list(c.__path__)[0])))')
for dep in kubernetes/core community/docker; do
  mkdir -p "$(dirname "$dest/../../$dep")"
  ln -sfn "$bundled/$dep" "$dest/../../$dep"
done
cd "$dest"
git init -q . && git add -A >/dev/null
venv="$top/.local/sanity-venv"
core=$(grep -E '^ansible-core==' "$top/requirements.txt")
# (no `pip show | grep -q` here: grep quitting early breaks pip's pipe, which pipefail takes for a mismatch)
installed=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("ansible-core"))' 2>/dev/null || true)
if [ ! -x "$venv/bin/ansible-test" ] || [ "$installed" != "${core#ansible-core==}" ]; then
  echo "== sanity venv with $core" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "$core"
fi
# ansible-test bootstraps pip in the venvs it creates with a script it downloads from its own CI
# file host, which is not a package registry. pip's bundled wheel (ensurepip) does the same job.
pip_version=$(sed -n "/^ *pip='[0-9.]*',/{s/^ *pip='\\([0-9.]*\\)',.*/\\1/p;q}" "$venv"/lib/python3.*/site-packages/ansible_test/_internal/python_requirements.py)
if [ -z "$pip_version" ]; then
  echo "ERROR: cannot find the pip version ansible-test bootstraps in its python_requirements.py" >&2
  exit 1
fi
bootstrap="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if ! cmp -s "$top/tests/sanity_get_pip.py" "$bootstrap"; then
  mkdir -p "$(dirname "$bootstrap")"
  cp "$top/tests/sanity_get_pip.py" "$bootstrap"
fi
exec "$venv/bin/ansible-test" sanity --local --requirements --python 3.11 --color no "$@"
