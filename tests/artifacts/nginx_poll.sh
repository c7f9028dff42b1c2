#!/usr/bin/env bash
# The repository poller against a real nginx (kinfer fetch --watch-ms):
# LATEST is revalidated with If-None-Match (304s while unchanged); LATEST
# -> v2 is fetched, verified and handed over within two poll intervals
# (plus the download); LATEST -> corrupt v3 is rejected once (reason
# checksum), not retried while LATEST stays, and v2 stays current.
source "$KINFER_SOURCE_DIR/tests/artifacts/lib.sh"

root="$T/www"
m="$root/models/clf"
mkdir -p "$m/v1" "$m/v2" "$m/v3"
make_blob "$m/v1/model.onnx" 20000
make_blob "$m/v2/model.onnx" 21000
make_blob "$m/v3/model.onnx" 22000
for v in v1 v2; do (cd "$m/$v" && sha256sum model.onnx >model.onnx.sha256); done
(cd "$m/v1" && cp model.onnx.sha256 ../v3/)   # v3's digest file names v1's digest: corrupt
echo v1 >"$m/LATEST"
start_nginx "$root"
base="http://127.0.0.1:$NGINX_PORT/models"
poll=400

"$KINFER_BIN" fetch --cache-dir "$T/cache" --model clf --poll-ms $poll --watch-ms 8000 \
  --retries 1 --backoff-ms 50 "$base" >"$T/out" 2>"$T/err" &
wpid=$!
_pids+=($wpid)
deadline=$((SECONDS + 10))
until grep -q '^version=v1$' "$T/out"; do
  [ $SECONDS -lt $deadline ] || { cat "$T/err"; fail "initial v1"; }
  sleep 0.05
done
sleep 1.3   # a few polls of an unchanged LATEST
n304=$(count_log '^304 GET /models/clf/LATEST range=\[\] inm=\["[^"]+"\]')
[ "$n304" -ge 2 ] || { cat "$NGINX_LOG"; fail "unchanged LATEST not revalidated with 304 ($n304)"; }
ok "unchanged LATEST revalidated with If-None-Match ($n304 x 304)"

# nginx's ETag is mtime+size: move the mtime so the change is visible
echo v2 >"$m/LATEST"; touch -d '+1 min' "$m/LATEST"
t0=$(date +%s%N)
deadline=$((SECONDS + 10))
until grep -q '^event=swap model=clf version=v2 .* verified=yes' "$T/out"; do
  [ $SECONDS -lt $deadline ] || { cat "$T/out" "$T/err"; fail "no swap to v2"; }
  sleep 0.02
done
ms=$((($(date +%s%N) - t0) / 1000000))
# two poll intervals, plus 1 s for the download + verify on a loaded CI machine
[ $ms -le $((2 * poll + 1000)) ] || fail "v2 handed over after $ms ms (poll $poll ms)"
ok "LATEST -> v2 handed over after $ms ms (poll interval $poll ms)"

echo v3 >"$m/LATEST"; touch -d '+2 min' "$m/LATEST"
deadline=$((SECONDS + 10))
until grep -q '^event=error model=clf version=v3 reason=checksum error=.*sha256 mismatch: expected' "$T/out"; do
  [ $SECONDS -lt $deadline ] || { cat "$T/out" "$T/err"; fail "corrupt v3 not reported"; }
  sleep 0.02
done
wait $wpid || { cat "$T/err"; fail "watch exited non-zero"; }
[ "$(grep -c 'version=v3' "$T/out")" -eq 1 ] || { cat "$T/out"; fail "v3 retried without a LATEST change"; }
grep -q 'swaps=1 fetch_failures=1 current=v2$' "$T/out" || { cat "$T/out"; fail "final state"; }
grep -q 'version v3 rejected .*keeping the current version .v2.' "$T/err" || { cat "$T/err"; fail "v3 rejection log"; }
[ "$(count_log '^200 GET /models/clf/v3/model.onnx ')" -eq 1 ] || fail "v3 downloaded more than once"
ok "corrupt v3 rejected once (checksum), v2 still current"
echo "nginx poll: all ok"
