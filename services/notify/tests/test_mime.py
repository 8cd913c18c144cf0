"""The hand-written wire form (:mod:`treffpunkt_notify.mime`) read back by the standard library's parser:
what a mail client sees must be exactly what was rendered."""
from __future__ import annotations

import email
from email import policy

import pytest

from treffpunkt_shared.contracts import RejectedMessage
from treffpunkt_notify.emails import build_message
from treffpunkt_shared.testing import parse_mail

TEXT = "Guten Tag Frau Müller,\n\nIhre Anmeldung ist eingegangen. Straße, Größe, ÄÖÜ.\n" + "x" * 200 + "\n.\nEnde\n"
HTML = "<p>Guten Tag Frau Müller</p>\n<p>=3D bleibt =3D, --=_ bleibt Text</p>\n"
CALENDAR = b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nSUMMARY:Landesnetzwerktreffen \xc3\xa4\r\nEND:VCALENDAR\r\n"


def parsed(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


def build(**overrides):
    values = dict(sender="treffpunkt <noreply@treffpunkt.invalid>", recipient_name="Jürgen Groß",
                  recipient_email="juergen@example.org", subject="Ihre Anmeldung: 3. Landesnetzwerktreffen – Übersicht",
                  text=TEXT, html=HTML)
    values.update(overrides)
    return build_message(**values)


def test_a_mail_without_invitation_is_text_and_html_as_alternatives_read_back_unchanged():
    raw = build()
    msg = parsed(raw)
    assert msg.get_content_type() == "multipart/alternative"
    assert str(msg["Subject"]) == "Ihre Anmeldung: 3. Landesnetzwerktreffen – Übersicht"
    assert msg["To"].addresses[0].display_name == "Jürgen Groß"
    assert msg["To"].addresses[0].addr_spec == "juergen@example.org"
    assert msg["From"].addresses[0].addr_spec == "noreply@treffpunkt.invalid"
    assert msg["Message-ID"].endswith("@treffpunkt.invalid>")
    assert msg["Auto-Submitted"] == "auto-generated"
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert plain.get_content().replace("\r\n", "\n") == TEXT
    assert html.get_content().replace("\r\n", "\n") == HTML
    assert plain.get_content_charset() == "utf-8"


def test_the_wire_form_is_seven_bit_with_crlf_lines_of_at_most_78_characters():
    raw = build(calendar=CALENDAR)
    assert raw.isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78


def test_an_invitation_is_a_third_alternative_and_an_ics_attachment():
    msg = parsed(build(calendar=CALENDAR, calendar_method="CANCEL"))
    assert msg.get_content_type() == "multipart/mixed"
    alternative, attachment = msg.get_payload()
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/html", "text/calendar"]
    calendar_part = alternative.get_payload()[2]
    assert calendar_part.get_param("method") == "CANCEL"
    assert calendar_part.get_content().encode("utf-8").replace(b"\r\n", b"\n") == CALENDAR.replace(b"\r\n", b"\n")
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_filename() == "einladung.ics"
    assert attachment.get_content() == CALENDAR


def test_line_breaks_in_names_and_subjects_never_make_a_header_of_their_own():
    raw = build(recipient_name="Eve\r\nBcc: victim@example.org", subject="Hallo\nBcc: other@example.org\r\n\r\nBody")
    msg = parsed(raw)
    assert msg["Bcc"] is None
    assert "Bcc: victim@example.org" in msg["To"].addresses[0].display_name
    assert str(msg["Subject"]) == "Hallo Bcc: other@example.org Body"


@pytest.mark.parametrize("address", ["no-at-sign", "a b@example.org", "x@example.org\r\nBcc: y@example.org",
                                     "<x@example.org>", '"x"@example.org', "x@"])
def test_an_unusable_recipient_address_is_refused(address):
    with pytest.raises(RejectedMessage):
        build(recipient_email=address)


def test_a_display_name_with_specials_is_quoted_not_split_into_addresses():
    msg = parsed(build(recipient_name='Müller, Anna "Ref. 3"'))
    assert len(msg["To"].addresses) == 1
    assert msg["To"].addresses[0].display_name == 'Müller, Anna "Ref. 3"'


def test_an_umlaut_domain_is_written_in_idna_form_and_the_mail_stays_seven_bit():
    raw = build(recipient_email="juergen@gießen.de")
    assert raw.isascii()
    assert parsed(raw)["To"].addresses[0].addr_spec == "juergen@xn--gieen-nqa.de"


def test_an_umlaut_before_the_at_sign_is_written_as_utf8_not_as_an_encoded_word():
    # Encoded words are not allowed inside an address (RFC 2047); RFC 6532 puts the address in UTF-8.
    raw = build(recipient_email="weiß@example.org", recipient_name="Jürgen Weiß")
    to_line = next(line for line in raw.split(b"\r\n") if line.startswith(b"To:"))
    assert "weiß@example.org".encode() in to_line and b"=?" not in to_line.split(b"<")[1]
    msg = parse_mail(raw)
    assert msg["To"].addresses[0].addr_spec == "weiß@example.org"
    assert msg["To"].addresses[0].display_name == "Jürgen Weiß"
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == TEXT
