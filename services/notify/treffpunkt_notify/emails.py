"""Rendering emails from the template files: German first, English second, plain text and HTML.

``.html`` templates are autoescaped; ``.txt`` templates are plain text and never
go into HTML. Participant-supplied values are data passed to the templates,
never template source. Missing template data raises instead of rendering a
half-empty mail (StrictUndefined).
"""
from __future__ import annotations

import re
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, UndefinedError, select_autoescape

from treffpunkt_shared.contracts import RejectedMessage
from treffpunkt_shared.timeutil import format_date, format_time, utcnow

TEMPLATES = Path(__file__).parent / "templates" / "emails"
_LINE_BREAKS = re.compile(r"[\r\n\t\x00-\x1f\x7f]+")


def _environment() -> Environment:
    # auto_reload=False: the templates ship with the code, so each is compiled once per process instead
    # of having its file's mtime checked on every render.
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                      autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
                      keep_trailing_newline=True, auto_reload=False)
    env.filters["date_de"] = lambda v, zone="Europe/Berlin": format_date(v, "de", zone)
    env.filters["date_en"] = lambda v, zone="Europe/Berlin": format_date(v, "en", zone)
    env.filters["time_de"] = lambda v, zone="Europe/Berlin": format_time(v, "de", zone)
    env.filters["time_en"] = lambda v, zone="Europe/Berlin": format_time(v, "en", zone)
    return env


_ENV = _environment()


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
    """(subject, plain text, html) for the mail ``kind``."""
    try:
        subject = _ENV.get_template(f"{kind}.subject.txt").render(context)
        text = _ENV.get_template(f"{kind}.txt").render(context)
        html = _ENV.get_template(f"{kind}.html").render(context)
    except UndefinedError as exc:
        raise RejectedMessage(f"template data for {kind} incomplete: {exc.message}") from None
    return header_text(subject), text, html


def build_message(*, sender: str, recipient_name: str, recipient_email: str, subject: str, text: str,
                  html: str, domain: str = "treffpunkt.invalid") -> EmailMessage:
    msg = EmailMessage(policy=_POLICY)
    msg["Subject"] = subject
    msg["From"] = sender
    local, _, mail_domain = recipient_email.rpartition("@")
    msg["To"] = Address(display_name=header_text(recipient_name), username=local, domain=mail_domain)
    msg["Date"] = format_datetime(utcnow())
    # Kept with the mail, so a retry carries the same Message-ID.
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg["Content-Language"] = "de, en"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg
