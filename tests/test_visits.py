"""Visits: a widget conversation nobody wrote in is not work until the customer writes.

Hidden from the console's default list and the unread counts (the "visits" filter shows them),
listed from the customer's first message on, and deleted after the retention time by the
worker's hourly job or ``flask chats delete-empty-conversations``, but never while it holds
anything someone wrote.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, select, update

from gincore_chats import Chats
from gincore_chats.models import (
    Contact,
    Conversation,
    ConversationEvent,
    Message,
    Participant,
    VisitorContext,
    metadata,
    utcnow,
)

from .conftest import Console, Visitor, create_source


def ids(console: Console, query: str = "") -> list[int]:
    r = console.api("GET", f"/conversations{query}")
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["conversations"]]


def unread_total(console: Console) -> int:
    return int(console.api("GET", "/unread?ids=").json()["conversations"])


def test_a_visit_is_listed_from_the_customers_first_message(app, live_server, manager_id):
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(live_server, key)
    conv_id = visitor.open().json()["conversation_id"]
    console = Console(live_server, manager_id)

    assert ids(console) == [] and ids(console, "?filter=unassigned") == []
    assert ids(console, "?filter=visits") == [conv_id]
    assert ids(console, "?filter=unread") == [] and unread_total(console) == 0
    row = console.api("GET", "/conversations?filter=visits").json()["conversations"][0]
    assert row["first_customer_message_at"] is None

    # The visitor leaves a name and ticks nothing else: still a visit.
    visitor.api("PATCH", "/contact", {"name": "Vera"})
    assert ids(console) == []

    assert visitor.send("Is the kettle in stock?").status_code == 201
    assert ids(console) == [conv_id] and ids(console, "?filter=visits") == []
    assert ids(console, "?filter=unread") == [conv_id] and unread_total(console) == 1
    row = console.api("GET", "/conversations").json()["conversations"][0]
    assert row["first_customer_message_at"] is not None


def test_a_manager_who_joins_a_visit_finds_it_under_mine(app, live_server, manager_id):
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    conv_id = Visitor(live_server, key).open().json()["conversation_id"]
    console = Console(live_server, manager_id)
    assert console.api("POST", f"/conversations/{conv_id}/join").status_code == 200
    assert ids(console, "?filter=mine") == [conv_id]
    assert ids(console) == []


def test_the_live_row_says_whether_the_customer_wrote(app, live_server, manager_id):
    from .test_realtime import console_socket, frames_until

    _, key = create_source(app, ["shop.example.com"], [manager_id])
    console = Console(live_server, manager_id)
    ws = console_socket(live_server, console)
    visitor = Visitor(live_server, key)
    visitor.open()

    def row(frame: dict[str, Any]) -> bool:
        return frame.get("type") == "conversation"

    opened = frames_until(ws, row)[-1]["conversation"]
    assert opened["first_customer_message_at"] is None
    visitor.send("Hello")
    wrote = frames_until(ws, lambda f: row(f) and f["conversation"]["last_message_preview"])[-1]
    assert wrote["conversation"]["first_customer_message_at"] is not None
    ws.close()


# -- retention ------------------------------------------------------------------------------------


@pytest.fixture
def retention(app: Any, monkeypatch: pytest.MonkeyPatch) -> timedelta:
    state = app.extensions["gincore_chats"]
    week = timedelta(days=7)
    monkeypatch.setattr(
        state, "config", dataclasses.replace(state.config, empty_conversation_retention=week)
    )
    return week


def age(app: Any, conv_id: int, days: float) -> None:
    """Make a conversation (and its visitor's context) look ``days`` old."""
    when = utcnow() - timedelta(days=days)
    with app.app_context():
        session = app.extensions["gincore_chats"].session
        session.execute(
            update(Conversation)
            .where(Conversation.id == conv_id)
            .values(created_at=when, last_activity_at=when)
        )
        session.execute(
            update(VisitorContext)
            .where(VisitorContext.conversation_id == conv_id)
            .values(updated_at=when)
        )
        session.commit()
        session.remove()


def remaining(app: Any) -> set[int]:
    with app.app_context():
        session = app.extensions["gincore_chats"].session
        try:
            return set(session.scalars(select(Conversation.id)))
        finally:
            session.remove()


def test_old_empty_visits_are_deleted_and_everything_else_stays(
    app, live_server, manager_id, retention
):
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    console = Console(live_server, manager_id)

    def visit(days: float) -> tuple[Visitor, int]:
        visitor = Visitor(live_server, key)
        conv_id = visitor.open().json()["conversation_id"]
        age(app, conv_id, days)
        return visitor, conv_id

    old_visitor, old = visit(8)
    _, old_joined = visit(9)  # a manager joined it: only a system line, still empty
    assert console.api("POST", f"/conversations/{old_joined}/join").status_code == 200
    age(app, old_joined, 9)
    _, recent = visit(6)
    wrote, old_wrote = visit(0)
    wrote.send("Hi")
    age(app, old_wrote, 30)
    _, old_answered = visit(0)
    assert console.api("POST", f"/conversations/{old_answered}/join").status_code == 200
    r = console.api(
        "POST",
        f"/conversations/{old_answered}/messages",
        {"body": "Can I help?", "client_id": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    age(app, old_answered, 30)
    named, old_named = visit(0)
    named.api("PATCH", "/contact", {"email": "vera@example.com"})
    age(app, old_named, 30)
    returning, old_returning = visit(10)
    returning.api("POST", "/context", {"url": "https://shop.example.com/back"})  # seen today

    runner = app.test_cli_runner()
    dry = runner.invoke(args=["chats", "delete-empty-conversations", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "2 empty conversations older than 168 hours would be deleted" in dry.output
    assert len(remaining(app)) == 7

    result = runner.invoke(args=["chats", "delete-empty-conversations"])
    assert result.exit_code == 0, result.output
    assert "Deleted 2 empty conversations" in result.output
    assert remaining(app) == {recent, old_wrote, old_answered, old_named, old_returning}

    # Nothing of the deleted visits is left behind, and their tokens open nothing.
    with app.app_context():
        session = app.extensions["gincore_chats"].session
        for model, column in (
            (ConversationEvent, ConversationEvent.conversation_id),
            (Message, Message.conversation_id),
            (Participant, Participant.conversation_id),
            (VisitorContext, VisitorContext.conversation_id),
        ):
            left = session.scalar(
                select(func.count()).select_from(model).where(column.in_([old, old_joined]))
            )
            assert left == 0, model.__name__
        # One contact per visit: the deleted visits' contacts went with them.
        assert session.scalar(select(func.count(Contact.id))) == 5
        session.remove()
    r = old_visitor.api("GET", "/conversation")
    assert r.status_code == 403 and "no longer available" in r.json()["error"]

    # A shorter age on the command line; nothing older than that is empty any more but "recent".
    again = runner.invoke(args=["chats", "delete-empty-conversations", "--older-than", "120"])
    assert "Deleted 1 empty conversations older than 120 hours" in again.output
    assert recent not in remaining(app)


def test_the_hourly_job_deletes_and_schedules_its_next_run(app, live_server, manager_id, retention):
    from rq.registry import ScheduledJobRegistry

    from gincore_chats.jobs import cleanup

    _, key = create_source(app, ["shop.example.com"], [manager_id])
    conv_id = Visitor(live_server, key).open().json()["conversation_id"]
    age(app, conv_id, 8)
    state = app.extensions["gincore_chats"]
    registry = ScheduledJobRegistry(queue=state.queue)
    try:
        with app.app_context():
            # What the worker does when it starts: one run now, however many workers start.
            assert cleanup.schedule(state) is True
            assert cleanup.schedule(state) is False
            result = app.test_cli_runner().invoke(args=["chats", "worker", "--burst", "--simple"])
            assert result.exit_code == 0, result.output
        assert remaining(app) == set()
        # The run put the next one an hour later, at the start of that hour.
        next_hour = (utcnow() + cleanup.INTERVAL).replace(minute=0, second=0, microsecond=0)
        assert cleanup.run_id(state, next_hour) in registry.get_job_ids()
    finally:
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)


def test_off_means_kept(app, live_server, manager_id):
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    conv_id = Visitor(live_server, key).open().json()["conversation_id"]
    age(app, conv_id, 400)
    result = app.test_cli_runner().invoke(args=["chats", "delete-empty-conversations"])
    assert result.exit_code != 0 and "--older-than" in result.output
    from gincore_chats.jobs import cleanup

    with app.app_context():
        assert cleanup.schedule(app.extensions["gincore_chats"]) is False
    assert remaining(app) == {conv_id}


def test_deletion_leaves_no_orphans_on_sqlite(tmp_path: Path) -> None:
    """The demo's database: SQLite does not cascade deletes, so the service deletes children."""
    from gincore_chats.services.contacts import customers as contacts
    from gincore_chats.services.conversations import lifecycle as conversations
    from gincore_chats.services.conversations import messages, retention
    from gincore_chats.services.sources import do_create_widget_source
    from gincore_chats.services.unit_of_work import unit_of_work
    from gincore_chats.services.widget import visitor_context

    app = Flask(f"host_{uuid.uuid4().hex[:6]}")
    app.config.update(
        SECRET_KEY="s",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/chats.db",
        CHATS_REDIS_URL="redis://127.0.0.1:6379/0",
        CHATS_REDIS_PREFIX=f"gctest-sqlite-{uuid.uuid4().hex[:8]}",
    )
    db = SQLAlchemy()
    db.init_app(app)
    Chats(app, db=db)
    with app.test_request_context():
        metadata.create_all(db.engine)
        state = app.extensions["gincore_chats"]
        with unit_of_work(state.session):
            source = do_create_widget_source(state, "Shop", ["shop.example.com"])
            kept_ids = []
            for wrote in (False, True):
                contact = contacts.do_create_visitor_contact(state, source)
                conv = conversations.do_open_conversation(state, source, contact, "en")
                visitor_context.do_record_context(
                    state, conv, {"url": "https://x.example/"}, ip=None, user_agent=None
                )
                if wrote:
                    messages.do_send_customer_message(state, conv, "hello", str(uuid.uuid4()))
                    kept_ids.append(conv.id)
        later = utcnow() + timedelta(days=30)
        assert retention.delete_empty_conversations(state, timedelta(days=7), now=later) == 1
        session = state.session
        assert list(session.scalars(select(Conversation.id))) == kept_ids
        for table in metadata.sorted_tables:
            if "conversation_id" in table.c:
                orphans = session.scalar(
                    select(func.count())
                    .select_from(table)
                    .where(table.c.conversation_id.not_in(kept_ids))
                )
                assert orphans == 0, table.name
        assert session.scalar(select(func.count(Contact.id))) == 1
