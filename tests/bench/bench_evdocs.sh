#!/bin/bash
# Evidence documents (issue 17): SBOM (SPDX + CycloneDX) + provenance + VEX +
# package changes of a 1,000-package inventory (the real package databases of
# tests/fixtures/feeds/pkgdb topped up with PyPI distributions), rendered by
# refit's code, against jansson serialising the same pre-built trees in the
# same run; then the same documents read from a real SQLite store one by one,
# as GET /v1/builds/ID/{sbom,provenance,vex} does on the loop.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
B=$BUILD/tests/bench/bench_evdocs
[ -x "$B" ] || { echo "build $B first (make bench)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$B" tests/fixtures/feeds/pkgdb "$T/state.db" 200
