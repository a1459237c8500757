#!/usr/bin/env python3
"""Checks deploy/k8s/ and deploy/compose.yaml without a cluster (CI has none).

- every YAML document parses and has apiVersion, kind and metadata.name;
- kustomization.yaml lists exactly the manifests in this folder;
- the Deployment probes /healthz (liveness) and /readyz (readiness) on the admin port, runs as
  non-root, and mounts the ConfigMap and the Secret that exist here;
- the ConfigMap's TOML is accepted by the real binary: `esim-bridge check-config` (unknown keys
  are errors there), with the Secret's placeholder files written to a temp dir;
- deploy/compose.yaml parses and names the services nats, bridge and sim.

Usage: validate.py [path/to/esim-bridge]  (without it, the check-config step is skipped)
"""
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SECRETS_DIR = "/var/run/secrets/esim-bridge/"


def fail(msg):
    sys.exit(f"deploy/k8s: {msg}")


def load_manifests():
    docs = {}
    for path in sorted(HERE.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is None:
                continue
            if path.name == "kustomization.yaml":
                docs["Kustomization"] = doc
                continue
            for key in ("apiVersion", "kind", "metadata"):
                if key not in doc:
                    fail(f"{path.name}: missing {key}")
            if not doc["metadata"].get("name"):
                fail(f"{path.name}: missing metadata.name")
            docs[doc["kind"]] = doc
    return docs


def check_kustomization(docs):
    listed = set(docs["Kustomization"]["resources"])
    present = {p.name for p in HERE.glob("*.yaml")} - {"kustomization.yaml"}
    if listed != present:
        fail(f"kustomization resources {sorted(listed)} != files {sorted(present)}")


def check_deployment(docs):
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    if ports != {"webhook": 8080, "admin": 9090}:
        fail(f"container ports {ports}")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = container[probe]["httpGet"]
        if (get["path"], get["port"]) != (path, "admin"):
            fail(f"{probe} is {get}, expected {path} on the admin port")
    if not pod["securityContext"].get("runAsNonRoot"):
        fail("pod must run as non-root")
    volumes = {v["name"]: v for v in pod["volumes"]}
    if volumes["config"]["configMap"]["name"] != docs["ConfigMap"]["metadata"]["name"]:
        fail("config volume does not mount the ConfigMap")
    if volumes["secrets"]["secret"]["secretName"] != docs["Secret"]["metadata"]["name"]:
        fail("secrets volume does not mount the Secret")
    selector = docs["Service"]["spec"]["selector"]
    labels = docs["Deployment"]["spec"]["template"]["metadata"]["labels"]
    if any(labels.get(k) != v for k, v in selector.items()):
        fail("the Service selector does not match the pod labels")


def check_config(docs, binary):
    text = docs["ConfigMap"]["data"]["esim-bridge.toml"]
    tomllib.loads(text)  # a TOML syntax error fails here with a clear message
    if binary is None:
        print("deploy/k8s: check-config skipped (no binary given)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        for name, value in docs["Secret"]["stringData"].items():
            Path(tmp, name).write_text(value)
        config = Path(tmp, "esim-bridge.toml")
        config.write_text(text.replace(SECRETS_DIR, tmp + "/"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("ESIM_BRIDGE_")}
        run = subprocess.run([binary, "check-config", "--config", str(config)],
                             capture_output=True, text=True, env=env)
        if run.returncode != 0:
            fail(f"esim-bridge check-config rejects the ConfigMap: {run.stderr.strip()}")


def check_compose():
    compose = yaml.safe_load((HERE.parent / "compose.yaml").read_text())
    services = set(compose["services"])
    if not {"nats", "bridge", "sim"} <= services:
        fail(f"compose services {sorted(services)}")


def main():
    docs = load_manifests()
    for kind in ("Kustomization", "Namespace", "ConfigMap", "Secret", "Deployment", "Service"):
        if kind not in docs:
            fail(f"no {kind}")
    check_kustomization(docs)
    check_deployment(docs)
    check_config(docs, sys.argv[1] if len(sys.argv) > 1 else None)
    check_compose()
    print(f"deploy/k8s: {len(docs)} manifests valid; compose.yaml valid")


if __name__ == "__main__":
    main()
