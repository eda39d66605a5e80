"""Failed deliveries: the admin sees them per source, and they are processed again after a fix.

The failure is the real one this was built for: the message table as the previous revision
made it (``external_id VARCHAR(200)``) refuses a 300-character platform id on PostgreSQL, the
delivery is kept with the error, the fix is "deployed" (the column widened, as the migration
does), and the settings page's button or ``flask chats process-inbound --failed`` brings the
message in. Running either twice creates nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import func, select, text

from ..conftest import Console
from .conftest import clear_queue, make_channel_source, run_worker, stored_credentials, webhook_url

TOO_LONG = "value too long for type character varying(200)"


def column_type(app: Any, sql_type: str) -> None:
    with app.app_context():
        engine = app.extensions["gincore_chats"].db.engine
        with engine.begin() as conn:
            conn.execute(
                text(f"ALTER TABLE chats_messages ALTER COLUMN external_id TYPE {sql_type}")
            )


@pytest.fixture
def old_schema(app: Any) -> Iterator[None]:
    column_type(app, "VARCHAR(200)")
    try:
        yield
    finally:
        column_type(app, "TEXT")


def push(app: Any, live_server: Any, source: tuple[int, str], message_id: str, body: str) -> None:
    source_id, key = source
    secret = stored_credentials(app, source_id)["secret"]
    payload = {"messages": [{"id": message_id, "sender": {"id": "cust-1"}, "text": body}]}
    r = requests.post(
        webhook_url(live_server, key),
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {secret}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text


def messages_of(app: Any, source_id: int) -> list[str]:
    from gincore_chats.models import Message

    with app.app_context():
        session = app.extensions["gincore_chats"].session
        try:
            rows = session.scalars(
                select(Message.body).where(Message.source_id == source_id).order_by(Message.id)
            )
            return list(rows)
        finally:
            session.remove()


def failed_count(app: Any) -> int:
    from gincore_chats.models import InboundEvent

    with app.app_context():
        session = app.extensions["gincore_chats"].session
        try:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(InboundEvent)
                    .where(InboundEvent.processed_at.is_(None), InboundEvent.error.is_not(None))
                )
            )
        finally:
            session.remove()


def cli(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["chats", "process-inbound", *args])


def test_failed_deliveries_are_shown_and_processed_again_once_fixed(
    app, live_server, channels, manager_id, admin_id, old_schema
):
    a = make_channel_source(app, "generic", {}, [manager_id], name="CRM A")
    b = make_channel_source(app, "generic", {}, [manager_id], name="CRM B")
    long_id = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE" + "x" * 266  # a relayed Instagram mid
    push(app, live_server, a, long_id, "Do you ship to Austria?")
    push(app, live_server, b, long_id + "b", "Where is my order?")
    run_worker(app)
    clear_queue(channels)  # RQ's own retries would meet the same column
    assert messages_of(app, a[0]) == messages_of(app, b[0]) == []
    assert failed_count(app) == 2

    admin = Console(live_server, admin_id)
    index = admin.http.get(f"{live_server.url}/chats/settings").text
    assert "Failed deliveries" in index and "CRM A</a>" in index and "CRM B</a>" in index
    page = admin.http.get(f"{live_server.url}/chats/settings/channels/{a[0]}").text
    assert "1 delivery from the platform could not be processed" in page
    assert TOO_LONG in page
    assert f"flask chats process-inbound --failed --source {a[0]}" in page

    # Before the fix: it still fails, says why, and exits non-zero for scripts.
    result = cli(app, "--failed", "--source", str(a[0]))
    assert result.exit_code == 1 and "0 failed deliveries; 1 still failing" in result.output
    assert TOO_LONG in result.output

    column_type(app, "TEXT")  # the fix is deployed (what the migration does)
    result = cli(app, "--failed", "--source", str(a[0]))
    assert result.exit_code == 0, result.output
    assert "Processed 1 failed deliveries; 0 still failing." in result.output
    assert messages_of(app, a[0]) == ["Do you ship to Austria?"]
    assert messages_of(app, b[0]) == []  # --source: only A's
    again = cli(app, "--failed", "--source", str(a[0]))
    assert again.exit_code == 0 and "Processed 0 failed deliveries" in again.output
    assert messages_of(app, a[0]) == ["Do you ship to Austria?"]

    # The settings button: admin only, with the CSRF token; queued for the worker.
    form_url = f"{live_server.url}/chats/settings/channels/{b[0]}/inbound/process-again"
    assert admin.http.post(form_url, data={}, allow_redirects=False).status_code == 400
    manager = Console(live_server, manager_id)
    assert (
        manager.http.post(
            form_url, data={"csrf_token": manager.csrf}, allow_redirects=False
        ).status_code
        == 403
    )
    for _ in range(2):  # pressed twice: processed once
        r = admin.http.post(form_url, data={"csrf_token": admin.csrf}, allow_redirects=False)
        assert r.status_code == 302 and r.headers["Location"].endswith("#inbound-failures")
    run_worker(app)
    assert messages_of(app, b[0]) == ["Where is my order?"]
    assert failed_count(app) == 0
    page = admin.http.get(f"{live_server.url}/chats/settings/channels/{b[0]}").text
    assert "None: every delivery from the platform was processed." in page
    assert "Failed deliveries</h2>" not in admin.http.get(f"{live_server.url}/chats/settings").text
    # The customer's messages reached the console.
    rows = manager.api("GET", "/conversations").json()["conversations"]
    assert sorted(r["last_message_preview"] for r in rows) == [
        "Do you ship to Austria?",
        "Where is my order?",
    ]
