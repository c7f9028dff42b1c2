#!/usr/bin/env python3
"""Proves check_deploy.py can fail: copies the files it reads into a temp
tree, breaks one thing at a time, and expects check_deploy.py to exit 1 with
a message naming the problem. The unmodified copy must pass."""
import os
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("KINFER_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
CHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_deploy.py")

# (file, old, new, expected message fragment)
MUTATIONS = [
    ("docker/Dockerfile", 'ENTRYPOINT ["/usr/local/bin/kinfer", "worker"]',
     'ENTRYPOINT ["/usr/local/bin/kinfer", "demo"]', "ENTRYPOINT is not"),
    ("docker/Dockerfile", "RUN bash scripts/install-deps.sh &&",
     "RUN apt-get update && apt-get install -y librdkafka-dev &&", "does not run scripts/install-deps.sh"),
    ("docker/Dockerfile", "install-deps.sh --runtime &&",
     "install-deps.sh --runtime && apt-get install -y gcc &&", "runtime stage installs gcc"),
    ("docker/Dockerfile", "COPY . .\nRUN bash scripts/install-deps.sh",
     "COPY scripts/install-deps.sh scripts/install-deps.sh\nRUN bash scripts/install-deps.sh",
     "before copying the tree"),
    ("docker/Dockerfile", "FROM debian:12 AS runtime", "FROM ubuntu:22.04 AS runtime",
     "is not on debian:12"),
    ("docker/compose.yaml", "  producer:\n", "  producer-renamed:\n", "service 'producer' missing"),
    ("docker/compose.yaml", "KAFKA_PROCESS_ROLES: broker,controller", "KAFKA_PROCESS_ROLES: broker",
     "KRaft"),
    ("docker/compose.yaml", "local/models/mnist/LATEST", "local/models/mnist/NEWEST",
     "does not write LATEST"),
    ("docker/prometheus.yml", '"worker-2:9464"', '"worker-3:9464"', "does not scrape worker-2"),
    ("docker/compose.yaml", "services:\n", "services:\n  : [\n", "YAML does not parse"),
    ("docker/k8s/deployment.yaml", 'prometheus.io/port: "9464"', "prometheus.io/port: 9464",
     "must map to a string"),
    ("docker/k8s/deployment.yaml", "path: /readyz", "path: /ready", "readiness is not /readyz"),
    ("docker/k8s/deployment.yaml", "              memory: 512Mi\n", "", "requests cpu+memory"),
    ("docker/k8s/deployment.yaml", "            - secretRef:\n                name: kinfer-s3",
     "            - secretRef:\n                name: kinfer-creds", "Secret kinfer-creds not defined"),
    ("docker/k8s/pdb.yaml", "  maxUnavailable: 1\n", "  maxUnavailable: 1\n  minAvailable: 1\n",
     "exactly one of minAvailable/maxUnavailable"),
    ("docker/k8s/keda-scaledobject.yaml", "consumerGroup: kinfer", "consumerGroup: other",
     "consumerGroup differs"),
    ("docker/k8s/keda-scaledobject.yaml", "    name: kinfer-worker\n  pollingInterval",
     "    name: kinfer-wrker\n  pollingInterval", "scaleTargetRef kinfer-wrker is no Deployment"),
    ("docker/k8s/gpu/deployment.yaml", "              nvidia.com/gpu: 1\n          securityContext",
     "          securityContext", "nvidia.com/gpu limit"),
    ("docker/k8s/configmap.yaml", "max_batch=256", "max_batchsize=256",
     "unknown config key 'max_batchsize'"),
    ("docker/compose.yaml", "KINFER_OUTPUT_TOPIC:", "KINFER_OUTPUT_TOPICS:",
     "KINFER_OUTPUT_TOPICS, which maps to no config key"),
    ("docker/k8s/secret.yaml", "  AWS_SECRET_ACCESS_KEY: change-me\n", "", "S3 credentials"),
]


def copy_tree(dst):
    os.makedirs(os.path.join(dst, "src"))
    shutil.copy(os.path.join(SRC, "src", "kf_config_keys.c"), os.path.join(dst, "src"))
    for rel in ("docker", "scripts"):
        shutil.copytree(os.path.join(SRC, rel), os.path.join(dst, rel))
    for rel in ("README.md", "Makefile"):
        shutil.copy(os.path.join(SRC, rel), os.path.join(dst, rel))


def run(root):
    env = dict(os.environ, KINFER_SOURCE_DIR=root)
    env.pop("KINFER_BIN", None)
    return subprocess.run([sys.executable, CHECK], env=env, capture_output=True, text=True)


def main():
    failures = []
    with tempfile.TemporaryDirectory() as base:
        clean = os.path.join(base, "clean")
        copy_tree(clean)
        r = run(clean)
        if r.returncode != 0:
            print(r.stdout, r.stderr)
            return 1
        for i, (rel, old, new, want) in enumerate(MUTATIONS):
            root = os.path.join(base, f"m{i}")
            copy_tree(root)
            path = os.path.join(root, rel)
            text = open(path, encoding="utf-8").read()
            if old not in text:
                failures.append(f"mutation {i}: '{old.strip()}' not found in {rel} (update the test)")
                continue
            open(path, "w", encoding="utf-8").write(text.replace(old, new, 1))
            r = run(root)
            if r.returncode != 1 or want not in r.stdout:
                failures.append(f"mutation {i} ({rel}: {want}) not caught: rc={r.returncode}\n"
                                f"{r.stdout}{r.stderr}")
    for f in failures:
        print("FAIL", f)
    if failures:
        return 1
    print(f"check_deploy_mutations: all {len(MUTATIONS)} mutations caught")
    return 0


if __name__ == "__main__":
    sys.exit(main())
