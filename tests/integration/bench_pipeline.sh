#!/usr/bin/env bash
# `kinfer bench pipeline` on a small backlog: every case it is asked for
# prints one JSON line with its three phases measured (backlog peak,
# end-to-end peak, latency at a share of it), every offered job read back, and
# for the worker the in-worker latency parts and both bounds, and msg_per_s
# the median of its backlog runs. No timing is
# asserted: the figures are for the closing note, not for CI.
set -euo pipefail
bin=${KINFER_BIN:?}
out=$("$bin" bench pipeline --jobs 4000 --partitions 4 --peak-runs 1 --load-seconds 1 --load-percent 5 --case _200B)
out+=$'\n'$("$bin" bench pipeline --jobs 4000 --partitions 4 --peak-runs 3 --load-seconds 1 --load-percent 5 --case identity16)
echo "$out"
python3 - "$out" <<'PY'
import json, sys
lines = [json.loads(l) for l in sys.argv[1].splitlines() if l.startswith("{")]
cases = {d["case"]: d for d in lines}
if set(cases) != {"passthrough_200B", "worker_identity16"}:
    sys.exit("cases printed: %s" % sorted(cases))
for name, d in cases.items():
    runs = d["msg_per_s_runs"]
    if len(runs) != (3 if name.startswith("worker") else 1) or sorted(runs)[len(runs) // 2] != d["msg_per_s"]:
        sys.exit("%s: msg_per_s %r from runs %r" % (name, d["msg_per_s"], d["msg_per_s_runs"]))
    for k in ("msg_per_s", "e2e_peak_msg_per_s", "offered_msg_per_s", "p50_ms", "p99_ms"):
        if not d.get(k, 0) > 0:
            sys.exit("%s: %s = %r" % (name, k, d.get(k)))
    want = max(100, int(d["half_load_msg_per_s"]) - 1)  # --load-seconds 1
    if d["latency_jobs"] < want:
        sys.exit("%s: %d of %d latency jobs read back" % (name, d["latency_jobs"], want))
w = cases["worker_identity16"]
parts = ("latency", "queue", "compute", "handback", "pre", "service")
for p in parts:
    for q in ("p50", "p99"):
        if "worker_%s_%s_ms" % (p, q) not in w:
            sys.exit("worker: no worker_%s_%s_ms" % (p, q))
if not (w["worker_latency_p99_ms"] >= w["worker_queue_p99_ms"] >= 0):
    sys.exit("worker: latency p99 below its queue p99")
if not (w["worker_service_p99_ms"] >= w["worker_compute_p99_ms"]):
    sys.exit("worker: service p99 below compute p99")
for k, p in (("bound_compute_ms", "compute"), ("bound_service_ms", "service")):
    b = w["max_queue_delay_ms"] + 2 * w["worker_%s_p99_ms" % p]
    if abs(w[k] - b) > 0.005:
        sys.exit("worker: %s %r, expected %r" % (k, w[k], b))
    if w["within_bound_" + p] != (w["worker_latency_p99_ms"] < w[k]):
        sys.exit("worker: within_bound_%s disagrees with the figures" % p)
if "ratio_vs_passthrough_200B" in w:
    sys.exit("worker: a ratio printed without its passthrough in the run")
print("bench pipeline: %d case(s) consistent" % len(cases))
PY
