#!/usr/bin/env bash
# `kinfer predict` refuses bad models at load with a clear message and exit
# status 1: truncated file, random bytes, missing file, unsupported op, and
# usage errors exit 2. Models are made here (python3-onnx) or cut from the
# committed ones.
set -euo pipefail
bin=${KINFER_BIN:?}
src=${KINFER_SOURCE_DIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

expect_fail() { # expect_fail WANT_RC PATTERN... -- ARGS...
  local want=$1; shift
  local pats=()
  while [ "$1" != "--" ]; do pats+=("$1"); shift; done
  shift
  set +e
  "$bin" predict "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  set -e
  if [ $rc -ne "$want" ]; then
    echo "predict $* exited $rc, want $want"; cat "$tmp/err"; exit 1
  fi
  for p in "${pats[@]}"; do
    grep -q -- "$p" "$tmp/err" || { echo "predict $*: stderr lacks '$p':"; cat "$tmp/err"; exit 1; }
  done
  if grep -q "AddressSanitizer\|runtime error" "$tmp/err"; then cat "$tmp/err"; exit 1; fi
}

head -c 1000 "$src/models/cnn.onnx" > "$tmp/trunc.onnx"
head -c 4096 /dev/urandom > "$tmp/random.onnx"
: > "$tmp/empty.onnx"
/usr/bin/python3 - "$tmp" <<'PY'
import sys
from onnx import helper as h, TensorProto as T
d = sys.argv[1]
g = h.make_graph([h.make_node('NonMaxSuppression', ['x', 'x'], ['y'], name='nms1')], 'g',
                 [h.make_tensor_value_info('x', T.FLOAT, ['N', 4])],
                 [h.make_tensor_value_info('y', T.INT64, None)])
open(d + '/unsupported.onnx', 'wb').write(h.make_model(g, opset_imports=[h.make_opsetid('', 13)]).SerializeToString())
g = h.make_graph([h.make_node('Relu', ['x'], ['y'], name='r')], 'g',
                 [h.make_tensor_value_info('x', T.FLOAT, ['N', 4])],
                 [h.make_tensor_value_info('y', T.FLOAT, None)])
open(d + '/opset9.onnx', 'wb').write(h.make_model(g, opset_imports=[h.make_opsetid('', 9)]).SerializeToString())
PY

expect_fail 1 "trunc.onnx" "truncated or corrupt" -- --model "$tmp/trunc.onnx" --input "$tmp/x.npy" --out-dir "$tmp/o"
expect_fail 1 "random.onnx" -- --model "$tmp/random.onnx" --input "$tmp/x.npy" --out-dir "$tmp/o"
expect_fail 1 "empty" -- --model "$tmp/empty.onnx" --input "$tmp/x.npy" --out-dir "$tmp/o"
expect_fail 1 "no-such.onnx" -- --model "$tmp/no-such.onnx" --input "$tmp/x.npy" --out-dir "$tmp/o"
expect_fail 1 "node 'nms1' (NonMaxSuppression)" "unsupported op" -- --model "$tmp/unsupported.onnx" --input "$tmp/x.npy" --out-dir "$tmp/o"
expect_fail 1 "opset 9" -- --model "$tmp/opset9.onnx" --input "$tmp/x.npy" --out-dir "$tmp/o"
expect_fail 2 "required" -- --model "$tmp/opset9.onnx"
expect_fail 2 "unknown option" -- --frob 1
"$bin" predict --help | grep -q -- "--out-dir" || { echo "predict --help lacks --out-dir"; exit 1; }
echo "predict errors: ok"
