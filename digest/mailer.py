"""The mail server, through the standard library's smtplib.

One connection per run, opened on first use and opened again after a failure,
so that a refused recipient or a server that went away fails one message and
the next message tries afresh. Refuses to send in clear (``SMTP_TLS=off``) to
any host that is not this machine: passwords and addresses would cross the
network unencrypted.
"""

from __future__ import annotations

import ipaddress
import smtplib
import socket
import ssl
from email.message import EmailMessage
from types import TracebackType

from settings import Settings

TIMEOUT_SECONDS = 30


class MailNotConfigured(RuntimeError):
    """The settings cannot send mail (one line, for the command line or the page)."""


class SendFailed(RuntimeError):
    """One message was not accepted (one line: why)."""


def is_loopback(host: str) -> bool:
    """True if every address ``host`` names is this machine's."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in found)


def check_settings(settings: Settings) -> None:
    """MailNotConfigured unless the settings can send: a host, a sender, TLS unless on loopback."""
    if not settings.smtp_host:
        raise MailNotConfigured("SMTP_HOST is not set: e-mail is not set up on this server")
    if not settings.mail_from:
        raise MailNotConfigured("MAIL_FROM is not set: the address digests are sent from")
    if settings.smtp_tls == "off" and not is_loopback(settings.smtp_host):
        raise MailNotConfigured(
            f"SMTP_TLS=off to {settings.smtp_host}, which is not this machine: mail would cross the network "
            "unencrypted; use SMTP_TLS=starttls or ssl"
        )


class Mailer:
    """Sends messages through the configured server; a context manager that closes the connection."""

    def __init__(self, settings: Settings) -> None:
        check_settings(settings)
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        host = s.smtp_host or ""
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.smtp_tls == "ssl":
            smtp = smtplib.SMTP_SSL(host, s.smtp_port, timeout=TIMEOUT_SECONDS, context=context)
        else:
            smtp = smtplib.SMTP(host, s.smtp_port, timeout=TIMEOUT_SECONDS)
        try:
            smtp.ehlo()
            if s.smtp_tls == "starttls":
                if not smtp.has_extn("starttls"):
                    raise SendFailed(f"{host} does not offer STARTTLS (SMTP_TLS=starttls): nothing was sent")
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
        except BaseException:
            _quietly_close(smtp)
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Hand one message to the server; SendFailed (one line) if it was not accepted."""
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            refused = self._smtp.send_message(message)
        except SendFailed:
            self.close()
            raise
        except smtplib.SMTPRecipientsRefused as error:
            raise SendFailed(f"the server refused the address ({_reply(error.recipients)})") from None
        except smtplib.SMTPAuthenticationError as error:
            self.close()
            raise SendFailed(f"the server refused SMTP_USER's sign-in ({error.smtp_code})") from None
        except smtplib.SMTPResponseException as error:
            self.close()
            raise SendFailed(f"the server refused the message ({error.smtp_code} {_text(error.smtp_error)})") from None
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            where = f"{self.settings.smtp_host}:{self.settings.smtp_port}"
            raise SendFailed(
                f"the mail server {where} could not be reached or dropped the connection ({_one_line(error)})"
            ) from None
        if refused:
            raise SendFailed(f"the server refused the address ({_reply(refused)})")

    def close(self) -> None:
        if self._smtp is not None:
            _quietly_close(self._smtp)
            self._smtp = None


def _quietly_close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _text(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return _one_line(text)


def _one_line(value: object) -> str:
    text = " ".join(str(value).split())
    return text[:160] or type(value).__name__


def _reply(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{code} {_text(reply)}" for code, reply in recipients.values())
