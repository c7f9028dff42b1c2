"""Shared helpers for the Python interop tests: a `kinfer broker` subprocess
fixture, the wire contract implemented independently with python3-avro
(raw Avro and the Confluent framing), and dtype <-> numpy mapping."""
import io
import os
import select
import signal
import struct
import subprocess
import sys

import avro.io
import avro.schema
import numpy as np

SRC = os.environ.get("KINFER_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("KINFER_BIN", "kinfer")
API = (2, 5, 0)  # kafka-python cannot probe the mock cluster's version

DTYPES = {
    "FLOAT32": "<f4", "FLOAT16": "<f2", "FLOAT64": "<f8", "INT8": "i1",
    "UINT8": "u1", "INT32": "<i4", "INT64": "<i8", "BOOL": "?",
}
NP_TO_DTYPE = {np.dtype(v).str: k for k, v in DTYPES.items()}


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def schema(name):
    with open(os.path.join(SRC, "schemas", name), "rb") as f:
        return avro.schema.parse(f.read().decode("utf-8"))


def encode(sch, record, framing, schema_id):
    buf = io.BytesIO()
    if framing == "confluent":
        buf.write(b"\x00" + struct.pack(">i", schema_id))
    avro.io.DatumWriter(sch).write(record, avro.io.BinaryEncoder(buf))
    return buf.getvalue()


def decode(sch, data, framing, schema_id):
    if framing == "confluent":
        if len(data) < 5 or data[0] != 0:
            fail("record has no Confluent magic byte")
        got = struct.unpack(">i", data[1:5])[0]
        if got != schema_id:
            fail("Confluent schema id %d, want %d" % (got, schema_id))
        data = data[5:]
    buf = io.BytesIO(data)
    rec = avro.io.DatumReader(sch).read(avro.io.BinaryDecoder(buf))
    if buf.tell() != len(data):
        fail("%d trailing bytes after the record" % (len(data) - buf.tell()))
    return rec


def tensor_to_numpy(t):
    if t["dtype"] not in DTYPES:
        fail("dtype %s has no numpy equivalent" % t["dtype"])
    dt = np.dtype(DTYPES[t["dtype"]])
    a = np.frombuffer(t["data"], dtype=dt)
    return a.reshape(t["shape"])


def numpy_to_tensor(name, a):
    a = np.ascontiguousarray(a)
    return {"name": name, "dtype": NP_TO_DTYPE[a.dtype.str], "shape": list(a.shape),
            "data": a.tobytes()}


class Broker:
    """`kinfer broker` as a subprocess; .bootstrap is its first stdout line."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([BIN, "broker", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        line = self.proc.stdout.readline().decode().strip() if ready else ""
        if not line:
            self.proc.kill()
            fail("kinfer broker printed no bootstrap address: %s" % self.proc.stderr.read())
        self.bootstrap = line

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("kinfer broker ignored SIGTERM")
        if rc != 0:
            fail("kinfer broker exited %d" % rc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            if exc[0] is None:
                self.stop()
            else:
                self.proc.kill()
                self.proc.wait()


def read_topic(bootstrap, topic, n, timeout_s=20):
    """Reads n records from every partition of topic (no group)."""
    from kafka import KafkaConsumer
    c = KafkaConsumer(topic, bootstrap_servers=bootstrap, api_version=API,
                      auto_offset_reset="earliest", group_id=None,
                      consumer_timeout_ms=timeout_s * 1000)
    out = []
    for m in c:
        out.append(m)
        if len(out) == n:
            break
    c.close()
    if len(out) != n:
        fail("read %d of %d records from %s" % (len(out), n, topic))
    return out


def write_topic(bootstrap, topic, records):
    """records: list of (key bytes or None, value bytes)."""
    from kafka import KafkaProducer
    p = KafkaProducer(bootstrap_servers=bootstrap, api_version=API, acks="all")
    futs = [p.send(topic, key=k, value=v) for k, v in records]
    for f in futs:
        f.get(timeout=20)
    p.flush()
    p.close()
