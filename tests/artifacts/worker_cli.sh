#!/usr/bin/env bash
# `kinfer worker -m NAME=BASE_URL` end to end with the real binaries: an
# embedded broker, nginx serving the repository, kinfer produce/consume.
# LATEST v1 (y = 2x) is served; LATEST -> v2 (y = 3x) is picked up by the
# poller; restarted with nginx down, the worker starts from the warm cache
# (and says so) and serves v2; with an empty cache it fails clearly.
source "$KINFER_SOURCE_DIR/tests/artifacts/lib.sh"
if ! "$KINFER_BIN" predict --help >/dev/null 2>&1 || ! "$KINFER_BIN" worker --help >/dev/null 2>&1; then
  echo "kinfer predict/worker not in this build"; exit 1
fi

# -X takes config keys (not only librdkafka properties)
set +e
"$KINFER_BIN" worker -b 127.0.0.1:1 -m "x=$T/missing.onnx" -X "cache.dir=$T/c0" \
  -X model.x.poll_interval_ms=100 -X socket.timeout.ms=1000 >"$T/x.log" 2>&1; rc=$?
set -e
[ $rc -ne 0 ] && ! grep -q 'kafka.cache.dir\|kafka.model' "$T/x.log" && grep -q 'missing.onnx' "$T/x.log" ||
  { cat "$T/x.log"; fail "-X config keys"; }
ok "-X cache.dir / model.x.poll_interval_ms are config keys"

m="$T/www/models/scale"
mkdir -p "$m/v1" "$m/v2"
"$PY" "$HERE/make_scale_models.py" "$m/v1/model.onnx=2" "$m/v2/model.onnx=3" || fail "models"
for v in v1 v2; do (cd "$m/$v" && sha256sum model.onnx >model.onnx.sha256); done
echo v1 >"$m/LATEST"
# skip only when the engine cannot run the model at all (no operators yet)
"$PY" -c 'import numpy as np, sys; np.save(sys.argv[1], (np.arange(12, dtype=np.float32) + 1).reshape(3, 4))' "$T/x.npy"
if ! "$KINFER_BIN" predict --model "$m/v1/model.onnx" --input "x=$T/x.npy" --out-dir "$T/p" >/dev/null 2>"$T/pe"; then
  grep -qi 'op\b\|operator\|unsupported\|no kernel' "$T/pe" && { echo "SKIP: engine cannot run Mul yet: $(cat "$T/pe")"; exit 77; }
  cat "$T/pe"; fail "kinfer predict failed"
fi
start_nginx "$T/www"
base="http://127.0.0.1:$NGINX_PORT/models"

"$KINFER_BIN" broker --topic jobs:2 --topic results:2 --topic dlq >"$T/broker.out" 2>"$T/broker.err" &
_pids+=($!)
for _ in $(seq 100); do [ -s "$T/broker.out" ] && break; sleep 0.05; done
bs=$(head -1 "$T/broker.out")
[ -n "$bs" ] || fail "broker did not start"

worker() { # worker LOGFILE CACHE_DIR
  printf '%s\n' "kafka.session.timeout.ms=6000" "model.scale.poll_interval_ms=300" \
    "fetch.retries=1" "fetch.backoff_ms=50" "cache.dir=$2" >"$T/worker.properties"
  "$KINFER_BIN" worker -b "$bs" -g g -i jobs -o results --dlq dlq -m "scale=$base" \
    -c "$T/worker.properties" >"$1" 2>&1 &
  WPID=$!
  _pids+=($WPID)
}
results=0
# produce_check PREFIX K VERSION: 3 jobs, wait for their results, check y = K x and the version
produce_check() {
  "$KINFER_BIN" produce -b "$bs" -t jobs -m scale --input "x=$T/x.npy" --id-prefix "$1" -q ||
    fail "produce $1"
  results=$((results + 3))
  "$KINFER_BIN" consume -b "$bs" -t results --from-beginning -n $results --timeout-ms 20000 \
    --out-dir "$T/out" -q >"$T/res.json" || { cat "$T/res.json" "$T/w"*.log; fail "results for $1"; }
  "$PY" - "$T/res.json" "$T/out" "$T/x.npy" "$1" "$2" "$3" <<'PY' || fail "results for $1 ($3)"
import json, sys, numpy as np
res, out, x, prefix, k, ver = sys.argv[1:]
x = np.load(x)
rows = [json.loads(l) for l in open(res) if l.strip()]
mine = [r for r in rows if r["id"].startswith(prefix)]
assert len(mine) == 3, mine
for r in mine:
    assert r["status"] == "OK" and r["version"] == ver, r
    y = np.load("%s/%s/y.npy" % (out, r["id"]))
    i = int(r["id"][len(prefix):])
    assert np.allclose(y, x[i:i + 1] * float(k)), (r["id"], y)
PY
}

worker "$T/w1.log" "$T/cache"
produce_check a- 2 v1
ok "worker -m scale=$base serves LATEST v1"
echo v2 >"$m/LATEST"; touch -d '+1 min' "$m/LATEST"
deadline=$((SECONDS + 15))
until grep -q 'model scale: now serving version v2' "$T/w1.log"; do
  [ $SECONDS -lt $deadline ] || { cat "$T/w1.log"; fail "no swap to v2"; }
  sleep 0.1
done
produce_check b- 3 v2
ok "LATEST -> v2 swapped in by the poller"
kill -TERM $WPID; wait $WPID || fail "worker did not exit 0 on SIGTERM"

stop_nginx
worker "$T/w2.log" "$T/cache"
produce_check c- 3 v2
grep -q 'store unreachable' "$T/w2.log" && grep -q 'starting on cached version v2' "$T/w2.log" ||
  { cat "$T/w2.log"; fail "offline start not reported"; }
kill -TERM $WPID; wait $WPID || fail "offline worker did not exit 0"
ok "store down + warm cache: worker starts on v2 and says so"

printf '%s\n' "fetch.retries=0" "cache.dir=$T/empty" >"$T/empty.properties"
set +e
"$KINFER_BIN" worker -b "$bs" -g g2 -i jobs -o results --dlq dlq -m "scale=$base" \
  -c "$T/empty.properties" >"$T/w3.log" 2>&1; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "model scale: .*scale/LATEST: .*no cached copy in $T/empty" "$T/w3.log" ||
  { cat "$T/w3.log"; fail "empty cache: exit $rc"; }
ok "store down + empty cache: clear error, exit 1"
echo "worker cli: all ok"
