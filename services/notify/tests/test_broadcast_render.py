"""A broadcast is rendered once per chunk and each recipient's name and links are put in
(``catalogue.broadcast_mail(..., rendered=...)``): every mail must read exactly as if it had been rendered
for that recipient alone, names with HTML characters and missing links included."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from treffpunkt_notify import catalogue
from treffpunkt_notify.config import Settings
from treffpunkt_notify.demo import MEETING
from treffpunkt_shared.testing import parse_mail

BROADCAST = SimpleNamespace(id="b1", subject="Hinweis zur Anreise / Travel note",
                            body="Bitte beachten Sie die Baustelle <am> Luisenplatz & Co.\n\nPlease note the roadworks.",
                            created_by="Max Mustermann")
LINKS = {"manage_url": "https://anmeldung.test/anmeldung/tok?a=1&b=2",
         "calendar_url": "https://anmeldung.test/anmeldung/tok/kalender.ics"}


def recipient(i, first, last, links):
    return SimpleNamespace(registration_id=f"r{i}", links=links, rounds=[], organisation="Ausländerbehörde",
                           participant={"first_name": first, "last_name": last, "email": f"p{i}@example.org",
                                        "organisation": "Ausländerbehörde", "function": "", "language": "de"})


RECIPIENTS = [recipient(1, "Jürgen", "Weiß", LINKS), recipient(2, "Ann <b>", "O'Neil & \"Söhne\"", LINKS),
              recipient(3, "Olga", "Schmidt", {}), recipient(4, "Eve", "{{ 7*7 }} {% raw %}", {"manage_url": LINKS["manage_url"]}),
              recipient(5, "Jürgen", "Weiß", LINKS)]


def readable(prepared):
    msg = parse_mail(prepared.message)
    return (prepared.subject, prepared.logical_key, prepared.recipient, str(msg["To"]),
            msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content())


@pytest.mark.parametrize("index", range(len(RECIPIENTS)))
def test_a_broadcast_rendered_once_reads_for_each_recipient_exactly_as_rendered_for_them_alone(index):
    settings = Settings()
    rendered = {}
    # The shared renderings are made by the recipients before this one, as in a chunk.
    for earlier in RECIPIENTS[:index]:
        catalogue.broadcast_mail(settings, MEETING, BROADCAST, earlier, rendered=rendered)
    spliced = catalogue.broadcast_mail(settings, MEETING, BROADCAST, RECIPIENTS[index], rendered=rendered)
    alone = catalogue.broadcast_mail(settings, MEETING, BROADCAST, RECIPIENTS[index])
    assert readable(spliced) == readable(alone)
    assert "\ue000" not in spliced.message.decode("utf-8")


def test_one_rendering_per_shape_of_links_serves_a_whole_chunk():
    rendered = {}
    for r in RECIPIENTS:
        catalogue.broadcast_mail(Settings(), MEETING, BROADCAST, r, rendered=rendered)
    assert len(rendered) == 3  # both links, none, only the manage link
