"""Participants' addresses with umlauts, against a real aiosmtpd server: a domain in IDNA form works with any
server; a local part such as weiß@… needs SMTPUTF8, and a server without it fails that one mail for good with
the reason, instead of sending it half-right."""
from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller

from treffpunkt_notify.emails import build_message
from treffpunkt_notify.app import create_app
from treffpunkt_notify.config import Settings
from treffpunkt_notify.mail_queue import MailSender
from treffpunkt_notify.mailer import PermanentMailError, SmtpMailer
from treffpunkt_notify.mime import checked_sender
from treffpunkt_shared.testing import parse_mail


class Recorder:
    def __init__(self):
        self.mails = []
        self.senders = []

    async def handle_DATA(self, server, session, envelope):
        self.mails.append((envelope.mail_options, envelope.rcpt_tos, envelope.original_content))
        self.senders.append(envelope.mail_from)
        return "250 OK"


@pytest.fixture(params=[True, False], ids=["with SMTPUTF8", "without SMTPUTF8"])
def server(request):
    recorder = Recorder()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(recorder, hostname="127.0.0.1", port=port, enable_SMTPUTF8=request.param)
    controller.start()
    yield request.param, port, recorder
    controller.stop()


def mail_to(address: str) -> bytes:
    return build_message(sender="treffpunkt <noreply@treffpunkt.invalid>", recipient_name="Jürgen Weiß",
                         recipient_email=address, subject="Anmeldung", text="Hallo\n", html="<p>Hallo</p>\n")


def test_an_umlaut_domain_goes_out_in_idna_form_to_any_server(server):
    _, port, recorder = server
    mailer = SmtpMailer("127.0.0.1", port)
    try:
        mailer.send("noreply@treffpunkt.invalid", "juergen@gießen.de", mail_to("juergen@gießen.de"), lambda: None)
    finally:
        mailer.close()
    (options, rcpt_tos, _data), = recorder.mails
    assert rcpt_tos == ["juergen@xn--gieen-nqa.de"] and "SMTPUTF8" not in options


def test_an_umlaut_before_the_at_sign_is_sent_with_smtputf8_or_refused_for_good_with_the_reason(server):
    offers_utf8, port, recorder = server
    mailer = SmtpMailer("127.0.0.1", port)
    commits = []
    try:
        if offers_utf8:
            mailer.send("noreply@treffpunkt.invalid", "weiß@example.org", mail_to("weiß@example.org"),
                        lambda: commits.append(1))
        else:
            with pytest.raises(PermanentMailError, match="SMTPUTF8"):
                mailer.send("noreply@treffpunkt.invalid", "weiß@example.org", mail_to("weiß@example.org"),
                            lambda: commits.append(1))
        # The connection is still good for the next (ASCII) mail.
        mailer.send("noreply@treffpunkt.invalid", "olga@example.org", mail_to("olga@example.org"), lambda: None)
    finally:
        mailer.close()
    if offers_utf8:
        assert commits == [1]
        (options, rcpt_tos, data), second = recorder.mails
        assert "SMTPUTF8" in options and rcpt_tos == ["weiß@example.org"]
        assert parse_mail(data)["To"].addresses[0].addr_spec == "weiß@example.org"
        assert second[1] == ["olga@example.org"] and "SMTPUTF8" not in second[0]
    else:
        assert commits == [] and [m[1] for m in recorder.mails] == [["olga@example.org"]]


def test_a_sender_address_with_umlauts_goes_out_in_idna_form_and_with_smtputf8_where_its_local_part_needs_it(server):
    offers_utf8, port, recorder = server
    from_idna_domain = checked_sender("Ministerium für Soziales <noreply@gießen.de>")
    from_utf8_local = checked_sender("Büro <büro@example.org>")
    assert from_idna_domain == "noreply@xn--gieen-nqa.de" and from_utf8_local == "büro@example.org"
    mailer = SmtpMailer("127.0.0.1", port)
    message = build_message(sender="Büro <büro@example.org>", recipient_name="Olga Berg",
                            recipient_email="olga@example.org", subject="Anmeldung", text="Hallo\n",
                            html="<p>Hallo</p>\n")
    try:
        mailer.send(from_idna_domain, "olga@example.org", mail_to("olga@example.org"), lambda: None)
        if offers_utf8:
            mailer.send(from_utf8_local, "olga@example.org", message, lambda: None)
        else:
            with pytest.raises(PermanentMailError, match="SMTPUTF8"):
                mailer.send(from_utf8_local, "olga@example.org", message, lambda: None)
    finally:
        mailer.close()
    assert recorder.senders[0] == "noreply@xn--gieen-nqa.de"
    if offers_utf8:
        assert recorder.senders[1] == "büro@example.org" and "SMTPUTF8" in recorder.mails[1][0]
        sender = parse_mail(recorder.mails[1][2])["From"].addresses[0]
        assert sender.addr_spec == "büro@example.org" and sender.display_name == "Büro"
    else:
        assert len(recorder.mails) == 1


@pytest.mark.parametrize("mail_from", ["kein Absender", "treffpunkt <>", "a@b@", "Büro <@example.org>"])
def test_an_unusable_mail_from_stops_the_worker_and_the_web_app_at_start(mail_from, tmp_path):
    with pytest.raises(ValueError, match="MAIL_FROM"):
        MailSender(None, None, sender_address=mail_from, retry_delays_s=(1,), dead_letter_queue="x.dead")
    with pytest.raises(ValueError, match="MAIL_FROM"):
        create_app(Settings(mail_from=mail_from, database_url=f"sqlite:///{tmp_path}/n.db"))
