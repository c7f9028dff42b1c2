# Shared fixture helpers for the artifact tests (sourced by bash scripts).
# Everything lives in one temp dir removed on exit; servers listen on
# 127.0.0.1 only and are stopped by the EXIT trap.
set -euo pipefail

KINFER_BIN=${KINFER_BIN:?KINFER_BIN not set (run through ctest)}
KINFER_SOURCE_DIR=${KINFER_SOURCE_DIR:?KINFER_SOURCE_DIR not set (run through ctest)}
HERE="$KINFER_SOURCE_DIR/tests/artifacts"
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/kinfer-art.XXXXXX")
_pids=()

cleanup() {
  local p
  for p in "${_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# free_port: prints a TCP port that was free a moment ago.
free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT [SECONDS]: waits until 127.0.0.1:PORT accepts connections.
wait_port() {
  local port=$1 deadline=$((SECONDS + ${2:-10}))
  while ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.05
  done
}

# start_nginx ROOT [TEMPLATE]: serves ROOT on a free port with
# tests/artifacts/TEMPLATE (default nginx.conf.in);
# sets NGINX_PORT, NGINX_PID, NGINX_LOG (access log, one line per request:
# "STATUS METHOD URI range=[...] inm=[...] bytes=N").
start_nginx() {
  local root=$1 template=${2:-nginx.conf.in} try conf user_line=""
  [ "$(id -u)" -eq 0 ] && user_line="user root;"
  mkdir -p "$T/nginx"
  NGINX_LOG="$T/nginx/access.log"
  for try in 1 2 3 4 5; do
    NGINX_PORT=$(free_port)
    conf="$T/nginx/nginx.conf"
    sed -e "s|@PORT@|$NGINX_PORT|g" -e "s|@ROOT@|$root|g" -e "s|@TMP@|$T/nginx|g" \
        -e "s|@USER@|$user_line|g" "$HERE/$template" >"$conf"
    /usr/sbin/nginx -p "$T/nginx" -c "$conf" -e "$T/nginx/error.log" &
    NGINX_PID=$!
    if wait_port "$NGINX_PORT" 5; then
      _pids+=("$NGINX_PID")
      return 0
    fi
    kill "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
  done
  cat "$T/nginx/error.log" >&2 || true
  fail "nginx did not start"
}

stop_nginx() {
  kill "$NGINX_PID" 2>/dev/null || true
  wait "$NGINX_PID" 2>/dev/null || true
}

# count_log PATTERN: lines of the nginx access log matching an ERE.
count_log() { grep -cE "$1" "$NGINX_LOG" || true; }

# field KEY FILE: value of KEY=... in kinfer fetch output.
field() { sed -n "s/^$1=//p" "$2"; }

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# make_blob PATH BYTES: deterministic pseudo-random file.
make_blob() {
  "$PY" -c 'import sys,random; r=random.Random(int(sys.argv[2])); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(int(sys.argv[2]))))' "$1" "$2" >"$1"
}
