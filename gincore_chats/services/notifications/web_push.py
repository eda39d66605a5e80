"""Browser push to managers: VAPID keys, subscriptions per manager and device, and sending.

A customer message queues one push job after commit. The job pushes the conversation's newest
customer message to the managers responsible for the chat (services.recipients), except those
whose console shows that chat right now (services.viewing). Bursts collapse three ways, because
"hundreds of notifications at once" is what users of other inboxes complain about (Chatwoot
#7240): a job whose message is no longer the newest pushed one does nothing; every push carries
a ``Topic`` per conversation, so the push service keeps only the latest one for an offline
browser; and the service worker shows it with a ``tag`` per conversation, replacing the last.
Pushes expire after ``TTL`` seconds: older news is in the console and the unread emails.
Subscriptions the push service reports gone (404, 410) are deleted.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush
from sqlalchemy import delete, func, select, update

from ...babel import _
from ...models import Conversation, Message, MessageKind, PushSubscription, Setting, utcnow
from ...queue import enqueue
from ...state import ChatsState
from ..cached import cached, changed
from ..conversations import viewing
from ..secrets import SecretUnreadable, decrypt, encrypt
from ..unit_of_work import after_commit, unit_of_work
from . import alert_emails, links, recipients

log = logging.getLogger(__name__)

SETTING_KEY = "web_push"
_CACHE_KEY = ("setting", SETTING_KEY)
PUSH_FUNC = "gincore_chats.jobs.notifications.push_new_message"
#: Seconds a push service keeps an undelivered push.
TTL = 15 * 60
#: Seconds one push service request may take.
TIMEOUT = 10
PREVIEW = 200


class PushError(ValueError):
    """Invalid push input; the message is shown to the admin or manager."""


@dataclass(frozen=True)
class VapidKeys:
    #: The browser's ``applicationServerKey``: base64url of the uncompressed P-256 point.
    public_key: str
    #: None when the stored key cannot be decrypted (the encryption key changed).
    private_pem: str | None
    #: The contact push services may use (``mailto:`` or ``https:``), the JWT's ``sub``.
    subject: str
    created_at: str


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_keys(state: ChatsState) -> VapidKeys | None:
    row = state.session.get(Setting, SETTING_KEY)
    value = dict(row.value or {}) if row is not None else {}
    if not value.get("public_key"):
        return None
    try:
        private = decrypt(state, value.get("private_key_encrypted")).get("pem")
    except SecretUnreadable:
        private = None
    return VapidKeys(
        public_key=str(value["public_key"]),
        private_pem=private,
        subject=str(value.get("subject") or ""),
        created_at=str(value.get("created_at") or ""),
    )


def clean_subject(subject: str) -> str:
    subject = (subject or "").strip()
    if subject.startswith("mailto:") and "@" in subject:
        return subject
    if subject.startswith("https://") and urlsplit(subject).hostname:
        return subject
    raise PushError(
        "The push contact must be mailto:you@example.com or an https:// URL of your site "
        "(push services use it to reach you about problems)."
    )


def do_create_keys(state: ChatsState, subject: str, *, replace: bool = False) -> VapidKeys:
    """Create the VAPID key pair once; replacing it drops every subscription (made for the old
    public key, the push services would refuse them)."""
    subject = clean_subject(subject)
    row = state.session.get(Setting, SETTING_KEY)
    if row is not None and (row.value or {}).get("public_key") and not replace:
        raise PushError("Push keys exist already; replacing them disconnects every device.")
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    if row is None:
        row = Setting(key=SETTING_KEY, value={})
        state.session.add(row)
    row.value = {
        "public_key": _b64url(public),
        "private_key_encrypted": encrypt(state, {"pem": pem}),
        "subject": subject,
        "created_at": utcnow().isoformat(),
    }
    row.updated_at = utcnow()
    state.session.execute(delete(PushSubscription))
    state.session.flush()
    changed(state, _CACHE_KEY)
    keys = load_keys(state)
    assert keys is not None
    return keys


# -- subscriptions --------------------------------------------------------------------------


def _key_bytes(keys: dict[str, Any], name: str, size: int) -> str:
    raw = keys.get(name)
    try:
        decoded = _b64url_decode(str(raw)) if isinstance(raw, str) else b""
    except (ValueError, binascii.Error):
        decoded = b""
    if len(decoded) != size:
        raise PushError(f"keys.{name} must be the browser's base64url value ({size} bytes).")
    return str(raw)


def do_subscribe(
    state: ChatsState,
    manager_id: str,
    data: dict[str, Any],
    user_agent: str | None,
    *,
    allow_http: bool = False,
) -> PushSubscription:
    """Store a browser's ``PushSubscription.toJSON()`` for the manager (one row per device).

    The endpoint is a URL this server will POST to, so it must be https (browsers' push
    services all are); ``allow_http`` is for tests with a local push service.
    """
    endpoint = data.get("endpoint")
    parts = urlsplit(endpoint) if isinstance(endpoint, str) else None
    schemes = ("https", "http") if allow_http else ("https",)
    if parts is None or parts.scheme not in schemes or not parts.hostname:
        raise PushError("endpoint must be the https URL the browser's push service gave.")
    if len(endpoint) > 2000:  # type: ignore[arg-type]
        raise PushError("endpoint is too long.")
    raw_keys = data.get("keys")
    keys: dict[str, Any] = raw_keys if isinstance(raw_keys, dict) else {}
    p256dh = _key_bytes(keys, "p256dh", 65)
    auth = _key_bytes(keys, "auth", 16)
    row = state.session.scalar(
        select(PushSubscription).where(PushSubscription.endpoint == endpoint)
    )
    if row is None:
        row = PushSubscription(endpoint=endpoint, created_at=utcnow())
        state.session.add(row)
    # The same browser profile may change hands (another user logs in): the device follows.
    row.manager_id = manager_id
    row.p256dh, row.auth = p256dh, auth
    row.user_agent = (user_agent or "")[:500] or None
    state.session.flush()
    return row


def do_unsubscribe(state: ChatsState, manager_id: str, endpoint: Any) -> bool:
    result = state.session.execute(
        delete(PushSubscription).where(
            PushSubscription.endpoint == str(endpoint or ""),
            PushSubscription.manager_id == manager_id,
        )
    )
    return bool(result.rowcount)


def device_count(state: ChatsState, manager_id: str) -> int:
    return int(
        state.session.scalar(
            select(func.count(PushSubscription.id)).where(PushSubscription.manager_id == manager_id)
        )
        or 0
    )


# -- sending ----------------------------------------------------------------------------------


def push_set_up(state: ChatsState) -> bool:
    """Are there VAPID keys? Asked for every customer message: from the per-process cache."""
    return cached(state, _CACHE_KEY, lambda: state.session.get(Setting, SETTING_KEY) is not None)


def after_customer_message(state: ChatsState, conv: Conversation, message: Message) -> None:
    """Queue a push job after commit, when push is set up (live delivery never waits for it)."""
    conv_id, message_id = conv.id, message.id

    def queue_push() -> None:
        if push_set_up(state):
            enqueue(state, PUSH_FUNC, conv_id, message_id)

    after_commit(state.session, queue_push)


@dataclass(frozen=True)
class _Target:
    id: int
    endpoint: str
    p256dh: str
    auth: str


def _payload(state: ChatsState, conv: Conversation, newest: Message, first: bool) -> str:
    name = alert_emails.contact_label(conv.contact)
    with alert_emails.language(alert_emails.staff_language()):
        title = (
            _("New chat from %(name)s", name=name)
            if first
            else _("New message from %(name)s", name=name)
        )
    return json.dumps(
        {
            "title": title,
            "body": newest.body[:PREVIEW],
            "conversation_id": conv.id,
            "message_id": newest.id,
            "url": links.console_path(state, conv.id),
            "tag": f"gincore-chats-{conv.id}",
        },
        ensure_ascii=False,
    )


def push_new_message(state: ChatsState, conv_id: int) -> str:
    """The job: push the conversation's newest customer message to whoever should see it."""
    keys = load_keys(state)
    if keys is None:
        return "push is not set up"
    if keys.private_pem is None:
        return "the VAPID key cannot be decrypted"
    with unit_of_work(state.session):
        conv = state.session.get(Conversation, conv_id)
        if conv is None:
            return "conversation deleted"
        newest = state.session.scalar(
            select(Message)
            .where(Message.conversation_id == conv_id, Message.kind == MessageKind.CUSTOMER)
            .order_by(Message.id.desc())
            .limit(1)
        )
        if newest is None:
            return "no customer message"
        # Atomic "greater than" in Redis: of a burst's jobs, the first pushes the newest message
        # and the rest find it pushed.
        last_key = state.key("push-last", conv_id)
        if not state.redis.zadd(last_key, {"m": newest.id}, gt=True, ch=True):
            return "collapsed into a newer push"
        state.redis.expire(last_key, TTL)
        wanted = recipients.responsible_ids(conv)
        wanted -= viewing.viewers(state, wanted, conv_id)
        if not wanted:
            return "nobody to push to"
        targets = [
            _Target(s.id, s.endpoint, s.p256dh, s.auth)
            for s in state.session.scalars(
                select(PushSubscription).where(PushSubscription.manager_id.in_(wanted))
            )
        ]
        if not targets:
            return "no subscribed device"
        count = state.session.scalar(
            select(func.count(Message.id)).where(
                Message.conversation_id == conv_id, Message.kind == MessageKind.CUSTOMER
            )
        )
        data = _payload(state, conv, newest, first=count == 1)
    # Network calls outside any transaction.
    delivered, gone = _send_all(keys, targets, conv_id, data)
    if delivered or gone:
        with unit_of_work(state.session):
            if gone:
                state.session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))
            if delivered:
                state.session.execute(
                    update(PushSubscription)
                    .where(PushSubscription.id.in_(delivered))
                    .values(last_used_at=utcnow())
                )
    return f"pushed to {len(delivered)} of {len(targets)}, removed {len(gone)}"


def _send_all(
    keys: VapidKeys, targets: list[_Target], conv_id: int, data: str
) -> tuple[list[int], list[int]]:
    assert keys.private_pem is not None
    vapid = Vapid02(serialization.load_pem_private_key(keys.private_pem.encode(), password=None))
    delivered: list[int] = []
    gone: list[int] = []
    with requests.Session() as http:
        for target in targets:
            try:
                webpush(
                    {
                        "endpoint": target.endpoint,
                        "keys": {"p256dh": target.p256dh, "auth": target.auth},
                    },
                    data=data,
                    vapid_private_key=vapid,
                    # A new dict per push: pywebpush fills in "aud", the push service's origin.
                    vapid_claims={"sub": keys.subject},
                    ttl=TTL,
                    headers={"Topic": f"conv{conv_id}", "Urgency": "high"},
                    timeout=TIMEOUT,
                    requests_session=http,
                )
                delivered.append(target.id)
            except WebPushException as exc:
                if exc.status_code in (404, 410):
                    gone.append(target.id)
                else:
                    log.warning("gincore_chats: push to %s failed: %s", target.endpoint, exc)
            except requests.RequestException as exc:
                log.warning("gincore_chats: push to %s failed: %s", target.endpoint, exc)
    return delivered, gone
