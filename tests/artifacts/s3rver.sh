#!/usr/bin/env bash
# Against the npm s3rver S3 server: path-style signed GET of a repository
# under s3://, ETag revalidation, a changed object, a missing key (S3 error
# code in the message). s3rver does not check signatures (sigv4.sh does,
# with botocore's signer). s3rver is installed by scripts/install-s3rver.sh.
source "$KINFER_SOURCE_DIR/tests/artifacts/lib.sh"

bash "$KINFER_SOURCE_DIR/scripts/install-s3rver.sh" >/dev/null ||
  fail "s3rver is not installed and scripts/install-s3rver.sh failed"
s3rver="$HERE/s3rver/node_modules/.bin/s3rver"
mkdir -p "$T/data"
for try in 1 2 3 4 5; do
  port=$(free_port)
  node "$s3rver" -d "$T/data" -a 127.0.0.1 -p "$port" --silent --configure-bucket models \
    >"$T/s3rver.log" 2>&1 &
  spid=$!
  if wait_port "$port" 20; then _pids+=($spid); break; fi
  kill $spid 2>/dev/null || true; wait $spid 2>/dev/null || true
  port=
done
[ -n "$port" ] || { cat "$T/s3rver.log"; fail "s3rver did not start"; }
ep="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_SESSION_TOKEN

make_blob "$T/m1" 60000
make_blob "$T/m2" 61000
echo v1 >"$T/latest1"
(cd "$T" && sha256sum m1 >m1.sha256)
"$PY" "$HERE/s3_put.py" "$ep" models mnist/LATEST="$T/latest1" mnist/v1/model.onnx="$T/m1" \
  mnist/v1/model.onnx.sha256="$T/m1.sha256" mnist/v2/model.onnx="$T/m2" >/dev/null || fail "upload"

s3fetch() { "$KINFER_BIN" fetch --cache-dir "$T/cache" --s3-endpoint "$ep" --s3-path-style \
  --retries 1 --backoff-ms 50 "$@"; }
s3fetch --model mnist s3://models >"$T/o1" 2>"$T/e1" || { cat "$T/e1"; fail "repo fetch"; }
[ "$(field version "$T/o1")" = v1 ] && [ "$(field verified "$T/o1")" = yes ] || fail "o1: $(cat "$T/o1")"
cmp -s "$(field path "$T/o1")" "$T/m1" || fail "v1 bytes"
ok "path-style repository fetch (LATEST, digest file, model) from s3rver"

s3fetch s3://models/mnist/v2/model.onnx >"$T/o2" 2>"$T/e2" || { cat "$T/e2"; fail "v2"; }
[ "$(field source "$T/o2")" = downloaded ] || fail "v2 source"
s3fetch s3://models/mnist/v2/model.onnx >"$T/o3" 2>"$T/e3" || { cat "$T/e3"; fail "v2 again"; }
[ "$(field source "$T/o3")" = revalidated ] || fail "ETag revalidation: $(cat "$T/o3")"
ok "ETag revalidation (304) against s3rver"

"$PY" "$HERE/s3_put.py" "$ep" models mnist/v2/model.onnx="$T/m1" >/dev/null || fail "re-upload"
s3fetch s3://models/mnist/v2/model.onnx >"$T/o4" 2>"$T/e4" || { cat "$T/e4"; fail "changed"; }
[ "$(field source "$T/o4")" = downloaded ] && cmp -s "$(field path "$T/o4")" "$T/m1" ||
  fail "changed object: $(cat "$T/o4")"
ok "changed object re-downloaded"

set +e
s3fetch --cache-dir "$T/c3" s3://models/mnist/v9/model.onnx >/dev/null 2>"$T/e6"; rc2=$?
set -e
[ $rc2 -eq 1 ] && grep -q 'HTTP 404 NoSuchKey (not retried)' "$T/e6" || { cat "$T/e6"; fail "missing key"; }
ok "missing key: 404 NoSuchKey, not retried"
echo "s3rver: all ok"
