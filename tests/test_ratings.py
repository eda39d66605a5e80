"""Closing: the rating in the widget, the transcript email, reopening, auto-close (HTTP + jobs)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from .conftest import Console, Visitor, create_source
from .server_process import free_port
from .test_notifications_email import SMTP_PASSWORD, SMTP_USER, Sink

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Sink, int]]:
    sink, port = Sink(), free_port()
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


def set_mailbox(app: Any, port: int) -> None:
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
                "from_name": "Example Shop",
            },
        )


def chat(app: Any, live_server: Any, manager_id: str) -> tuple[Visitor, Console, int]:
    """A widget chat the manager joined and answered."""
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(live_server, key)
    conv_id = visitor.open().json()["conversation_id"]
    assert visitor.send("Where is my order <b>#12</b>?").status_code == 201
    console = Console(live_server, manager_id)
    assert console.api("POST", f"/conversations/{conv_id}/join").status_code == 200
    r = console.api(
        "POST",
        f"/conversations/{conv_id}/messages",
        {"body": "It ships today", "client_id": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    r = console.api(
        "POST",
        f"/conversations/{conv_id}/messages",
        {"body": "internal: VIP customer", "client_id": str(uuid.uuid4()), "note": True},
    )
    assert r.status_code == 201, r.text
    return visitor, console, conv_id


def close(console: Console, conv_id: int) -> None:
    r = console.api("POST", f"/conversations/{conv_id}/status", {"status": "closed"})
    assert r.status_code == 200, r.text


def test_closing_asks_for_a_rating_and_the_panel_shows_it(app, live_server, manager_id):
    visitor, console, conv_id = chat(app, live_server, manager_id)
    assert visitor.api("GET", "/conversation").json()["rating"] is None
    # Not closed yet: nothing to rate.
    r = visitor.api("POST", "/rating", {"score": 5})
    assert r.status_code == 400 and "not waiting" in r.json()["error"]
    close(console, conv_id)
    state = visitor.api("GET", "/conversation").json()
    assert state["status"] == "closed"
    assert state["rating"]["pending"] is True and state["rating"]["score"] is None
    assert state["texts"]["rate_prompt"] == "How would you rate this chat?"

    for bad in (0, 6, "x", True, None, 4.5):
        r = visitor.api("POST", "/rating", {"score": bad})
        assert r.status_code == 400 and "1 to 5" in r.json()["error"], bad
    r = visitor.api("POST", "/rating", {"score": 4, "comment": "x" * 2001})
    assert r.status_code == 400 and "too long" in r.json()["error"]

    r = visitor.api("POST", "/rating", {"score": 4, "comment": "  Quick <i>and</i> kind  "})
    assert r.status_code == 200, r.text
    assert r.json()["rating"]["score"] == 4 and not r.json()["rating"]["pending"]
    detail = console.api("GET", f"/conversations/{conv_id}").json()
    assert detail["rating"]["score"] == 4
    assert detail["rating"]["comment"] == "Quick <i>and</i> kind"
    # The visitor's widget and the consoles heard it as an event.
    events = console.api("GET", f"/conversations/{conv_id}/events?after=0").json()["events"]
    assert "conversation.rated" in [e["event"] for e in events]


def test_customer_writing_again_reopens_with_a_system_message(app, live_server, manager_id):
    visitor, console, conv_id = chat(app, live_server, manager_id)
    close(console, conv_id)
    assert visitor.send("One more thing").status_code == 201
    state = visitor.api("GET", "/conversation").json()
    assert state["status"] == "open" and state["rating"] is None
    system = [m for m in state["messages"] if m["kind"] == "system"]
    assert [m["system_code"] for m in system][-1] == "reopened"
    # The request was dropped: a rating of the reopened chat is refused.
    assert visitor.api("POST", "/rating", {"score": 3}).status_code == 400
    # Closed again: asked again.
    close(console, conv_id)
    assert visitor.api("GET", "/conversation").json()["rating"]["pending"] is True


def test_transcript_email_has_only_visitor_visible_messages_escaped(
    app, live_server, manager_id, smtp
):
    sink, port = smtp
    sink.messages.clear()
    set_mailbox(app, port)
    visitor, console, conv_id = chat(app, live_server, manager_id)
    r = visitor.api("POST", "/transcript", {})
    assert r.status_code == 400 and "closed" in r.json()["error"]
    close(console, conv_id)
    r = visitor.api("POST", "/transcript", {})
    assert r.status_code == 400 and "email" in r.json()["error"]
    assert visitor.api("PATCH", "/contact", {"email": "anna@example.org"}).status_code == 200
    r = visitor.api("POST", "/transcript", {})
    assert r.status_code == 202, r.text
    # Limited per conversation: the button pressed again sends nothing.
    r = visitor.api("POST", "/transcript", {})
    assert r.status_code == 400 and "moment ago" in r.json()["error"]
    queue = app.extensions["gincore_chats"].queue
    names = [job.func_name for job in queue.jobs]
    assert names.count("gincore_chats.jobs.ratings.send_transcript") == 1

    from gincore_chats.jobs import ratings as rating_jobs

    with app.app_context():
        assert rating_jobs.send_transcript(conv_id) == "sent"
    ((to, msg),) = sink.wait_for(1)
    assert to == ["anna@example.org"]
    assert msg["From"].addresses[0].addr_spec == "support@shop.example"
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert "It ships today" in text and "Where is my order <b>#12</b>?" in text
    assert "&lt;b&gt;#12&lt;/b&gt;" in html and "<b>#12" not in html
    assert "VIP customer" not in text and "VIP customer" not in html


def test_inactive_conversations_close_after_the_source_time(app, live_server, manager_id):
    from gincore_chats.jobs import ratings as rating_jobs
    from gincore_chats.models import Conversation, Source, utcnow
    from gincore_chats.services.ratings import auto_close
    from gincore_chats.services.unit_of_work import unit_of_work

    visitor, console, conv_id = chat(app, live_server, manager_id)
    quiet = Visitor(live_server, visitor.key)
    quiet_id = quiet.open().json()["conversation_id"]  # a visit: nobody wrote, never closed
    state = app.extensions["gincore_chats"]
    with app.app_context():
        with unit_of_work(state.session):
            conv = state.session.get(Conversation, conv_id)
            auto_close.do_set_inactivity(state.session.get(Source, conv.source_id), 30)
        assert rating_jobs.close_inactive() == "closed 0 inactive conversations"
        with unit_of_work(state.session):
            for cid in (conv_id, quiet_id):
                row = state.session.get(Conversation, cid)
                row.last_activity_at = utcnow() - timedelta(minutes=31)
        assert rating_jobs.close_inactive() == "closed 1 inactive conversations"
        state.session.remove()
    data = visitor.api("GET", "/conversation").json()
    assert data["status"] == "closed" and data["rating"]["pending"] is True
    assert quiet.api("GET", "/conversation").json()["status"] == "open"
    detail = console.api("GET", f"/conversations/{conv_id}").json()
    assert detail["conversation"]["status"] == "closed"
    with app.app_context():
        row = state.session.get(Conversation, conv_id)
        assert row.closed_by == "auto" and row.closed_at is not None
        assert row.first_response_at is not None
        state.session.remove()
    # The sweep scheduled its next run.
    scheduled = state.queue.scheduled_job_registry.get_job_ids()
    assert any("auto-close" in job_id for job_id in scheduled), scheduled
    with pytest.raises(ValueError):
        auto_close.do_set_inactivity(Source(settings={}), -1)


def test_admin_sets_the_auto_close_time_on_the_source_page(app, live_server, admin_id, manager_id):
    from gincore_chats.models import Source

    source_id, _key = create_source(app, ["shop.example.com"], [manager_id])
    admin = Console(live_server, admin_id)
    page = f"{live_server.url}/chats/settings/sources/{source_id}"
    url = f"{page}/closing"
    assert 'name="auto_close_minutes"' in admin.http.get(page).text
    r = admin.http.post(url, data={"csrf_token": admin.csrf, "auto_close_minutes": "45"})
    assert r.status_code == 200 and "Closing saved." in r.text  # redirected to the source page
    r = admin.http.post(url, data={"csrf_token": admin.csrf, "auto_close_minutes": "soon"})
    assert "enter a number of minutes" in r.text
    with app.app_context():
        state = app.extensions["gincore_chats"]
        assert state.session.get(Source, source_id).settings["auto_close_minutes"] == 45
        state.session.remove()
    # Managers cannot change it; a form without the CSRF token changes nothing.
    manager = Console(live_server, manager_id)
    r = manager.http.post(url, data={"csrf_token": manager.csrf, "auto_close_minutes": "1"})
    assert r.status_code == 403
    r = admin.http.post(url, data={"auto_close_minutes": "1"})
    assert r.status_code in (400, 403)
    with app.app_context():
        assert state.session.get(Source, source_id).settings["auto_close_minutes"] == 45
        state.session.remove()
