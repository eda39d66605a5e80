"""REST API tokens: created for a host user with scopes, stored hashed, shown once, revocable.

A token acts as its host user. What it may do is the user's *current* permissions (the host's
permissions hook, asked on every request) narrowed to the token's scopes, as a
:class:`~gincore_chats.identity.Manager`: the services then check it with exactly the code that
checks a console user, so a token never sees more than its user could in the console.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from ...identity import Manager, describe
from ...models import ApiToken, utcnow
from ...permissions import ALL_PERMISSIONS, Permission
from ...state import ChatsState

#: Every token starts with it, so secret scanners (and people) recognise one.
TOKEN_PREFIX = "gcc_"
#: last_used_at is written at most this often per token (a write per request would cost more
#: than the request).
TOUCH_EVERY = timedelta(minutes=1)
MAX_NAME = 200
SCOPE_ORDER = [p.value for p in Permission]


class TokenError(ValueError):
    """Invalid token input; the text is shown to the admin."""


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def clean_scopes(scopes: Iterable[str], allowed: Iterable[str]) -> list[str]:
    """The requested scopes, each a known permission the owner has; at least one."""
    wanted = {str(s) for s in scopes}
    unknown = wanted - ALL_PERMISSIONS
    if unknown:
        raise TokenError(f"Unknown scope: {', '.join(sorted(unknown))}.")
    missing = wanted - set(allowed)
    if missing:
        raise TokenError(
            "A token cannot have more rights than its user; the user lacks "
            + ", ".join(sorted(missing))
            + "."
        )
    if not wanted:
        raise TokenError("Choose at least one scope.")
    return [s for s in SCOPE_ORDER if s in wanted]


def do_create(
    state: ChatsState,
    *,
    owner: Manager,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime | None,
    created_by: str | None,
) -> tuple[ApiToken, str]:
    """A new token; returns the row and the plain token (the only time it exists)."""
    label = (name or "").strip()
    if not label:
        raise TokenError("Give the token a name (what uses it).")
    if len(label) > MAX_NAME:
        raise TokenError(f"The name is too long (at most {MAX_NAME} characters).")
    if expires_at is not None and expires_at <= utcnow():
        raise TokenError("The expiry date must be in the future.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        manager_id=owner.id,
        name=label,
        token_hash=digest(raw),
        prefix=raw[:12],
        scopes=clean_scopes(scopes, owner.permissions),
        created_by=created_by,
        created_at=utcnow(),
        expires_at=expires_at,
    )
    state.session.add(token)
    state.session.flush()
    return token, raw


def find_valid(state: ChatsState, raw: str) -> ApiToken | None:
    """The live token for a presented bearer string: not revoked, not expired."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = state.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(raw)))
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= utcnow():
        return None
    return token


def acting_manager(
    state: ChatsState, token: ApiToken, load_user: Callable[[str], Any] | None
) -> Manager | None:
    """The token's user as the services see them, narrowed to the token's scopes; None when
    the host no longer knows the user."""
    user = load_user(token.manager_id) if load_user is not None else None
    if user is None:
        return None
    manager = describe(user, state.hooks)
    return dataclasses.replace(
        manager, permissions=manager.permissions & frozenset(token.scopes or ())
    )


def do_touch(state: ChatsState, token: ApiToken) -> None:
    """Record the use, at most once a minute (a conditional UPDATE: concurrent requests of one
    token write once)."""
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return
    state.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token.id)
        .where((ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at < now - TOUCH_EVERY))
        .values(last_used_at=now)
    )


def do_revoke(state: ChatsState, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def list_tokens(state: ChatsState) -> list[ApiToken]:
    """Live tokens first (newest first), then revoked ones."""
    return list(
        state.session.scalars(
            select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
        )
    )


def get(state: ChatsState, token_id: int) -> ApiToken | None:
    return state.session.get(ApiToken, token_id)


def is_expired(token: ApiToken) -> bool:
    return token.expires_at is not None and token.expires_at <= utcnow()
