#!/usr/bin/env bash
# kinfer fetch against a real nginx: plain fetch, ETag/304 revalidation,
# a changed object, 404 and 403 (no retry, clear error), checksum
# mismatch (names both digests, cached copy untouched), size cap.
source "$KINFER_SOURCE_DIR/tests/artifacts/lib.sh"

root="$T/www"
mkdir -p "$root/files" "$root/forbidden"
make_blob "$root/files/a.bin" 70000
start_nginx "$root"
base="http://127.0.0.1:$NGINX_PORT"
cache="$T/cache"
fetch() { "$KINFER_BIN" fetch --cache-dir "$cache" --retries 2 --backoff-ms 50 "$@"; }

# plain fetch
fetch "$base/files/a.bin" >"$T/o1" 2>"$T/e1" || { cat "$T/e1"; fail "plain fetch"; }
[ "$(field source "$T/o1")" = downloaded ] || fail "first fetch source: $(cat "$T/o1")"
p=$(field path "$T/o1")
cmp -s "$p" "$root/files/a.bin" || fail "cached bytes differ from the served file"
[ "$(field sha256 "$T/o1")" = "$(sha_of "$root/files/a.bin")" ] || fail "printed digest is wrong"
[ "$(field size "$T/o1")" = 70000 ] || fail "size"
ok "plain fetch"

# ETag / 304 revalidation
fetch "$base/files/a.bin" >"$T/o2" 2>"$T/e2" || { cat "$T/e2"; fail "revalidation fetch"; }
[ "$(field source "$T/o2")" = revalidated ] || fail "second fetch not revalidated: $(cat "$T/o2")"
[ "$(count_log '^304 GET /files/a.bin range=\[\] inm=\["[^"]+"\]')" -eq 1 ] ||
  { cat "$NGINX_LOG"; fail "no 304 with If-None-Match in the nginx log"; }
ok "ETag/304 revalidation"

# the object changes: new ETag, new bytes, new digest
make_blob "$root/files/a.bin" 71000
touch -d '+1 min' "$root/files/a.bin"
fetch "$base/files/a.bin" >"$T/o3" 2>"$T/e3" || { cat "$T/e3"; fail "changed fetch"; }
[ "$(field source "$T/o3")" = downloaded ] || fail "changed object not downloaded"
[ "$(field sha256 "$T/o3")" = "$(sha_of "$root/files/a.bin")" ] || fail "digest after change"
cmp -s "$(field path "$T/o3")" "$root/files/a.bin" || fail "bytes after change"
ok "changed object re-downloaded"

# 404: one request, no retry, clear error
set +e
fetch "$base/files/missing.bin" >/dev/null 2>"$T/e4"; rc=$?
set -e
[ $rc -eq 1 ] || fail "404 exit $rc"
grep -q 'files/missing.bin: HTTP 404 (not retried)' "$T/e4" || { cat "$T/e4"; fail "404 message"; }
[ "$(count_log '^404 GET /files/missing.bin')" -eq 1 ] || fail "404 was retried"
ok "404 not retried"

# 403: other 4xx is not retried either
set +e
fetch "$base/forbidden/x.bin" >/dev/null 2>"$T/e5"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q 'HTTP 403 (not retried)' "$T/e5" || { cat "$T/e5"; fail "403"; }
[ "$(count_log '^403 GET /forbidden/x.bin')" -eq 1 ] || fail "403 was retried"
ok "403 not retried"

# 429 is retried (here until the retries run out)
set +e
fetch "$base/ratelimited/x.bin" >/dev/null 2>"$T/e5b"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q 'HTTP 429 (gave up after 3 attempts)' "$T/e5b" || { cat "$T/e5b"; fail "429"; }
[ "$(count_log '^429 GET /ratelimited/x.bin')" -eq 3 ] || fail "429 not retried twice"
# backoff is 50 ms here; the server's Retry-After: 1 makes it wait 1000 ms
[ "$(grep -c 'attempt [12] failed (HTTP 429); retrying in 1000 ms' "$T/e5b")" -eq 2 ] ||
  { cat "$T/e5b"; fail "Retry-After not honoured"; }
ok "429 retried, honouring Retry-After"

# checksum mismatch: error names both digests, the good cached copy stays.
# (Expecting the cached copy's own digest would be a cache hit without any
# request: content addressing. Expect an older digest to force a download.)
good=$(field sha256 "$T/o3")
want=$(field sha256 "$T/o1")
p=$(field path "$T/o3")
make_blob "$root/files/a.bin" 72000
touch -d '+2 min' "$root/files/a.bin"
bad=$(sha_of "$root/files/a.bin")
set +e
fetch --sha256 "$want" "$base/files/a.bin" >/dev/null 2>"$T/e6"; rc=$?
set -e
[ $rc -eq 1 ] || fail "mismatch exit $rc"
grep -q "sha256 mismatch: expected $want, got $bad" "$T/e6" || { cat "$T/e6"; fail "mismatch message"; }
[ "$(sha_of "$p")" = "$good" ] || fail "a bad download replaced the good cached copy"
fetch --sha256 "$good" "$base/files/a.bin" >"$T/o6" 2>&1 || fail "digest-addressed fetch"
[ "$(field source "$T/o6")" = cache-hit ] || fail "expected digest present: want a cache hit"
ok "checksum mismatch"

# size cap
set +e
fetch --max-bytes 1000 "$base/files/a.bin" >/dev/null 2>"$T/e7"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q 'exceeds the size cap of 1000 bytes' "$T/e7" || { cat "$T/e7"; fail "size cap"; }
[ "$(sha_of "$p")" = "$good" ] || fail "an oversize download replaced the cached copy"
ok "size cap"

# usage errors
set +e
"$KINFER_BIN" fetch >/dev/null 2>&1; rc=$?
set -e
[ $rc -eq 2 ] || fail "no URL: exit $rc, want 2"
set +e
"$KINFER_BIN" fetch --sha256 xyz "$base/files/a.bin" >/dev/null 2>"$T/e8"; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "not 64 hex digits" "$T/e8" || fail "bad --sha256"
ok "usage errors"
echo "nginx fetch: all ok"
