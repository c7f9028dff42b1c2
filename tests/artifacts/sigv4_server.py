#!/usr/bin/python3
"""An S3-like GET server that verifies AWS Signature V4 independently of
kinfer, with botocore's signer (python3-botocore), for the artifact tests.

GET /BUCKET/KEY (path style) serves --root/BUCKET/KEY with an ETag and
If-None-Match/304. Every request must carry a valid SigV4 Authorization
header for --access-key/--secret-key in --region, sign host, x-amz-date,
x-amz-content-sha256 (the empty-body digest or UNSIGNED-PAYLOAD) and, with
--session-token, x-amz-security-token. Failures answer 403 with an S3 XML
error (AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch,
AuthorizationHeaderMalformed, RequestTimeTooSkewed). Listens on 127.0.0.1,
writes its port to --port-file and one JSON line per request to --log.
"""
import argparse
import datetime
import hashlib
import json
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, ?"
                     r"SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--access-key", required=True)
    ap.add_argument("--secret-key", required=True)
    ap.add_argument("--session-token")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    lock = threading.Lock()

    def check(h):
        """Returns None when the request is correctly signed, else an S3 error code."""
        auth = h.headers.get("Authorization")
        if not auth:
            return "AccessDenied", {}
        m = AUTH_RE.match(auth)
        if not m:
            return "AuthorizationHeaderMalformed", {}
        ak, day, region, signed, sig = m.groups()
        info = {"signed_headers": signed}
        if ak != a.access_key:
            return "InvalidAccessKeyId", info
        if region != a.region:
            return "AuthorizationHeaderMalformed", info
        amzdate = h.headers.get("x-amz-date", "")
        try:
            t = datetime.datetime.strptime(amzdate, "%Y%m%dT%H%M%SZ")
        except ValueError:
            return "AccessDenied", info
        if amzdate[:8] != day or abs((datetime.datetime.utcnow() - t).total_seconds()) > 900:
            return "RequestTimeTooSkewed", info
        names = signed.split(";")
        need = ["host", "x-amz-date", "x-amz-content-sha256"]
        if a.session_token:
            need.append("x-amz-security-token")
            if h.headers.get("x-amz-security-token") != a.session_token:
                return "InvalidToken", info
        if any(n not in names for n in need):
            return "AccessDenied", info
        if h.headers.get("x-amz-content-sha256") not in (EMPTY_SHA256, "UNSIGNED-PAYLOAD"):
            return "XAmzContentSHA256Mismatch", info
        hdrs = {}
        for n in names:
            v = h.headers.get(n)
            if v is None:
                return "AccessDenied", info
            hdrs[n] = v
        req = AWSRequest(method=h.command, url="http://%s%s" % (hdrs["host"], h.path),
                         headers=hdrs, data=b"")
        req.context["timestamp"] = amzdate
        signer = S3SigV4Auth(Credentials(a.access_key, a.secret_key, a.session_token), "s3", region)
        canonical = signer.canonical_request(req)
        expected = signer.signature(signer.string_to_sign(req, canonical), req)
        if expected != sig:
            return "SignatureDoesNotMatch", info
        return None, info

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, body=b"", headers=()):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self):
            err, info = check(self)
            status = 403
            if err is None:
                rel = os.path.normpath(self.path.split("?")[0].lstrip("/"))
                path = os.path.join(a.root, rel)
                if rel.startswith("..") or not os.path.isfile(path):
                    status, err = 404, "NoSuchKey"
                else:
                    data = open(path, "rb").read()
                    etag = '"%s"' % hashlib.md5(data).hexdigest()
                    if self.headers.get("If-None-Match") == etag:
                        status = 304
                        self.reply(304, headers=[("ETag", etag)])
                    else:
                        status = 200
                        self.reply(200, data, [("ETag", etag), ("Content-Type", "application/octet-stream")])
            if err is not None:
                body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code>"
                        "<Message>%s</Message></Error>" % (err, err)).encode()
                self.reply(status, body, [("Content-Type", "application/xml")])
            with lock, open(a.log, "a") as f:
                f.write(json.dumps({"path": self.path, "status": status, "error": err,
                                    "inm": self.headers.get("If-None-Match"), **info}) + "\n")

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
