#!/usr/bin/env bash
# Prints the state of the localcluster infrastructure; exit 0 when all is up.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "${here}/lib.sh"
rc=0
bash "${here}/docker.sh" status || rc=1
bash "${here}/registry.sh" status || rc=1
if ((rc == 0)); then
  # the Node bases base-image.sh makes (the same VEXTRUS_NODE_BASES, "major:suite" pairs)
  refs=()
  read -r -a node_bases <<<"${VEXTRUS_NODE_BASES:-20:${VEXTRUS_BASE_SUITE:-trixie} 24:forky}"
  for pair in "${node_bases[@]}"; do
    refs+=("${REGISTRY_ADDR}/vextrus/node-runtime:${pair%%:*}" "${REGISTRY_ADDR}/vextrus/node-build:${pair%%:*}")
  done
  for ref in "${refs[@]}" "${REGISTRY_ADDR}/localcluster/pause:3.10"; do
    repo=${ref#"${REGISTRY_ADDR}"/}
    digest=$(curl -sfI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
      "http://${REGISTRY_ADDR}/v2/${repo%:*}/manifests/${repo##*:}" 2>/dev/null |
      tr -d '\r' | awk -F': ' 'tolower($1) == "docker-content-digest" { print $2 }')
    if [[ -n $digest ]]; then
      echo "image: ${ref} ${digest}"
    else
      echo "image: ${ref} missing from the registry"
      rc=1
    fi
  done
fi
exit "$rc"
