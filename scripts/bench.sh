#!/usr/bin/env bash
# Benchmarks (JSON lines). Filled in by the engine and pipeline benchmarks.
set -euo pipefail
build=${1:-build}
echo "bench.sh: no benchmarks yet in this build" >&2
"$build/kinfer" version
