"""Handing a mail to SMTP so that a crash can never send it twice.

The delivery is committed in our database *between* sending the message body
and sending the final ``.`` that tells the SMTP server to accept it:

    MAIL FROM, RCPT TO, DATA, <body>  →  commit "sent"  →  "."  →  250

A worker killed before the commit leaves the server with an unfinished DATA,
which it discards, and the mail still pending: it is sent again, once. A
worker killed after the commit has already written "." to the socket or not:
in the first case the kernel still delivers it, in the second the mail is
lost; that window is the commit's reply plus a single ``send()`` call (the commit
does not wait for the WAL flush, see ``mail_queue.py``). A server that refuses the
finished message (4xx/5xx after ".") is handled by the caller, which undoes
the commit. This is the price of "never twice": we prefer it, as a duplicate
cannot be taken back and a rare loss shows in the delivery log.
"""
from __future__ import annotations

import smtplib
import socket
import ssl
from pathlib import Path
from typing import Callable

from treffpunkt_shared.timeutil import utcnow

from .mime import UnusableAddress, envelope_address


class TemporaryMailError(Exception):
    """Try again later: SMTP 4xx, connection refused or lost, timeout."""


class PermanentMailError(Exception):
    """Do not try again: SMTP 5xx."""


class MailWithdrawn(Exception):
    """Raised by the commit callback: the mail must not go out after all (its participant was erased
    meanwhile). The mailer abandons the unfinished DATA, which the server then discards."""


def _classify(code: int, text: str) -> Exception:
    detail = f"{code} {text}"
    return PermanentMailError(detail) if 500 <= code < 600 else TemporaryMailError(detail)


class _CommitPointSMTP(smtplib.SMTP):
    def send_with_commit(self, from_addr: str, to_addr: str, message: bytes, commit: Callable[[], None]) -> None:
        self.ehlo_or_helo_if_needed()
        options = []
        if not (from_addr + to_addr).isascii():
            # An address with a non-ASCII local part (weiß@…) exists only for servers offering SMTPUTF8.
            if not self.has_extn("smtputf8"):
                raise PermanentMailError(f"the SMTP server does not offer SMTPUTF8, which the address "
                                         f"{to_addr!r} needs")
            options = ["SMTPUTF8", "BODY=8BITMIME"] if self.has_extn("8bitmime") else ["SMTPUTF8"]
            self.command_encoding = "utf-8"
        try:
            code, resp = self.mail(from_addr, options)
            if code != 250:
                self.rset()
                raise _classify(code, resp.decode(errors="replace"))
            code, resp = self.rcpt(to_addr)
            if code not in (250, 251):
                self.rset()
                raise _classify(code, resp.decode(errors="replace"))
        finally:
            self.command_encoding = "ascii"
        code, resp = self.docmd("data")
        if code != 354:
            self.rset()
            raise _classify(code, resp.decode(errors="replace"))
        body = smtplib._quote_periods(smtplib._fix_eols(message) if isinstance(message, str) else message)
        body = body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        self.send(body)
        commit()
        self.send(b".\r\n")
        code, resp = self.getreply()
        if code != 250:
            raise _classify(code, resp.decode(errors="replace"))


class SmtpMailer:
    """Sends over one reused SMTP connection; reconnects when it is lost."""

    def __init__(self, host: str, port: int, *, username: str = "", password: str = "", security: str = "none",
                 timeout: float = 30, ca_file: str = ""):
        if security not in ("none", "starttls", "tls"):
            raise ValueError(f"SMTP_SECURITY must be none, starttls or tls, not {security!r}")
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.security = security
        self.ca_file = ca_file
        self.timeout = timeout
        self._smtp: _CommitPointSMTP | None = None

    def _connect(self) -> _CommitPointSMTP:
        if self._smtp is not None:
            return self._smtp
        try:
            if self.security == "tls":
                smtp = _SSLCommitPointSMTP(self.host, self.port, timeout=self.timeout, context=self._tls_context())
            else:
                smtp = _CommitPointSMTP(self.host, self.port, timeout=self.timeout)
                if self.security == "starttls":
                    smtp.starttls(context=self._tls_context())
            # Without TCP_NODELAY the final "." (a small write right after the body) waits for the ACK of
            # the body, which the server delays by up to 40 ms as it has nothing to answer yet: Nagle's
            # algorithm against delayed ACKs, 40 ms per mail.
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.username:
                smtp.login(self.username, self.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise TemporaryMailError(f"authentication failed: {exc.smtp_code}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryMailError(f"cannot connect to {self.host}:{self.port}: {exc!r}") from None
        self._smtp = smtp
        return smtp

    def _tls_context(self) -> ssl.SSLContext:
        # Certificate and host name are verified (the default context); only the trusted CAs can change.
        return ssl.create_default_context(cafile=self.ca_file or None)

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except Exception:
                pass
            self._smtp = None

    def send(self, sender: str, recipient: str, message: bytes, commit: Callable[[], None]) -> None:
        try:
            recipient = envelope_address(recipient)
        except UnusableAddress:
            raise PermanentMailError(f"unusable recipient address {recipient!r}") from None
        smtp = self._connect()
        try:
            smtp.send_with_commit(sender, recipient, message, commit)
        except (TemporaryMailError, PermanentMailError):
            raise
        except smtplib.SMTPResponseException as exc:
            self._drop()
            raise _classify(exc.smtp_code, str(exc.smtp_error)) from None
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise TemporaryMailError(f"connection lost: {exc!r}") from None
        except Exception:
            # The commit raised (MailWithdrawn, the database gone): the body is on the wire without its final
            # ".", and only dropping the connection takes it back. No QUIT: in DATA it would be read as part of
            # the message, and its answer waited for until the timeout.
            self._drop()
            raise

    def _drop(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.close()
        finally:
            self._smtp = None


class _SSLCommitPointSMTP(smtplib.SMTP_SSL, _CommitPointSMTP):
    pass


class CapturingMailer:
    """Embedded mode: keeps each mail as an .eml file, readable on the notify service's mail page."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def send(self, sender: str, recipient: str, message: bytes, commit: Callable[[], None]) -> None:
        commit()
        name = f"{utcnow():%Y%m%dT%H%M%S%f}-{abs(hash(message)) % 10**8:08d}.eml"
        tmp = self.directory / (name + ".tmp")
        tmp.write_bytes(message)
        tmp.rename(self.directory / name)

    def close(self) -> None:
        pass

    def captured(self) -> list[Path]:
        return sorted(self.directory.glob("*.eml"), reverse=True)


def mailer_for(settings):
    if settings.smtp_host == "capture":
        return CapturingMailer(settings.mail_capture_dir)
    return SmtpMailer(settings.smtp_host, settings.smtp_port, username=settings.smtp_username,
                      password=settings.smtp_password, security=settings.smtp_security,
                      timeout=settings.smtp_timeout_seconds, ca_file=settings.smtp_ca_file)
