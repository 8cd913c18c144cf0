"""``python -m treffpunkt_<service> dead-letters …``: what operators do with a service's dead letters.

    dead-letters [list]                one JSON line per dead letter: id, type, reason, when, by whom (no body)
    dead-letters show MESSAGE_ID…      the body as it is (it can hold a participant's name and address)
    dead-letters replay MESSAGE_ID…    back to the service's work queue, retry count reset; --all for every one
    dead-letters drop MESSAGE_ID…      gone for good

A message dead-lettered because the database or the SMTP server stayed away longer than the retry ladder, or
because of a bug since fixed, is replayed once the cause is gone; consumers record what they handled, so a
replayed message that was handled after all does nothing twice.
"""
from __future__ import annotations

import json
import sys
from typing import TextIO

from .dead_letters import KEEP, REMOVE, REPLAY, describe, pass_through, raw_body
from .topology import topology_for

USAGE = ("usage: python -m treffpunkt_{service} dead-letters [list] | show ID… | replay ID…|--all | drop ID…")


def run(argv: list[str], settings, service: str, out: TextIO = sys.stdout) -> int:
    topology = topology_for(settings)
    queue = topology.dead_letter_queue_name(service)
    action, args = (argv[0], argv[1:]) if argv else ("list", [])
    ids = {a for a in args if not a.startswith("--")}
    every = "--all" in args

    def through(decide) -> dict:
        return pass_through(settings.amqp_url, topology.direct, queue, decide,
                            replay_to=topology.queue_name(service))

    def chosen(message) -> bool:
        return every or message.properties.get("message_id") in ids

    if action == "list" and not args:
        listed = []

        def listing(message) -> str:
            listed.append(json.dumps(describe(message), ensure_ascii=False, default=str))
            return KEEP

        through(listing)
        for line in listed:
            print(line, file=out)
        return 0
    if action == "show" and ids:
        shown = []

        def showing(message) -> str:
            if chosen(message):
                shown.append(raw_body(message).decode("utf-8", errors="replace"))
            return KEEP

        through(showing)
        for body in shown:
            print(body, file=out)
        return 0 if shown else 1
    if action in ("replay", "drop") and (ids or (every and action == "replay")):
        verdict = REPLAY if action == "replay" else REMOVE
        counts = through(lambda message: verdict if chosen(message) else KEEP)
        print(json.dumps({"replayed" if action == "replay" else "dropped": counts[verdict],
                          "kept": counts[KEEP]}), file=out)
        return 0 if counts[verdict] else 1
    print(USAGE.format(service=service), file=sys.stderr)
    return 2
