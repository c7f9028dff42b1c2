#!/usr/bin/env python3
"""Static checks of docker/ (no Docker engine or Kubernetes cluster here).

What this can and cannot prove: it parses every YAML file, checks the
compose file's services and their wiring, the Dockerfile's stages, its
dependency step (scripts/install-deps.sh, the script the README uses) and
its entry point (the worker), and checks the Kubernetes manifests against
the required fields and value types of each kind we use (Deployment,
ConfigMap, Secret, PodDisruptionBudget, KEDA ScaledObject, Kustomization).
kubeconform/kubeval are not packaged for Debian 12, so this is a hand-written
required-fields check, not a full OpenAPI schema validation; building the
image and running compose could not be done on this machine.

usage: check_deploy.py [SECTION ...]   sections: compose dockerfile k8s runtime
(default: the first three; `runtime` checks the built binary's shared
libraries against install-deps.sh --runtime and needs KINFER_BIN). Exits 1 listing every problem found."""
import base64
import json
import os
import re
import shlex
import sys

import yaml

SRC = os.environ.get("KINFER_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
DOCKER = os.path.join(SRC, "docker")
problems = []


def check(cond, msg):
    if not cond:
        problems.append(msg)
    return cond


def load_yaml_docs(path):
    with open(path, encoding="utf-8") as f:
        try:
            return [d for d in yaml.safe_load_all(f) if d is not None]
        except yaml.YAMLError as e:
            problems.append(f"{os.path.relpath(path, SRC)}: YAML does not parse: {e}")
            return []


def get(d, dotted, default=None):
    for part in dotted.split("."):
        if not isinstance(d, dict) or part not in d:
            return default
        d = d[part]
    return d


# ---- the worker's config key table (src/kf_config_keys.c) --------------------

def config_keys():
    text = open(os.path.join(SRC, "src", "kf_config_keys.c"), encoding="utf-8").read()
    return re.findall(r'^\s*\{"([a-z0-9_.*]+)",\s*KF_CFG_', text, re.M)


def key_known(key, keys):
    if key.startswith("kafka.") and len(key) > 6:
        return True
    for k in keys:
        pat = "^" + re.escape(k).replace(r"\*", "[^.]+") + "$"
        if re.match(pat, key):
            return True
    return False


def env_known(var, keys):
    """KINFER_<NAME> -> table key, per kf_config.h's environment rule."""
    name = var[len("KINFER_"):]
    if name.startswith("KAFKA_"):
        return True
    for k in keys:
        pat = "^" + re.escape(k.replace(".", "_").upper()).replace(r"\*", "[A-Z0-9_]+") + "$"
        if re.match(pat, name):
            return True
    return False


# ---- compose -------------------------------------------------------------

def check_compose():
    path = os.path.join(DOCKER, "compose.yaml")
    docs = load_yaml_docs(path)
    if not check(len(docs) == 1 and isinstance(docs[0], dict), "compose.yaml: not one mapping"):
        return
    services = docs[0].get("services") or {}
    required = ["kafka", "minio", "minio-seed", "worker-1", "worker-2", "prometheus", "producer"]
    for s in required:
        check(s in services, f"compose.yaml: service '{s}' missing")
    if any(s not in services for s in required):
        return
    check(not any("zookeeper" in s for s in services), "compose.yaml: ZooKeeper found (want KRaft)")

    # Kafka in KRaft mode
    kenv = services["kafka"].get("environment") or {}
    check("apache/kafka" in str(services["kafka"].get("image", "")),
          "compose.yaml: kafka is not the Apache Kafka image")
    roles = str(kenv.get("KAFKA_PROCESS_ROLES", ""))
    check("controller" in roles and "broker" in roles,
          "compose.yaml: kafka KAFKA_PROCESS_ROLES must be broker,controller (KRaft)")
    check("KAFKA_CONTROLLER_QUORUM_VOTERS" in kenv, "compose.yaml: kafka has no quorum voters")
    cid = str(kenv.get("CLUSTER_ID", ""))
    check(re.fullmatch(r"[A-Za-z0-9_-]{22}", cid) is not None,
          f"compose.yaml: CLUSTER_ID '{cid}' is not a 22-char base64 UUID")

    # Workers: built from docker/Dockerfile, configured, metrics port exposed
    ports = []
    for w in ("worker-1", "worker-2"):
        svc = services[w]
        build = svc.get("build") or {}
        df = os.path.normpath(os.path.join(DOCKER, build.get("context", "."),
                                           build.get("dockerfile", "Dockerfile")))
        check(df == os.path.normpath(os.path.join(DOCKER, "Dockerfile")),
              f"compose.yaml: {w} is not built from docker/Dockerfile ({df})")
        env = svc.get("environment") or {}
        for k in ("KINFER_BOOTSTRAP", "KINFER_GROUP", "KINFER_INPUT_TOPICS", "KINFER_OUTPUT_TOPIC",
                  "KINFER_MODEL_MNIST_SOURCE", "KINFER_METRICS_PORT", "AWS_ACCESS_KEY_ID",
                  "AWS_SECRET_ACCESS_KEY"):
            check(k in env, f"compose.yaml: {w} lacks {k}")
        check(str(env.get("KINFER_BOOTSTRAP", "")).startswith("kafka:"),
              f"compose.yaml: {w} does not point at the kafka service")
        check(str(env.get("KINFER_MODEL_MNIST_SOURCE", "")) == "s3://models/mnist",
              f"compose.yaml: {w} model source is not the seeded bucket")
        ports.append(str(env.get("KINFER_METRICS_PORT", "")))
        keys = config_keys()
        for var in env:
            if var.startswith("KINFER_") and var != "KINFER_CACHE_DIR":
                check(env_known(var, keys),
                      f"compose.yaml: {w} sets {var}, which maps to no config key")
        dep = svc.get("depends_on") or {}
        check(get(dep, "minio-seed.condition") == "service_completed_successfully",
              f"compose.yaml: {w} must wait for the model seeding")
        check(isinstance(svc.get("healthcheck"), dict) and "readyz" in str(svc["healthcheck"]),
              f"compose.yaml: {w} healthcheck should probe /readyz")
    check(len(set(ports)) == 1, "compose.yaml: workers use different metrics ports")
    check(services["worker-1"].get("environment", {}).get("KINFER_GROUP") ==
          services["worker-2"].get("environment", {}).get("KINFER_GROUP"),
          "compose.yaml: workers are not in one consumer group")

    # MinIO seeding: the repository layout {bucket}/{model}/{version}/model.onnx + LATEST
    seed = services["minio-seed"]
    cmd = " ".join(seed.get("command") or []) if isinstance(seed.get("command"), list) \
        else str(seed.get("command"))
    check("local/models/mnist/1/model.onnx" in cmd, "compose.yaml: seed does not upload model.onnx")
    check("local/models/mnist/LATEST" in cmd, "compose.yaml: seed does not write LATEST")
    vols = [str(v) for v in seed.get("volumes") or []]
    check(any(v.startswith("../models:") for v in vols), "compose.yaml: seed does not mount ../models")
    check("mnist_mlp.onnx" in cmd, "compose.yaml: seed does not upload models/mnist_mlp.onnx")
    model = os.path.join(SRC, "models", "mnist_mlp.onnx")
    if os.path.isdir(os.path.join(SRC, "models")) and any(
            f.endswith(".onnx") for f in os.listdir(os.path.join(SRC, "models"))):
        check(os.path.isfile(model), "compose.yaml: seeds models/mnist_mlp.onnx, which is missing")

    # Prometheus scrapes both workers on their metrics port
    prom = services["prometheus"]
    pvols = [str(v) for v in prom.get("volumes") or []]
    check(any(v.startswith("./prometheus.yml:") for v in pvols),
          "compose.yaml: prometheus does not mount ./prometheus.yml")
    pdocs = load_yaml_docs(os.path.join(DOCKER, "prometheus.yml"))
    targets = []
    for sc in (pdocs[0].get("scrape_configs") or []) if pdocs else []:
        for st in sc.get("static_configs") or []:
            targets += st.get("targets") or []
    for w in ("worker-1", "worker-2"):
        check(f"{w}:{ports[0]}" in targets, f"prometheus.yml: does not scrape {w}:{ports[0]}")

    # One-shot producer: `kinfer produce` against the jobs topic
    prod = services["producer"]
    ep = prod.get("entrypoint") or []
    args = prod.get("command") or []
    check(isinstance(ep, list) and len(ep) >= 2 and ep[0].endswith("/kinfer") and ep[1] == "produce",
          "compose.yaml: producer entrypoint is not `kinfer produce`")
    if isinstance(args, list):
        topic = args[args.index("-t") + 1] if "-t" in args else None
        check(topic == services["worker-1"].get("environment", {}).get("KINFER_INPUT_TOPICS"),
              "compose.yaml: producer topic differs from the workers' input topic")
        check("--model" in args, "compose.yaml: producer names no model")
    check(prod.get("restart") == "no", "compose.yaml: producer must be one-shot (restart: no)")


# ---- Dockerfile ------------------------------------------------------------

def dockerfile_instructions(path):
    """(INSTRUCTION, args) pairs with continuation lines joined."""
    out, cur = [], ""
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not cur and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if cur and line.lstrip().startswith("#"):
                continue
            if line.endswith("\\"):
                cur += line[:-1] + " "
                continue
            cur += line
            parts = cur.strip().split(None, 1)
            out.append((parts[0].upper(), parts[1] if len(parts) > 1 else ""))
            cur = ""
    return out


def check_dockerfile():
    path = os.path.join(DOCKER, "Dockerfile")
    ins = dockerfile_instructions(path)
    stages = []
    for op, arg in ins:
        if op == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", arg, re.I)
            stages.append({"image": m.group(1), "name": m.group(2), "ins": []})
        elif check(stages, f"Dockerfile: {op} before FROM"):
            stages[-1]["ins"].append((op, arg))
    if not check(len(stages) >= 2, "Dockerfile: not multi-stage"):
        return
    for s in stages:
        check(s["image"] == "debian:12", f"Dockerfile: stage {s['name']} is not on debian:12")
    build, runtime = stages[0], stages[-1]

    def runs(stage):
        return [a for op, a in stage["ins"] if op == "RUN"]

    # Build stage: the README's dependency script, no arguments (full set)
    # The README's install path: `make demo|test` -> the Makefile's deps target
    # -> scripts/install-deps.sh. The image must run that same script.
    readme = open(os.path.join(SRC, "README.md"), encoding="utf-8").read()
    check("install-deps.sh" in readme, "README.md no longer names install-deps.sh")
    makefile = open(os.path.join(SRC, "Makefile"), encoding="utf-8").read()
    check(re.search(r"^deps:.*\n\t.*scripts/install-deps\.sh", makefile, re.M) is not None,
          "Makefile: deps target does not run scripts/install-deps.sh")
    deps = [r for r in runs(build) if "install-deps.sh" in r]
    check(deps, "Dockerfile: build stage does not run scripts/install-deps.sh")
    for r in deps:
        words = shlex.split(r.split("&&")[0])
        check(words[-1].endswith("scripts/install-deps.sh"),
              f"Dockerfile: build stage runs install-deps.sh with options: {r}")
    check(not any("apt-get install" in r for r in runs(build)),
          "Dockerfile: build stage installs packages outside install-deps.sh")
    # the script (and the helpers it calls) must be in the image before it runs
    first_dep = next((i for i, (op, a) in enumerate(build["ins"])
                      if op == "RUN" and "install-deps.sh" in a), None)
    copied = [a.split() for op, a in build["ins"][:first_dep or 0] if op == "COPY"]
    check(any(c and c[0] == "." for c in copied),
          "Dockerfile: build stage runs install-deps.sh before copying the tree (`COPY . .`): "
          "it calls scripts/install-s3rver.sh, which reads tests/artifacts/s3rver/")
    check(any("cmake --build" in r for r in runs(build)), "Dockerfile: build stage does not build")
    check(any("KINFER_NATIVE=OFF" in r for r in runs(build)),
          "Dockerfile: image build must not use -march=native (KINFER_NATIVE=OFF)")

    # Runtime stage: --runtime mode of the same script, no compilers
    script = open(os.path.join(SRC, "scripts", "install-deps.sh"), encoding="utf-8").read()
    check("--runtime)" in script, "scripts/install-deps.sh has no --runtime mode")
    rdeps = [r for r in runs(runtime) if "install-deps.sh" in r]
    check(any("install-deps.sh --runtime" in r for r in rdeps),
          "Dockerfile: runtime stage does not run install-deps.sh --runtime")
    joined = " ".join(runs(runtime))
    for tool in ("build-essential", "gcc", "clang", "cmake", "apt-get install"):
        check(not re.search(r"\b" + re.escape(tool) + r"\b", joined),
              f"Dockerfile: runtime stage installs {tool}")
    m = re.search(r"runtime_pkgs=\(([^)]*)\)", script)
    if check(m, "scripts/install-deps.sh: no runtime_pkgs list"):
        pkgs = m.group(1).split()
        for bad in ("build-essential", "cmake", "gcc", "clang"):
            check(bad not in pkgs, f"install-deps.sh: runtime list contains {bad}")
    check(any(op == "COPY" and "--from=" in a and "kinfer" in a for op, a in runtime["ins"]),
          "Dockerfile: runtime stage does not copy the kinfer binary from the build stage")
    check(any(op == "USER" and a.strip() not in ("root", "0") for op, a in runtime["ins"]),
          "Dockerfile: runtime stage runs as root")

    # Entry point: exec form, the worker subcommand
    eps = [a for op, a in runtime["ins"] if op == "ENTRYPOINT"]
    if check(len(eps) == 1, "Dockerfile: runtime stage needs exactly one ENTRYPOINT"):
        try:
            ep = json.loads(eps[0])
        except ValueError:
            ep = None
        check(isinstance(ep, list) and len(ep) >= 2 and ep[0].endswith("/kinfer")
              and ep[1] == "worker", f"Dockerfile: ENTRYPOINT is not [.../kinfer, worker]: {eps[0]}")
    exposed = " ".join(a for op, a in runtime["ins"] if op == "EXPOSE")
    check("9464" in exposed.split(), "Dockerfile: metrics port 9464 not exposed")
    # The subcommand exists in the binary that the image builds
    kbin = os.environ.get("KINFER_BIN")
    if kbin:
        import subprocess
        out = subprocess.run([kbin, "--help"], capture_output=True, text=True)
        check(re.search(r"^\s+worker\s", out.stdout + out.stderr, re.M) is not None,
              "kinfer --help does not list the worker subcommand")

    ign = os.path.join(DOCKER, "Dockerfile.dockerignore")
    if check(os.path.isfile(ign), "docker/Dockerfile.dockerignore missing"):
        lines = open(ign, encoding="utf-8").read().split()
        check("build" in lines and ".git" in lines, "Dockerfile.dockerignore must drop build/ and .git")


# ---- runtime libraries --------------------------------------------------------

def check_runtime_libs():
    """Every shared library the built kinfer binary loads must come from a
    package in install-deps.sh's runtime list or its dependency closure, or
    the runtime image would fail to start (CUDA libraries aside: the CPU
    image is built with KINFER_CUDA=OFF)."""
    import shutil
    import subprocess
    kbin = os.environ.get("KINFER_BIN")
    if not check(kbin and os.path.isfile(kbin), "runtime: KINFER_BIN not set or missing"):
        return
    for tool in ("ldd", "dpkg", "apt-cache"):
        if not check(shutil.which(tool), f"runtime: {tool} not found"):
            return
    script = open(os.path.join(SRC, "scripts", "install-deps.sh"), encoding="utf-8").read()
    m = re.search(r"runtime_pkgs=\(([^)]*)\)", script)
    if not check(m, "install-deps.sh: no runtime_pkgs list"):
        return
    runtime = m.group(1).split()
    out = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                          "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"]
                         + runtime, capture_output=True, text=True).stdout
    closure = {l.strip() for l in out.splitlines() if l and not l.startswith(" ")}
    closure |= set(runtime)
    check(len(closure) > len(runtime), "runtime: apt-cache returned no dependency closure")
    libs = []
    for line in subprocess.run(["ldd", kbin], capture_output=True, text=True).stdout.splitlines():
        parts = line.split("=>")
        if len(parts) == 2 and parts[1].strip().startswith("/"):
            libs.append(parts[1].split()[0])
    check(libs, "runtime: ldd listed no libraries")
    # sanitizer runtimes (ASan/UBSan test builds) and CUDA (the CPU image is
    # built with KINFER_CUDA=OFF) are not part of the image
    skip = re.compile(r"/cuda|/lib(asan|ubsan|tsan|lsan)\.so")
    libs = [l for l in libs if not skip.search(l)]
    owners = {}
    for cands in ([l for l in libs], [os.path.realpath(l) for l in libs],
                  ["/usr" + l for l in libs]):
        todo = [c for l, c in zip(libs, cands) if l not in owners]
        if not todo:
            break
        r = subprocess.run(["dpkg", "-S"] + todo, capture_output=True, text=True)
        for line in r.stdout.splitlines():
            pkg, _, path = line.partition(": ")
            for l, c in zip(libs, cands):
                if c == path.strip() and l not in owners:
                    owners[l] = pkg.split(":")[0].strip()
    for lib in libs:
        owner = owners.get(lib)
        if check(owner, f"runtime: {lib} belongs to no Debian package"):
            check(owner in closure or owner.startswith(("libc6", "libgcc-s1")),
                  f"runtime: kinfer loads {lib} from {owner}, which scripts/install-deps.sh "
                  f"--runtime does not install (add it to runtime_pkgs)")


# ---- Kubernetes ------------------------------------------------------------

DNS1123 = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")


def check_str_map(m, where):
    if m is None:
        return
    if check(isinstance(m, dict), f"{where}: not a mapping"):
        for k, v in m.items():
            check(isinstance(k, str) and isinstance(v, str),
                  f"{where}: '{k}' must map to a string (quote it), got {type(v).__name__}")


def check_meta(doc, where):
    meta = doc.get("metadata")
    if not check(isinstance(meta, dict), f"{where}: no metadata"):
        return None
    name = meta.get("name")
    check(isinstance(name, str) and DNS1123.fullmatch(name) and len(name) <= 253,
          f"{where}: metadata.name '{name}' is not a DNS-1123 name")
    check_str_map(meta.get("labels"), f"{where}: metadata.labels")
    check_str_map(meta.get("annotations"), f"{where}: metadata.annotations")
    return name


def check_probe(p, where, ports):
    if p is None:
        return
    hg = p.get("httpGet") if isinstance(p, dict) else None
    if check(isinstance(hg, dict), f"{where}: probe without httpGet"):
        check(str(hg.get("path", "")).startswith("/"), f"{where}: probe path")
        port = hg.get("port")
        check(port in ports, f"{where}: probe port {port!r} is not a declared container port")


def check_deployment(doc, where, objs):
    spec = doc.get("spec") or {}
    check(isinstance(spec.get("replicas", 1), int), f"{where}: spec.replicas must be an int")
    sel = get(spec, "selector.matchLabels")
    tmeta = get(spec, "template.metadata") or {}
    labels = tmeta.get("labels") or {}
    if check(isinstance(sel, dict) and sel, f"{where}: spec.selector.matchLabels required"):
        check(all(labels.get(k) == v for k, v in sel.items()),
              f"{where}: selector does not match the pod template labels")
    check_str_map(labels, f"{where}: template labels")
    ann = tmeta.get("annotations") or {}
    check_str_map(ann, f"{where}: template annotations")
    check(ann.get("prometheus.io/scrape") == "true", f"{where}: prometheus.io/scrape != \"true\"")
    pspec = get(spec, "template.spec") or {}
    containers = pspec.get("containers")
    if not check(isinstance(containers, list) and containers, f"{where}: no containers"):
        return
    volumes = {v.get("name"): v for v in pspec.get("volumes") or []}
    all_ports = []
    for c in containers:
        cw = f"{where}: container {c.get('name')}"
        check(isinstance(c.get("name"), str) and DNS1123.fullmatch(c["name"]), f"{cw}: bad name")
        check(isinstance(c.get("image"), str) and c["image"], f"{cw}: image required")
        for key in ("args", "command"):
            if key in c:
                check(isinstance(c[key], list) and all(isinstance(a, str) for a in c[key]),
                      f"{cw}: {key} must be a list of strings")
        ports = {}
        for p in c.get("ports") or []:
            check(isinstance(p.get("containerPort"), int) and 0 < p["containerPort"] < 65536,
                  f"{cw}: containerPort must be an int port")
            ports[p.get("containerPort")] = p
            if "name" in p:
                check(len(p["name"]) <= 15 and DNS1123.fullmatch(p["name"]),
                      f"{cw}: port name '{p['name']}' invalid")
                ports[p["name"]] = p
        all_ports += [k for k in ports if isinstance(k, int)]
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            check_probe(c.get(probe), f"{cw}: {probe}", ports)
        check(get(c, "readinessProbe.httpGet.path") == "/readyz", f"{cw}: readiness is not /readyz")
        check(get(c, "livenessProbe.httpGet.path") == "/healthz", f"{cw}: liveness is not /healthz")
        res = c.get("resources") or {}
        req = res.get("requests") or {}
        check("cpu" in req and "memory" in req, f"{cw}: resources.requests cpu+memory required")
        for kind in ("requests", "limits"):
            for k, v in (res.get(kind) or {}).items():
                check(isinstance(v, int) or (isinstance(v, str) and QUANTITY.match(v)),
                      f"{cw}: resources.{kind}.{k} '{v}' is not a quantity")
        for e in c.get("env") or []:
            ew = f"{cw}: env {e.get('name')}"
            check(isinstance(e.get("name"), str), f"{ew}: name required")
            check(("value" in e) != ("valueFrom" in e), f"{ew}: exactly one of value/valueFrom")
            if "value" in e:
                check(isinstance(e["value"], str), f"{ew}: value must be a string (quote it)")
            if str(e.get("name", "")).startswith("KINFER_"):
                check(env_known(e["name"], config_keys()),
                      f"{ew}: maps to no config key")
            ref = get(e, "valueFrom.configMapKeyRef")
            if ref:
                cm = objs.get(("ConfigMap", ref.get("name")))
                check(cm is not None and ref.get("key") in (cm.get("data") or {}),
                      f"{ew}: ConfigMap {ref.get('name')} key {ref.get('key')} not defined")
            ref = get(e, "valueFrom.secretKeyRef")
            if ref:
                check(("Secret", ref.get("name")) in objs, f"{ew}: Secret {ref.get('name')} not defined")
        for ef in c.get("envFrom") or []:
            name = get(ef, "secretRef.name") or get(ef, "configMapRef.name")
            kind = "Secret" if "secretRef" in ef else "ConfigMap"
            check((kind, name) in objs, f"{cw}: envFrom {kind} {name} not defined")
        for vm in c.get("volumeMounts") or []:
            check(vm.get("name") in volumes, f"{cw}: volumeMount {vm.get('name')} has no volume")
            check(str(vm.get("mountPath", "")).startswith("/"), f"{cw}: mountPath must be absolute")
    port_ann = ann.get("prometheus.io/port")
    check(isinstance(port_ann, str) and port_ann.isdigit() and int(port_ann) in all_ports,
          f"{where}: prometheus.io/port {port_ann!r} is not a container port")
    for v in volumes.values():
        cmn = get(v, "configMap.name")
        if cmn:
            cm = objs.get(("ConfigMap", cmn))
            if check(cm is not None, f"{where}: volume uses undefined ConfigMap {cmn}"):
                for it in get(v, "configMap.items") or []:
                    check(it.get("key") in (cm.get("data") or {}),
                          f"{where}: ConfigMap {cmn} has no key {it.get('key')}")


def pod_labels(objs):
    return [get(d, "spec.template.metadata.labels") or {}
            for (k, _), d in objs.items() if k == "Deployment"]


def check_k8s():
    root = os.path.join(DOCKER, "k8s")
    files = []
    for dirpath, _, names in os.walk(root):
        files += [os.path.join(dirpath, n) for n in sorted(names) if n.endswith((".yaml", ".yml"))]
    if not check(files, "docker/k8s: no manifests"):
        return
    objs, per_file = {}, {}
    for f in files:
        rel = os.path.relpath(f, SRC)
        for i, doc in enumerate(load_yaml_docs(f)):
            where = f"{rel}[{i}]"
            if not check(isinstance(doc, dict), f"{where}: not a mapping"):
                continue
            check(isinstance(doc.get("apiVersion"), str), f"{where}: apiVersion required")
            kind = doc.get("kind")
            if not check(isinstance(kind, str), f"{where}: kind required"):
                continue
            if kind == "Kustomization":
                for r in doc.get("resources") or []:
                    check(os.path.exists(os.path.join(os.path.dirname(f), r)),
                          f"{where}: resource {r} does not exist")
                continue
            name = check_meta(doc, where)
            check((kind, name) not in objs, f"{where}: duplicate {kind} {name}")
            objs[(kind, name)] = doc
            per_file[(kind, name)] = where
    want_api = {"Deployment": "apps/v1", "ConfigMap": "v1", "Secret": "v1",
                "PodDisruptionBudget": "policy/v1", "ScaledObject": "keda.sh/v1alpha1"}
    kinds = {k for k, _ in objs}
    for k in want_api:
        check(k in kinds, f"docker/k8s: no {k}")
    for (kind, name), doc in objs.items():
        where = per_file[(kind, name)]
        if kind in want_api:
            check(doc.get("apiVersion") == want_api[kind],
                  f"{where}: {kind} apiVersion should be {want_api[kind]}")
        else:
            problems.append(f"{where}: unexpected kind {kind} (add a check for it)")
        if kind == "ConfigMap":
            check_str_map(doc.get("data"), f"{where}: data")
        elif kind == "Secret":
            check(doc.get("type", "Opaque") == "Opaque", f"{where}: type should be Opaque")
            check_str_map(doc.get("stringData"), f"{where}: stringData")
            for k, v in (doc.get("data") or {}).items():
                try:
                    base64.b64decode(v, validate=True)
                except Exception:
                    problems.append(f"{where}: data.{k} is not base64")
            keys = set(doc.get("stringData") or {}) | set(doc.get("data") or {})
            check({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= keys,
                  f"{where}: S3 credentials AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY missing")
        elif kind == "Deployment":
            check_deployment(doc, where, objs)
        elif kind == "PodDisruptionBudget":
            spec = doc.get("spec") or {}
            check(("minAvailable" in spec) != ("maxUnavailable" in spec),
                  f"{where}: exactly one of minAvailable/maxUnavailable")
            sel = get(spec, "selector.matchLabels") or {}
            check(sel and any(all(l.get(k) == v for k, v in sel.items()) for l in pod_labels(objs)),
                  f"{where}: selector matches no Deployment's pods")
        elif kind == "ScaledObject":
            spec = doc.get("spec") or {}
            target = get(spec, "scaleTargetRef.name")
            check(("Deployment", target) in objs, f"{where}: scaleTargetRef {target} is no Deployment")
            lo, hi = spec.get("minReplicaCount", 0), spec.get("maxReplicaCount")
            check(isinstance(lo, int) and isinstance(hi, int) and 0 <= lo <= hi,
                  f"{where}: min/maxReplicaCount must be ints with min <= max")
            trig = [t for t in spec.get("triggers") or [] if t.get("type") == "kafka"]
            if check(trig, f"{where}: no kafka trigger (consumer-group lag)"):
                md = trig[0].get("metadata") or {}
                check_str_map(md, f"{where}: trigger metadata")
                for k in ("bootstrapServers", "consumerGroup", "topic", "lagThreshold"):
                    check(k in md, f"{where}: kafka trigger needs {k}")
                check(str(md.get("lagThreshold", "")).isdigit(), f"{where}: lagThreshold not a number")
                cm = objs.get(("ConfigMap", "kinfer-config")) or {}
                props = (cm.get("data") or {}).get("worker.properties") or ""
                for line in props.splitlines():
                    line = line.strip()
                    if line and not line.startswith(("#", "!")):
                        key = line.split("=", 1)[0].strip()
                        check(key_known(key, config_keys()),
                              f"ConfigMap kinfer-config: unknown config key '{key}'")
                conf = dict(l.split("=", 1) for l in props.splitlines() if "=" in l)
                check(md.get("consumerGroup") == conf.get("group"),
                      f"{where}: consumerGroup differs from the worker's group")
                check(md.get("topic") in (conf.get("input.topics") or "").split(","),
                      f"{where}: topic is not a worker input topic")
                check(md.get("bootstrapServers") == conf.get("bootstrap"),
                      f"{where}: bootstrapServers differs from the worker's")
    gpu = [d for (k, _), d in objs.items() if k == "Deployment" and any(
        "nvidia.com/gpu" in (get(c, "resources.limits") or {})
        for c in get(d, "spec.template.spec.containers") or [])]
    check(gpu, "docker/k8s: no Deployment with an nvidia.com/gpu limit (GPU variant)")
    cpu = [d for (k, _), d in objs.items() if k == "Deployment" and d not in gpu]
    check(cpu, "docker/k8s: no CPU Deployment")


def main():
    sections = sys.argv[1:] or ["compose", "dockerfile", "k8s"]
    fns = {"compose": check_compose, "dockerfile": check_dockerfile, "k8s": check_k8s,
           "runtime": check_runtime_libs}
    for s in sections:
        if s not in fns:
            print(f"check_deploy: unknown section {s}", file=sys.stderr)
            return 2
        try:
            fns[s]()
        except Exception as e:  # a malformed file must fail the check, with a reason
            problems.append(f"{s}: checker stopped on malformed input: {type(e).__name__}: {e}")
    if problems:
        for p in problems:
            print("FAIL", p)
        return 1
    print(f"check_deploy: {', '.join(sections)}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
