#!/usr/bin/env python3
"""Acceptance test of the worker's operations endpoint, with real processes:
`kinfer broker` (librdkafka mock cluster), `kinfer worker --metrics-port
--log-format json` loading its model from a file:// model repository
(KINFER_MODEL_MNIST_SOURCE, as docker/ does with s3://), `kinfer produce`
(good jobs, and jobs for an unknown model) and `kinfer consume`. The
model is the bundled models/mnist_mlp.onnx (784-128-10 MLP).

- /healthz answers 200 as soon as the server is up; /readyz answers 503
  before the group assignment (the mock's first join takes ~3 s) and 200
  after it;
- /metrics, scraped with the curl command line, parses with
  python3-prometheus-client's text parser, and kinfer_jobs_total by
  (model, status) equals the results actually read back from the output
  topic; batch-size and latency histograms count the same jobs;
- SIGTERM stops the worker cleanly (exit 0); its log lines are JSON
  objects."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from prometheus_client.parser import text_string_to_metric_families

KBIN = os.environ["KINFER_BIN"]
SRC = os.environ["KINFER_SOURCE_DIR"]
GOOD, UNKNOWN = 1500, 60


def curl(port, path):
    r = subprocess.run(["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "--max-time", "5",
                        f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True)
    if r.returncode != 0:
        return 0, r.stderr
    body, _, code = r.stdout.rpartition("\n")
    return int(code), body


def wait_for(what, fn, timeout):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def scrape(port):
    code, text = curl(port, "/metrics")
    assert code == 200, (code, text[:200])
    return {f.name: f for f in text_string_to_metric_families(text)}


def job_counts(fams):
    return {(s.labels["model"], s.labels["status"]): int(s.value)
            for s in fams["kinfer_jobs"].samples
            if s.name == "kinfer_jobs_total" and s.value}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    procs = []
    try:
        broker = subprocess.Popen([KBIN, "broker", "--topic", "jobs:4", "--topic", "results:4",
                                   "--topic", "dlq:1"], stdout=subprocess.PIPE, text=True)
        procs.append(broker)
        bootstrap = broker.stdout.readline().strip()
        assert bootstrap, "broker printed no bootstrap address"

        log = tempfile.TemporaryFile("w+")
        tmp = tempfile.TemporaryDirectory()
        repo = os.path.join(tmp.name, "repo")
        os.makedirs(os.path.join(repo, "mnist", "1"))
        shutil.copy(os.path.join(SRC, "models", "mnist_mlp.onnx"),
                    os.path.join(repo, "mnist", "1", "model.onnx"))
        with open(os.path.join(repo, "mnist", "LATEST"), "w") as f:
            f.write("1\n")
        port = free_port()
        worker = subprocess.Popen(
            [KBIN, "worker", "-b", bootstrap, "-g", "metrics-acc", "-i", "jobs", "-o", "results",
             "--dlq", "dlq", "--metrics-port", str(port),
             "--log-format", "json", "-X", "session.timeout.ms=6000"],
            env=dict(os.environ, KINFER_METRICS_BIND="127.0.0.1",
                     KINFER_METRICS_STATS_INTERVAL_MS="500",
                     KINFER_MODEL_MNIST_SOURCE="file://" + repo,
                     KINFER_CACHE_DIR=os.path.join(tmp.name, "cache")),
            stderr=log, text=True)
        procs.append(worker)

        wait_for("/healthz", lambda: curl(port, "/healthz")[0] == 200, 20)
        # 503 while the group join is pending (the mock's first join takes
        # ~3 s), then 200 once partitions are assigned.
        seen = []

        def ready():
            code, body = curl(port, "/readyz")
            seen.append((code, body.strip()))
            return code == 200
        wait_for("/readyz 200", ready, 30)
        before = [b for c, b in seen if c == 503]
        assert any("no partitions assigned" in b for b in before), seen[:5]
        assert all(c in (200, 503) for c, _ in seen), seen
        print(f"readyz: {len(before)} x 503 ({before[-1]}), then 200")

        for model, n in (("mnist", GOOD), ("nosuch", UNKNOWN)):
            subprocess.run([KBIN, "produce", "-q", "-b", bootstrap, "-t", "jobs", "--model", model,
                            "--shape", "input:float32:1x784", "--jobs", str(n),
                            "--id-prefix", f"{model}-"], check=True)
        out = subprocess.run([KBIN, "consume", "-q", "-b", bootstrap, "-t", "results",
                              "--from-beginning", "--max", str(GOOD + UNKNOWN),
                              "--timeout-ms", "30000"], capture_output=True, text=True)
        results = [json.loads(l) for l in out.stdout.splitlines() if l.strip()]
        assert out.returncode == 0 and len(results) == GOOD + UNKNOWN, \
            f"consume rc={out.returncode}, {len(results)} results: {out.stderr[-500:]}"
        want = {}
        for r in results:
            key = (r.get("model") or "", r["status"])
            want[key] = want.get(key, 0) + 1
        assert want.get(("mnist", "OK")) == GOOD, want
        assert want.get(("nosuch", "MODEL_NOT_FOUND")) == UNKNOWN, want

        # Results are on the topic; the counters follow the delivery reports.
        fams = wait_for("kinfer_jobs_total == results read back",
                        lambda: (lambda f: f if job_counts(f) == want else None)(scrape(port)), 15)
        got = job_counts(fams)
        print(f"kinfer_jobs_total {got} == results {want}")
        for name in ("kinfer_batch_size", "kinfer_end_to_end_latency_seconds"):
            fam = fams[name]
            assert fam.type == "histogram", (name, fam.type)
            count = sum(s.value for s in fam.samples
                        if s.name == name + "_count" and s.labels.get("model") == "mnist")
            if name == "kinfer_batch_size":
                rows = sum(s.value for s in fam.samples
                           if s.name == name + "_sum" and s.labels.get("model") == "mnist")
                assert rows == GOOD, f"batch rows {rows} != {GOOD}"
                assert 1 <= count <= GOOD, count
            else:
                assert count == GOOD, f"{name} count {count} != {GOOD}"
        # in flight until the delivery reports ack the offsets
        wait_for("kinfer_inflight_jobs 0", lambda: scrape(port)["kinfer_inflight_jobs"]
                 .samples[0].value == 0, 15)
        loaded = [s.labels for s in fams["kinfer_model_loaded"].samples if s.value == 1]
        assert {"model": "mnist", "version": "1"} in loaded, loaded
        fetch_err = {(s.labels["model"], s.labels["reason"]): s.value
                     for s in fams["kinfer_artifact_fetch_errors"].samples
                     if s.name == "kinfer_artifact_fetch_errors_total"}
        assert fetch_err.get(("mnist", "fetch")) == 0, fetch_err
        lag = wait_for("consumer lag for 4 partitions", lambda: (lambda f: f if len(
            f["kinfer_consumer_lag"].samples) == 4 else None)(scrape(port)), 15)
        print("consumer lag:", {s.labels["partition"]: s.value
                                for s in lag["kinfer_consumer_lag"].samples})

        worker.send_signal(signal.SIGTERM)
        rc = worker.wait(timeout=40)
        log.seek(0)
        lines = log.read().splitlines()
        assert rc == 0, f"worker exit {rc}: " + "\n".join(lines[-20:])
        # --log-format json: every worker log line is one JSON object
        for l in lines:
            if l.startswith("{"):
                json.loads(l)
        assert any(l.startswith("{") for l in lines), "no JSON log lines"
        print("worker_metrics: ok")
        return 0
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


if __name__ == "__main__":
    sys.exit(main())
