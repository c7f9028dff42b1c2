#!/usr/bin/env bash
# Installs the npm `s3rver` S3 server used by the artifact tests into
# tests/artifacts/s3rver/node_modules (pinned by its package-lock.json).
# Idempotent and quick when already installed. Called by install-deps.sh
# (default mode) and by the s3rver test itself when it is missing.
set -euo pipefail
dir="$(cd "$(dirname "$0")/../tests/artifacts/s3rver" && pwd)"
if [ -x "$dir/node_modules/.bin/s3rver" ]; then
  echo "install-s3rver: present in tests/artifacts/s3rver"
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "install-s3rver: npm not found (run scripts/install-deps.sh)" >&2; exit 1; }
echo "install-s3rver: npm ci in tests/artifacts/s3rver"
# install into a temp copy, then move into place: concurrent runs never
# see a half-installed tree
tmp=$(mktemp -d "$dir/.install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$dir/package.json" "$dir/package-lock.json" "$tmp/"
(cd "$tmp" && npm ci --no-audit --no-fund --loglevel=error)
mv -T "$tmp/node_modules" "$dir/node_modules" 2>/dev/null || [ -x "$dir/node_modules/.bin/s3rver" ]
echo "install-s3rver: done"
