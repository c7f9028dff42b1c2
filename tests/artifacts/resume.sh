#!/usr/bin/env bash
# Resume after a connection cut mid-body: the faulty server closes the
# first transfer after 100000 of 300000 bytes; kinfer retries with
# Range: bytes=100000- and If-Range, gets 206 and the exact file. A server
# that ignores Range (200 again) restarts the file instead of appending.
source "$KINFER_SOURCE_DIR/tests/artifacts/lib.sh"

make_blob "$T/blob" 300000
"$PY" "$HERE/faulty_server.py" --file "$T/blob" --cut 100000 --port-file "$T/port" --log "$T/log" &
_pids+=($!)
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || fail "faulty server did not start"
port=$(cat "$T/port")
want=$(sha_of "$T/blob")

"$KINFER_BIN" fetch --cache-dir "$T/cache" --retries 3 --backoff-ms 50 --sha256 "$want" \
  "http://127.0.0.1:$port/cut/model.onnx" >"$T/o1" 2>"$T/e1" || { cat "$T/e1" "$T/log"; fail "cut fetch"; }
cmp -s "$(field path "$T/o1")" "$T/blob" || fail "resumed file differs"
"$PY" - "$T/log" <<'PY' || fail "server log: $(cat "$T/log")"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1]) if '"/cut/' in l]
assert len(reqs) == 2, reqs
assert reqs[0]["range"] is None and reqs[0]["bytes"] == 100000, reqs[0]
assert reqs[1]["range"] == "bytes=100000-" and reqs[1]["if_range"], reqs[1]
assert reqs[1]["status"] == 206 and reqs[1]["bytes"] == 200000, reqs[1]
PY
grep -q 'attempt 1 failed' "$T/e1" || { cat "$T/e1"; fail "the cut was not logged"; }
ok "cut mid-body, resumed with Range/If-Range (206), digest verified"

"$KINFER_BIN" fetch --cache-dir "$T/cache" --retries 3 --backoff-ms 50 --sha256 "$want" \
  "http://127.0.0.1:$port/norange/model.onnx" >"$T/o2" 2>"$T/e2" || { cat "$T/e2"; fail "norange fetch"; }
cmp -s "$(field path "$T/o2")" "$T/blob" || fail "restarted file differs"
"$PY" - "$T/log" <<'PY' || fail "server log: $(cat "$T/log")"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1]) if '"/norange/' in l]
assert len(reqs) == 2 and reqs[1]["range"] == "bytes=100000-" and reqs[1]["status"] == 200, reqs
PY
ok "server ignoring Range: file restarted, not appended"
echo "resume: all ok"
