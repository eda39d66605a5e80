"""The corporate mailbox: SMTP settings an admin enters, and sending through them.

Stored in the ``mailbox`` setting, the password encrypted (services.secrets). Each send builds
its own Flask-Mail ``Mail`` from the stored settings on a private Flask app, so the host's own
Flask-Mail configuration (``MAIL_*``, ``app.extensions["mail"]``) is never read or changed.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from typing import Any

import flask_mail
from flask import Flask

from ..models import Setting, utcnow
from ..state import ChatsState
from .secrets import SecretUnreadable, decrypt, encrypt

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


class _Connection(flask_mail.Connection):
    """Flask-Mail's connection with a timeout and certificate-checked TLS.

    Flask-Mail opens ``smtplib.SMTP`` without a timeout and with an unverified TLS context.
    """

    def configure_host(self) -> smtplib.SMTP | smtplib.SMTP_SSL:
        mail = self.mail
        context = ssl.create_default_context()
        host: smtplib.SMTP | smtplib.SMTP_SSL
        if mail.use_ssl:
            host = smtplib.SMTP_SSL(mail.server, mail.port, timeout=TIMEOUT, context=context)
        else:
            host = smtplib.SMTP(mail.server, mail.port, timeout=TIMEOUT)
        if mail.use_tls:
            host.starttls(context=context)
        if mail.username and mail.password:
            host.login(mail.username, mail.password)
        return host


def _mail_app(mailbox: Mailbox) -> Flask:
    app = Flask(__name__)
    app.config.update(
        MAIL_SERVER=mailbox.host,
        MAIL_PORT=mailbox.port,
        MAIL_USE_TLS=mailbox.security == "starttls",
        MAIL_USE_SSL=mailbox.security == "ssl",
        MAIL_USERNAME=mailbox.username or None,
        MAIL_PASSWORD=mailbox.password,
        MAIL_DEFAULT_SENDER=(mailbox.from_name, mailbox.from_address)
        if mailbox.from_name
        else mailbox.from_address,
        MAIL_SUPPRESS_SEND=False,
    )
    flask_mail.Mail(app)
    return app


def send(
    mailbox: Mailbox,
    *,
    to: list[str],
    subject: str,
    text: str,
    html: str | None = None,
    reply_to: str | None = None,
) -> None:
    """Send one message (all recipients in one SMTP transaction); raises :class:`MailError`."""
    if not mailbox.configured:
        raise MailError(str(mailbox.inactive_reason))
    app = _mail_app(mailbox)
    # Flask-Mail reads its state from current_app: give it the private app, not the host's.
    with app.app_context():
        message = flask_mail.Message(
            subject=subject,
            recipients=list(to),
            body=text,
            html=html,
            reply_to=reply_to,
            # RFC 3834: autoresponders must not answer a notification.
            extra_headers={"Auto-Submitted": "auto-generated"},
        )
        try:
            with _Connection(app.extensions["mail"]) as connection:
                connection.send(message)
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
            raise MailError(f"TLS failed with {mailbox.host}:{mailbox.port}: {exc}") from exc
        except TimeoutError as exc:
            raise MailError(
                f"{mailbox.host}:{mailbox.port} did not answer within {TIMEOUT} seconds."
            ) from exc
        except OSError as exc:
            reason = exc.strerror or str(exc)
            where = f"{mailbox.host}:{mailbox.port}"
            raise MailError(f"Could not connect to {where}: {reason}") from exc


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
