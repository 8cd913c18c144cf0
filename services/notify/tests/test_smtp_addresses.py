"""Participants' addresses with umlauts, against a real aiosmtpd server: a domain in IDNA form works with any
server; a local part such as weiß@… needs SMTPUTF8, and a server without it fails that one mail for good with
the reason, instead of sending it half-right."""
from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller

from treffpunkt_notify.emails import build_message
from treffpunkt_notify.mailer import PermanentMailError, SmtpMailer
from treffpunkt_shared.testing import parse_mail


class Recorder:
    def __init__(self):
        self.mails = []

    async def handle_DATA(self, server, session, envelope):
        self.mails.append((envelope.mail_options, envelope.rcpt_tos, envelope.original_content))
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
