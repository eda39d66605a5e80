"""Shared fixtures: real PostgreSQL and Redis, a threaded live server, and helpers.

URLs come from ``CHATS_TEST_DATABASE_URL`` (an admin connection to an existing database; each
run creates and drops its own scratch database) and ``CHATS_TEST_REDIS_URL``; the defaults are
the local services. Each run uses its own Redis key prefix, so runs never see each other.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from werkzeug.serving import make_server

from gincore_chats.models import metadata as chats_metadata

from . import hostapp

ADMIN_DB_URL = os.environ.get(
    "CHATS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("CHATS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    admin = create_engine(ADMIN_DB_URL, isolation_level="AUTOCOMMIT")
    name = f"chats_test_{os.getpid()}_{secrets.token_hex(3)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_DB_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def redis_prefix() -> str:
    return f"gctest-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def app(database_url: str, redis_prefix: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    app = hostapp.create_app(
        SQLALCHEMY_DATABASE_URI=database_url,
        CHATS_REDIS_URL=REDIS_URL,
        CHATS_REDIS_PREFIX=redis_prefix,
        CHATS_STORAGE_PATH=str(tmp_path_factory.mktemp("chats-files")),
    )
    hostapp.create_tables(app)
    return app


@pytest.fixture(autouse=True)
def clean_db(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db = hostapp.db
        db.session.remove()
        tables = ", ".join(f'"{t}"' for t in [*chats_metadata.tables, "host_staff"])
        # A browser test's server may still be finishing a request for a just-closed page;
        # TRUNCATE then waits for, or deadlocks with, that transaction: retry a few times.
        for attempt in range(5):
            try:
                with db.engine.begin() as conn:
                    conn.execute(text("SET LOCAL lock_timeout = '5s'"))
                    conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
                break
            except OperationalError:
                if attempt == 4:
                    raise
                time.sleep(0.5 * (attempt + 1))
        state = app.extensions["gincore_chats"]
        # The ids restart: a settings row cached for source 1 must not answer for the next
        # test's source 1 (the TRUNCATE bypassed the services that invalidate the cache).
        state.cache.drop()
        shutil.rmtree(state.config.storage_path, ignore_errors=True)
        for key in state.redis.scan_iter(f"{state.config.redis_prefix}:*"):
            state.redis.delete(key)


class LiveServer:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._done = threading.Condition()
        self._finished: dict[tuple[str, str], int] = {}
        self.server = make_server("127.0.0.1", 0, self._counting, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _counting(self, environ: dict[str, Any], start_response: Any) -> Any:
        try:
            return self.app(environ, start_response)
        finally:
            # The view has run (its transaction committed or rolled back): tell the waiters.
            key = (environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""))
            with self._done:
                self._finished[key] = self._finished.get(key, 0) + 1
                self._done.notify_all()

    def finished(self, method: str, path: str) -> int:
        """How many ``method`` requests to ``path`` the app has handled (answered, refused or
        failed)."""
        with self._done:
            return self._finished.get((method, path), 0)

    def wait_finished(self, method: str, path: str, count: int, timeout: float = 30.0) -> None:
        """Block until the app has handled ``count`` such requests in all."""
        key = (method, path)
        with self._done:
            if not self._done.wait_for(lambda: self._finished.get(key, 0) >= count, timeout):
                raise AssertionError(f"{key}: {self._finished.get(key, 0)} of {count} handled")

    def ws_url(self, path: str) -> str:
        return self.url.replace("http", "ws", 1) + path

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="session")
def live_server(app: Any) -> Iterator[LiveServer]:
    server = LiveServer(app)
    yield server
    server.stop()


def make_staff(app: Any, name: str, perms: str, email: str | None = None) -> str:
    with app.app_context():
        user = hostapp.Staff(
            full_name=name, mail=email or f"{name.lower()}@example.com", perms=perms
        )
        hostapp.db.session.add(user)
        hostapp.db.session.commit()
        return str(user.id)


ALL_PERMS = "chats.view,chats.reply,customers.view,customers.edit"


@pytest.fixture
def admin_id(app: Any) -> str:
    return make_staff(app, "Ada Admin", ALL_PERMS + ",chats.admin")


@pytest.fixture
def manager_id(app: Any) -> str:
    return make_staff(app, "Mia Manager", ALL_PERMS)


def create_source(
    app: Any, domains: list[str], employees: list[str], name: str = "Shop"
) -> tuple[int, str]:
    from gincore_chats.services import sources
    from gincore_chats.services.unit_of_work import unit_of_work

    with app.app_context():
        state = app.extensions["gincore_chats"]
        with unit_of_work(state.session):
            source = sources.do_create_widget_source(state, name, domains)
            sources.do_set_employees(state, source, employees)
        return source.id, source.public_key


class Console:
    """A logged-in manager talking to the live server over HTTP (with CSRF) and WebSocket."""

    def __init__(self, server: LiveServer, user_id: str) -> None:
        self.server = server
        self.http = requests.Session()
        r = self.http.get(f"{server.url}/test-login/{user_id}", allow_redirects=False)
        assert r.status_code == 302
        me = self.http.get(f"{server.url}/chats/console/api/me")
        me.raise_for_status()
        self.csrf = me.json()["csrf_token"]
        self.id = user_id

    def api(self, method: str, path: str, json: Any = None) -> requests.Response:
        headers = {"X-CSRF-Token": self.csrf}
        return self.http.request(
            method, f"{self.server.url}/chats/console/api{path}", json=json, headers=headers
        )

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())


CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)


class Visitor:
    """A widget visitor on an allowed site."""

    def __init__(
        self, server: LiveServer, key: str, origin: str = "https://shop.example.com"
    ) -> None:
        self.server = server
        self.origin = origin
        self.key = key
        self.token: str | None = None

    def headers(self) -> dict[str, str]:
        h = {
            "Origin": self.origin,
            "User-Agent": CHROME_UA,
        }
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        return h

    def open(self, **context: Any) -> requests.Response:
        body = {
            "key": self.key,
            "context": {
                "url": "https://shop.example.com/p/1",
                "language": "en-US",
                "tz_offset": 120,
                **context,
            },
        }
        r = requests.post(
            f"{self.server.url}/chats/widget/api/conversations", json=body, headers=self.headers()
        )
        if r.status_code == 201:
            self.token = r.json()["token"]
        return r

    def api(self, method: str, path: str, json: Any = None) -> requests.Response:
        return requests.request(
            method, f"{self.server.url}/chats/widget/api{path}", json=json, headers=self.headers()
        )

    def send(self, body: str, client_id: str | None = None) -> requests.Response:
        return self.api(
            "POST", "/messages", {"body": body, "client_id": client_id or str(uuid.uuid4())}
        )
