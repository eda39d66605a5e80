"""A source that starts failing: the admins get one email (real SMTP server, real RQ worker),
not another within the hour, and admins see the failing source in the header of every page.

The failure is issue 19's real one: a 300-character platform id against the previous
revision's ``VARCHAR(200)`` column.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text

from ..conftest import ALL_PERMS, Console, make_staff
from ..server_process import free_port
from ..test_notifications_email import SMTP_PASSWORD, SMTP_USER, Sink
from .conftest import clear_queue, make_channel_source, run_worker
from .test_inbound_failures import TOO_LONG, cli, column_type, push

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
LONG_ID = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE" + "x" * 266


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        authenticator=sink.authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@pytest.fixture
def old_schema(app: Any) -> Iterator[None]:
    column_type(app, "VARCHAR(200)")
    try:
        yield
    finally:
        column_type(app, "TEXT")


def old_schema_again(app: Any) -> None:
    """Back to the old column; the messages it cannot hold (stored after the fix) go first."""
    with app.app_context():
        engine = app.extensions["gincore_chats"].db.engine
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM chats_messages WHERE length(external_id) > 200"))
    column_type(app, "VARCHAR(200)")


def mailbox_on(app: Any, port: int) -> None:
    from gincore_chats.services.notifications import mailbox
    from gincore_chats.services.unit_of_work import unit_of_work

    state = app.extensions["gincore_chats"]
    with app.app_context(), unit_of_work(state.session):
        mailbox.do_save(
            state,
            {
                "active": True,
                "host": "127.0.0.1",
                "port": str(port),
                "security": "none",
                "username": SMTP_USER,
                "password": SMTP_PASSWORD,
                "from_address": "support@shop.example",
            },
        )


def fail_once_more(app: Any, live_server: Any, source: tuple[int, str], suffix: str) -> None:
    push(app, live_server, source, LONG_ID + suffix, f"Question {suffix}")
    run_worker(app)
    clear_queue(app.extensions["gincore_chats"])  # RQ's own retries would meet the same column


def test_admins_are_emailed_once_per_hour_when_a_source_starts_failing(
    app, live_server, channels, smtp, manager_id, old_schema
):
    sink, port = smtp
    mailbox_on(app, port)
    admin_id = make_staff(app, "Ada", ALL_PERMS + ",chats.admin", email="ada@shop.example")
    make_staff(app, "Bo", ALL_PERMS + ",chats.admin", email="bo@shop.example")
    source = make_channel_source(app, "generic", {}, [manager_id], name="CRM")
    source_id = source[0]

    fail_once_more(app, live_server, source, "a")
    [(to, msg)] = sink.wait_for(1)
    # Only admins: the manager (mia manager@example.com) is not one.
    assert sorted(to) == ["ada@shop.example", "bo@shop.example"]
    assert msg["Subject"] == "Chat source “CRM” is failing"
    body = msg.get_body(("plain",)).get_content()
    assert "Failed deliveries: 1" in body and TOO_LONG in body
    assert f"flask chats process-inbound --failed --source {source_id}" in body
    assert f"{live_server.url}/chats/settings/channels/{source_id}#inbound-failures" in body

    # A second failure while the first is unresolved: the source did not *start* failing.
    fail_once_more(app, live_server, source, "b")
    # Fixed and processed again, then failing anew within the hour: still no second email.
    column_type(app, "TEXT")
    assert cli(app, "--failed", "--source", str(source_id)).exit_code == 0
    old_schema_again(app)
    fail_once_more(app, live_server, source, "c")
    assert len(sink.messages) == 1

    # After the hour (the throttle key gone), the next start of failures is told again.
    state = app.extensions["gincore_chats"]
    state.redis.delete(state.key("source-failing-alert", source_id))
    column_type(app, "TEXT")
    assert cli(app, "--failed", "--source", str(source_id)).exit_code == 0
    old_schema_again(app)
    fail_once_more(app, live_server, source, "d")
    sink.wait_for(2)

    # The header of an admin's pages names the failing source; a manager's does not.
    admin = Console(live_server, admin_id)
    console_page = admin.http.get(f"{live_server.url}/chats/console").text
    note = re.search(r'<p class="gc-header-alert" role="status">(.*?)</p>', console_page, re.S)
    assert note is not None
    assert re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", note.group(1))).strip() == (
        "CRM: 1 failed delivery"
    )
    assert f"/chats/settings/channels/{source_id}#inbound-failures" in note.group(1)
    settings_page = admin.http.get(f"{live_server.url}/chats/settings").text
    assert "gc-header-alert" in settings_page
    manager = Console(live_server, manager_id)
    assert "gc-header-alert" not in manager.http.get(f"{live_server.url}/chats/console").text
