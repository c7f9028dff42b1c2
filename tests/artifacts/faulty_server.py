#!/usr/bin/python3
"""A deliberately faulty HTTP server for the artifact tests (127.0.0.1 only).

Serves one file (--file) under these paths:
  /cut/NAME      first GET: 200 with the full Content-Length, but the
                 connection is closed after --cut bytes; later GETs honour
                 Range (+ If-Range against the ETag) with 206.
  /norange/NAME  like /cut, but ignores Range: always 200 with the whole body.
Writes its port to --port-file and one JSON line per request to --log.
"""
import argparse
import hashlib
import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--file", required=True)
    ap.add_argument("--cut", type=int, required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    data = open(a.file, "rb").read()
    etag = '"%s"' % hashlib.md5(data).hexdigest()
    lock = threading.Lock()
    seen = {}

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def record(self, status, sent):
            with lock, open(a.log, "a") as f:
                f.write(json.dumps({"path": self.path, "range": self.headers.get("Range"),
                                    "if_range": self.headers.get("If-Range"),
                                    "status": status, "bytes": sent}) + "\n")

        def do_GET(self):
            m = re.match(r"^/(cut|norange)/", self.path)
            if not m:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                self.record(404, 0)
                return
            mode = m.group(1)
            with lock:
                first = self.path not in seen
                seen[self.path] = True
            start = 0
            rng = self.headers.get("Range")
            if rng and mode == "cut" and self.headers.get("If-Range", etag) == etag:
                mm = re.match(r"^bytes=(\d+)-$", rng)
                if mm and int(mm.group(1)) < len(data):
                    start = int(mm.group(1))
            body = data[start:]
            self.send_response(206 if start else 200)
            self.send_header("ETag", etag)
            self.send_header("Accept-Ranges", "bytes" if mode == "cut" else "none")
            self.send_header("Content-Length", str(len(body)))
            if start:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
            self.end_headers()
            if first:
                self.wfile.write(body[:a.cut])
                self.wfile.flush()
                self.record(200, a.cut)
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            self.wfile.write(body)
            self.record(206 if start else 200, len(body))

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
