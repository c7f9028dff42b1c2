#!/usr/bin/env bash
# `kinfer broker` as a fixture: prints its bootstrap address first, creates
# the requested topics with their partition counts (checked with kcat, an
# independent client), carries a produce/consume round trip, exits 0 on
# SIGTERM; bad --topic specs are usage errors naming the spec.
set -euo pipefail
. "$KINFER_SOURCE_DIR/tests/common/broker.sh"
command -v kcat >/dev/null || { echo "kcat not installed: run scripts/install-deps.sh"; exit 1; }

broker_start --brokers 2 --topic jobs:3 --topic results
meta=$(kcat -b "$BOOTSTRAP" -L -m 10)
grep -q ' 2 brokers:' <<<"$meta" || { echo "want 2 brokers:"; echo "$meta"; exit 1; }
grep -q 'topic "jobs" with 3 partitions' <<<"$meta" || { echo "jobs:3 missing"; echo "$meta"; exit 1; }
grep -q 'topic "results" with 1 partitions' <<<"$meta" || { echo "results missing"; echo "$meta"; exit 1; }
printf 'one\ntwo\nthree\n' | kcat -b "$BOOTSTRAP" -P -t results
got=$(kcat -b "$BOOTSTRAP" -C -t results -o beginning -c 3 -e -q -m 10)
[ "$got" = $'one\ntwo\nthree' ] || { echo "round trip got: $got"; exit 1; }
broker_stop

set +e
err=$("$KINFER_BIN" broker --topic 'jobs:zero' 2>&1 >/dev/null); rc=$?
set -e
[ $rc -eq 2 ] && grep -q "jobs:zero" <<<"$err" || { echo "bad --topic: rc $rc, '$err'"; exit 1; }
set +e
err=$("$KINFER_BIN" broker --topic 'bad/name' 2>&1 >/dev/null); rc=$?
set -e
[ $rc -eq 2 ] && grep -q "bad/name" <<<"$err" || { echo "bad topic name: rc $rc, '$err'"; exit 1; }
set +e
"$KINFER_BIN" broker --brokers 0 2>/dev/null >/dev/null; rc=$?
set -e
[ $rc -eq 2 ] || { echo "--brokers 0: rc $rc"; exit 1; }
echo "broker fixture: ok"
