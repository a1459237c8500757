#!/usr/bin/env python3
"""Checks the consumer contract in schema/ with tools a consumer would use.

    python3 schema/check.py                      # the documents alone
    python3 schema/check.py --messages DUMP.json # and real stored messages against them

The documents: `asyncapi.yaml` parses with a real AsyncAPI 3 parser (pydantic-asyncapi), has
no key the specification does not define (a typo is an error, `x-` extensions aside), every
`$ref` resolves (inside the document, or to a JSON file beside it), and the channel's address
parameters are exactly the declared ones. The JSON Schemas compile (Python's jsonschema, an
implementation independent of the Rust one the tests use).

With `--messages` (written by tests/it/consumer_contract.rs from a real nats-server): every
stored message's headers are documented and valid against the documented header schema, every
documented header is set by the publisher (in a stored message or in `publisher_headers`), the
payload passes the published schema and the frozen `compat/v1.json`, and the CloudEvents SDK
reads each message (binary content mode) with attributes equal to the payload's.

Exit 0 when everything holds; otherwise each problem on a line of its own, and exit 1.
"""

import argparse
import json
import pathlib
import re
import sys

import jsonschema
import yaml
from cloudevents.core.bindings.http import HTTPMessage, from_binary_event
from dateutil.parser import isoparse
from pydantic import BaseModel
from pydantic_asyncapi.v3 import AsyncAPI

HERE = pathlib.Path(__file__).resolve().parent
SCHEMAS = ["esim-event.schema.json", "compat/v1.json", "esim-event.strict.schema.json"]
CONSUMER_SCHEMAS = SCHEMAS[:2]


def extras(model, path):
    """Keys the AsyncAPI model does not define (its parser keeps them as extras)."""
    found = []
    if isinstance(model, BaseModel):
        for key in (model.model_extra or {}):
            if not key.startswith("x-"):
                found.append(f"{path}.{key}")
        for name in type(model).model_fields:
            found += extras(getattr(model, name), f"{path}.{name}")
    elif isinstance(model, dict):
        for key, value in model.items():
            found += extras(value, f"{path}.{key}")
    elif isinstance(model, list):
        for i, value in enumerate(model):
            found += extras(value, f"{path}[{i}]")
    return found


def refs(node, path="$"):
    """Every ($ref value, where) in a JSON-like tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value, path
            else:
                yield from refs(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from refs(value, f"{path}[{i}]")


def resolve(doc, pointer):
    node = doc
    for part in pointer.lstrip("#/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def check_documents():
    problems = []
    doc = yaml.safe_load((HERE / "asyncapi.yaml").read_text())
    try:
        model = AsyncAPI.model_validate(doc)
    except Exception as e:  # the parser's own error, shown whole
        return doc, [f"asyncapi.yaml does not parse as AsyncAPI 3: {e}"]
    problems += [f"asyncapi.yaml: unknown key {k}" for k in extras(model, "$")]
    for ref, where in refs(doc):
        if ref.startswith("#"):
            if resolve(doc, ref) is None:
                problems.append(f"asyncapi.yaml: {where}: $ref {ref} does not resolve")
        elif not (HERE / ref).is_file():
            problems.append(f"asyncapi.yaml: {where}: $ref {ref} is not a file in schema/")
        else:
            json.loads((HERE / ref).read_text())
    for name, channel in doc["channels"].items():
        in_address = set(re.findall(r"\{([^}]+)\}", channel["address"]))
        declared = set((channel.get("parameters") or {}).keys())
        if in_address != declared:
            problems.append(f"channel {name}: address parameters {in_address} != {declared}")
    for name in SCHEMAS:
        schema = json.loads((HERE / name).read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
    return doc, problems


def header_schema(doc):
    return doc["components"]["messages"]["esimEvent"]["headers"]


def check_messages(doc, dump):
    problems = []
    hs = header_schema(doc)
    documented = set(hs["properties"])
    header_validator = jsonschema.Draft202012Validator(hs, format_checker=jsonschema.FormatChecker())
    payload_validators = {
        name: jsonschema.Draft202012Validator(json.loads((HERE / name).read_text()))
        for name in CONSUMER_SCHEMAS
    }
    seen = set(dump.get("publisher_headers", []))
    if not dump["messages"]:
        return ["no stored messages to check"]
    for m in dump["messages"]:
        where = m["subject"]
        headers = {k: v[0] for k, v in m["headers"].items()}
        names = set(headers)
        seen |= names
        for extra in sorted(names - documented):
            problems.append(f"{where}: header {extra} is set but not in asyncapi.yaml")
        for e in header_validator.iter_errors(headers):
            problems.append(f"{where}: headers: {e.message}")
        payload = json.loads(m["payload"])
        for name, v in payload_validators.items():
            for e in v.iter_errors(payload):
                problems.append(f"{where}: payload fails {name}: {e.message}")
        ce = from_binary_event(HTTPMessage(headers=headers, body=m["payload"].encode()))
        key = where.split(".")[-2]
        expected = {
            "id": payload["id"],
            "type": payload["type"],
            "source": "esim-bridge",
            "subject": key,
            "specversion": "1.0",
            "datacontenttype": "application/json",
        }
        got = {
            "id": ce.get_id(),
            "type": ce.get_type(),
            "source": ce.get_source(),
            "subject": ce.get_subject(),
            "specversion": ce.get_specversion(),
            "datacontenttype": ce.get_datacontenttype(),
        }
        if got != expected:
            problems.append(f"{where}: CloudEvent attributes {got} != {expected}")
        if ce.get_time() != isoparse(payload["created_at"]):
            problems.append(f"{where}: ce time {ce.get_time()} != created_at {payload['created_at']}")
        if ce.get_data() != payload:
            problems.append(f"{where}: CloudEvent data differs from the payload")
    for missing in sorted(documented - seen):
        problems.append(f"asyncapi.yaml documents {missing}, which the publisher never sets")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=pathlib.Path, help="JSON dump of stored messages")
    args = parser.parse_args()
    doc, problems = check_documents()
    checked = "asyncapi.yaml and the JSON Schemas"
    if args.messages and not problems:
        dump = json.loads(args.messages.read_text())
        problems += check_messages(doc, dump)
        checked += f", {len(dump['messages'])} stored messages"
    for p in problems:
        print(p)
    if problems:
        print(f"schema/check.py: {len(problems)} problem(s)")
        return 1
    print(f"schema/check.py: ok ({checked})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
