#!/usr/bin/env python3
"""Scrapes a live kf_http server (tests/metrics/http_fixture.c) with the curl
command line and parses /metrics with python3-prometheus-client's text
parser: job counters must equal the jobs the fixture counted, histograms
must be consistent, /readyz must flip from 503 to 200."""
import os
import subprocess
import sys
import tempfile

from prometheus_client.parser import text_string_to_metric_families


def curl(port, path, method="GET"):
    out = subprocess.run(
        ["curl", "-sS", "-X", method, "-o", "-", "-w", "\n%{http_code} %{content_type}",
         "--max-time", "10", f"http://127.0.0.1:{port}{path}"],
        check=True, capture_output=True, text=True).stdout
    body, _, tail = out.rpartition("\n")
    code, _, ctype = tail.partition(" ")
    return int(code), ctype, body


def main():
    fixture = sys.argv[1]
    proc = subprocess.Popen([fixture], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def cmd(line):
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        ack = proc.stdout.readline().strip()
        assert ack == "ok", f"fixture answered {ack!r} to {line!r}"

    try:
        first = proc.stdout.readline().split()
        assert first[0] == "port", first
        port = int(first[1])

        assert curl(port, "/healthz")[0] == 200
        code, _, body = curl(port, "/readyz")
        assert code == 503 and "no partitions assigned" in body, (code, body)
        assert curl(port, "/nope")[0] == 404
        assert curl(port, "/metrics", "POST")[0] == 405

        sent = {("mnist", "OK"): 1234, ("mnist", "INVALID_INPUT"): 17,
                ("identity16", "OK"): 99, ('we"ird\\model', "INTERNAL"): 2}
        for (model, status), n in sent.items():
            cmd(f"job {model} {status} {n}")
        stats = ('{"topics":{"jobs":{"partitions":{"0":{"consumer_lag":5},'
                 '"3":{"consumer_lag":11},"-1":{"consumer_lag":-1}}}}}')
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write(stats)
        try:
            cmd(f"stats {f.name}")
        finally:
            os.unlink(f.name)
        cmd("ready 1")

        code, ctype, text = curl(port, "/metrics")
        assert code == 200, code
        assert ctype.startswith("text/plain; version=0.0.4"), ctype
        families = {f.name: f for f in text_string_to_metric_families(text)}
        # prometheus_client strips _total from counter family names
        jobs = families["kinfer_jobs"]
        assert jobs.type == "counter", jobs.type
        got = {(s.labels["model"], s.labels["status"]): s.value
               for s in jobs.samples if s.name == "kinfer_jobs_total"}
        nonzero = {k: v for k, v in got.items() if v != 0}
        assert nonzero == {k: float(v) for k, v in sent.items()}, got
        # every model seen starts all five result statuses at 0
        assert got[("identity16", "DEADLINE_EXCEEDED")] == 0.0, got

        e2e = families["kinfer_end_to_end_latency_seconds"]
        assert e2e.type == "histogram"
        for model in ("mnist", "identity16"):
            want = sum(n for (m, _), n in sent.items() if m == model)
            samples = [s for s in e2e.samples if s.labels.get("model") == model]
            count = [s.value for s in samples if s.name.endswith("_count")]
            inf = [s.value for s in samples if s.labels.get("le") == "+Inf"]
            buckets = [s.value for s in samples if s.name.endswith("_bucket")]
            assert count == [want] and inf == [want], (model, count, inf)
            assert buckets == sorted(buckets), "buckets not cumulative"

        lag = {(s.labels["topic"], s.labels["partition"]): s.value
               for s in families["kinfer_consumer_lag"].samples}
        assert lag == {("jobs", "0"): 5.0, ("jobs", "3"): 11.0}, lag
        assert families["kinfer_inflight_jobs"].type == "gauge"

        code, _, body = curl(port, "/readyz")
        assert code == 200 and body.strip() == "ready", (code, body)

        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(timeout=20) == 0
        print(f"metrics_http: {sum(sent.values())} jobs counted, "
              f"{len(families)} families parsed, readyz 503->200")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
