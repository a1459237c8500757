#!/usr/bin/env python3
"""Checks deploy/k8s/ and deploy/compose.yaml without a cluster (CI has none).

- every YAML document parses and has apiVersion, kind and metadata.name;
- kustomization.yaml lists exactly the manifests in this folder;
- the Deployment probes /healthz (liveness) and /readyz (readiness) on the admin port, runs as
  non-root, and mounts the ConfigMap and the Secret that exist here;
- the ConfigMap's TOML is accepted by the real binary: `esim-bridge check-config` (unknown keys
  are errors there), with the Secret's placeholder files written to a temp dir;
- a NetworkPolicy selects the bridge pods, lets in only the webhook port (from a named source)
  and the admin port (from a named namespace), and lets out only NATS (4222), DNS (53) and
  HTTPS (443);
- deploy/compose.yaml parses, names the services nats, bridge and sim, and publishes no NATS
  port (monitoring is unauthenticated);
- every deploy/nats config binds monitoring (`http`) to loopback, and every cluster config
  authenticates its routes (a cluster `authorization` with user and password, or cluster TLS
  with `verify: true`).

Usage: validate.py [path/to/esim-bridge]  (without it, the check-config step is skipped)
"""
import os
import secrets
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
NATS_DIR = HERE.parent / "nats"
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
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESIM_BRIDGE_")}
    # As shipped, the Secret holds placeholders: the bridge must refuse to start on them.
    run = run_check_config(binary, text, docs["Secret"]["stringData"], env)
    if run.returncode != 64 or "webhook.secrets" not in run.stderr:
        fail("esim-bridge check-config accepts the Secret's CHANGE-ME placeholders "
             f"(exit {run.returncode}): {run.stderr.strip()}")
    # With real values in their place, the ConfigMap is accepted.
    real = {name: placeholder_filled(value) for name, value in docs["Secret"]["stringData"].items()}
    run = run_check_config(binary, text, real, env)
    if run.returncode != 0:
        fail(f"esim-bridge check-config rejects the ConfigMap: {run.stderr.strip()}")


def placeholder_filled(value):
    """`value` with every CHANGE-ME line replaced by a random secret, as an operator would."""
    lines = [secrets.token_hex(24) if "CHANGE-ME" in line else line for line in value.split("\n")]
    return "\n".join(lines)


def run_check_config(binary, text, files, env):
    with tempfile.TemporaryDirectory() as tmp:
        for name, value in files.items():
            Path(tmp, name).write_text(value)
        config = Path(tmp, "esim-bridge.toml")
        config.write_text(text.replace(SECRETS_DIR, tmp + "/"))
        return subprocess.run([binary, "check-config", "--config", str(config)],
                              capture_output=True, text=True, env=env)


def check_compose():
    compose = yaml.safe_load((HERE.parent / "compose.yaml").read_text())
    services = set(compose["services"])
    if not {"nats", "bridge", "sim"} <= services:
        fail(f"compose services {sorted(services)}")
    if compose["services"]["nats"].get("ports"):
        fail("compose.yaml publishes NATS ports (monitoring has no authentication)")


def rule_ports(rule):
    return {p["port"] for p in rule.get("ports", [])}


def check_network_policy(docs):
    policy = docs["NetworkPolicy"]["spec"]
    labels = docs["Deployment"]["spec"]["template"]["metadata"]["labels"]
    selector = policy["podSelector"].get("matchLabels", {})
    if not selector or any(labels.get(k) != v for k, v in selector.items()):
        fail("the NetworkPolicy does not select the bridge pods")
    if sorted(policy.get("policyTypes", [])) != ["Egress", "Ingress"]:
        fail("the NetworkPolicy must restrict both Ingress and Egress")
    allowed_in = {"webhook", "admin"}
    for rule in policy["ingress"]:
        if not rule.get("from") or not rule_ports(rule):
            fail(f"ingress rule open to any source or any port: {rule}")
        if not rule_ports(rule) <= allowed_in:
            fail(f"ingress to ports {rule_ports(rule)}; only {allowed_in} may be reached")
        for peer in rule["from"]:
            if "ipBlock" in peer or not (peer.get("namespaceSelector") or peer.get("podSelector")):
                fail(f"ingress peer {peer} is not a named namespace/pod")
    opened = set().union(*(rule_ports(r) for r in policy["ingress"]))
    if opened != allowed_in:
        fail(f"ingress opens {opened}, expected exactly {allowed_in}")
    for rule in policy["egress"]:
        if not rule.get("to") or not rule_ports(rule):
            fail(f"egress rule open to any destination or any port: {rule}")
    out = set().union(*(rule_ports(r) for r in policy["egress"]))
    if out != {4222, 53, 443}:
        fail(f"egress opens ports {out}, expected exactly NATS 4222, DNS 53, HTTPS 443")


def strip_comments(text):
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def block(text, name):
    """The body of the first top-level `name { ... }` block, or None."""
    match = re.search(rf"^\s*{name}\s*[:=]?\s*{{", text, re.M)
    if not match:
        return None
    depth, start = 1, match.end()
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i]
    fail(f"unbalanced braces in the {name} block")


def check_nats_configs():
    configs = sorted(NATS_DIR.glob("*.conf")) + sorted(NATS_DIR.glob("cluster/*.conf"))
    servers = [c for c in configs if c.name != "accounts.conf"]
    if len(servers) < 4:
        fail(f"expected single.conf and cluster/n1..n3.conf, found {servers}")
    for conf in servers:
        text = strip_comments(conf.read_text())
        name = conf.relative_to(NATS_DIR)
        for key in ("http_port", "https_port", "monitor_port"):
            if re.search(rf"^\s*{key}\s*[:=]", text, re.M):
                fail(f"{name}: {key} binds monitoring to every interface; use http: 127.0.0.1:PORT")
        for value in re.findall(r"^\s*https?\s*[:=]\s*(\S+)", text, re.M):
            if not value.strip('"').startswith(("127.0.0.1:", "localhost:", "[::1]:")):
                fail(f"{name}: monitoring listens on {value}; bind it to loopback")
        cluster = block(text, "cluster")
        if conf.parent.name == "cluster" and cluster is None:
            fail(f"{name}: no cluster block")
        if cluster is None:
            continue
        auth = block(cluster, "authorization") or ""
        tls = block(cluster, "tls") or ""
        has_auth = re.search(r"\buser\s*[:=]", auth) and re.search(r"\bpassword\s*[:=]", auth)
        has_mtls = re.search(r"\bverify\s*[:=]\s*true", tls)
        if not (has_auth or has_mtls):
            fail(f"{name}: cluster routes are not authenticated (authorization or tls verify)")
        if re.search(r"nats-route://[^\s\"]*:[^\s\"]*@", cluster):
            fail(f"{name}: a route URL carries a password; use the cluster authorization block")


def main():
    docs = load_manifests()
    kinds = ("Kustomization", "Namespace", "ConfigMap", "Secret", "Deployment", "Service",
             "NetworkPolicy")
    for kind in kinds:
        if kind not in docs:
            fail(f"no {kind}")
    check_kustomization(docs)
    check_deployment(docs)
    check_network_policy(docs)
    check_config(docs, sys.argv[1] if len(sys.argv) > 1 else None)
    check_compose()
    check_nats_configs()
    print(f"deploy/k8s: {len(docs)} manifests valid; compose.yaml valid; "
          "deploy/nats: monitoring on loopback, routes authenticated")


if __name__ == "__main__":
    main()
