"""``/me``: who the token acts as, with which scopes and limits."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ...services.api import tokens as api_tokens
from ...state import get_state
from .guard import current_manager, current_token_id
from .problems import unauthorized
from .spec import operation


class RateLimit(BaseModel):
    requests: int
    per_seconds: int


class Me(BaseModel):
    manager_id: str = Field(description="The host user the token acts as.")
    name: str = Field(description="The name messages sent with the token are signed with.")
    permissions: list[str] = Field(
        description="What the token may do: its scopes, narrowed to its user's permissions now."
    )
    token_id: int
    token_name: str
    token_prefix: str
    scopes: list[str]
    expires_at: datetime | None
    rate_limit: RateLimit


@operation(tag="me", ok=Me)
def get_me() -> Me:
    """The token and the manager it acts as."""
    state = get_state()
    manager = current_manager()
    token = api_tokens.get(state, current_token_id())
    if token is None:  # revoked and deleted meanwhile
        raise unauthorized("The token is unknown, expired or revoked.")
    return Me(
        manager_id=manager.id,
        name=manager.name,
        permissions=[p for p in api_tokens.SCOPE_ORDER if p in manager.permissions],
        token_id=token.id,
        token_name=token.name,
        token_prefix=token.prefix,
        scopes=list(token.scopes),
        expires_at=token.expires_at,
        rate_limit=RateLimit(
            requests=state.config.api_rate_limit.count,
            per_seconds=state.config.api_rate_limit.seconds,
        ),
    )


ROUTES = [("/me", get_me, ["GET"])]
