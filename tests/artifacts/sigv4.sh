#!/usr/bin/env bash
# S3 with SigV4: a server that checks signatures independently with
# botocore's signer. Signed GET (session token included), a repository
# under s3://, ETag revalidation (signed If-None-Match), then a wrong
# secret, a wrong region and no credentials: 403, not retried, the S3
# error code in the message, the secret never printed.
source "$KINFER_SOURCE_DIR/tests/artifacts/lib.sh"

root="$T/s3"
mkdir -p "$root/models/mnist/v1"
make_blob "$root/models/mnist/v1/model.onnx" 40000
(cd "$root/models/mnist/v1" && sha256sum model.onnx >model.onnx.sha256)
echo v1 >"$root/models/mnist/LATEST"
secret="kinferTestSecret/ABCDEFGHIJ0123456789xyz"
"$PY" "$HERE/sigv4_server.py" --root "$root" --access-key AKIAKINFERTEST --secret-key "$secret" \
  --session-token "tok-123" --region eu-central-1 --port-file "$T/port" --log "$T/log" &
_pids+=($!)
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || fail "sigv4 server did not start"
ep="http://127.0.0.1:$(cat "$T/port")"
export AWS_ACCESS_KEY_ID=AKIAKINFERTEST AWS_SECRET_ACCESS_KEY="$secret" AWS_SESSION_TOKEN=tok-123
s3fetch() { "$KINFER_BIN" fetch --cache-dir "$T/cache" --s3-endpoint "$ep" --s3-region eu-central-1 \
  --retries 1 --backoff-ms 50 --log-level debug "$@"; }

s3fetch s3://models/mnist/v1/model.onnx >"$T/o1" 2>"$T/e1" || { cat "$T/e1" "$T/log"; fail "signed GET"; }
cmp -s "$(field path "$T/o1")" "$root/models/mnist/v1/model.onnx" || fail "bytes"
grep -q '"status": 200, "error": null.*"signed_headers": "host;x-amz-content-sha256;x-amz-date;x-amz-security-token"' "$T/log" ||
  { cat "$T/log"; fail "server did not verify the expected signed headers"; }
ok "signed GET verified by botocore's signer"

s3fetch s3://models/mnist/v1/model.onnx >"$T/o2" 2>"$T/e2" || { cat "$T/e2"; fail "revalidate"; }
[ "$(field source "$T/o2")" = revalidated ] || fail "not revalidated: $(cat "$T/o2")"
grep -q '"status": 304, "error": null.*if-none-match' "$T/log" || { cat "$T/log"; fail "no signed 304"; }
ok "ETag revalidation over S3 (If-None-Match signed, 304)"

s3fetch --model mnist s3://models >"$T/o3" 2>"$T/e3" || { cat "$T/e3"; fail "repo over s3"; }
[ "$(field version "$T/o3")" = v1 ] && [ "$(field verified "$T/o3")" = yes ] || fail "repo: $(cat "$T/o3")"
ok "repository under s3:// (LATEST, digest file, model)"

n=$(wc -l <"$T/log")
set +e
AWS_SECRET_ACCESS_KEY="wrong$secret" "$KINFER_BIN" fetch --cache-dir "$T/cache2" --s3-endpoint "$ep" \
  --s3-region eu-central-1 --retries 3 --log-level debug s3://models/mnist/v1/model.onnx >/dev/null 2>"$T/e4"; rc=$?
set -e
[ $rc -eq 1 ] || fail "wrong secret exit $rc"
grep -q 'model.onnx: HTTP 403 SignatureDoesNotMatch (not retried)' "$T/e4" || { cat "$T/e4"; fail "403 message"; }
[ $(($(wc -l <"$T/log") - n)) -eq 1 ] || fail "403 was retried"
! grep -q "$secret" "$T/e4" "$T/e1" "$T/e2" "$T/e3" || fail "the secret appears in kinfer's output"
ok "wrong secret -> 403 SignatureDoesNotMatch, not retried, secret not printed"

set +e
s3fetch --s3-region us-west-2 --cache-dir "$T/cache3" s3://models/mnist/v1/model.onnx >/dev/null 2>"$T/e5"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q 'HTTP 403 AuthorizationHeaderMalformed' "$T/e5" || { cat "$T/e5"; fail "wrong region"; }
set +e
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN "$KINFER_BIN" fetch \
  --cache-dir "$T/cache4" --s3-endpoint "$ep" s3://models/mnist/v1/model.onnx >/dev/null 2>"$T/e6"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q 'HTTP 403 AccessDenied' "$T/e6" || { cat "$T/e6"; fail "anonymous"; }
ok "wrong region and anonymous requests refused with clear errors"
echo "sigv4: all ok"
