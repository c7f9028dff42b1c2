#!/usr/bin/python3
"""`kinfer produce` / `kinfer consume` on bad input: each case exits non-zero
with a message naming the bad file/flag/record, and bad records never hide
the good ones around them."""
import os
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kinfer_fixture import BIN, Broker, encode, fail, numpy_to_tensor, schema, write_topic

RES = schema("inference_result.avsc")


def run(*args, timeout=60):
    p = subprocess.run([BIN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def expect(rc_want, fragments, *args):
    rc, out, err = run(*args)
    if rc != rc_want:
        fail("kinfer %s: exit %d, want %d\nstderr: %s" % (" ".join(args), rc, rc_want, err))
    for f in fragments:
        if f not in err:
            fail("kinfer %s: stderr lacks %r:\n%s" % (" ".join(args), f, err))
    return out


def result(i):
    return {"id": "r%d" % i, "model": "m", "model_version": "1", "status": "OK", "error": None,
            "outputs": [numpy_to_tensor("y", np.arange(i + 1, dtype="<f4"))], "batch_size": 1,
            "queue_us": 1, "compute_us": 1, "worker": "w",
            "source": {"topic": "jobs", "partition": 0, "offset": i}, "metadata": {}}


def main():
    with tempfile.TemporaryDirectory() as d, Broker("--topic", "res") as br:
        b = br.bootstrap
        a10 = os.path.join(d, "a10.npy")
        a7 = os.path.join(d, "a7.npy")
        fort = os.path.join(d, "fortran.npy")
        junk = os.path.join(d, "junk.npy")
        np.save(a10, np.zeros((10, 3), "<f4"))
        np.save(a7, np.zeros((7, 3), "<f4"))
        np.save(fort, np.asfortranarray(np.zeros((4, 3), "<f4")))
        with open(junk, "wb") as f:
            f.write(b"\x93NUMPY garbage")
        base = ["produce", "-b", b, "-t", "jobs", "--model", "m"]
        expect(1, ["a7.npy", "7 rows"], *base, "-i", "a=" + a10, "-i", "b=" + a7)
        expect(1, ["nope.npy"], *base, "-i", "a=" + os.path.join(d, "nope.npy"))
        expect(1, ["fortran.npy"], *base, "-i", "a=" + fort)
        expect(1, ["junk.npy"], *base, "-i", "a=" + junk)
        expect(1, ["'a'", "NAME=FILE"], *base, "-i", "a")
        expect(2, ["either --input or --shape"], *base)
        expect(2, ["either --input or --shape"], *base, "-i", "a=" + a10, "-s", "x:f32:1")
        expect(1, ["x:f32:0x3", "leading dim"], *base, "-s", "x:f32:0x3")
        expect(1, ["unknown dtype 'q9'"], *base, "-s", "x:q9:1")
        expect(2, ["--rows-per-job"], *base, "-s", "x:f32:1", "-r", "0")
        expect(2, ["--codec 'auto'"], *base, "-s", "x:f32:1", "--codec", "auto")
        expect(1, ["kafka.no.such.prop"], *base, "-s", "x:f32:1", "-X", "no.such.prop=1")
        expect(2, ["--model"], "produce", "-b", b, "-t", "jobs", "-s", "x:f32:1")
        # nothing listens on port 1: every delivery fails and produce says so
        expect(1, ["3 of 3 message(s) failed"], "produce", "-b", "127.0.0.1:1", "-t", "jobs",
               "--model", "m", "-s", "x:f32:1", "-n", "3", "-X", "message.timeout.ms=1500",
               "-X", "log_level=0")

        # consume: garbage between good results is reported, the good ones printed
        recs = [(None, encode(RES, result(0), "raw", 0)), (None, b"\x07garbage"),
                (None, encode(RES, result(1), "raw", 0)), (None, b""),
                (None, encode(RES, result(2), "raw", 0))]
        write_topic(b, "res", recs)
        out = expect(1, ["res [0] offset 1: cannot decode result", "offset 3",
                         "2 undecodable record(s)"],
                     "consume", "-b", b, "-t", "res", "--from-beginning", "--max", "3",
                     "--timeout-ms", "3000")
        ids = [line.split('"')[3] for line in out.splitlines()]
        if ids != ["r0", "r1", "r2"]:
            fail("consume printed %r, want r0 r1 r2" % ids)
        # fewer than --max before the idle timeout: exit 1, says so
        expect(1, ["(fewer than --max)"], "consume", "-b", b, "-t", "res", "--from-beginning",
               "--max", "9", "--timeout-ms", "1500", "-q")
        # confluent consumer on raw records: every record named as undecodable
        expect(1, ["cannot decode result"], "consume", "-b", b, "-t", "res",
               "--from-beginning", "--codec", "confluent", "--timeout-ms", "1500", "-q")
        # SIGINT stops a consumer waiting for more: prompt, clean exit (1 here only
        # because the topic holds the 2 undecodable records above), results kept
        proc = subprocess.Popen([BIN, "consume", "-b", b, "-t", "res", "--from-beginning",
                                 "--timeout-ms", "60000"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        got = [proc.stdout.readline() for _ in range(3)]
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            fail("kinfer consume ignored SIGINT")
        if proc.returncode != 1 or b"signal 2: stopping" not in err or \
                b"2 undecodable record(s)" not in err or \
                not all(b'"id":"r%d"' % i in got[i] for i in range(3)):
            fail("SIGINT: exit %d, stdout %r, stderr %r" % (proc.returncode, got, err))
        # SIGINT during a long produce: stops sending, flushes what was sent, exit 1
        proc = subprocess.Popen([BIN, "produce", "-b", b, "-t", "big", "--model", "m", "-s",
                                 "x:f32:1", "-n", "100000000"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            fail("kinfer produce ignored SIGINT")
        if proc.returncode != 1 or b"signal 2 after" not in err or b" 0 failed" not in err:
            fail("produce SIGINT: exit %d, stderr %r" % (proc.returncode, err[-500:]))
        expect(2, ["--codec 'xml'"], "consume", "-b", b, "-t", "res", "--codec", "xml")
        expect(2, ["--max"], "consume", "-b", b, "-t", "res", "--max", "-1")
        expect(2, ["-t/--topic"], "consume", "-b", b)
    print("cli errors: ok")


if __name__ == "__main__":
    main()
