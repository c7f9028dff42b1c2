#!/usr/bin/env bash
# Repository layout over a real nginx: LATEST, versions with and without
# model.onnx.sha256, a corrupt version (mismatch names both digests), a bad
# LATEST; then a cold start with nginx down: a warm cache serves the
# version (and says so), an empty cache fails with a clear error.
source "$KINFER_SOURCE_DIR/tests/artifacts/lib.sh"

root="$T/www"
m="$root/models/mnist"
mkdir -p "$m/v1" "$m/v2" "$m/v3" "$root/models/evil"
make_blob "$m/v1/model.onnx" 30000
(cd "$m/v1" && sha256sum model.onnx >model.onnx.sha256)
make_blob "$m/v2/model.onnx" 31000
make_blob "$m/v3/model.onnx" 32000
echo "0000000000000000000000000000000000000000000000000000000000000001  model.onnx" >"$m/v3/model.onnx.sha256"
echo v1 >"$m/LATEST"
echo "../../etc" >"$root/models/evil/LATEST"
start_nginx "$root"
base="http://127.0.0.1:$NGINX_PORT/models"
cache="$T/cache"
fetch() { "$KINFER_BIN" fetch --cache-dir "$cache" --retries 1 --backoff-ms 50 "$@"; }

fetch --model mnist "$base" >"$T/o1" 2>"$T/e1" || { cat "$T/e1"; fail "fetch LATEST=v1"; }
[ "$(field version "$T/o1")" = v1 ] || fail "version: $(cat "$T/o1")"
[ "$(field verified "$T/o1")" = yes ] || fail "v1 has a sha256 file: should be verified"
cmp -s "$(field path "$T/o1")" "$m/v1/model.onnx" || fail "v1 bytes"
ok "LATEST -> v1, verified against model.onnx.sha256"

echo v2 >"$m/LATEST"
touch -d '+1 min' "$m/LATEST"
fetch --model mnist "$base" >"$T/o2" 2>"$T/e2" || { cat "$T/e2"; fail "fetch LATEST=v2"; }
[ "$(field version "$T/o2")" = v2 ] && [ "$(field verified "$T/o2")" = no ] || fail "v2: $(cat "$T/o2")"
cmp -s "$(field path "$T/o2")" "$m/v2/model.onnx" || fail "v2 bytes"
ok "LATEST -> v2 (no digest file: unverified)"

fetch --model mnist --version v1 "$base" >"$T/o3" 2>"$T/e3" || { cat "$T/e3"; fail "pinned v1"; }
[ "$(field version "$T/o3")" = v1 ] || fail "pinned version"
ok "--version pins v1"

good3=$(sha_of "$m/v3/model.onnx")
set +e
fetch --model mnist --version v3 "$base" >/dev/null 2>"$T/e4"; rc=$?
set -e
[ $rc -eq 1 ] || fail "corrupt v3 exit $rc"
grep -q "sha256 mismatch: expected 0\{63\}1, got $good3" "$T/e4" || { cat "$T/e4"; fail "v3 message"; }
ok "corrupt v3 rejected, both digests named"

set +e
fetch --model mnist --version v2 --sha256 "$good3" "$base" >/dev/null 2>"$T/e5"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "expected $good3, got $(sha_of "$m/v2/model.onnx")" "$T/e5" ||
  { cat "$T/e5"; fail "configured digest mismatch"; }
ok "configured --sha256 mismatch"

set +e
fetch --model evil "$base" >/dev/null 2>"$T/e6"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "LATEST: bad version name '../../etc'" "$T/e6" || { cat "$T/e6"; fail "bad LATEST"; }
set +e
fetch --model nosuch "$base" >/dev/null 2>"$T/e7"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "nosuch/LATEST: HTTP 404" "$T/e7" || { cat "$T/e7"; fail "unknown model"; }
ok "bad LATEST and unknown model: clear errors"

# cold start with the store down
stop_nginx
fetch --model mnist "$base" >"$T/o8" 2>"$T/e8" || { cat "$T/e8"; fail "warm cache, store down"; }
[ "$(field version "$T/o8")" = v2 ] || fail "offline version: $(cat "$T/o8")"
[ "$(field source "$T/o8")" = cache-offline ] || fail "offline source: $(cat "$T/o8")"
[ "$(field offline "$T/o8")" = yes ] || fail "offline flag: $(cat "$T/o8")"
[ "$(field offline "$T/o2")" = no ] || fail "online fetch flagged offline"
# v1: its digest file makes the model a content-addressed cache hit, but
# LATEST and the digest came from the cache: still reported offline
fetch --model mnist --version v1 "$base" >"$T/o8b" 2>"$T/e8b" || { cat "$T/e8b"; fail "offline v1"; }
[ "$(field source "$T/o8b")" = cache-hit ] && [ "$(field offline "$T/o8b")" = yes ] &&
  [ "$(field verified "$T/o8b")" = yes ] || fail "offline v1: $(cat "$T/o8b")"
grep -q 'store unreachable' "$T/e8" && grep -q 'offline' "$T/e8" || { cat "$T/e8"; fail "offline not reported"; }
cmp -s "$(field path "$T/o8")" "$m/v2/model.onnx" || fail "offline bytes"
ok "store down + warm cache: serves v2 and says so"

set +e
fetch --no-offline --model mnist "$base" >/dev/null 2>"$T/e9"; rc=$?
set -e
[ $rc -eq 1 ] || fail "--no-offline with the store down should fail"
set +e
"$KINFER_BIN" fetch --cache-dir "$T/empty-cache" --retries 1 --backoff-ms 50 --model mnist "$base" \
  >/dev/null 2>"$T/e10"; rc=$?
set -e
[ $rc -eq 1 ] || fail "empty cache exit $rc"
grep -q "mnist/LATEST: .*(gave up after 2 attempts); no cached copy in $T/empty-cache" "$T/e10" ||
  { cat "$T/e10"; fail "empty cache message"; }
ok "store down + empty cache: clear error"
echo "nginx repo: all ok"
