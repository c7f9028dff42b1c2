#!/usr/bin/env bash
# Stage-1 `kinfer demo`: in-process broker, random jobs produced and consumed
# back, byte-exact, in both framings.
set -euo pipefail
bin=${KINFER_BIN:?}
for codec in raw confluent; do
  out=$("$bin" demo --jobs 300 --partitions 3 --codec "$codec")
  grep -q "consumed    300 jobs back" <<<"$out" || { echo "$out"; exit 1; }
  grep -q "every tensor byte-identical" <<<"$out" || { echo "$out"; exit 1; }
done
set +e
"$bin" demo --jobs 0 2>/dev/null; rc=$?
set -e
[ $rc -eq 2 ] || { echo "--jobs 0 exited $rc, want 2"; exit 1; }
# more jobs than the mock keeps in the asked partitions: refused up front,
# not silently trimmed
set +e
err=$("$bin" demo --jobs 20000 --partitions 2 2>&1 >/dev/null); rc=$?
set -e
[ $rc -eq 2 ] && grep -q -- "--partitions >= 16" <<<"$err" || { echo "rc $rc: $err"; exit 1; }
echo "demo stage 1: ok"
