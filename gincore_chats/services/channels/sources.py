"""Messenger channel sources: create them, keep their credentials encrypted, connect webhooks.

Credentials are one encrypted JSON object per source (``Source.credentials_encrypted``). The
settings page never shows a secret back: an empty secret field keeps the stored value. Secrets
the library creates itself (Telegram's webhook secret, the generic source's shared secret) are
generated once, when the source is created.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...channels.base import Channel
from ...channels.registry import (
    channel_kinds,
    generated_credentials,
    get_adapter,
    label,
    optional_credentials,
)
from ...models import Source
from ...state import ChatsState
from ..secrets import SecretUnreadable, decrypt, encrypt
from ..sources import SourceError


@dataclass(frozen=True)
class CredentialField:
    """One field of the settings form. ``value`` is never set for a secret."""

    name: str
    label: str
    secret: bool
    required: bool
    stored: bool
    value: str | None


def adapter_for(kind: str) -> Channel:
    adapter = get_adapter(kind) if kind in channel_kinds() else None
    if adapter is None:
        raise SourceError(f"{kind!r} is not a messenger channel ({', '.join(channel_kinds())}).")
    return adapter


def read_credentials(state: ChatsState, source: Source) -> dict[str, Any]:
    """The stored credentials; empty if they were stored under another key (enter them again)."""
    try:
        return decrypt(state, source.credentials_encrypted)
    except SecretUnreadable:
        return {}


def _merged(
    adapter: Channel, stored: dict[str, Any], submitted: Mapping[str, Any]
) -> dict[str, Any]:
    unknown = set(submitted) - set(adapter.credential_fields)
    if unknown:
        names = ", ".join(sorted(adapter.credential_fields))
        wrong = ", ".join(sorted(unknown))
        raise SourceError(f"Unknown credential {wrong}; {label(adapter.kind)} takes {names}.")
    result = dict(stored)
    for name, (_label, secret) in adapter.credential_fields.items():
        if name not in submitted:
            continue
        value = str(submitted[name] or "").strip()
        if secret and not value:
            continue  # the form never shows a stored secret: empty means "keep it"
        if value:
            result[name] = value
        else:
            result.pop(name, None)
    for name in generated_credentials(adapter):
        if not result.get(name):
            result[name] = secrets.token_urlsafe(32)
    optional = optional_credentials(adapter)
    missing = [
        field_label
        for name, (field_label, _secret) in adapter.credential_fields.items()
        if name not in optional and not result.get(name)
    ]
    if missing:
        raise SourceError(f"Fill in: {'; '.join(missing)}.")
    validate = getattr(adapter, "validate_credentials", None)
    if validate is not None:
        try:
            validate(result)
        except ValueError as exc:
            raise SourceError(str(exc)) from None
    return result


def do_create_channel_source(
    state: ChatsState, kind: str, name: str, credentials: Mapping[str, Any]
) -> Source:
    adapter = adapter_for(kind)
    name = (name or "").strip()
    if not name:
        raise SourceError("Give the source a name.")
    source = Source(
        kind=kind,
        name=name[:200],
        public_key=secrets.token_urlsafe(16),
        allowed_domains=[],
        settings={},
        credentials_encrypted=encrypt(state, _merged(adapter, {}, credentials)),
    )
    state.session.add(source)
    state.session.flush()
    return source


def do_update_credentials(
    state: ChatsState, source: Source, credentials: Mapping[str, Any]
) -> Source:
    adapter = adapter_for(source.kind)
    merged = _merged(adapter, read_credentials(state, source), credentials)
    source.credentials_encrypted = encrypt(state, merged)
    return source


def credential_form(state: ChatsState, kind: str, source: Source | None) -> list[CredentialField]:
    adapter = adapter_for(kind)
    stored = read_credentials(state, source) if source is not None else {}
    optional = optional_credentials(adapter)
    return [
        CredentialField(
            name=name,
            label=field_label,
            secret=secret,
            required=name not in optional,
            stored=bool(stored.get(name)),
            value=None if secret else (str(stored.get(name) or "") or None),
        )
        for name, (field_label, secret) in adapter.credential_fields.items()
    ]


def shown_generated(state: ChatsState, source: Source) -> list[tuple[str, str]]:
    """Generated values the admin copies into the other side (the generic source's secret)."""
    adapter = adapter_for(source.kind)
    stored = read_credentials(state, source)
    return [
        (name, str(stored.get(name) or ""))
        for name, shown in generated_credentials(adapter).items()
        if shown
    ]


def webhook_url(state: ChatsState, source: Source, base_url: str | None = None) -> str:
    """The URL the platform calls: ``CHATS_PUBLIC_URL`` (or the request's) + the webhook path."""
    base = (state.config.public_url or base_url or "").rstrip("/")
    if not base:
        raise SourceError("Set CHATS_PUBLIC_URL to the address the platforms can reach.")
    return f"{base}{state.config.url_prefix}/webhooks/{source.public_key}"
