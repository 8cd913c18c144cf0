"""Rendering emails from the template files: German first, English second, plain text and HTML.

Layout: ``templates/emails/<kind>/`` holds one file per part and language (``subject.txt``, ``de.txt``,
``en.txt``, ``de.html``, ``en.html``); the shared ``layout.txt`` / ``layout.html`` put the German part
first and the English second around them. Partials (``_*.txt``/``_*.html``) show meeting facts, rounds and
the agenda the same way in every mail.

``.html`` templates are autoescaped; ``.txt`` templates are plain text and never go into HTML.
Participant- and organiser-supplied values are data passed to the templates, never template source.
Missing template data raises instead of rendering a half-empty mail: an undefined name (StrictUndefined)
and a ``None`` printed by ``{{ … }}`` (the ``finalize`` hook) both become :class:`RejectedMessage`, so
the event is dead-lettered with the reason and nothing is sent.
"""
from __future__ import annotations

import re
from datetime import datetime
from email.utils import make_msgid
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, UndefinedError, select_autoescape

from treffpunkt_shared.contracts import RejectedMessage
from treffpunkt_shared.timeutil import format_date, format_time, utcnow

from .mime import UnusableAddress, compose, header_safe, mailbox, sender_mailbox

TEMPLATES = Path(__file__).parent / "templates" / "emails"


class MissingTemplateData(Exception):
    pass


def _finalize(value):
    if value is None:
        raise MissingTemplateData("a value the mail shows is missing (None)")
    return value


def _when(value) -> datetime:
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    if value is None:
        raise MissingTemplateData("a date the mail shows is missing (None)")
    return value


def _environment() -> Environment:
    # auto_reload=False: the templates ship with the code, so each is compiled once per process instead
    # of having its file's mtime checked on every render.
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined, finalize=_finalize,
                      autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
                      keep_trailing_newline=True, auto_reload=False, trim_blocks=True, lstrip_blocks=True)
    env.filters["date_de"] = lambda v, zone="Europe/Berlin": format_date(_when(v), "de", zone)
    env.filters["date_en"] = lambda v, zone="Europe/Berlin": format_date(_when(v), "en", zone)
    env.filters["time_de"] = lambda v, zone="Europe/Berlin": format_time(_when(v), "de", zone)
    env.filters["time_en"] = lambda v, zone="Europe/Berlin": format_time(_when(v), "en", zone)
    env.filters["paragraphs"] = lambda text: [p.strip() for p in re.split(r"\n\s*\n", text or "") if p.strip()]
    return env


_ENV = _environment()

# Every mail of the catalogue: the kind is also the folder of its templates.
PARTICIPANT_KINDS = (
    "registration_received", "registration_confirmed", "registration_waitlisted", "registration_promoted",
    "registration_updated", "registration_cancelled", "registration_link_requested", "agenda_published",
    "agenda_changed", "reminder", "round_results", "broadcast",
)
ORGANISER_KINDS = ("organiser_digest", "organiser_mail_failed")
KINDS = PARTICIPANT_KINDS + ORGANISER_KINDS


def render(kind: str, context: dict) -> tuple[str, str, str]:
    """(subject, plain text, html) for the mail ``kind``; :class:`RejectedMessage` if data is missing."""
    context = {**context, "kind": kind}
    try:
        subject = header_safe(_ENV.get_template(f"{kind}/subject.txt").render(context))
        context["subject"] = subject  # the HTML title: printed by an autoescaped template, not included
        text = _ENV.get_template("layout.txt").render(context)
        html = _ENV.get_template("layout.html").render(context)
    except (UndefinedError, MissingTemplateData) as exc:
        raise RejectedMessage(f"template data for {kind} incomplete: {exc}") from None
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise RejectedMessage(f"template data for {kind} unusable: {exc!r}") from None
    return subject, text, html


def build_message(*, sender: str, recipient_name: str, recipient_email: str, subject: str, text: str,
                  html: str, domain: str = "treffpunkt.invalid", calendar: bytes | None = None,
                  calendar_method: str = "REQUEST") -> bytes:
    """The mail's bytes: text and HTML as alternatives; an iCalendar invitation as a third alternative
    (``text/calendar; method=…``, what Outlook and Thunderbird show as an invitation) and as an ``.ics``
    attachment for clients that only offer attachments. Header values never carry a line break."""
    try:
        to = mailbox(recipient_name, recipient_email)
    except UnusableAddress:
        raise RejectedMessage("unusable recipient address") from None
    # The Message-ID is kept with the mail (its bytes are stored), so a retry carries the same one.
    return compose(sender=_sender_mailbox(sender), to=to, subject=subject, date=utcnow(),
                   message_id=make_msgid(domain=domain), text=text, html=html, calendar=calendar,
                   calendar_method=calendar_method)


@lru_cache(maxsize=8)
def _sender_mailbox(sender: str) -> str:
    return sender_mailbox(sender)
