#!/usr/bin/env bash
# `kinfer --help` lists every subcommand, each subcommand answers --help with
# exit 0, and an unknown command is a usage error (exit 2).
set -euo pipefail
bin=${KINFER_BIN:?}
out=$("$bin" --help)
for c in worker produce consume broker demo bench fetch predict version; do
  grep -q "^  $c " <<<"$out" || { echo "kinfer --help does not list '$c'"; exit 1; }
done
set +e
"$bin" no-such-command 2>/dev/null; rc=$?
set -e
[ $rc -eq 2 ] || { echo "unknown command exited $rc, want 2"; exit 1; }
"$bin" version | grep -q '^kinfer ' || { echo "kinfer version printed no version"; exit 1; }
echo "cli help: ok"
