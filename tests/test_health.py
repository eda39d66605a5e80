"""``<prefix>/healthz`` and ``<prefix>/readyz`` over HTTP, against real PostgreSQL, Redis and an
RQ worker process.

The healthy app runs on a database migrated with Alembic (the tables of the session's ``app``
fixture are made by ``create_all``, which leaves no version row: that app's migrations check
fails, as it should).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gincore_chats.migrations_support import BRANCH_LABEL, alembic_config

from . import hostapp
from .conftest import ADMIN_DB_URL, REDIS_URL, LiveServer

REPO = Path(__file__).resolve().parent.parent


def scratch_database() -> Iterator[str]:
    admin = create_engine(ADMIN_DB_URL, isolation_level="AUTOCOMMIT")
    name = f"chats_health_{os.getpid()}_{secrets.token_hex(3)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(ADMIN_DB_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrated_database() -> Iterator[str]:
    """A scratch database migrated the way a host does it: Alembic, our branch to head."""
    for url in scratch_database():
        command.upgrade(alembic_config(url), f"{BRANCH_LABEL}@head")
        yield url


@pytest.fixture(scope="module")
def migrated_url() -> Iterator[str]:
    yield from migrated_database()


@pytest.fixture(scope="module")
def empty_url() -> Iterator[str]:
    yield from scratch_database()


def make_app(tmp_path: Path, database_url: str, redis_url: str = REDIS_URL, **config: Any) -> Any:
    return hostapp.create_app(
        SQLALCHEMY_DATABASE_URI=database_url,
        CHATS_REDIS_URL=redis_url,
        CHATS_REDIS_PREFIX=f"gchealth-{uuid.uuid4().hex[:10]}",
        CHATS_STORAGE_PATH=str(tmp_path / "files"),
        **config,
    )


def serve(tmp_path: Path, database_url: str, redis_url: str = REDIS_URL) -> Iterator[Any]:
    app = make_app(tmp_path, database_url, redis_url)
    server = LiveServer(app)
    try:
        yield server
    finally:
        server.stop()
        with app.app_context():
            hostapp.db.engine.dispose()


@pytest.fixture
def healthy(tmp_path: Path, migrated_url: str) -> Iterator[Any]:
    yield from serve(tmp_path, migrated_url)


def start_worker(app: Any, database_url: str) -> subprocess.Popen[bytes]:
    state = app.extensions["gincore_chats"]
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - open for the process's life
        prefix="gincore-worker-", suffix=".log", delete=False
    )
    env = {
        **os.environ,
        "HOSTAPP_DATABASE_URL": database_url,
        "HOSTAPP_REDIS_URL": REDIS_URL,
        "HOSTAPP_REDIS_PREFIX": state.config.redis_prefix,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    cmd = [sys.executable, "-m", "flask", "--app", "tests.worker_host:app", "chats", "worker"]
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    # Registered (and so visible to readyz) once its scheduler holds the queue's lock.
    lock = f"rq:scheduler-lock:{state.config.queue_name}"
    client = redis.Redis.from_url(REDIS_URL)
    deadline = time.monotonic() + 30
    while not client.exists(lock):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"worker did not start:\n{Path(log.name).read_text()}")
        time.sleep(0.05)
    return proc


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def get(server: LiveServer, path: str) -> requests.Response:
    return requests.get(f"{server.url}/chats{path}", timeout=30)


def test_healthz_is_ok_without_any_dependency(tmp_path: Path, empty_url: str) -> None:
    # Liveness does no I/O: even with Redis down and no tables, the process is alive.
    for server in serve(tmp_path, empty_url, "redis://127.0.0.1:1/0"):
        r = get(server, "/healthz")
        assert r.status_code == 200
        assert r.json() == {"status": "ok"}
        assert "Set-Cookie" not in r.headers
        assert r.headers["Cache-Control"] == "no-store"


def test_ready_needs_a_worker_then_passes_with_one(healthy: LiveServer, migrated_url: str) -> None:
    r = get(healthy, "/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["failing"] == ["worker"]
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["migrations"] == {"ok": True}
    assert body["checks"]["redis"] == {"ok": True}
    assert "worker" in body["checks"]["worker"]["problem"]

    proc = start_worker(healthy.app, migrated_url)
    try:
        r = get(healthy, "/readyz")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "ok"
        assert r.json()["failing"] == []
        assert "Set-Cookie" not in r.headers
    finally:
        stop_worker(proc)
    # A worker that stopped cleanly unregisters: not ready again.
    assert get(healthy, "/readyz").json()["failing"] == ["worker"]


def test_redis_down_is_not_ready(tmp_path: Path, migrated_url: str) -> None:
    for server in serve(tmp_path, migrated_url, "redis://127.0.0.1:1/0"):
        r = get(server, "/readyz")
        assert r.status_code == 503
        body = r.json()
        assert "redis" in body["failing"]
        assert body["checks"]["redis"] == {"ok": False, "problem": "redis unreachable"}
        # Nothing about where Redis was expected: readyz is public.
        assert "6379" not in r.text and ":1" not in r.text
        assert body["checks"]["database"] == {"ok": True}


def test_migrations_behind_is_not_ready(tmp_path: Path, empty_url: str) -> None:
    for server in serve(tmp_path, empty_url):
        r = get(server, "/readyz")
        assert r.status_code == 503
        body = r.json()
        assert "migrations" in body["failing"]
        assert body["checks"]["database"] == {"ok": True}
        assert "not at head" in body["checks"]["migrations"]["problem"]


def test_readyz_refuses_post(healthy: LiveServer) -> None:
    r = requests.post(f"{healthy.url}/chats/readyz", timeout=30)
    assert r.status_code == 405
