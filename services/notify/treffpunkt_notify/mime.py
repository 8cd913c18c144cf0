"""The wire form of a mail, written directly as bytes.

``email.message.EmailMessage`` parses every header it is given through the header registry and folds it
again on output; for the few fixed headers of our mails that was about a third of the notify worker's CPU
per mail. The structure here is the same one the standard library builds for text + HTML (+ invitation):

    multipart/alternative: text/plain, text/html                      (no invitation)
    multipart/mixed: [multipart/alternative: text/plain, text/html, text/calendar; method=…],
                     application/ics attachment "einladung.ics"       (with an invitation)

All parts are 7-bit clean (quoted-printable text, base64 attachment, RFC 2047 headers; only an address
with a non-ASCII local part is UTF-8, as RFC 6532 wants it), lines end in CRLF
as SMTP wants them, and no line is longer than 78 characters. Header values pass through
:func:`header_safe` first, so no value can start a header line of its own.
"""
from __future__ import annotations

import binascii
import re
import secrets
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr

import idna

_LINE_BREAKS = re.compile(r"[\r\n\t\x00-\x1f\x7f\u2028\u2029\x85]+")
CRLF = b"\r\n"


class UnusableAddress(ValueError):
    pass


def header_safe(value: str) -> str:
    """A header value with no way to start a new header line."""
    return _LINE_BREAKS.sub(" ", value).strip()


def _encoded(name: str, value: str) -> bytes:
    """``Name: value`` (folded; RFC 2047 when it is not plain ASCII)."""
    value = header_safe(value)
    if value.isascii() and len(name) + len(value) < 76:
        return f"{name}: {value}".encode("ascii")
    folded = Header(value, "utf-8" if not value.isascii() else "us-ascii", header_name=name).encode(
        linesep="\r\n")
    return f"{name}: {folded}".encode("ascii")


def _ascii_domain(domain: str) -> str:
    if domain.isascii():
        return domain
    try:
        # An internationalised domain in its "xn--" form, which every server takes. IDNA 2008 (the idna
        # package): the standard library's IDNA 2003 turns gießen.de into giessen.de, another domain.
        return idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise UnusableAddress("unusable recipient address") from None


def envelope_address(address: str) -> str:
    """``local@domain`` as SMTP and the header carry it: the domain in IDNA form; a non-ASCII local part stays
    UTF-8 (only a server offering SMTPUTF8 takes it, see :mod:`.mailer`). Raises :class:`UnusableAddress`."""
    local, _, domain = address.rpartition("@")
    if (not local or not domain or _LINE_BREAKS.search(address) or " " in address or "<" in address
            or ">" in address or '"' in address):
        raise UnusableAddress("unusable recipient address")
    return f"{local}@{_ascii_domain(domain)}"


def mailbox(display_name: str, address: str) -> str:
    """``Name <local@domain>`` for a header, the name encoded where needed; raises :class:`UnusableAddress`.
    A non-ASCII local part is written as UTF-8 (RFC 6532): encoded words are not allowed in an address."""
    address = envelope_address(address)
    name = header_safe(display_name)
    if address.isascii():
        return formataddr((name, address), charset="utf-8")
    if not name:
        return f"<{address}>"
    placeholder = "x@x.invalid"
    return formataddr((name, placeholder), charset="utf-8")[:-len(placeholder) - 2] + f"<{address}>"


def sender_mailbox(sender: str) -> str:
    name, address = parseaddr(header_safe(sender))
    return mailbox(name, address)


def checked_sender(sender: str) -> str:
    """``MAIL_FROM`` checked once at start: unusable, every mail would fail to render; the envelope address
    (``MAIL FROM``) it gives is returned. A non-ASCII local part is allowed and then needs SMTPUTF8 like a
    recipient's would."""
    try:
        sender_mailbox(sender)
        return envelope_address(parseaddr(header_safe(sender))[1])
    except UnusableAddress:
        raise ValueError(f"MAIL_FROM is not a usable sender address: {sender!r}") from None


def _text_part(subtype: str, text: str, extra_params: str = "") -> bytes:
    # Normalised to LF first, so b2a_qp sees one kind of line end; CRLF on the wire afterwards.
    body = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    encoded = binascii.b2a_qp(body, quotetabs=False, istext=True, header=False).replace(b"\n", CRLF)
    return (f"Content-Type: text/{subtype}; charset=\"utf-8\"{extra_params}\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n").encode("ascii") + encoded


def _base64_lines(data: bytes) -> bytes:
    return CRLF.join(binascii.b2a_base64(data[i:i + 57], newline=False) for i in range(0, len(data), 57))


def _multipart(subtype: str, parts: list[bytes]) -> bytes:
    # "=_" cannot occur in quoted-printable or base64 output, so the boundary never occurs in a part.
    boundary = "=_" + secrets.token_hex(12)
    head = f"Content-Type: multipart/{subtype}; boundary=\"{boundary}\"\r\n\r\n".encode("ascii")
    delimiter = f"\r\n--{boundary}\r\n".encode("ascii")
    return head + delimiter.lstrip(CRLF) + delimiter.join(parts) + f"\r\n--{boundary}--\r\n".encode("ascii")


def compose(*, sender: str, to: str, subject: str, date, message_id: str, text: str, html: str,
            calendar: bytes | None = None, calendar_method: str = "REQUEST") -> bytes:
    """The whole mail. ``sender`` and ``to`` come from :func:`sender_mailbox` / :func:`mailbox`."""
    headers = [
        _encoded("Subject", subject),
        f"From: {sender}".encode("utf-8"),  # as To: below
        f"To: {to}".encode("utf-8"),  # ASCII unless the address needs UTF-8 (see mailbox)
        f"Date: {format_datetime(date)}".encode("ascii"),
        f"Message-ID: {header_safe(message_id)}".encode("ascii"),
        b"Auto-Submitted: auto-generated",
        b"Content-Language: de, en",
        b"MIME-Version: 1.0",
    ]
    alternatives = [_text_part("plain", text), _text_part("html", html)]
    if calendar is None:
        body = _multipart("alternative", alternatives)
    else:
        method = re.sub(r"[^A-Z]", "", calendar_method.upper()) or "REQUEST"
        alternatives.append(_text_part("calendar", calendar.decode("utf-8"), f"; method=\"{method}\""))
        attachment = (b"Content-Type: application/ics\r\n"
                      b"Content-Disposition: attachment; filename=\"einladung.ics\"\r\n"
                      b"Content-Transfer-Encoding: base64\r\n\r\n" + _base64_lines(calendar))
        body = _multipart("mixed", [_multipart("alternative", alternatives), attachment])
    return CRLF.join(headers) + CRLF + body
