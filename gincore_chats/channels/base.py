"""The adapter contract every channel implements, and the value objects it speaks.

Inbound: ``verify(credentials, headers, raw_body)`` checks authenticity over the raw bytes
(constant-time), ``handshake(credentials, query)`` answers a GET verification (Meta) or returns
None, ``parse(raw_body)`` turns one delivery into a :class:`ParsedWebhook` (every batch item).

Outbound: ``send(credentials, OutboundMessage)`` performs the platform call with the base URL
from ``ChannelConfig`` and returns a :class:`SendResult`, or raises :class:`ChannelError` whose
``retry_after`` / ``permanent`` tell the job whether and when to retry. ``edit`` and ``delete``
exist only where the platform supports them (``supports_edit`` / ``supports_delete``).

Ids are strings everywhere (Viber tokens exceed 2**53; Meta ids are strings already).

Optional capabilities, looked up with ``getattr`` so an adapter without them still satisfies
:class:`Channel`:

* ``connect`` (:class:`ConnectableChannel`): register the webhook with the platform;
* ``edit`` / ``delete`` (:class:`EditableChannel`);
* ``fetch_media`` (:class:`MediaFetchingChannel`): download an inbound file's bytes;
* ``check`` (:class:`CheckableChannel`): ask the platform who the credentials belong to and
  where it delivers the webhook; a :class:`ConnectionCheck` says what is wrong, in words;
* ``validate_credentials(credentials)``: raise ValueError with a message for the admin;
* ``profile(config, credentials, user_id) -> Sender``: who a customer is, asked once when a
  contact is first seen without a name (Messenger, Instagram);
* ``account_credential`` (class attribute): the credential that names the platform account
  (page id, phone number id); when set, ``parse(raw_body, account_id=credentials[name])`` is
  called, so events for other accounts sharing one Meta app are dropped;
* class attributes ``generated_credentials`` (name -> shown to the admin?: secrets the library
  creates itself, e.g. a webhook secret or a Meta verify token) and ``optional_credentials``
  (fields the admin may leave empty).

``headers`` given to ``verify`` is a :class:`HeaderDict`: look names up in any case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

#: Largest inbound file an adapter downloads (Telegram's own bot limit is 20 MB).
MEDIA_LIMIT = 20 * 1024 * 1024


@dataclass(frozen=True)
class ChannelConfig:
    """Base URLs and tunables, from ``CHATS_*`` config (tests point them at fake servers)."""

    telegram_api_base: str = "https://api.telegram.org"
    graph_api_base: str = "https://graph.facebook.com"
    graph_api_version: str = "v21.0"
    instagram_graph_base: str = "https://graph.instagram.com"
    viber_api_base: str = "https://chatapi.viber.com/pa"
    timeout: float = 15.0


class HeaderDict(dict[str, str]):
    """HTTP headers with case-insensitive names (stored lower-case), still a plain dict."""

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        super().__init__()
        pairs = items.items() if isinstance(items, Mapping) else items
        for key, value in pairs:
            self[key] = value

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key.lower(), value)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key.lower() if isinstance(key, str) else key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


@dataclass(frozen=True)
class Sender:
    id: str
    name: str | None = None
    username: str | None = None
    language: str | None = None
    avatar_url: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class InboundMedia:
    """A file to fetch: ``ref`` is a URL or the platform's file id (Telegram ``file_id``)."""

    kind: str  # "image", "file", "audio", "video", "sticker"
    ref: str
    mime_type: str | None = None
    filename: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class InboundMessage:
    external_id: str  # dedup key, unique per source
    sender: Sender
    text: str | None = None
    media: tuple[InboundMedia, ...] = ()
    # Sensible text for what has no text of its own (location, sticker, contact card ...).
    fallback_text: str | None = None
    reply_to_external_id: str | None = None
    sent_at: datetime | None = None
    # Our own outbound message echoed back (Messenger/Instagram): never a customer message.
    # For an echo, ``sender`` is still the *customer* (the echo's recipient), so the
    # conversation can be found; an echo of a reply sent from the platform's own inbox is
    # recorded as a manager message, one we sent ourselves is dropped by its external_id.
    is_echo: bool = False


@dataclass(frozen=True)
class InboundEdit:
    external_id: str
    text: str


@dataclass(frozen=True)
class DeliveryUpdate:
    """A receipt: ``external_id`` of our message, or an ``upto`` watermark time (Messenger)."""

    status: str  # "sent", "delivered", "read", "failed"
    recipient_id: str
    external_id: str | None = None
    upto: datetime | None = None
    error: str | None = None


@dataclass(frozen=True)
class ReachabilityChange:
    """The customer can no longer be sent messages, or can again.

    Telegram's ``my_chat_member`` (``kicked``: they blocked the bot; ``member``: they restarted
    it), Viber's ``unsubscribed`` / ``subscribed``. ``user_id`` is the contact's platform id;
    ``reason`` (for ``reachable=False``) is what managers are shown; ``at`` is the platform's
    time of the change, so a late delivery of an older change cannot undo a newer one.
    """

    user_id: str
    reachable: bool
    reason: str | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class InboundButtonPress:
    """The customer pressed a button we sent (Telegram's ``callback_query``).

    ``callback_id`` is what the platform wants answered (the button shows a spinner until
    then); ``data`` is the button's own value (ours, e.g. ``rate:4``), never trusted blindly.
    """

    callback_id: str
    sender: Sender
    data: str


@dataclass(frozen=True)
class ParsedWebhook:
    messages: tuple[InboundMessage, ...] = ()
    button_presses: tuple[InboundButtonPress, ...] = ()
    edits: tuple[InboundEdit, ...] = ()
    deliveries: tuple[DeliveryUpdate, ...] = ()
    reachability: tuple[ReachabilityChange, ...] = ()
    # Platform events we acknowledge but do not store (e.g. Viber "webhook", "subscribed").
    ignored: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutboundAttachment:
    kind: str  # "image" or "file"
    url: str  # a URL the platform can fetch, or a local path the client uploads
    filename: str
    mime_type: str
    data: bytes | None = None  # when given, uploaded as multipart instead of by URL
    size: int | None = None  # bytes; Viber requires it for files


@dataclass(frozen=True)
class OutboundMessage:
    recipient_id: str
    text: str | None = None
    attachments: tuple[OutboundAttachment, ...] = ()
    reply_to_external_id: str | None = None
    sender_name: str | None = None  # Viber shows a sender name per message
    # Stable per message across retries (the generic webhook's event id).
    idempotency_key: str | None = None
    # When the customer last wrote (WhatsApp/Meta 24-hour window checks before calling out).
    customer_last_message_at: datetime | None = None
    # Extra context for adapters that forward it (generic webhook: conversation, source ids).
    metadata: dict[str, Any] = field(default_factory=dict)
    # One row of (label, value) buttons under the text, where the platform has them
    # (Telegram's inline keyboard); other adapters send the text alone.
    buttons: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class FetchedMedia:
    """An inbound file's bytes, downloaded through the platform (see ``fetch_media``)."""

    data: bytes
    mime_type: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class SendResult:
    external_id: str
    extra: dict[str, Any] = field(default_factory=dict)


class ChannelError(Exception):
    """A platform refused or failed a call.

    ``retry_after`` (seconds) is set for rate limits (Telegram 429 ``retry_after``, Viber status
    12, Meta rate-limit codes); ``permanent`` means retrying cannot help (bad token, WhatsApp's
    24-hour window, user blocked the bot). ``unreachable`` (implies ``permanent``) means the
    customer cannot receive anything until they write again (blocked the bot, unsubscribed):
    later replies are not even attempted. ``reason`` is what the manager is shown.
    """

    def __init__(
        self,
        reason: str,
        *,
        code: str | int | None = None,
        retry_after: float | None = None,
        permanent: bool = False,
        unreachable: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.retry_after = retry_after
        self.permanent = permanent or unreachable
        self.unreachable = unreachable


@dataclass(frozen=True)
class ConnectionCheck:
    """What the platform says about a source (``check``): whose credentials, which webhook.

    ``problems`` are sentences for the admin that say what is wrong and what to do; none means
    the platform accepts the credentials and delivers to this source. ``webhook_url`` is the URL
    the platform reports (None where it does not tell, as on Meta); ``facts`` are further
    (label, value) lines worth showing, such as Telegram's pending update count.
    """

    account: str | None = None
    webhook_url: str | None = None
    facts: tuple[tuple[str, str], ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def webhook_problem(platform: str, reported: str | None, ours: str) -> str | None:
    """The sentence for a platform that delivers elsewhere (or nowhere), else None."""
    if not reported:
        return (
            f"{platform} has no webhook registered for this bot: press Connect to register {ours}."
        )
    if reported.rstrip("/") != ours.rstrip("/"):
        return (
            f"{platform} delivers to {reported}, not to this source's webhook URL {ours}: "
            "press Connect to register ours (another system may be using this bot)."
        )
    return None


class Channel(Protocol):
    kind: ClassVar[str]
    supports_edit: ClassVar[bool]
    supports_delete: ClassVar[bool]
    #: Credential fields the settings page asks for: name -> (label, secret?).
    credential_fields: ClassVar[dict[str, tuple[str, bool]]]

    def verify(
        self, credentials: dict[str, Any], headers: dict[str, str], raw_body: bytes
    ) -> bool: ...

    def handshake(self, credentials: dict[str, Any], query: dict[str, str]) -> str | None: ...

    def parse(self, raw_body: bytes) -> ParsedWebhook: ...

    def send(
        self, config: ChannelConfig, credentials: dict[str, Any], message: OutboundMessage
    ) -> SendResult: ...


class ConnectableChannel(Channel, Protocol):
    """A channel whose webhook the library can register through the platform's API."""

    def connect(self, config: ChannelConfig, credentials: dict[str, Any], webhook_url: str) -> str:
        """Register ``webhook_url``; return a line for the admin, or raise ChannelError."""
        ...


class EditableChannel(Channel, Protocol):
    """A channel that can change or remove a message already delivered (Telegram)."""

    def edit(
        self,
        config: ChannelConfig,
        credentials: dict[str, Any],
        recipient_id: str,
        external_id: str,
        text: str,
    ) -> None: ...

    def delete(
        self,
        config: ChannelConfig,
        credentials: dict[str, Any],
        recipient_id: str,
        external_id: str,
    ) -> None: ...


class MediaFetchingChannel(Channel, Protocol):
    """A channel that can download an inbound file (``InboundMedia.ref``) for storage.

    ``limit`` is the most bytes to accept (see :data:`MEDIA_LIMIT`); more is a permanent error.
    """

    def fetch_media(
        self, config: ChannelConfig, credentials: dict[str, Any], media: InboundMedia, limit: int
    ) -> FetchedMedia: ...


class CheckableChannel(Channel, Protocol):
    """A channel that can ask its platform whether the source is set up (Test connection).

    Never raises for what the platform refuses: a bad token is a problem in the result.
    """

    def check(
        self, config: ChannelConfig, credentials: dict[str, Any], webhook_url: str
    ) -> ConnectionCheck: ...
