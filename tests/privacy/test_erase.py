"""Erase (GDPR art. 17) through the console, the CLI and every table of the metadata."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import select

from gincore_chats.models import Attachment, AuditEntry, Contact, Conversation, Message

from ..channels.conftest import make_channel_source, run_worker, stored_credentials, webhook_url
from ..channels.fakes import TELEGRAM_TOKEN, telegram_update
from ..channels.payloads import TEXT
from ..conftest import Console, make_staff
from .support import BOB, VERA, holding

TG_TEXT = "Anna writes: my flat is Lindenstrasse 12"


def _state(app: Any) -> Any:
    return app.extensions["gincore_chats"]


def _contact_of(app: Any, conv_id: int) -> int:
    with app.app_context():
        try:
            return int(_state(app).session.get(Conversation, conv_id).contact_id)
        finally:
            _state(app).session.remove()


def _holding(app: Any, needles: list[str]) -> list[tuple[str, str, str]]:
    with app.app_context():
        try:
            return holding(_state(app).session, needles)
        finally:
            _state(app).session.remove()


def test_erase_from_the_console_leaves_nothing_of_them_in_any_table(app, live_server, shop):
    admin, vera_conv, _bob_conv = shop
    contact_id = _contact_of(app, vera_conv)
    needles = [VERA["ip"], VERA["name"], VERA["email"], VERA["phone"], VERA["text"], "Lindqvist"]
    before = _holding(app, needles)
    assert {n for _, _, n in before} == {n.casefold() for n in needles}
    assert {t for t, _, _ in before} >= {
        "chats_contacts",
        "chats_messages",
        "chats_events",
        "chats_visitor_contexts",
        "chats_attachments",
    }, "the test's person is really stored before the erase"

    r = admin.api("POST", f"/contacts/{contact_id}/erase", {"confirm": True})
    assert r.status_code == 200, r.text
    assert r.json()["erased"]["messages"] == 2 and r.json()["erased"]["files"] == 1

    assert _holding(app, needles) == []
    # The other customer keeps everything, and the team's side of Vera's chat stays.
    assert {t for t, _, _ in _holding(app, [BOB["ip"], BOB["email"], BOB["text"]])} >= {
        "chats_contacts",
        "chats_messages",
        "chats_visitor_contexts",
    }
    detail = admin.api("GET", f"/conversations/{vera_conv}").json()
    customer = [m for m in detail["messages"] if m["kind"] == "customer"]
    assert customer and all(m["body"] == "" and m["deleted"] for m in customer)
    replies = [m["body"] for m in detail["messages"] if m["kind"] == "manager"]
    assert replies == ["Hello Vera, we are on it"] or replies == ["Hello [erased], we are on it"]
    with app.app_context():
        session = _state(app).session
        files = session.scalars(select(Attachment).where(Attachment.conversation_id == vera_conv))
        assert all(f.deleted_at is not None for f in files)
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "contact.erased")
        ).one()
        assert entry.manager_id == admin.id and entry.target_id == str(contact_id)
        session.remove()


def test_erase_needs_admin_and_customers_edit_and_csrf(app, live_server, shop):
    admin, vera_conv, _ = shop
    contact_id = _contact_of(app, vera_conv)
    editor = make_staff(app, "Eddie", "chats.view,chats.reply,customers.view,customers.edit")
    with app.app_context():
        source_id = _state(app).session.get(Conversation, vera_conv).source_id
        _state(app).session.remove()
    from gincore_chats.services import sources
    from gincore_chats.services.unit_of_work import unit_of_work

    with app.app_context():
        state = _state(app)
        with unit_of_work(state.session):
            source = state.session.get(sources.Source, source_id)
            sources.do_set_employees(state, source, [admin.id, editor])
    eddie = Console(live_server, editor)
    r = eddie.api("POST", f"/contacts/{contact_id}/erase", {"confirm": True})
    assert r.status_code == 403 and "chats.admin" in r.json()["error"]
    r = eddie.api("POST", f"/contacts/{contact_id}/export")
    assert r.status_code == 403
    no_csrf = admin.http.post(
        f"{live_server.url}/chats/console/api/contacts/{contact_id}/erase", json={"confirm": True}
    )
    assert no_csrf.status_code == 400
    unconfirmed = admin.api("POST", f"/contacts/{contact_id}/erase", {})
    assert unconfirmed.status_code == 400
    assert _holding(app, [VERA["email"], VERA["text"]]), "nothing was erased by refused requests"


@pytest.fixture
def telegram(app, channels, live_server, admin_id):
    source_id, key = make_channel_source(
        app, "telegram", {"bot_token": TELEGRAM_TOKEN}, [admin_id], name="Acme bot"
    )
    secret = stored_credentials(app, source_id)["webhook_secret"]
    return source_id, webhook_url(live_server, key), secret


def test_cli_erase_of_a_telegram_contact_reaches_the_raw_deliveries(app, live_server, telegram):
    _, url, secret = telegram
    update = copy.deepcopy(TEXT)
    update["message"]["text"] = TG_TEXT
    assert telegram_update(url, update, secret).status_code == 200
    run_worker(app)
    with app.app_context():
        contact = (
            _state(app)
            .session.scalars(select(Contact).where(Contact.external_id.isnot(None)))
            .one()
        )
        contact_id = contact.id
        _state(app).session.remove()
    needles = ["987654321", "anna_k", "Anna Kovacs", TG_TEXT, "Lindenstrasse", "Kovacs"]
    assert "chats_inbound_events" in {t for t, _, _ in _holding(app, needles)}

    result = app.test_cli_runner().invoke(
        args=["chats", "contacts", "erase", str(contact_id), "--yes"]
    )
    assert result.exit_code == 0, result.output
    assert "Erased contact" in result.output
    assert _holding(app, needles) == []
    with app.app_context():
        session = _state(app).session
        bodies = [
            m.body for m in session.scalars(select(Message).where(Message.kind == "customer"))
        ]
        assert bodies == [""]
        session.remove()


def test_cli_erase_of_an_unknown_contact_fails_clearly(app):
    result = app.test_cli_runner().invoke(args=["chats", "contacts", "erase", "999999", "--yes"])
    assert result.exit_code != 0 and "No such contact" in result.output
