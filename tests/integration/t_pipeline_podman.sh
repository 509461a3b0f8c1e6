#!/bin/bash
# The end-to-end pipeline test with Podman's Docker-compatible service
# (podman system service on a private socket) as the engine instead of dockerd.
exec env REFIT_TEST_ENGINE=podman bash "$(dirname "$0")/t_pipeline.sh"
