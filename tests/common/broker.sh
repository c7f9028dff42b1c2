# Shared bash fixture: an embedded broker as a subprocess (`kinfer broker`).
# Source it, then:  broker_start [kinfer broker args...]   sets $BOOTSTRAP
#                   broker_stop                            SIGTERM, checks exit 0
# An EXIT trap stops the broker if the test dies first.
: "${KINFER_BIN:?KINFER_BIN must point at the kinfer binary}"
BROKER_PID=
BOOTSTRAP=
BROKER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/kinfer-test.XXXXXX")

broker_cleanup() {
  if [ -n "$BROKER_PID" ]; then kill "$BROKER_PID" 2>/dev/null || true; wait "$BROKER_PID" 2>/dev/null || true; fi
  rm -rf "$BROKER_DIR"
}
trap broker_cleanup EXIT

broker_start() {
  mkfifo "$BROKER_DIR/out"
  "$KINFER_BIN" broker "$@" >"$BROKER_DIR/out" 2>"$BROKER_DIR/broker.log" &
  BROKER_PID=$!
  exec 9<"$BROKER_DIR/out"
  if ! read -r -t 20 BOOTSTRAP <&9; then
    echo "broker did not print its bootstrap address"; cat "$BROKER_DIR/broker.log"; exit 1
  fi
  [ -n "$BOOTSTRAP" ] || { echo "empty bootstrap line"; exit 1; }
}

broker_stop() {
  kill -TERM "$BROKER_PID"
  local rc=0
  wait "$BROKER_PID" || rc=$?
  BROKER_PID=
  exec 9<&-
  [ $rc -eq 0 ] || { echo "broker exited $rc after SIGTERM"; cat "$BROKER_DIR/broker.log"; exit 1; }
}
