#!/usr/bin/env bash
# https:// against nginx with a self-signed certificate: verified with
# --ca-file (and the ETag/304 path over TLS); without it the certificate is
# refused with a clear error and no retry.
source "$KINFER_SOURCE_DIR/tests/artifacts/lib.sh"

mkdir -p "$T/nginx" "$T/www/m/v1"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$T/nginx/tls.key" -out "$T/nginx/tls.crt" \
  >/dev/null 2>&1 || fail "openssl could not make a certificate"
make_blob "$T/www/m/v1/model.onnx" 40000
(cd "$T/www/m/v1" && sha256sum model.onnx >model.onnx.sha256)
echo v1 >"$T/www/m/LATEST"
start_nginx "$T/www" nginx_tls.conf.in
base="https://127.0.0.1:$NGINX_PORT"

"$KINFER_BIN" fetch --cache-dir "$T/cache" --ca-file "$T/nginx/tls.crt" --model m "$base" \
  >"$T/o1" 2>"$T/e1" || { cat "$T/e1"; fail "https fetch with the CA"; }
[ "$(field verified "$T/o1")" = yes ] && cmp -s "$(field path "$T/o1")" "$T/www/m/v1/model.onnx" ||
  fail "https: $(cat "$T/o1")"
"$KINFER_BIN" fetch --cache-dir "$T/cache" --ca-file "$T/nginx/tls.crt" "$base/m/v1/model.onnx" \
  >"$T/o2" 2>"$T/e2" || { cat "$T/e2"; fail "https revalidate"; }
[ "$(field source "$T/o2")" = revalidated ] || fail "https 304: $(cat "$T/o2")"
ok "https with --ca-file: repository fetch verified, ETag revalidation"

set +e
"$KINFER_BIN" fetch --cache-dir "$T/cache2" --retries 3 "$base/m/v1/model.onnx" >/dev/null 2>"$T/e3"; rc=$?
set -e
[ $rc -eq 1 ] && grep -qi 'certificate' "$T/e3" || { cat "$T/e3"; fail "untrusted certificate"; }
! grep -q 'retrying' "$T/e3" || fail "a certificate failure was retried"
ok "untrusted certificate: clear error, not retried"
echo "nginx https: all ok"
