"""The corporate mailbox: SMTP settings an admin enters, and sending through them.

Stored in the ``mailbox`` setting, the password encrypted (services.secrets). Messages are built
with the standard library's :mod:`email` and sent over :class:`SmtpConnection`, which may carry
several messages; nothing reads or changes the host's own mail setup (``MAIL_*``,
``app.extensions["mail"]``), and no Flask app or context is needed to send.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from types import TracebackType
from typing import Any

from ...models import Setting, utcnow
from ...state import ChatsState
from ..secrets import SecretUnreadable, decrypt, encrypt

SETTING_KEY = "mailbox"
SECURITY = ("starttls", "ssl", "none")
#: Seconds to wait for the SMTP server at each step; a hung server must not hang the worker.
TIMEOUT = 20
_EMAIL_RE = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


class MailboxError(ValueError):
    """Invalid mailbox settings; the message is shown to the admin."""


class MailError(Exception):
    """Sending failed; the message says what the SMTP server (or the network) answered."""


@dataclass(frozen=True)
class Mailbox:
    active: bool = False
    host: str = ""
    port: int = 587
    security: str = "starttls"
    username: str = ""
    password: str | None = None
    #: A password is stored but cannot be decrypted (the encryption key changed).
    password_unreadable: bool = False
    from_address: str = ""
    from_name: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.host and self.from_address)

    @property
    def inactive_reason(self) -> str | None:
        """Why nothing is sent, in the admin's words; None when emails go out."""
        if not self.configured:
            return "Corporate email is not set up: enter the SMTP server and the sender address."
        if self.password_unreadable:
            return (
                "The stored SMTP password cannot be decrypted (the encryption key changed): "
                "enter it again."
            )
        if not self.active:
            return "Corporate email is switched off."
        return None

    @property
    def usable(self) -> bool:
        return self.inactive_reason is None


def load(state: ChatsState) -> Mailbox:
    row = state.session.get(Setting, SETTING_KEY)
    value: dict[str, Any] = dict(row.value or {}) if row is not None else {}
    if not value:
        return Mailbox()
    password: str | None = None
    unreadable = False
    try:
        password = decrypt(state, value.get("password_encrypted")).get("password")
    except SecretUnreadable:
        unreadable = True
    return Mailbox(
        active=bool(value.get("active")),
        host=str(value.get("host") or ""),
        port=int(value.get("port") or 587),
        security=str(value.get("security") or "starttls"),
        username=str(value.get("username") or ""),
        password=password,
        password_unreadable=unreadable,
        from_address=str(value.get("from_address") or ""),
        from_name=str(value.get("from_name") or ""),
    )


def do_save(state: ChatsState, form: dict[str, Any]) -> Mailbox:
    """Save the settings; an empty password keeps the stored one, ``clear_password`` drops it."""
    host = str(form.get("host") or "").strip()
    try:
        port = int(str(form.get("port") or "").strip() or 587)
    except ValueError:
        raise MailboxError("The port must be a number (587 for STARTTLS, 465 for SSL).") from None
    if not 0 < port < 65536:
        raise MailboxError("The port must be between 1 and 65535.")
    security = str(form.get("security") or "starttls")
    if security not in SECURITY:
        raise MailboxError("Choose STARTTLS, SSL/TLS or no encryption.")
    from_address = str(form.get("from_address") or "").strip()
    if from_address and not _EMAIL_RE.match(from_address):
        raise MailboxError(f"{from_address!r} is not an email address.")
    from_name = str(form.get("from_name") or "").strip()[:200]
    if "\n" in from_name or "\r" in from_name:
        raise MailboxError("The sender name must be one line.")
    active = bool(form.get("active"))
    if active and not (host and from_address):
        raise MailboxError("To switch corporate email on, enter the SMTP server and the sender.")

    row = state.session.get(Setting, SETTING_KEY)
    if row is None:
        row = Setting(key=SETTING_KEY, value={})
        state.session.add(row)
    value = dict(row.value or {})
    password = str(form.get("password") or "")
    if form.get("clear_password"):
        value.pop("password_encrypted", None)
    elif password:
        value["password_encrypted"] = encrypt(state, {"password": password})
    value.update(
        active=active,
        host=host,
        port=port,
        security=security,
        username=str(form.get("username") or "").strip(),
        from_address=from_address,
        from_name=from_name,
    )
    # A new dict, so the JSON column is seen as changed.
    row.value = value
    row.updated_at = utcnow()
    state.session.flush()
    return load(state)


class SmtpConnection:
    """One SMTP session with the mailbox's server, for one message or several.

    Certificate-checked TLS and a :data:`TIMEOUT` on every step. Use it as a context manager;
    errors come out as :class:`MailError` with the server's (or the network's) words.
    """

    def __init__(self, mailbox: Mailbox) -> None:
        if not mailbox.configured:
            raise MailError(str(mailbox.inactive_reason))
        self.mailbox = mailbox
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpConnection:
        box = self.mailbox
        with _mail_errors(box):
            context = ssl.create_default_context()
            smtp: smtplib.SMTP
            if box.security == "ssl":
                smtp = smtplib.SMTP_SSL(box.host, box.port, timeout=TIMEOUT, context=context)
            else:
                smtp = smtplib.SMTP(box.host, box.port, timeout=TIMEOUT)
            try:
                if box.security == "starttls":
                    smtp.starttls(context=context)
                if box.username and box.password:
                    smtp.login(box.username, box.password)
            except BaseException:
                smtp.close()
                raise
        self._smtp = smtp
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()  # the message went out; a failed goodbye changes nothing

    def send(
        self,
        *,
        to: list[str],
        subject: str,
        text: str,
        html: str | None = None,
        reply_to: str | None = None,
    ) -> None:
        """Send one message (all recipients in one SMTP transaction); raises :class:`MailError`."""
        assert self._smtp is not None, "use SmtpConnection as a context manager"
        message = _message(self.mailbox, to, subject, text, html, reply_to)
        with _mail_errors(self.mailbox):
            self._smtp.send_message(message, self.mailbox.from_address, list(to))


def _message(
    box: Mailbox, to: list[str], subject: str, text: str, html: str | None, reply_to: str | None
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = (
        formataddr((box.from_name, box.from_address)) if box.from_name else (box.from_address)
    )
    message["To"] = ", ".join(to)
    if reply_to:
        message["Reply-To"] = reply_to
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=box.from_address.rpartition("@")[2] or None)
    # RFC 3834: autoresponders must not answer a notification.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


@contextmanager
def _mail_errors(box: Mailbox) -> Iterator[None]:
    """SMTP and network failures as :class:`MailError`, in words an admin can act on."""
    try:
        yield
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"The SMTP server refused the login: {_smtp_text(exc)}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(sorted(exc.recipients))
        raise MailError(f"The SMTP server refused the recipient {refused}.") from exc
    except smtplib.SMTPResponseException as exc:
        raise MailError(f"The SMTP server answered: {_smtp_text(exc)}") from exc
    except smtplib.SMTPException as exc:
        raise MailError(f"SMTP error: {exc}") from exc
    except ssl.SSLError as exc:
        raise MailError(f"TLS failed with {box.host}:{box.port}: {exc}") from exc
    except TimeoutError as exc:
        raise MailError(f"{box.host}:{box.port} did not answer within {TIMEOUT} seconds.") from exc
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise MailError(f"Could not connect to {box.host}:{box.port}: {reason}") from exc


def send(
    mailbox: Mailbox,
    *,
    to: list[str],
    subject: str,
    text: str,
    html: str | None = None,
    reply_to: str | None = None,
) -> None:
    """Send one message over a connection of its own; raises :class:`MailError`."""
    with SmtpConnection(mailbox) as connection:
        connection.send(to=to, subject=subject, text=text, html=html, reply_to=reply_to)


def _smtp_text(exc: smtplib.SMTPResponseException) -> str:
    error = exc.smtp_error
    text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
    return f"{exc.smtp_code} {text}"


def send_test(state: ChatsState, to: str) -> None:
    """The settings page's "send test email" button."""
    to = (to or "").strip()
    if not _EMAIL_RE.match(to):
        raise MailboxError("Enter the address the test email should go to.")
    mailbox = load(state)
    if not mailbox.configured:
        raise MailboxError(str(mailbox.inactive_reason))
    send(
        mailbox,
        to=[to],
        subject="Test email from your chat",
        text=(
            "This is a test email sent from the chat settings.\n\n"
            "If you can read it, the corporate mailbox works: notification emails to your "
            "employees and customers will be sent through it.\n"
        ),
    )
