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
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, UndefinedError, select_autoescape

from treffpunkt_shared.contracts import RejectedMessage
from treffpunkt_shared.timeutil import format_date, format_time, utcnow

TEMPLATES = Path(__file__).parent / "templates" / "emails"
_LINE_BREAKS = re.compile(r"[\r\n\t\x00-\x1f\x7f\u2028\u2029\x85]+")


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


class _CachedHeaderRegistry(HeaderRegistry):
    """The standard registry builds a new header class with ``type()`` on every lookup (about 30 per
    mail, most of the CPU of building one). The classes depend only on the header name: build each once."""

    def __init__(self):
        super().__init__()
        self._classes: dict[str, type] = {}

    def __getitem__(self, name):
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(name)
        return cls


_POLICY = SMTP_POLICY.clone(header_factory=_CachedHeaderRegistry())


def header_text(value: str) -> str:
    """A header value with no way to start a new header line."""
    return _LINE_BREAKS.sub(" ", value).strip()


def render(kind: str, context: dict) -> tuple[str, str, str]:
    """(subject, plain text, html) for the mail ``kind``; :class:`RejectedMessage` if data is missing."""
    context = {**context, "kind": kind}
    try:
        subject = header_text(_ENV.get_template(f"{kind}/subject.txt").render(context))
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
                  calendar_method: str = "REQUEST") -> EmailMessage:
    """The MIME message: text and HTML as alternatives; an iCalendar invitation as a third alternative
    (``text/calendar; method=…``, what Outlook and Thunderbird show as an invitation) and as an ``.ics``
    attachment for clients that only offer attachments. Header values never carry a line break."""
    msg = EmailMessage(policy=_POLICY)
    msg["Subject"] = header_text(subject)
    msg["From"] = sender
    local, _, mail_domain = recipient_email.rpartition("@")
    if not local or not mail_domain or _LINE_BREAKS.search(recipient_email) or " " in recipient_email:
        raise RejectedMessage(f"unusable recipient address")
    msg["To"] = Address(display_name=header_text(recipient_name), username=local, domain=mail_domain)
    msg["Date"] = format_datetime(utcnow())
    # Kept with the mail, so a retry carries the same Message-ID.
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg["Content-Language"] = "de, en"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    if calendar is not None:
        msg.add_alternative(calendar, maintype="text", subtype="calendar",
                            params={"method": calendar_method, "charset": "utf-8"})
        msg.make_mixed()
        msg.add_attachment(calendar, maintype="application", subtype="ics", filename="einladung.ics")
    return msg
