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
# Each subcommand's --help exits 0 and lists every flag it parses.
check_flags() {
  local cmd=$1; shift
  local h
  h=$("$bin" "$cmd" --help) || { echo "kinfer $cmd --help failed"; exit 1; }
  for f in "$@"; do
    grep -q -- "$f" <<<"$h" || { echo "kinfer $cmd --help does not list $f"; exit 1; }
  done
}
check_flags broker --brokers --topic --log-level --help
check_flags produce --bootstrap --topic --model --version --input --shape --rows-per-job \
  --jobs --codec --schema-id --id-prefix --key --metadata --deadline-ms --reply-topic \
  --partition --seed --property --quiet --help
check_flags consume --bootstrap --topic --group --codec --schema-id --max --timeout-ms \
  --out-dir --from-beginning --property --quiet --help
check_flags demo --jobs --partitions --codec --seed --help
check_flags worker --bootstrap --group --input --output --dlq --model --codec --schema-id \
  --max-batch --max-queue-delay-ms --threads --config --set --metrics-port --log-format \
  --log-level --help
check_flags predict --model --input --out-dir --threads --device --precision --help
h=$("$bin" bench engine --help) && for f in --model --batch --device --precision --profile; do
  grep -q -- "$f" <<<"$h" || { echo "kinfer bench engine --help does not list $f"; exit 1; }
done
h=$("$bin" bench gemm --help) && for f in --m --n --k --device --precision --iters; do
  grep -q -- "$f" <<<"$h" || { echo "kinfer bench gemm --help does not list $f"; exit 1; }
done
# bench gemm: a JSON line on the CPU; usage errors exit 2; reduced precision
# is refused on the CPU (exit 1, the message names it)
"$bin" bench gemm --m 8 --n 4 --k 16 --iters 2 | grep -q '"bench":"gemm","device":"cpu"' ||
  { echo "bench gemm printed no cpu JSON line"; exit 1; }
set +e
"$bin" bench gemm --m 8 --n 4 2>/dev/null; rc1=$?
"$bin" bench gemm --m 0 --n 4 --k 4 2>/dev/null; rc2=$?
err=$("$bin" bench gemm --m 8 --n 4 --k 4 --precision fp16 2>&1); rc3=$?
"$bin" bench engine --model x.onnx --precision fp64 2>/dev/null; rc4=$?
set -e
[ $rc1 -eq 2 ] && [ $rc2 -eq 2 ] && [ $rc4 -eq 2 ] ||
  { echo "bench usage errors exited $rc1 $rc2 $rc4, want 2"; exit 1; }
[ $rc3 -eq 1 ] && grep -q "fp16" <<<"$err" ||
  { echo "bench gemm --precision fp16 on cpu: exit $rc3 ($err)"; exit 1; }
h=$("$bin" bench pipeline --help) && for f in --jobs --partitions --threads --load-seconds \
    --max-queue-delay-ms --max-batch --load-percent --peak-runs --case -X; do
  grep -q -- "$f" <<<"$h" || { echo "kinfer bench pipeline --help does not list $f"; exit 1; }
done
echo "cli help: ok"
