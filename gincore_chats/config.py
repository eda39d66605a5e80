"""``CHATS_*`` configuration keys, their defaults, and the one place they are read.

Keys are read once in :meth:`gincore_chats.Chats.init_app` into a frozen :class:`ChatsConfig`;
code never reads ``app.config`` for a ``CHATS_`` key anywhere else, so the reference page in
``docs/configuration.rst`` is complete by construction.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

from .ai.client import ProviderSettings
from .channels.base import ChannelConfig
from .file_types import DEFAULT_ALLOWED
from .limits import Limit
from .limits import parse as parse_limit

DEFAULTS: dict[str, Any] = {
    # Where the blueprints are mounted.
    "CHATS_URL_PREFIX": "/chats",
    # Redis for pub/sub fan-out, RQ and rate limits. None: the demo starts an embedded one;
    # a library host must set it.
    "CHATS_REDIS_URL": None,
    # Prefix of every Redis key and channel, so several apps can share one Redis.
    "CHATS_REDIS_PREFIX": "gincore_chats",
    # RQ queue the worker listens on; None: the Redis prefix (so apps sharing a Redis and
    # prefix-isolated test runs never take each other's jobs).
    "CHATS_QUEUE_NAME": None,
    # "free" or "pro": gates Pro features such as the visitor's live typing preview.
    "CHATS_PLAN": "free",
    # WebSocket limits (flask-sock/simple-websocket): an incoming frame over this closes the
    # socket with 1009; ping keeps proxies from cutting idle sockets.
    "CHATS_WS_MAX_MESSAGE_SIZE": 64 * 1024,
    "CHATS_WS_PING_INTERVAL": 25,
    "CHATS_WS_COMPRESSION": False,
    # Longest message body accepted from anyone (characters).
    "CHATS_MAX_MESSAGE_LENGTH": 10_000,
    # Largest JSON request body of the widget and console APIs (bytes); bigger ones get 413.
    "CHATS_JSON_MAX_BODY": 1024 * 1024,
    # Origins the console WebSocket accepts besides the app's own (reverse proxies).
    "CHATS_CONSOLE_ORIGINS": (),
    # One language for the console, settings pages and managers' emails ("de", "pt_BR"); None:
    # the host's Flask-Babel locale selector, else the browser's (emails: BABEL_DEFAULT_LOCALE).
    "CHATS_CONSOLE_LOCALE": None,
    # Salt for the signed visitor tokens (the key itself is SECRET_KEY).
    "CHATS_TOKEN_SALT": "gincore-chats-visitor",
    # Page size of the console's conversation list.
    "CHATS_PAGE_SIZE": 50,
    # How many events one replay answer carries at most; the client asks again for more.
    "CHATS_REPLAY_LIMIT": 500,
    # Path of a MaxMind City database (GeoLite2-City.mmdb); None turns geolocation off.
    "CHATS_GEOIP_DATABASE": None,
    # Trust X-Forwarded-For from this many proxies when reading a visitor's IP (0: none).
    "CHATS_TRUSTED_PROXIES": 0,
    # Key for secrets stored in the database (channel tokens, SMTP password); None: derived
    # from SECRET_KEY. Set it if SECRET_KEY may change.
    "CHATS_ENCRYPTION_KEY": None,
    # Per-IP limits on the widget ("count/window": 10/hour, 30/minute, 5/10s).
    "CHATS_RATE_LIMIT_CONVERSATIONS": "20/hour",
    "CHATS_RATE_LIMIT_MESSAGES": "30/minute",
    # Messenger channels (docs/channels.rst). The externally reachable base URL of this app,
    # used in webhook URLs the platforms call (https://chat.example.com); None: the URL of the
    # current request (settings pages), required for `flask chats connect`.
    "CHATS_PUBLIC_URL": None,
    # Platform API base URLs: tests point them at local fake servers.
    "CHATS_TELEGRAM_API_BASE": "https://api.telegram.org",
    "CHATS_VIBER_API_BASE": "https://chatapi.viber.com/pa",
    "CHATS_GRAPH_API_BASE": "https://graph.facebook.com",
    "CHATS_GRAPH_API_VERSION": "v21.0",
    "CHATS_INSTAGRAM_GRAPH_BASE": "https://graph.instagram.com",
    # Seconds one platform API call may take.
    "CHATS_CHANNEL_TIMEOUT": 15,
    # Largest webhook body accepted (bytes); bigger deliveries get 413.
    "CHATS_WEBHOOK_MAX_BODY": 2 * 1024 * 1024,
    # Outbound sends: attempts before a message is marked failed, and the first back-off
    # delay in seconds (doubled per attempt, at most an hour) when the platform gives none.
    "CHATS_SEND_MAX_ATTEMPTS": 6,
    "CHATS_SEND_BACKOFF": 5,
    # Attachments: where the local storage keeps them (None: <instance path>/gincore-chats-files),
    # the largest file, the total for all attachments (None: no quota), the MIME types
    # accepted (detected from the content) and the pixel limit that refuses decompression bombs.
    "CHATS_STORAGE_PATH": None,
    "CHATS_MAX_UPLOAD_SIZE": 10 * 1024 * 1024,
    "CHATS_STORAGE_QUOTA": 1024**3,
    "CHATS_ALLOWED_UPLOAD_TYPES": DEFAULT_ALLOWED,
    "CHATS_MAX_IMAGE_PIXELS": 40_000_000,
    # The AI provider (docs/knowledge_base.rst): any OpenAI-compatible API. None: no provider;
    # the knowledge base then extracts and matches without one. The base URL includes the
    # version path (https://api.openai.com/v1, http://localhost:11434/v1 for Ollama).
    "CHATS_AI_BASE_URL": None,
    "CHATS_AI_API_KEY": None,
    # Chat model (rewrites extracted pairs); embedding model (None: no embeddings).
    "CHATS_AI_MODEL": None,
    "CHATS_AI_EMBEDDING_MODEL": None,
    # Seconds one HTTP attempt may take, and one call in all (retries and waits included).
    "CHATS_AI_TIMEOUT": 30,
    "CHATS_AI_DEADLINE": 60,
    # AI replies (docs/ai.rst): after this many provider failures in a row the assistant hands
    # every conversation to people for this many seconds, and the admins are emailed.
    "CHATS_AI_BREAKER_FAILURES": 5,
    "CHATS_AI_BREAKER_SECONDS": 300,
    # Per-IP limit on the widget's answer suggestions (one request per pause in typing).
    "CHATS_RATE_LIMIT_SUGGESTIONS": "60/minute",
    # The REST API (Pro, docs/api.rst): requests per token, and how long a POST's response is
    # kept for a retry with the same Idempotency-Key (seconds).
    "CHATS_API_RATE_LIMIT": "600/minute",
    "CHATS_API_IDEMPOTENCY_TTL": 24 * 3600,
    # Outgoing webhooks: accept URLs that resolve to private, loopback or link-local addresses
    # (a receiver on the same network; tests). Off: such URLs are refused when saved and
    # again at every send.
    "CHATS_WEBHOOKS_ALLOW_PRIVATE": False,
    # Prometheus metrics at <prefix>/metrics (needs the "metrics" extra, prometheus-client).
    "CHATS_METRICS_ENABLED": False,
    # Seconds one delivery attempt may take; the first retry delay (doubled per attempt, at
    # most an hour, with jitter) and for how long a delivery is retried (hours).
    "CHATS_WEBHOOK_TIMEOUT": 10,
    "CHATS_WEBHOOK_BACKOFF": 30,
    "CHATS_WEBHOOK_RETRY_HOURS": 25,
    # An endpoint is disabled (and the admins emailed) once it has failed this many attempts
    # in a row over at least this many hours without one success.
    "CHATS_WEBHOOK_DISABLE_FAILURES": 20,
    "CHATS_WEBHOOK_DISABLE_HOURS": 24,
    # Conversations the customer never wrote in (the widget opened, nothing sent: a visit) are
    # deleted this many seconds after the visitor was last seen; None or 0 keeps them. The
    # worker checks every hour; `flask chats delete-empty-conversations` does it on demand.
    "CHATS_EMPTY_CONVERSATION_RETENTION": 7 * 24 * 3600,
    # The console header's links: back to the host's site, and log out (a URL, or an endpoint
    # name for url_for such as "auth.logout"); None hides a link. The logout link is a plain
    # GET; see docs/configuration.rst for hosts whose logout needs a POST.
    "CHATS_HOME_URL": "/",
    "CHATS_HOME_LABEL": None,
    "CHATS_LOGOUT_URL": None,
}


@dataclass(frozen=True)
class ChatsConfig:
    url_prefix: str
    redis_url: str | None
    redis_prefix: str
    queue_name: str
    plan: str
    ws_max_message_size: int
    ws_ping_interval: int | None
    ws_compression: bool
    max_message_length: int
    json_max_body: int
    console_origins: tuple[str, ...]
    token_salt: str
    page_size: int
    replay_limit: int
    geoip_database: str | None
    trusted_proxies: int
    encryption_key: str | None
    rate_limit_conversations: Limit
    rate_limit_messages: Limit
    public_url: str | None
    telegram_api_base: str
    viber_api_base: str
    graph_api_base: str
    graph_api_version: str
    instagram_graph_base: str
    channel_timeout: float
    webhook_max_body: int
    send_max_attempts: int
    send_backoff: float
    storage_path: str
    max_upload_size: int
    storage_quota: int | None
    allowed_upload_types: frozenset[str]
    max_image_pixels: int
    ai_base_url: str | None
    ai_api_key: str | None
    ai_model: str | None
    ai_embedding_model: str | None
    ai_timeout: float
    ai_deadline: float
    ai_breaker_failures: int
    ai_breaker_seconds: float
    rate_limit_suggestions: Limit
    api_rate_limit: Limit
    api_idempotency_ttl: int
    webhooks_allow_private: bool
    metrics_enabled: bool
    webhook_timeout: float
    webhook_backoff: float
    webhook_retry_hours: float
    webhook_disable_failures: int
    webhook_disable_hours: float

    @property
    def ai(self) -> ProviderSettings | None:
        """The provider from ``CHATS_AI_*``, or None when no base URL is set."""
        if not self.ai_base_url:
            return None
        return ProviderSettings(
            base_url=self.ai_base_url,
            api_key=self.ai_api_key,
            model=self.ai_model,
            embedding_model=self.ai_embedding_model,
            timeout=self.ai_timeout,
            deadline=self.ai_deadline,
        )

    empty_conversation_retention: timedelta | None
    home_url: str | None
    home_label: str | None
    logout_url: str | None

    @property
    def is_pro(self) -> bool:
        return self.plan == "pro"

    @property
    def channels(self) -> ChannelConfig:
        """What channel adapters get: base URLs and the call timeout."""
        return ChannelConfig(
            telegram_api_base=self.telegram_api_base,
            graph_api_base=self.graph_api_base,
            graph_api_version=self.graph_api_version,
            instagram_graph_base=self.instagram_graph_base,
            viber_api_base=self.viber_api_base,
            timeout=self.channel_timeout,
        )


def _seconds(value: Any) -> timedelta | None:
    """A duration from seconds (or a timedelta); None or 0 is "never"."""
    if not value:
        return None
    duration = value if isinstance(value, timedelta) else timedelta(seconds=float(value))
    if duration.total_seconds() < 0:
        raise ValueError(f"A duration cannot be negative: {value!r}")
    return duration or None


def load_config(app_config: dict[str, Any]) -> ChatsConfig:
    """Apply defaults with ``setdefault`` (the host sees them in ``app.config``) and freeze."""
    for key, value in DEFAULTS.items():
        app_config.setdefault(key, value)
    unknown = sorted(k for k in app_config if k.startswith("CHATS_") and k not in DEFAULTS)
    for key in unknown:
        warnings.warn(f"Unknown gincore-chats setting {key!r} is ignored", stacklevel=3)
    plan = str(app_config["CHATS_PLAN"]).lower()
    if plan not in ("free", "pro"):
        raise ValueError(f"CHATS_PLAN must be 'free' or 'pro', not {plan!r}")
    prefix = "/" + str(app_config["CHATS_URL_PREFIX"]).strip("/")
    values = {
        "url_prefix": "" if prefix == "/" else prefix,
        "redis_url": app_config["CHATS_REDIS_URL"],
        "redis_prefix": app_config["CHATS_REDIS_PREFIX"],
        "queue_name": app_config["CHATS_QUEUE_NAME"] or app_config["CHATS_REDIS_PREFIX"],
        "plan": plan,
        "ws_max_message_size": int(app_config["CHATS_WS_MAX_MESSAGE_SIZE"]),
        "ws_ping_interval": app_config["CHATS_WS_PING_INTERVAL"] or None,
        "ws_compression": bool(app_config["CHATS_WS_COMPRESSION"]),
        "max_message_length": int(app_config["CHATS_MAX_MESSAGE_LENGTH"]),
        "json_max_body": int(app_config["CHATS_JSON_MAX_BODY"]),
        "console_origins": tuple(app_config["CHATS_CONSOLE_ORIGINS"]),
        "token_salt": app_config["CHATS_TOKEN_SALT"],
        "page_size": int(app_config["CHATS_PAGE_SIZE"]),
        "replay_limit": int(app_config["CHATS_REPLAY_LIMIT"]),
        "geoip_database": app_config["CHATS_GEOIP_DATABASE"] or None,
        "trusted_proxies": int(app_config["CHATS_TRUSTED_PROXIES"]),
        "encryption_key": app_config["CHATS_ENCRYPTION_KEY"] or None,
        "rate_limit_conversations": parse_limit(app_config["CHATS_RATE_LIMIT_CONVERSATIONS"]),
        "rate_limit_messages": parse_limit(app_config["CHATS_RATE_LIMIT_MESSAGES"]),
        "public_url": str(app_config["CHATS_PUBLIC_URL"]).rstrip("/")
        if app_config["CHATS_PUBLIC_URL"]
        else None,
        "telegram_api_base": str(app_config["CHATS_TELEGRAM_API_BASE"]).rstrip("/"),
        "viber_api_base": str(app_config["CHATS_VIBER_API_BASE"]).rstrip("/"),
        "graph_api_base": str(app_config["CHATS_GRAPH_API_BASE"]).rstrip("/"),
        "graph_api_version": str(app_config["CHATS_GRAPH_API_VERSION"]).strip("/"),
        "instagram_graph_base": str(app_config["CHATS_INSTAGRAM_GRAPH_BASE"]).rstrip("/"),
        "channel_timeout": float(app_config["CHATS_CHANNEL_TIMEOUT"]),
        "webhook_max_body": int(app_config["CHATS_WEBHOOK_MAX_BODY"]),
        "send_max_attempts": max(1, int(app_config["CHATS_SEND_MAX_ATTEMPTS"])),
        "send_backoff": float(app_config["CHATS_SEND_BACKOFF"]),
        "storage_path": str(app_config["CHATS_STORAGE_PATH"] or "gincore-chats-files"),
        "max_upload_size": int(app_config["CHATS_MAX_UPLOAD_SIZE"]),
        "storage_quota": (
            int(app_config["CHATS_STORAGE_QUOTA"])
            if app_config["CHATS_STORAGE_QUOTA"] is not None
            else None
        ),
        "allowed_upload_types": frozenset(app_config["CHATS_ALLOWED_UPLOAD_TYPES"]),
        "max_image_pixels": int(app_config["CHATS_MAX_IMAGE_PIXELS"]),
        "ai_base_url": str(app_config["CHATS_AI_BASE_URL"]).rstrip("/")
        if app_config["CHATS_AI_BASE_URL"]
        else None,
        "ai_api_key": app_config["CHATS_AI_API_KEY"] or None,
        "ai_model": app_config["CHATS_AI_MODEL"] or None,
        "ai_embedding_model": app_config["CHATS_AI_EMBEDDING_MODEL"] or None,
        "ai_timeout": float(app_config["CHATS_AI_TIMEOUT"]),
        "ai_deadline": float(app_config["CHATS_AI_DEADLINE"]),
        "ai_breaker_failures": max(1, int(app_config["CHATS_AI_BREAKER_FAILURES"])),
        "ai_breaker_seconds": float(app_config["CHATS_AI_BREAKER_SECONDS"]),
        "rate_limit_suggestions": parse_limit(app_config["CHATS_RATE_LIMIT_SUGGESTIONS"]),
        "api_rate_limit": parse_limit(app_config["CHATS_API_RATE_LIMIT"]),
        "api_idempotency_ttl": int(app_config["CHATS_API_IDEMPOTENCY_TTL"]),
        "webhooks_allow_private": bool(app_config["CHATS_WEBHOOKS_ALLOW_PRIVATE"]),
        "metrics_enabled": bool(app_config["CHATS_METRICS_ENABLED"]),
        "webhook_timeout": float(app_config["CHATS_WEBHOOK_TIMEOUT"]),
        "webhook_backoff": float(app_config["CHATS_WEBHOOK_BACKOFF"]),
        "webhook_retry_hours": float(app_config["CHATS_WEBHOOK_RETRY_HOURS"]),
        "webhook_disable_failures": max(1, int(app_config["CHATS_WEBHOOK_DISABLE_FAILURES"])),
        "webhook_disable_hours": float(app_config["CHATS_WEBHOOK_DISABLE_HOURS"]),
        "empty_conversation_retention": _seconds(app_config["CHATS_EMPTY_CONVERSATION_RETENTION"]),
        "home_url": app_config["CHATS_HOME_URL"] or None,
        "home_label": app_config["CHATS_HOME_LABEL"] or None,
        "logout_url": app_config["CHATS_LOGOUT_URL"] or None,
    }
    assert {f.name for f in fields(ChatsConfig)} == set(values)
    return ChatsConfig(**values)
