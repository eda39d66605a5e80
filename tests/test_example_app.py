"""The demo host (``example_app``) through its real HTTP surface, on PostgreSQL and SQLite.

Each test boots a fresh demo app on its own scratch database and migrates it with
``upgrade heads`` (the demo's branch and the library's), as ``python -m example_app`` does.
The last tests run the startup path itself: the embedded Redis and the whole demo process.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import redis
import requests
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from example_app import MIGRATIONS_DIR, create_app, db, upgrade_database
from example_app.models import User
from example_app.runtime import EmbeddedRedis, banner, prepare
from example_app.seed import credentials_text, seed_demo
from gincore_chats.models import Source

ADMIN_DB_URL = os.environ.get(
    "CHATS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("CHATS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_PORT = 5055
SNIPPET = '<script src="/chats/widget.js" data-key="{key}" async></script>'
CREDENTIAL_LINE = re.compile(r"^\s+(\S+)\s+/\s+(\S+)\s+\((admin|manager),", re.MULTILINE)


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(params=["postgresql", "sqlite"])
def demo_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'demo.sqlite3'}"
        return
    admin = create_engine(ADMIN_DB_URL, isolation_level="AUTOCOMMIT")
    name = f"example_app_test_{os.getpid()}_{secrets.token_hex(3)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(ADMIN_DB_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def boot(database_url: str, instance: Path, redis_prefix: str) -> Flask:
    """The app as ``python -m example_app`` builds it, from environment variables only."""
    environ = {"DATABASE_URL": database_url, "CHATS_REDIS_URL": REDIS_URL, "PORT": str(DEMO_PORT)}
    app = create_app(
        {"CHATS_REDIS_PREFIX": redis_prefix}, environ=environ, instance_path=str(instance)
    )
    upgrade_database(app)
    return app


@pytest.fixture
def demo_app(demo_database_url: str, tmp_path: Path) -> Iterator[Flask]:
    prefix = f"gctest-demo-{uuid.uuid4().hex[:10]}"
    app = boot(demo_database_url, tmp_path / "instance", prefix)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
        state = app.extensions["gincore_chats"]
        for key in state.redis.scan_iter(f"{prefix}:*"):
            state.redis.delete(key)


def parse_credentials(printed: str) -> dict[str, tuple[str, str]]:
    """username -> (password, role), read from what the demo prints at start."""
    found = {m[1]: (m[2], m[3]) for m in CREDENTIAL_LINE.finditer(printed)}
    assert found, f"no credentials in:\n{printed}"
    return found


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form without a CSRF token"
    return match[1]


def log_in(client: FlaskClient, username: str, password: str, next_url: str | None = None) -> Any:
    page = client.get("/login")
    assert page.status_code == 200
    data = {"username": username, "password": password, "csrf_token": form_token(page.text)}
    if next_url:
        data["next"] = next_url
    return client.post("/login", data=data)


def seeded_client(app: Flask, role: str) -> FlaskClient:
    credentials = parse_credentials(credentials_text(seed_demo(app).accounts))
    username, (password, _) = next((u, c) for u, c in credentials.items() if c[1] == role)
    client = app.test_client()
    assert log_in(client, username, password).status_code == 302
    return client


# -- boot, migrations, seed -------------------------------------------------------------------


def test_upgrade_heads_applies_the_demo_and_library_branches(demo_app: Flask) -> None:
    with demo_app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert "users" in tables
        assert {"chats_sources", "chats_conversations"} <= tables, sorted(tables)

        config = demo_app.extensions["migrate"].migrate.get_config(MIGRATIONS_DIR)
        heads = set(ScriptDirectory.from_config(config).get_heads())
        with db.engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
        assert len(heads) >= 2 and current == heads

        # The demo's model and its migration agree (the library's tables are filtered out).
        include_object = demo_app.extensions["migrate"].configure_args.get("include_object")
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_object": include_object, "compare_type": True}
            )
            assert compare_metadata(context, db.metadata) == []

    # Upgrading again (every demo start does) is a no-op.
    upgrade_database(demo_app)


def test_seeding_twice_keeps_three_users_and_one_source(demo_app: Flask) -> None:
    first = seed_demo(demo_app)
    second = seed_demo(demo_app)
    assert (first.created_users, first.created_source) == (3, True)
    assert (second.created_users, second.created_source) == (0, False)
    assert second.widget_key == first.widget_key

    with demo_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 3
        all_sources = list(db.session.scalars(select(Source)))
        assert len(all_sources) == 1
        source = all_sources[0]
        assert set(source.allowed_domains) == {f"localhost:{DEMO_PORT}", f"127.0.0.1:{DEMO_PORT}"}
        managers = db.session.scalars(select(User.id).where(User.role == "manager"))
        assert source.employee_ids == {str(i) for i in managers}
        assert len(source.employee_ids) == 2


def test_seeding_on_another_port_allows_that_port_too(demo_app: Flask) -> None:
    seed_demo(demo_app)
    demo_app.config["DEMO_PORT"] = 8123
    seed_demo(demo_app)
    with demo_app.app_context():
        (source,) = db.session.scalars(select(Source))
        assert "127.0.0.1:8123" in source.allowed_domains
        assert f"127.0.0.1:{DEMO_PORT}" in source.allowed_domains


# -- login ------------------------------------------------------------------------------------


def test_printed_credentials_log_in_and_wrong_passwords_fail(demo_app: Flask) -> None:
    credentials = parse_credentials(credentials_text(seed_demo(demo_app).accounts))
    assert sorted(role for _, role in credentials.values()) == ["admin", "manager", "manager"]

    for username, (password, _) in credentials.items():
        client = demo_app.test_client()
        wrong = log_in(client, username, password + "x")
        assert wrong.status_code == 401
        assert "Wrong username or password" in wrong.text
        # Still anonymous: the console sends us to the login page.
        assert client.get("/chats/console").status_code == 302

        ok = log_in(client, username, password)
        assert ok.status_code == 302 and ok.location == "/"
        with demo_app.app_context():
            user = db.session.scalar(select(User).where(User.username == username))
            assert user is not None
            assert user.name in client.get("/").text

    unknown = log_in(demo_app.test_client(), "nobody", "admin-demo")
    assert unknown.status_code == 401


def test_login_form_is_labelled_and_needs_its_csrf_token(demo_app: Flask) -> None:
    seed_demo(demo_app)
    client = demo_app.test_client()
    page = client.get("/login").text
    for field in ("username", "password"):
        assert f'<label for="{field}">' in page and f'id="{field}"' in page
    refused = client.post("/login", data={"username": "admin", "password": "admin-demo"})
    assert refused.status_code == 400
    forged = client.post(
        "/login", data={"username": "admin", "password": "admin-demo", "csrf_token": "forged"}
    )
    assert forged.status_code == 400


def test_login_returns_to_the_page_asked_for_but_never_off_site(demo_app: Flask) -> None:
    seed_demo(demo_app)
    client = demo_app.test_client()
    bounced = client.get("/chats/console")
    assert bounced.status_code == 302 and bounced.location.startswith("/login?next=")
    assert log_in(client, "maria", "maria-demo", "/chats/console").location == "/chats/console"

    other = demo_app.test_client()
    assert log_in(other, "oleg", "oleg-demo", "//evil.example/").location == "/"


def test_logout_needs_post_with_token(demo_app: Flask) -> None:
    client = seeded_client(demo_app, "manager")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    token = form_token(client.get("/").text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/chats/console").status_code == 302


# -- pages ------------------------------------------------------------------------------------


def test_console_loads_for_a_manager(demo_app: Flask) -> None:
    client = seeded_client(demo_app, "manager")
    page = client.get("/chats/console")
    assert page.status_code == 200
    me = client.get("/chats/console/api/me").get_json()
    assert me["name"] == "Maria Manager"  # the default hook reads user.name
    assert set(me["permissions"]) == {
        "chats.view",
        "chats.reply",
        "customers.view",
        "customers.edit",
    }


def test_admin_gets_every_permission(demo_app: Flask) -> None:
    client = seeded_client(demo_app, "admin")
    me = client.get("/chats/console/api/me").get_json()
    assert "chats.admin" in me["permissions"] and len(me["permissions"]) == 5


def test_settings_is_forbidden_for_a_manager_and_open_to_the_admin(demo_app: Flask) -> None:
    assert seeded_client(demo_app, "manager").get("/chats/settings").status_code == 403
    admin_page = seeded_client(demo_app, "admin").get("/chats/settings")
    assert admin_page.status_code == 200
    assert "Demo shop" in admin_page.text


def test_shop_embeds_the_widget_snippet_with_the_seeded_key(demo_app: Flask) -> None:
    key = seed_demo(demo_app).widget_key
    page = demo_app.test_client().get("/shop")
    assert page.status_code == 200
    assert SNIPPET.format(key=key) in page.text
    loader = demo_app.test_client().get("/chats/widget.js")
    assert loader.status_code == 200 and "javascript" in loader.content_type


def test_home_links_to_shop_console_settings_and_login(demo_app: Flask) -> None:
    page = demo_app.test_client().get("/").text
    for href in ("/shop", "/chats/console", "/chats/settings", "/login"):
        assert f'href="{href}"' in page


def test_widget_opens_from_the_demo_origin_only(demo_app: Flask) -> None:
    key = seed_demo(demo_app).widget_key
    client = demo_app.test_client()
    body = {"key": key, "context": {"url": f"http://127.0.0.1:{DEMO_PORT}/shop"}}
    ok = client.post(
        "/chats/widget/api/conversations",
        json=body,
        headers={"Origin": f"http://127.0.0.1:{DEMO_PORT}"},
    )
    assert ok.status_code == 201, ok.text
    refused = client.post(
        "/chats/widget/api/conversations", json=body, headers={"Origin": "http://127.0.0.1:9"}
    )
    assert refused.status_code == 403


# -- the startup path: embedded Redis and the whole demo process -----------------------------


def test_startup_without_redis_url_starts_an_embedded_redis(tmp_path: Path) -> None:
    environ = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "PORT": str(DEMO_PORT),
    }
    runtime = prepare(environ, with_worker=False, instance_path=str(tmp_path / "instance"))
    try:
        assert runtime.redis is not None
        assert runtime.redis_url.startswith("unix://")
        assert runtime.app.config["CHATS_REDIS_URL"] == runtime.redis_url
        client = redis.Redis.from_url(runtime.redis_url)
        assert client.ping() is True
        # The app talks to it too.
        with runtime.app.app_context():
            assert runtime.app.extensions["gincore_chats"].redis.ping() is True
        assert "(embedded" in banner(runtime, "127.0.0.1", DEMO_PORT)
        client.close()
    finally:
        runtime.close()
    assert runtime.redis.process.poll() is not None
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(runtime.redis_url, socket_connect_timeout=1).ping()


def test_startup_with_redis_url_starts_no_embedded_redis(tmp_path: Path) -> None:
    environ = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "CHATS_REDIS_URL": REDIS_URL,
    }
    runtime = prepare(environ, with_worker=False, instance_path=str(tmp_path / "instance"))
    try:
        assert runtime.redis is None and runtime.redis_url == REDIS_URL
    finally:
        runtime.close()


def test_embedded_redis_stops_cleanly() -> None:
    server = EmbeddedRedis.start()
    try:
        assert redis.Redis.from_url(server.url).ping() is True
    finally:
        server.stop()
    assert server.process.returncode is not None
    assert not os.path.exists(server.directory)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DemoProcess:
    """``python -m example_app`` in a subprocess, its output collected line by line."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("CHATS_REDIS_URL", "SECRET_KEY")}
        env.update(
            DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
            EXAMPLE_APP_INSTANCE_PATH=str(tmp_path / "instance"),
            PORT=str(self.port),
            PYTHONUNBUFFERED="1",
            PYTHONPATH=os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p),
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "example_app"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, marker: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            self.output.append(line)
            if marker in line:
                return "".join(self.output)
        raise AssertionError(f"no {marker!r} from the demo; it printed:\n{''.join(self.output)}")

    def kill(self) -> None:
        """After a failure: the worker and Redis run in sessions of their own, so kill the
        whole process tree, not just the demo's process group."""
        if self.proc.poll() is not None:
            return
        try:
            tree = [*psutil.Process(self.proc.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            tree = []
        os.killpg(self.proc.pid, signal.SIGKILL)
        for child in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        self.proc.wait(10)


def test_python_m_example_app_serves_runs_a_worker_and_stops_everything(tmp_path: Path) -> None:
    from rq import Worker

    demo = DemoProcess(tmp_path)
    try:
        printed = demo.wait_for("Press Ctrl-C to stop.", timeout=90)
        base = f"http://127.0.0.1:{demo.port}"
        assert f"running at {base}/" in printed
        redis_url = re.search(r"redis:\s+(unix://\S+)", printed)
        assert redis_url, printed
        connection = redis.Redis.from_url(redis_url[1])

        assert requests.get(f"{base}/", timeout=10).status_code == 200
        assert 'data-key="' in requests.get(f"{base}/shop", timeout=10).text
        # The printed credentials work against the live server.
        session = requests.Session()
        (username, (password, _)), *_ = parse_credentials(printed).items()
        token = form_token(session.get(f"{base}/login", timeout=10).text)
        r = session.post(
            f"{base}/login",
            data={"username": username, "password": password, "csrf_token": token},
            allow_redirects=False,
            timeout=10,
        )
        assert r.status_code == 302

        # The RQ worker the demo started registers itself in the embedded Redis.
        deadline = time.monotonic() + 60
        workers: list[Any] = []
        while not workers and time.monotonic() < deadline:
            workers = [
                w for w in Worker.all(connection=connection) if "gincore_chats" in w.queue_names()
            ]
            time.sleep(0.2)
        assert workers, "the demo started no worker on the gincore_chats queue"
        worker_pid = workers[0].pid

        demo.proc.send_signal(signal.SIGTERM)
        assert demo.proc.wait(60) == 0
        demo.wait_for("Stopping the worker and Redis", timeout=5)
        with pytest.raises(ProcessLookupError):
            os.kill(worker_pid, 0)
        with pytest.raises(redis.ConnectionError):
            redis.Redis.from_url(redis_url[1], socket_connect_timeout=1).ping()
    finally:
        demo.kill()
