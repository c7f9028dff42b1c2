#!/usr/bin/env bash
# On a machine with a GPU, in one command: build with CUDA, run the GPU
# tests, then print JSON lines (one per measurement) for
#   - kinfer bench engine --device cuda: MLP, CNN and transformer at batch
#     1, 2, 4, ..., 4096 (fp32; plus --precision P for each P in
#     KINFER_GPU_PRECISIONS, default "tf32 fp16 bf16", on the MLP and the
#     transformer),
#   - kinfer bench gemm --device cuda: plain cuBLAS sgemm at the MLP's GEMM
#     shapes (784->128 and 128->10 at each batch),
#   - onnxruntime CPU (bench/peer.js) on the transformer at batch 32, when
#     node and the npm peer are installed (else a "skipped" line).
#
#   scripts/gpu-bench.sh [BUILD_DIR]          (default: build-gpu)
#
# Environment: KINFER_GPU_SECONDS (per case, default 1), KINFER_GPU_MAX_BATCH
# (default 4096). Exit status 1 if the GPU tests failed or any case could
# not be measured (the others still run).
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build=${1:-$root/build-gpu}
seconds=${KINFER_GPU_SECONDS:-1}
max_batch=${KINFER_GPU_MAX_BATCH:-4096}
precisions=${KINFER_GPU_PRECISIONS:-tf32 fp16 bf16}
failed=0

jline() { printf '{"script":"gpu-bench","%s":"%s"}\n' "$1" "$2"; }

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DKINFER_CUDA=ON >&2 &&
  cmake --build "$build" -j "$(nproc)" >&2 || { jline error "build failed"; exit 1; }
kinfer="$build/kinfer"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if (cd "$build" && ctest -L gpu --output-on-failure) >"$log" 2>&1; then
  if grep -q '(Skipped)' "$log"; then
    jline ctest_gpu "skipped (no GPU visible)"
    failed=1
  else
    jline ctest_gpu passed
  fi
else
  jline ctest_gpu failed
  failed=1
fi
cat "$log" >&2

batches=()
for ((b = 1; b <= max_batch; b *= 2)); do batches+=("$b"); done

engine() { # model batch [precision]
  local prec=${3:-fp32}
  if ! "$kinfer" bench engine --model "$root/models/$1.onnx" --batch "$2" --device cuda \
      --precision "$prec" --seconds "$seconds" --threads "$(nproc)"; then
    printf '{"script":"gpu-bench","error":"bench engine","model":"%s","batch":%s,"precision":"%s"}\n' \
      "$1" "$2" "$prec"
    failed=1
  fi
}

gemm() { # m n k
  if ! "$kinfer" bench gemm --device cuda --m "$1" --n "$2" --k "$3"; then
    printf '{"script":"gpu-bench","error":"bench gemm","m":%s,"n":%s,"k":%s}\n' "$1" "$2" "$3"
    failed=1
  fi
}

for b in "${batches[@]}"; do
  for model in mnist_mlp cnn bert_tiny; do engine "$model" "$b"; done
  gemm "$b" 128 784 # MLP layer 1: [B,784] x [784,128]
  gemm "$b" 10 128  # MLP layer 2: [B,128] x [128,10]
done
for prec in $precisions; do
  for b in "${batches[@]}"; do
    engine mnist_mlp "$b" "$prec"
    engine bert_tiny "$b" "$prec"
  done
done

peer="$root/bench/peer.js"
if command -v node >/dev/null && [ -d "$root/bench/node_modules/onnxruntime-node" ]; then
  if ! node "$peer" --model "$root/models/bert_tiny.onnx" --batch 32 --threads "$(nproc)" \
      --seconds "$seconds"; then
    jline error "onnxruntime peer"
    failed=1
  fi
else
  jline onnxruntime_cpu "skipped: node or bench/node_modules/onnxruntime-node missing (see bench/README.md)"
fi
exit $failed
