#!/usr/bin/python3
"""Uploads files to an S3 endpoint with botocore (path-style), for the
artifact tests: s3_put.py ENDPOINT BUCKET KEY=FILE... (credentials from
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)."""
import os
import sys

import botocore.session
from botocore.config import Config


def main():
    ep, bucket, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
    c = botocore.session.get_session().create_client(
        "s3", region_name="us-east-1", endpoint_url=ep,
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        config=Config(s3={"addressing_style": "path"}))
    for p in pairs:
        key, path = p.split("=", 1)
        with open(path, "rb") as f:
            r = c.put_object(Bucket=bucket, Key=key, Body=f.read())
        print("%s %s" % (key, r["ETag"]))


if __name__ == "__main__":
    main()
