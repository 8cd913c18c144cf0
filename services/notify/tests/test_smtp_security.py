"""SMTP with STARTTLS or implicit TLS and authentication, against a real aiosmtpd server with a certificate
from a test CA (trustme): the mail arrives only over a verified TLS connection with the right credentials."""
from __future__ import annotations

import socket
import ssl

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from treffpunkt_notify.config import Settings
from treffpunkt_notify.mailer import TemporaryMailError, mailer_for

# aiosmtpd warns about AUTH without STARTTLS; on the implicit-TLS server the whole connection is TLS.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

USER, PASSWORD = "treffpunkt", "s3cret-Passwort"
MESSAGE = b"Subject: Test\r\nFrom: a@treffpunkt.invalid\r\nTo: b@example.org\r\n\r\nHallo\r\n"


class Recorder:
    def __init__(self):
        self.mails: list[dict] = []

    async def handle_DATA(self, server, session, envelope):
        self.mails.append({"to": envelope.rcpt_tos, "tls": server.transport.get_extra_info("ssl_object") is not None,
                           "user": getattr(session, "login_data", None) or session.authenticated,
                           "data": envelope.content})
        return "250 OK"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca, tmp_path_factory):
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def server_context(ca) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(params=["starttls", "tls"])
def secure_server(request, ca):
    recorder = Recorder()
    port = free_port()
    common = dict(hostname="127.0.0.1", port=port, auth_required=True, authenticator=authenticate)
    if request.param == "starttls":
        controller = Controller(recorder, tls_context=server_context(ca), require_starttls=True,
                                auth_require_tls=True, **common)
    else:
        # Implicit TLS: the whole connection is TLS (aiosmtpd's auth_require_tls only knows STARTTLS).
        controller = Controller(recorder, ssl_context=server_context(ca), auth_require_tls=False, **common)
    controller.start()
    yield request.param, port, recorder
    controller.stop()


def mailer(security, port, *, ca_file="", username=USER, password=PASSWORD):
    return mailer_for(Settings.from_env({
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_SECURITY": security, "SMTP_CA_FILE": ca_file,
        "SMTP_USERNAME": username, "SMTP_PASSWORD": password, "SMTP_TIMEOUT_SECONDS": "5"}))


def test_a_mail_goes_out_over_verified_tls_with_authentication_and_the_connection_is_reused(secure_server,
                                                                                            ca_file):
    security, port, recorder = secure_server
    m = mailer(security, port, ca_file=ca_file)
    commits = []
    try:
        for i in range(3):
            m.send("a@treffpunkt.invalid", f"b{i}@example.org", MESSAGE, lambda: commits.append(i))
        connection = m._smtp
        m.send("a@treffpunkt.invalid", "b3@example.org", MESSAGE, lambda: commits.append(3))
        assert m._smtp is connection  # one connection for all four
    finally:
        m.close()
    assert [mail["to"] for mail in recorder.mails] == [[f"b{i}@example.org"] for i in range(4)]
    assert all(mail["tls"] for mail in recorder.mails)
    assert all(mail["user"] for mail in recorder.mails)
    assert commits == [0, 1, 2, 3]


def test_a_wrong_password_is_a_temporary_failure_and_nothing_is_committed(secure_server, ca_file):
    security, port, recorder = secure_server
    m = mailer(security, port, ca_file=ca_file, password="falsch")
    commits = []
    with pytest.raises(TemporaryMailError, match="authentication failed"):
        m.send("a@treffpunkt.invalid", "b@example.org", MESSAGE, lambda: commits.append(1))
    assert commits == [] and recorder.mails == []


def test_a_server_certificate_from_an_unknown_ca_is_refused(secure_server):
    # No SMTP_CA_FILE: the system's CAs do not know the test CA, so verification must fail.
    security, port, recorder = secure_server
    m = mailer(security, port)
    commits = []
    with pytest.raises(TemporaryMailError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        m.send("a@treffpunkt.invalid", "b@example.org", MESSAGE, lambda: commits.append(1))
    assert commits == [] and recorder.mails == []


def test_without_tls_the_server_refuses_to_take_credentials_and_no_mail_goes_out(ca, ca_file):
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, tls_context=server_context(ca),
                            require_starttls=True, auth_required=True, auth_require_tls=True,
                            authenticator=authenticate)
    controller.start()
    try:
        m = mailer("none", port, ca_file=ca_file)
        with pytest.raises(TemporaryMailError):
            m.send("a@treffpunkt.invalid", "b@example.org", MESSAGE, lambda: None)
    finally:
        controller.stop()
    assert recorder.mails == []


def test_an_unknown_security_setting_is_refused_when_the_worker_starts():
    with pytest.raises(ValueError, match="SMTP_SECURITY"):
        mailer("ssl", 25)
