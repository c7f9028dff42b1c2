#!/usr/bin/env bash
# kinfer fetch against a real nginx under faults: 500s then success
# (retries with backoff), a throttled server hitting the timeout.
source "$KINFER_SOURCE_DIR/tests/artifacts/lib.sh"

root="$T/www"
mkdir -p "$root/flaky" "$root/slow"
make_blob "$root/flaky/m.bin" 50000
make_blob "$root/slow/big.bin" 200000
start_nginx "$root"
base="http://127.0.0.1:$NGINX_PORT"
cache="$T/cache"

# 500s then success: nginx answers 500 while the flag exists; the flag is
# removed once nginx has answered three 500s.
touch "$T/nginx/fail-flag"
"$KINFER_BIN" fetch --cache-dir "$cache" --retries 20 --backoff-ms 100 --backoff-max-ms 300 \
  "$base/flaky/m.bin" >"$T/o1" 2>"$T/e1" &
fpid=$!
deadline=$((SECONDS + 20))
while [ "$(count_log '^500 GET /flaky/m.bin')" -lt 3 ]; do
  [ $SECONDS -lt $deadline ] || { kill $fpid; fail "no three 500s seen"; }
  sleep 0.05
done
rm -f "$T/nginx/fail-flag"
wait $fpid || { cat "$T/e1"; fail "fetch after 500s failed"; }
[ "$(field sha256 "$T/o1")" = "$(sha_of "$root/flaky/m.bin")" ] || fail "digest after retries"
[ "$(count_log '^200 GET /flaky/m.bin')" -eq 1 ] || fail "no final 200"
n500=$(count_log '^500 GET /flaky/m.bin')
[ "$(grep -c 'attempt [0-9]* failed (HTTP 500); retrying in' "$T/e1")" -eq "$n500" ] ||
  { cat "$T/e1"; fail "each 500 should be logged as a retry"; }
ok "500s then success ($n500 x 500, then 200)"

# slow server: 1 KiB/s for 200 KB against a 1 s limit per attempt, 1 retry
start=$SECONDS
set +e
"$KINFER_BIN" fetch --cache-dir "$cache" --timeout-ms 1000 --retries 1 --backoff-ms 50 \
  "$base/slow/big.bin" >/dev/null 2>"$T/e2"; rc=$?
set -e
el=$((SECONDS - start))
[ $rc -eq 1 ] || fail "slow fetch exit $rc"
grep -qi 'timed out' "$T/e2" || { cat "$T/e2"; fail "timeout message"; }
grep -q 'gave up after 2 attempts' "$T/e2" || { cat "$T/e2"; fail "timeout retry count"; }
[ $el -lt 15 ] || fail "timeout took ${el}s"
# the second attempt resumed from where the first stopped
grep -qE '^(206|200) GET /slow/big.bin range=\[bytes=[1-9][0-9]*-\]' "$NGINX_LOG" ||
  { cat "$NGINX_LOG"; fail "second attempt did not resume with Range"; }
ok "slow server hits the timeout (${el}s), retry resumed with Range"

# nothing listening: connection refused, clear error naming the empty cache
set +e
"$KINFER_BIN" fetch --cache-dir "$cache" --stall-timeout-ms 1000 --retries 0 \
  "http://127.0.0.1:$(free_port)/nothing" >/dev/null 2>"$T/e3"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q 'no cached copy in' "$T/e3" || { cat "$T/e3"; fail "connection refused"; }
ok "connection refused: clear error"
echo "nginx faults: all ok"
