#!/bin/bash
# The security-feed end-to-end test with Podman's Docker-compatible service as the engine.
exec env REFIT_TEST_ENGINE=podman bash "$(dirname "$0")/t_feeds.sh"
