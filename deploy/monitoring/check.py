#!/usr/bin/env python3
"""Checks deploy/monitoring/ without a cluster or a Grafana.

- prometheusrule.yaml is exactly esim-bridge.rules.yaml wrapped in a PrometheusRule
  (`--write` regenerates it from the rules file);
- every alert has a severity (critical or warning), a summary, a description and a runbook_url
  whose anchor is a heading of README.md beside this file;
- every alert has a promtool unit test (tests/*.yaml) in which it fires, and one in which it is
  evaluated and must stay quiet throughout;
- the dashboard is JSON with unique panel ids, every panel and target uses the ${datasource}
  variable, every target has an expr, and the panels the flow needs appear in order;
- with promtool on PATH (required with --require-promtool): `promtool check rules` and
  `promtool test rules tests/*.yaml`;
- with kubectl on PATH: `kubectl kustomize` of this folder renders the expected objects.

Whether every expression names metrics and labels the bridge really exports is checked by the
integration test tests/it/monitoring.rs against a real Prometheus scraping a real bridge.

Usage: check.py [--write] [--require-promtool]
"""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
RULES = HERE / "esim-bridge.rules.yaml"
OPERATOR = HERE / "prometheusrule.yaml"
DASHBOARD = HERE / "esim-bridge.dashboard.json"
RUNBOOK = HERE / "README.md"
TESTS = sorted((HERE / "tests").glob("*.yaml"))

HEADER = """\
# GENERATED from esim-bridge.rules.yaml by `python3 deploy/monitoring/check.py --write`: edit
# that file, not this one (CI fails when they differ). For the Prometheus Operator; its
# ruleSelector must match these labels (kube-prometheus-stack selects `release: <its name>`
# unless ruleSelectorNilUsesHelmValues is false: add that label if yours does).
"""

# The dashboard follows the flow: webhooks in, provider reads, events out, replicas.
FLOW = [
    "Webhooks in by outcome",
    "Provider reads against budget",
    "Stretch by phase",
    "Detection lag by type",
    "Events published by type and source",
    "Duplicates suppressed",
    "Publish latency",
    "Leader",
]


def fail(msg):
    sys.exit(f"deploy/monitoring: {msg}")


def operator_doc(rules):
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "esim-bridge",
            "labels": {"app.kubernetes.io/name": "esim-bridge", "prometheus": "k8s", "role": "alert-rules"},
        },
        "spec": rules,
    }


class Dumper(yaml.SafeDumper):
    """Writes multi-line strings (the expressions) as literal blocks, as in the rules file."""


Dumper.add_representer(
    str,
    lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style="|" if "\n" in s else None),
)


def check_operator(rules, write):
    expected = operator_doc(rules)
    if write:
        text = yaml.dump(expected, Dumper=Dumper, sort_keys=False, width=100)
        OPERATOR.write_text(HEADER + text)
        print(f"wrote {OPERATOR.name}")
    actual = yaml.safe_load(OPERATOR.read_text())
    if actual != expected:
        fail(f"{OPERATOR.name} differs from {RULES.name}: run `python3 deploy/monitoring/check.py --write`")


def alerts_of(rules):
    return [r for g in rules["groups"] for r in g["rules"] if "alert" in r]


def slug(heading):
    """GitHub's anchor for a Markdown heading."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")


def check_alerts(alerts):
    anchors = {slug(m) for m in re.findall(r"^#+ (.+)$", RUNBOOK.read_text(), re.M)}
    names = [a["alert"] for a in alerts]
    if len(set(names)) != len(names):
        fail(f"duplicate alert names in {RULES.name}")
    for a in alerts:
        name = a["alert"]
        if a.get("labels", {}).get("severity") not in ("critical", "warning"):
            fail(f"{name}: severity must be critical or warning")
        notes = a.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            if not str(notes.get(key, "")).strip():
                fail(f"{name}: annotation {key} missing")
        anchor = notes["runbook_url"].partition("#")[2]
        if notes["runbook_url"] != f"deploy/monitoring/README.md#{anchor}" or anchor not in anchors:
            fail(f"{name}: runbook_url {notes['runbook_url']!r} is not a heading of {RUNBOOK.name}")


def check_unit_tests(alerts):
    fires, quiet = set(), set()
    for path in TESTS:
        doc = yaml.safe_load(path.read_text())
        if doc.get("rule_files") != ["../esim-bridge.rules.yaml"]:
            fail(f"tests/{path.name}: rule_files must be ['../esim-bridge.rules.yaml']")
        for case in doc.get("tests", []):
            expected = {}
            for t in case.get("alert_rule_test", []):
                expected.setdefault(t["alertname"], []).append(bool(t.get("exp_alerts")))
            for name, fired in expected.items():
                (fires if any(fired) else quiet).add(name)
    for a in alerts:
        name = a["alert"]
        if name not in fires:
            fail(f"{name}: no unit test in tests/ where it fires")
        if name not in quiet:
            fail(f"{name}: no unit test in tests/ where it must stay quiet")


def check_dashboard():
    dash = json.loads(DASHBOARD.read_text())
    panels = dash["panels"]
    ids = [p["id"] for p in panels]
    if len(set(ids)) != len(ids):
        fail(f"{DASHBOARD.name}: duplicate panel ids")
    source = {"type": "prometheus", "uid": "${datasource}"}
    variables = {v["name"] for v in dash["templating"]["list"]}
    for p in panels:
        if p["type"] == "row":
            continue
        targets = p.get("targets") or fail(f"panel {p['title']!r} has no targets")
        for t in [p, *targets]:
            if t.get("datasource") != source:
                fail(f"panel {p['title']!r}: datasource must be {source}")
        for t in targets:
            if not t.get("expr", "").strip():
                fail(f"panel {p['title']!r}: target {t.get('refId')} has no expr")
            for var in re.findall(r"\$\{?(\w+)", t["expr"]):
                if var not in variables and not var.startswith("__"):
                    fail(f"panel {p['title']!r}: unknown variable ${var}")
    titles = [p["title"] for p in panels if p["type"] != "row"]
    positions = [titles.index(t) if t in titles else -1 for t in FLOW]
    if -1 in positions or positions != sorted(positions):
        fail(f"{DASHBOARD.name}: panels must include, in this order: {FLOW}; found {titles}")


def run_promtool(required):
    if shutil.which("promtool") is None:
        if required:
            fail("promtool not on PATH (Debian: apt-get install prometheus)")
        print("SKIPPED: promtool checks (promtool not on PATH; Debian: apt-get install prometheus)")
        return
    for cmd in (
        ["promtool", "check", "rules", str(RULES)],
        ["promtool", "test", "rules", *[str(t) for t in TESTS]],
    ):
        if subprocess.run(cmd, cwd=HERE).returncode != 0:
            fail(f"`{' '.join(cmd)}` failed")


def check_kustomize():
    if shutil.which("kubectl") is None:
        print("SKIPPED: kustomize render (kubectl not on PATH)")
        return
    out = subprocess.run(["kubectl", "kustomize", str(HERE)], capture_output=True, text=True)
    if out.returncode != 0:
        fail(f"kubectl kustomize: {out.stderr.strip()}")
    kinds = sorted(d["kind"] for d in yaml.safe_load_all(out.stdout) if d)
    if kinds != ["ConfigMap", "PodMonitor", "PrometheusRule"]:
        fail(f"kustomize renders {kinds}")


def main():
    args = set(sys.argv[1:])
    if not args <= {"--write", "--require-promtool"}:
        sys.exit(__doc__)
    rules = yaml.safe_load(RULES.read_text())
    check_operator(rules, "--write" in args)
    alerts = alerts_of(rules)
    check_alerts(alerts)
    check_unit_tests(alerts)
    check_dashboard()
    run_promtool("--require-promtool" in args)
    check_kustomize()
    print(f"deploy/monitoring: ok ({len(alerts)} alerts, {len(TESTS)} unit test files, dashboard)")


if __name__ == "__main__":
    main()
