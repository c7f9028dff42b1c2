#!/usr/bin/env bash
# `make bench`: our engine beside onnxruntime (CPU, the npm onnxruntime-node
# peer in bench/) on the same models, batch sizes, thread count and seconds,
# in one run. Prints each JSON line as it is measured, then a table with the
# ratio ours/onnxruntime (inferences per second, and the median latency
# ratio, which a busy machine disturbs less).
#
#   scripts/bench.sh [BUILD_DIR]          (default: build)
#
# Environment: KINFER_BENCH_SECONDS (per case and side, default 2),
# KINFER_BENCH_THREADS (default: all cores), KINFER_BENCH_CORETYPES
# (OpenBLAS core settings to run ours under; default "default SkylakeX" when
# the CPU has AVX-512, else "default"; "default" means OPENBLAS_CORETYPE
# unset). Exit status 1 if any case could not be measured.
set -euo pipefail

build=${1:-build}
root="$(cd "$(dirname "$0")/.." && pwd)"
kinfer="$build/kinfer"
seconds=${KINFER_BENCH_SECONDS:-2}
threads=${KINFER_BENCH_THREADS:-$(nproc)}
if [ -z "${KINFER_BENCH_CORETYPES:-}" ]; then
  KINFER_BENCH_CORETYPES=default
  if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then KINFER_BENCH_CORETYPES="default SkylakeX"; fi
fi
cases=("mnist_mlp 1 32 256" "cnn 1 32 256" "bert_tiny 1 8 32")

if [ ! -x "$kinfer" ]; then
  echo "bench.sh: $kinfer not found (build first: make build)" >&2
  exit 1
fi
bash "$root/scripts/install-deps.sh" --bench >&2
unset OPENBLAS_CORETYPE

results=$(mktemp)
trap 'rm -f "$results"' EXIT
failed=0

for ct in $KINFER_BENCH_CORETYPES; do
  for c in "${cases[@]}"; do
    read -r model batches <<<"$c"
    for b in $batches; do
      m="$root/models/$model.onnx"
      if [ "$ct" = default ]; then envs=(); else envs=(OPENBLAS_CORETYPE="$ct"); fi
      if ours=$(env "${envs[@]}" "$kinfer" bench engine --model "$m" --batch "$b" \
          --threads "$threads" --seconds "$seconds" | tail -n 1) && [ -n "$ours" ]; then
        echo "$ours"
      else
        echo "bench.sh: kinfer bench engine failed: $model batch $b ($ct)" >&2
        ours='null'; failed=1
      fi
      if peer=$(node "$root/bench/peer.js" --model "$m" --batch "$b" \
          --threads "$threads" --seconds "$seconds") && [ -n "$peer" ]; then
        echo "$peer"
      else
        echo "bench.sh: onnxruntime peer failed: $model batch $b" >&2
        peer='null'; failed=1
      fi
      printf '%s\t%s\t%s\t%s\t%s\n' "$ct" "$model" "$b" "$ours" "$peer" >>"$results"
    done
  done
done

python3 - "$results" "$threads" "$seconds" <<'PY'
import json, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
print()
print("engine benchmark: %s threads, %s s per case; ours = kinfer, ort = onnxruntime CPU" % (sys.argv[2], sys.argv[3]))
hdr = "%-9s %-10s %5s %12s %12s %7s %9s %9s %9s %9s %9s" % (
    "openblas", "model", "batch", "ours inf/s", "ort inf/s", "ratio",
    "ours p50", "ort p50", "p50 ratio", "ours p99", "ort p99")
print(hdr)
print("-" * len(hdr))
for ct, model, b, ours, peer in rows:
    o = json.loads(ours) if ours != "null" else None
    p = json.loads(peer) if peer != "null" else None
    f = lambda d, k, fmt: (fmt % d[k]) if d and k in d else "n/a"
    ratio = "%.2fx" % (o["inf_per_s"] / p["inf_per_s"]) if o and p and p["inf_per_s"] else "n/a"
    p50r = "%.2fx" % (p["ms_p50"] / o["ms_p50"]) if o and p and o["ms_p50"] else "n/a"
    print("%-9s %-10s %5s %12s %12s %7s %9s %9s %9s %9s %9s" % (
        ct, model, b, f(o, "inf_per_s", "%.0f"), f(p, "inf_per_s", "%.0f"), ratio,
        f(o, "ms_p50", "%.3f"), f(p, "ms_p50", "%.3f"), p50r, f(o, "ms_p99", "%.3f"),
        f(p, "ms_p99", "%.3f")))
print("ratio = ours/ort inferences per second; p50 ratio = ort p50 / ours p50 "
      "(> 1: ours faster; steadier than inf/s on a busy machine)")
PY
exit "$failed"
