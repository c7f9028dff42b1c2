#!/usr/bin/python3
"""Interop with an independent implementation of the wire contract
(kafka-python + python3-avro), both directions, raw and Confluent framing,
against a `kinfer broker` fixture:

  jobs:    `kinfer produce` (from .npy files and from --shape) -> topic ->
           Python decodes every job and compares tensors byte for byte with
           the .npy rows it was cut from (cyclic repeat included).
  results: Python encodes results (every numpy-expressible dtype, error text
           needing JSON escapes, metadata, hostile ids/names) -> topic ->
           `kinfer consume --out-dir` -> Python checks each JSON line field by
           field and each written .npy byte for byte.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kinfer_fixture import (BIN, Broker, decode, encode, fail, numpy_to_tensor, read_topic,
                            schema, tensor_to_numpy, write_topic)

REQ = schema("inference_request.avsc")
RES = schema("inference_result.avsc")


def kinfer(*args, timeout=60):
    p = subprocess.run([BIN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    if p.returncode != 0:
        fail("kinfer %s exited %d:\n%s" % (" ".join(args), p.returncode, p.stderr.decode()))
    return p.stdout.decode()


def make_inputs(d):
    rng = np.random.default_rng(7)
    arrs = {
        "x": rng.standard_normal((10, 4, 7)).astype("<f4"),
        "ids": rng.integers(-2**40, 2**40, size=(10, 3)).astype("<i8"),
        "half": rng.standard_normal((10, 5)).astype("<f2"),
        "mask": rng.integers(0, 2, size=(10, 2)).astype("?"),
        "pix": rng.integers(0, 256, size=(10, 6)).astype("u1"),
        "i32": rng.integers(-1000, 1000, size=(10,)).astype("<i4"),
    }
    for k, a in arrs.items():
        np.save(os.path.join(d, k + ".npy"), a)
    return arrs


def check_jobs_from_npy(b, d, arrs, framing, sid):
    topic = "jobs_npy_" + framing
    args = ["produce", "-b", b, "-t", topic, "--model", "mnist", "--version", "3",
            "--rows-per-job", "3", "--jobs", "6", "--codec", framing, "--metadata", "trace=t-1",
            "--metadata", "who=\"py\"", "--id-prefix", "p-", "-q"]
    if framing == "confluent":
        args += ["--schema-id", str(sid)]
    for k in arrs:
        args += ["--input", "%s=%s" % (k, os.path.join(d, k + ".npy"))]
    kinfer(*args)
    msgs = read_topic(b, topic, 6)
    seen = set()
    for m in msgs:
        job = decode(REQ, m.value, framing, sid)
        jid = job["id"]
        if m.key != jid.encode():
            fail("job %s has key %r" % (jid, m.key))
        j = int(jid[2:])
        seen.add(j)
        start = (j % 4) * 3
        n = min(3, 10 - start)
        if job["model"] != "mnist" or job["model_version"] != "3":
            fail("job %s: model %r version %r" % (jid, job["model"], job["model_version"]))
        if job["metadata"] != {"trace": "t-1", "who": "\"py\""}:
            fail("job %s: metadata %r" % (jid, job["metadata"]))
        if job["deadline_ms"] is not None or job["reply_topic"] is not None:
            fail("job %s: unexpected deadline/reply_topic" % jid)
        names = [t["name"] for t in job["inputs"]]
        if names != list(arrs):
            fail("job %s: inputs %r, want %r" % (jid, names, list(arrs)))
        for t in job["inputs"]:
            want = arrs[t["name"]][start:start + n]
            got = tensor_to_numpy(t)
            if got.dtype != want.dtype or got.shape != want.shape:
                fail("job %s %s: %s%s, want %s%s" % (jid, t["name"], got.dtype, got.shape,
                                                      want.dtype, want.shape))
            if t["data"] != want.tobytes():
                fail("job %s %s: bytes differ from rows %d..%d" % (jid, t["name"], start,
                                                                    start + n))
    if seen != set(range(6)):
        fail("job numbers %r" % sorted(seen))
    print("jobs from .npy (%s): 6 jobs byte-identical" % framing)


def check_jobs_random(b, framing, sid):
    topic = "jobs_rand_" + framing
    args = ["produce", "-b", b, "-t", topic, "--model", "bert", "--shape", "tok:int64:1x16",
            "--shape", "m:bool:1x16", "--shape", "e:float32:1x2x8", "-r", "2", "-n", "5",
            "--key", "none", "--deadline-ms", "60000", "--reply-topic", "mine", "--codec",
            framing, "-q"]
    if framing == "confluent":
        args += ["--schema-id", str(sid)]
    kinfer(*args)
    for m in read_topic(b, topic, 5):
        job = decode(REQ, m.value, framing, sid)
        if m.key is not None:
            fail("--key none wrote key %r" % m.key)
        if job["model_version"] is not None or job["reply_topic"] != "mine":
            fail("job %s: version %r reply_topic %r" % (job["id"], job["model_version"],
                                                        job["reply_topic"]))
        if not job["deadline_ms"] or job["deadline_ms"] < 1e12:
            fail("job %s: deadline %r" % (job["id"], job["deadline_ms"]))
        shapes = {t["name"]: (t["dtype"], t["shape"]) for t in job["inputs"]}
        want = {"tok": ("INT64", [2, 16]), "m": ("BOOL", [2, 16]), "e": ("FLOAT32", [2, 2, 8])}
        if shapes != want:
            fail("job %s: %r" % (job["id"], shapes))
        for t in job["inputs"]:
            a = tensor_to_numpy(t)
            if t["dtype"] == "BOOL" and not set(t["data"]) <= {0, 1}:
                fail("bool tensor with bytes other than 0/1")
            if t["dtype"] == "FLOAT32" and not np.all(np.isfinite(a)):
                fail("random float32 not finite")
    print("random jobs (%s): 5 jobs with the asked signature" % framing)


HOSTILE = "quote\" back\\ nl\n tab\t ctl\x01 del\x7f é ✓ 𝄞 </script>"


def make_results(framing):
    rng = np.random.default_rng(11)
    results = []
    outs = [
        ("logits", rng.standard_normal((2, 10)).astype("<f4")),
        ("argmax", rng.integers(0, 10, size=(2,)).astype("<i8")),
        ("half", rng.standard_normal((2, 3)).astype("<f2")),
        ("dbl", rng.standard_normal((2, 1, 2)).astype("<f8")),
        ("../evil/name", rng.integers(-128, 127, size=(2, 2)).astype("i1")),
        ("", rng.integers(0, 2, size=(2, 4)).astype("?")),
        ("i32", rng.integers(-5, 5, size=(2, 0)).astype("<i4")),
        ("u8", rng.integers(0, 255, size=(2, 2)).astype("u1")),
    ]
    for i, (name, arr) in enumerate(outs):
        results.append({
            "id": "%s-res-%d" % (framing, i), "model": "mnist", "model_version": "v%d" % i,
            "status": "OK", "error": None, "outputs": [numpy_to_tensor(name, arr)],
            "batch_size": 2 + i, "queue_us": 100 * i, "compute_us": 7 * i,
            "worker": "py:%d" % i,
            "source": {"topic": "jobs", "partition": i % 3, "offset": 1000 + i},
            "metadata": {"trace": "t%d" % i, HOSTILE: HOSTILE},
        })
    results.append({
        "id": "../../" + framing + "-escape", "model": "m\"x", "model_version": "",
        "status": "INVALID_INPUT", "error": HOSTILE, "outputs": [], "batch_size": 0,
        "queue_us": 0, "compute_us": 0, "worker": "w",
        "source": {"topic": "t", "partition": 0, "offset": 0}, "metadata": {},
    })
    return results


def safe(s, fallback):
    out = "".join(c if (c.isascii() and (c.isalnum() or c in "._-")) else "_" for c in s)
    return fallback if out in ("", ".", "..") else out


def check_consume(b, framing, sid, tmp):
    topic = "results_" + framing
    results = make_results(framing)
    write_topic(b, topic, [(r["id"].encode(), encode(RES, r, framing, sid)) for r in results])
    out_dir = os.path.join(tmp, "out_" + framing)
    args = ["consume", "-b", b, "-t", topic, "--from-beginning", "--max", str(len(results)),
            "--timeout-ms", "15000", "--out-dir", out_dir, "--codec", framing, "-q"]
    if framing == "confluent":
        args += ["--schema-id", str(sid)]
    lines = kinfer(*args).splitlines()
    if len(lines) != len(results):
        fail("kinfer consume printed %d lines, want %d" % (len(lines), len(results)))
    by_id = {}
    for line in lines:
        try:
            j = json.loads(line)  # strict: rejects bad escapes and raw control chars
        except ValueError as e:
            fail("not JSON (%s): %r" % (e, line))
        by_id[j["id"]] = j
    for r in results:
        j = by_id.get(r["id"])
        if j is None:
            fail("result %r missing from kinfer consume output" % r["id"])
        for k in ("status", "error", "model", "batch_size", "queue_us", "compute_us", "worker",
                  "source", "metadata"):
            if j[k] != r[k]:
                fail("result %r field %s: %r, want %r" % (r["id"], k, j[k], r[k]))
        if j["version"] != r["model_version"]:
            fail("result %r version %r" % (r["id"], j["version"]))
        want_outs = [{"name": t["name"], "dtype": t["dtype"], "shape": t["shape"],
                      "bytes": len(t["data"])} for t in r["outputs"]]
        if j["outputs"] != want_outs:
            fail("result %r outputs %r, want %r" % (r["id"], j["outputs"], want_outs))
        if j["record"]["topic"] != topic:
            fail("result %r record %r" % (r["id"], j["record"]))
        for i, t in enumerate(r["outputs"]):
            path = os.path.join(out_dir, safe(r["id"], "_"), safe(t["name"], "output%d" % i) +
                                ".npy")
            if not os.path.exists(path):
                fail("missing %s (have %r)" % (path, os.listdir(out_dir)))
            got = np.load(path)
            want = tensor_to_numpy(t)
            if got.dtype != want.dtype or got.shape != want.shape or \
                    got.tobytes() != want.tobytes():
                fail("%s: %s%s differs from the result tensor %s%s" % (
                    path, got.dtype, got.shape, want.dtype, want.shape))
    for root, _, files in os.walk(out_dir):
        if not os.path.realpath(root).startswith(os.path.realpath(out_dir)):
            fail("wrote outside --out-dir: %s" % root)
    print("results (%s): %d results decoded, JSON and .npy outputs exact" % (framing,
                                                                         len(results)))
    return topic, len(results)


def check_group(b, topic, n):
    """-g joins a consumer group and commits: a second run of the same group
    sees nothing new, a different group sees everything again."""
    base = ["consume", "-b", b, "-t", topic, "--from-beginning", "-q"]
    lines = kinfer(*base, "-g", "g1", "--max", str(n), "--timeout-ms", "15000").splitlines()
    if len(lines) != n:
        fail("group g1 read %d results, want %d" % (len(lines), n))
    p = subprocess.run([BIN, *base, "-g", "g1", "--timeout-ms", "1500"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0 or p.stdout.strip():
        fail("group g1 re-read after commit: exit %d, %r" % (p.returncode, p.stdout[:200]))
    lines = kinfer(*base, "-g", "g2", "--max", str(n), "--timeout-ms", "15000").splitlines()
    if len(lines) != n:
        fail("group g2 read %d results, want %d" % (len(lines), n))
    print("consumer groups: offsets committed per group")


def main():
    with tempfile.TemporaryDirectory() as tmp, Broker("--topic", "jobs_npy_raw:2",
                                                      "--topic", "jobs_npy_confluent:3",
                                                      "--topic", "results_raw:2") as br:
        arrs = make_inputs(tmp)
        for framing, sid in (("raw", 0), ("confluent", 7)):
            check_jobs_from_npy(br.bootstrap, tmp, arrs, framing, sid)
            check_jobs_random(br.bootstrap, framing, sid)
            topic, n = check_consume(br.bootstrap, framing, 9 if framing == "confluent" else 0,
                                     tmp)
            if framing == "raw":
                check_group(br.bootstrap, topic, n)
    print("interop: ok")


if __name__ == "__main__":
    main()
