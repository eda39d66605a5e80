"""REST API fixtures: a second app on the Pro plan over the same database and Redis prefix,
its live server, and tokens made through the token service (the settings page has its own
test)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import requests

from .. import hostapp
from ..conftest import REDIS_URL, LiveServer

API = "/chats/api/v1"


@pytest.fixture(scope="session")
def pro_app(app: Any, database_url: str, redis_prefix: str, tmp_path_factory: Any) -> Any:
    return hostapp.create_app(
        SQLALCHEMY_DATABASE_URI=database_url,
        CHATS_REDIS_URL=REDIS_URL,
        CHATS_REDIS_PREFIX=redis_prefix,
        CHATS_STORAGE_PATH=app.extensions["gincore_chats"].config.storage_path,
        CHATS_PLAN="pro",
        CHATS_WEBHOOKS_ALLOW_PRIVATE=True,
        CHATS_WEBHOOK_BACKOFF=0,
        CHATS_WEBHOOK_TIMEOUT=2,
    )


@pytest.fixture(scope="session")
def pro_server(pro_app: Any) -> Iterator[LiveServer]:
    server = LiveServer(pro_app)
    yield server
    server.stop()


def make_token(
    app: Any,
    user_id: str,
    scopes: list[str] | None = None,
    *,
    expires_at: datetime | None = None,
    name: str = "Test token",
) -> str:
    """A token for ``user_id`` with ``scopes`` (default: all the user's permissions)."""
    from gincore_chats.identity import describe
    from gincore_chats.services.api import tokens as api_tokens
    from gincore_chats.services.unit_of_work import unit_of_work

    with app.app_context():
        state = app.extensions["gincore_chats"]
        owner = describe(hostapp.db.session.get(hostapp.Staff, user_id), state.hooks)
        with unit_of_work(state.session):
            _token, raw = api_tokens.do_create(
                state,
                owner=owner,
                name=name,
                scopes=owner.permissions if scopes is None else scopes,
                expires_at=expires_at,
                created_by=user_id,
            )
        return raw


class Client:
    """An HTTP client of the API with one token."""

    def __init__(self, server: LiveServer, token: str | None) -> None:
        self.server = server
        self.http = requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, f"{self.server.url}{API}{path}", **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self("POST", path, **kwargs)
