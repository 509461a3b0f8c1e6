#!/bin/bash
# The Debian security tracker path (issue 7): a tracker-shaped document of
# about 90 MB, generated from the real excerpts' structure
# (tests/bench/tracker_gen.py, deterministic), streamed through feed_debian in
# 64 KiB chunks, against `jq length` on the same file in the same run: time
# and peak RSS of each.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
B=$BUILD/tests/bench/bench_tracker
[ -x "$B" ] || { echo "build $B first (make bench)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
python3 tests/bench/tracker_gen.py "$T/tracker.json" 90 >/dev/null || exit 1
"$B" "$T/tracker.json"
