"""Write deploy/rabbitmq/definitions.json from the code's broker topology; never edit that file by hand.

    .venv/bin/python deploy/rabbitmq/export_definitions.py           rewrite definitions.json
    .venv/bin/python deploy/rabbitmq/export_definitions.py --check   exit 1 if it is out of date

The services declare this topology themselves at start-up (``Topology.declare``), so importing the
file is optional: it is for operators who want to create or review exchanges and queues up front
(``rabbitmqadmin import definitions.json`` or the management UI's "Import definitions").
It describes the default namespace ``treffpunkt`` on vhost ``/``; tests/test_deployment_files.py
fails when it no longer matches the code.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from treffpunkt_shared.messaging.topology import Topology

DEFINITIONS = Path(__file__).resolve().parent / "definitions.json"


def canonical(definitions: dict) -> dict:
    """The definitions with every list in a fixed order.

    kombu keeps a queue's bindings in a set, so ``Topology().definitions()`` lists them in an order
    that changes from one process to the next; sorting keeps the file stable and diffs meaningful.
    """
    return {
        "exchanges": sorted(definitions["exchanges"], key=lambda e: (e["vhost"], e["name"])),
        "queues": sorted(definitions["queues"], key=lambda q: (q["vhost"], q["name"])),
        "bindings": sorted(definitions["bindings"], key=lambda b: (
            b["vhost"], b["source"], b["destination_type"], b["destination"], b["routing_key"])),
    }


def render() -> str:
    return json.dumps(canonical(Topology().definitions()), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if argv[:1] == ["--check"]:
        current = DEFINITIONS.read_text(encoding="utf-8") if DEFINITIONS.exists() else ""
        if current != text:
            print(f"{DEFINITIONS} is out of date; run {Path(__file__).name} to regenerate it", file=sys.stderr)
            return 1
        return 0
    if argv:
        print("usage: export_definitions.py [--check]", file=sys.stderr)
        return 2
    DEFINITIONS.write_text(text, encoding="utf-8")
    print(f"wrote {DEFINITIONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
