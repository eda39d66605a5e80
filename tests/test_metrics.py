"""Prometheus metrics at ``<prefix>/metrics`` over HTTP: opt-in, and counting what happens."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

from . import hostapp
from .channels.conftest import (
    clear_queue,
    fake_telegram,  # noqa: F401
    make_channel_source,
    stored_credentials,
)
from .channels.fakes import TELEGRAM_TOKEN, telegram_update
from .channels.payloads import TEXT
from .conftest import REDIS_URL, Console, LiveServer, Visitor, create_source, make_staff


@pytest.fixture(scope="module")
def metrics_server(
    app: Any, database_url: str, redis_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    # The session's database and Redis prefix (so the tables are cleaned between tests), in an
    # app of its own with metrics on.
    metrics_app = hostapp.create_app(
        SQLALCHEMY_DATABASE_URI=database_url,
        CHATS_REDIS_URL=REDIS_URL,
        CHATS_REDIS_PREFIX=redis_prefix,
        CHATS_STORAGE_PATH=str(Path(tmp_path_factory.mktemp("metrics-files"))),
        CHATS_METRICS_ENABLED=True,
    )
    server = LiveServer(metrics_app)
    yield server
    server.stop()


def sample(server: LiveServer, name: str, **labels: str) -> float:
    r = requests.get(f"{server.url}/chats/metrics", timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


def test_metrics_are_off_by_default(live_server: LiveServer) -> None:
    r = requests.get(f"{live_server.url}/chats/metrics", timeout=30)
    assert r.status_code == 404
    assert "CHATS_METRICS_ENABLED" in r.text


def test_a_widget_message_is_counted(app: Any, metrics_server: LiveServer) -> None:
    _, key = create_source(metrics_server.app, ["shop.example.com"], [])
    visitor = Visitor(metrics_server, key)
    visitor.open().raise_for_status()
    labels = {"direction": "in", "source_kind": "widget"}
    before = sample(metrics_server, "gincore_chats_messages_total", **labels)
    visitor.send("Do you ship to Lviv?").raise_for_status()
    assert sample(metrics_server, "gincore_chats_messages_total", **labels) == before + 1
    assert sample(metrics_server, "gincore_chats_queue_depth") >= 0


def test_an_open_widget_socket_is_counted(app: Any, metrics_server: LiveServer) -> None:
    _, key = create_source(metrics_server.app, ["shop.example.com"], [])
    visitor = Visitor(metrics_server, key)
    visitor.open().raise_for_status()
    before = sample(metrics_server, "gincore_chats_open_sockets", side="visitor")
    url = metrics_server.ws_url("/chats/widget/ws")
    with connect(url, origin="https://shop.example.com") as ws:  # type: ignore[arg-type]
        ws.send(json.dumps({"op": "auth", "token": visitor.token}))
        assert json.loads(ws.recv(timeout=10))["type"] == "hello"
        assert sample(metrics_server, "gincore_chats_open_sockets", side="visitor") == before + 1


def test_a_console_socket_and_a_reply_are_counted(
    app: Any, metrics_server: LiveServer, manager_id: str
) -> None:
    _, key = create_source(metrics_server.app, ["shop.example.com"], [manager_id])
    conv_id = Visitor(metrics_server, key).open().json()["conversation_id"]
    console = Console(metrics_server, manager_id)
    out = {"direction": "out", "source_kind": "widget"}
    replies = sample(metrics_server, "gincore_chats_messages_total", **out)
    sockets = sample(metrics_server, "gincore_chats_open_sockets", side="staff")
    with connect(
        metrics_server.ws_url("/chats/console/ws"),
        additional_headers={"Origin": metrics_server.url, "Cookie": console.cookie_header()},
    ) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "hello"
        assert sample(metrics_server, "gincore_chats_open_sockets", side="staff") == sockets + 1
    assert console.api("POST", f"/conversations/{conv_id}/join").json()["joined"] is True
    r = console.api(
        "POST",
        f"/conversations/{conv_id}/messages",
        {"body": "Yes, we do.", "client_id": str(uuid.uuid4())},
    )
    assert r.status_code in (200, 201), r.text
    assert sample(metrics_server, "gincore_chats_messages_total", **out) == replies + 1


def test_a_webhook_delivery_is_timed(app: Any, metrics_server: LiveServer) -> None:
    source_id, key = make_channel_source(
        metrics_server.app, "telegram", {"bot_token": TELEGRAM_TOKEN}, []
    )
    secret = stored_credentials(metrics_server.app, source_id)["webhook_secret"]
    name = "gincore_chats_webhook_ack_seconds_count"
    before = sample(metrics_server, name, source_kind="telegram")
    try:
        r = telegram_update(f"{metrics_server.url}/chats/webhooks/{key}", TEXT, secret)
        assert r.status_code == 200, r.text
        assert sample(metrics_server, name, source_kind="telegram") == before + 1
    finally:
        # The delivery's job must not reach a later test's worker.
        clear_queue(metrics_server.app.extensions["gincore_chats"])


def test_queue_lag_is_the_age_of_the_oldest_waiting_job(
    app: Any, metrics_server: LiveServer
) -> None:
    state = metrics_server.app.extensions["gincore_chats"]
    clear_queue(state)
    assert sample(metrics_server, "gincore_chats_queue_lag_seconds") == 0
    try:
        state.queue.enqueue("gincore_chats.jobs.cleanup.delete_empty_conversations")
        state.queue.enqueue("gincore_chats.jobs.cleanup.delete_empty_conversations")
        assert sample(metrics_server, "gincore_chats_queue_depth") == 2
        assert sample(metrics_server, "gincore_chats_queue_lag_seconds") > 0
    finally:
        clear_queue(state)
    assert sample(metrics_server, "gincore_chats_queue_lag_seconds") == 0


def test_a_refused_telegram_send_is_a_provider_error(
    app: Any,
    metrics_server: LiveServer,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    import dataclasses

    from .channels.conftest import run_worker

    telegram_fake = request.getfixturevalue("fake_telegram")
    metrics_app = metrics_server.app
    state = metrics_app.extensions["gincore_chats"]
    telegram_fake.reset()
    clear_queue(state)
    monkeypatch.setattr(
        state,
        "config",
        dataclasses.replace(
            state.config, telegram_api_base=telegram_fake.url, public_url=metrics_server.url
        ),
    )
    admin = make_staff(metrics_app, "Pat", "chats.view,chats.reply,customers.view,chats.admin")
    source_id, key = make_channel_source(
        metrics_app, "telegram", {"bot_token": TELEGRAM_TOKEN}, [admin]
    )
    secret = stored_credentials(metrics_app, source_id)["webhook_secret"]
    labels = {"source_kind": "telegram", "outcome": "final"}
    before = sample(metrics_server, "gincore_chats_provider_errors_total", **labels)
    try:
        assert telegram_update(f"{metrics_server.url}/chats/webhooks/{key}", TEXT, secret).ok
        run_worker(metrics_app)
        console = Console(metrics_server, admin)
        conv_id = console.api("GET", "/conversations").json()["conversations"][0]["id"]
        assert console.api("POST", f"/conversations/{conv_id}/join").ok
        blocked = {
            "ok": False,
            "error_code": 403,
            "description": "Forbidden: bot was blocked by the user",
        }
        telegram_fake.fail_next("sendMessage", 403, blocked)
        reply = {"body": "Your parcel left today.", "client_id": str(uuid.uuid4())}
        assert console.api("POST", f"/conversations/{conv_id}/messages", reply).status_code == 201
        run_worker(metrics_app)
        after = sample(metrics_server, "gincore_chats_provider_errors_total", **labels)
        assert after == before + 1
    finally:
        clear_queue(state)
