#!/usr/bin/env bash
# Artifact download benchmark (not a test): kinfer fetch beside the curl
# CLI (same libcurl) + sha256sum as the peer, from a local nginx.
# Prints JSON lines. Usage (from the repo root, after a build):
#   KINFER_BIN=build/kinfer KINFER_SOURCE_DIR=$PWD bash tests/artifacts/bench_fetch.sh [MB]
source "$KINFER_SOURCE_DIR/tests/artifacts/lib.sh"
mb=${1:-256}
mkdir -p "$T/www/b"
head -c $((mb * 1024 * 1024)) /dev/urandom >"$T/www/b/model.onnx"
start_nginx "$T/www"
url="http://127.0.0.1:$NGINX_PORT/b/model.onnx"
now() { date +%s%N; }
json() { awk -v c="$1" -v mb="$mb" -v ns="$2" 'BEGIN { s = ns / 1e9;
  printf "{\"bench\":\"artifact_fetch\",\"case\":\"%s\",\"mb\":%d,\"seconds\":%.3f,\"mb_per_s\":%.1f}\n", c, mb, s, mb / s }'; }
for run in 1 2 3; do
  rm -rf "$T/cache" "$T/curl.out"
  t=$(now); curl -sf -o "$T/curl.out" "$url" && sha256sum "$T/curl.out" >/dev/null; json "curl+sha256sum" $(($(now) - t))
  t=$(now); "$KINFER_BIN" fetch --cache-dir "$T/cache" "$url" >/dev/null 2>&1; json "kinfer_fetch_cold" $(($(now) - t))
  t=$(now); "$KINFER_BIN" fetch --cache-dir "$T/cache" "$url" >/dev/null 2>&1; json "kinfer_fetch_304" $(($(now) - t))
done
