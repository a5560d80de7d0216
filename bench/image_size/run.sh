#!/usr/bin/env bash
# Image size and build time of the image_build role; see run.py. Needs the Docker engine, the
# registry and the base images (make cluster-up, or localcluster/infra/up.sh).
exec bash "$(dirname "${BASH_SOURCE[0]}")/../python.sh" image_size run.py "$@"
