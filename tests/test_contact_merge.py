"""One contact, many conversations: merging (permissions, what moves, undo within a day),
suggestions for messenger contacts with one phone number, contact search, and the visitor's
local time across a daylight-saving change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gincore_chats.models import Contact, ContactMerge, ContactNote, Conversation, Message

from .conftest import Console, Visitor, create_source, make_staff


def conv_contact_id(app: Any, conv_id: int) -> int:
    with app.app_context():
        state = app.extensions["gincore_chats"]
        return state.session.get(Conversation, conv_id).contact_id


def two_visitors(
    app: Any, live_server: Any, manager_id: str, *others: str
) -> tuple[int, int, int, int]:
    _, key = create_source(app, ["shop.example.com"], [manager_id, *others])
    a, b = Visitor(live_server, key), Visitor(live_server, key)
    conv_a = a.open().json()["conversation_id"]
    conv_b = b.open().json()["conversation_id"]
    a.api("PATCH", "/contact", {"name": "Anna"})
    b.api("PATCH", "/contact", {"email": "anna@example.com"})
    a.send("Hello from the laptop")
    b.send("Hi, it's me on my phone")
    return conv_a, conv_b, conv_contact_id(app, conv_a), conv_contact_id(app, conv_b)


def test_merge_needs_customers_edit(app, live_server, manager_id):
    viewer = make_staff(app, "Vic Viewer", "chats.view,chats.reply,customers.view")
    _, conv_b, contact_a, contact_b = two_visitors(app, live_server, manager_id, viewer)
    r = Console(live_server, viewer).api(
        "POST", f"/contacts/{contact_a}/merge", {"other_id": contact_b}
    )
    assert r.status_code == 403 and r.json()["permission"] == "customers.edit"
    # A manager not assigned to the source cannot merge its contacts either.
    outsider = make_staff(app, "Otto", "chats.view,chats.reply,customers.view,customers.edit")
    r = Console(live_server, outsider).api(
        "POST", f"/contacts/{contact_a}/merge", {"other_id": contact_b}
    )
    assert r.status_code == 403
    assert conv_contact_id(app, conv_b) == contact_b
    # No CSRF token: refused.
    console = Console(live_server, manager_id)
    r = console.http.post(
        f"{live_server.url}/chats/console/api/contacts/{contact_a}/merge",
        json={"other_id": contact_b},
    )
    assert r.status_code in (400, 403)
    assert conv_contact_id(app, conv_b) == contact_b


def test_merge_moves_everything_and_undo_puts_it_back(app, live_server, manager_id):
    conv_a, conv_b, contact_a, contact_b = two_visitors(app, live_server, manager_id)
    console = Console(live_server, manager_id)
    assert console.api("POST", f"/conversations/{conv_b}/notes", {"body": "VIP"}).ok
    r = console.api("POST", f"/contacts/{contact_a}/merge", {"other_id": contact_b})
    assert r.status_code == 201, r.text
    merge = r.json()["merge"]
    assert merge["can_undo"] and merge["conversations_moved"] == 1
    assert conv_contact_id(app, conv_b) == contact_a

    page = console.api("GET", f"/contacts/{contact_a}").json()
    assert {c["id"] for c in page["conversations"]} == {conv_a, conv_b}
    lines = {c["id"]: c["first_line"] for c in page["conversations"]}
    assert lines[conv_b] == "Hi, it's me on my phone"
    # Fields the survivor lacked came from the merged contact; its own stayed.
    assert page["contact"]["name"] == "Anna" and page["contact"]["email"] == "anna@example.com"
    detail = console.api("GET", f"/conversations/{conv_a}").json()
    assert [n["body"] for n in detail["notes"]] == ["VIP"]
    # The merged-away contact points at the survivor; merging it again is refused.
    assert console.api("GET", f"/contacts/{contact_b}").json()["merged_into_id"] == contact_a
    again = console.api("POST", f"/contacts/{contact_a}/merge", {"other_id": contact_b})
    assert again.status_code == 400

    undo = console.api("POST", f"/merges/{merge['id']}/undo")
    assert undo.status_code == 200, undo.text
    assert conv_contact_id(app, conv_b) == contact_b
    page_a = console.api("GET", f"/contacts/{contact_a}").json()
    assert page_a["contact"]["email"] is None
    assert {c["id"] for c in page_a["conversations"]} == {conv_a}
    with app.app_context():
        state = app.extensions["gincore_chats"]
        assert [n.contact_id for n in state.session.query(ContactNote)] == [contact_b]
        assert state.session.get(Contact, contact_b).merged_into_id is None
    assert console.api("POST", f"/merges/{merge['id']}/undo").status_code == 400


def test_undo_only_within_a_day(app, live_server, manager_id):
    _, _, contact_a, contact_b = two_visitors(app, live_server, manager_id)
    console = Console(live_server, manager_id)
    merge_id = console.api("POST", f"/contacts/{contact_a}/merge", {"other_id": contact_b}).json()[
        "merge"
    ]["id"]
    with app.app_context():
        state = app.extensions["gincore_chats"]
        record = state.session.get(ContactMerge, merge_id)
        record.created_at = datetime.now(UTC) - timedelta(days=1, minutes=1)
        state.session.commit()
    r = console.api("POST", f"/merges/{merge_id}/undo")
    assert r.status_code == 400 and "one day" in r.json()["error"]


def test_messenger_contacts_with_one_phone_are_suggested(app, manager_id):
    from gincore_chats.channels.base import Sender
    from gincore_chats.services import sources
    from gincore_chats.services.contacts import customers, merges
    from gincore_chats.services.unit_of_work import unit_of_work

    with app.app_context():
        state = app.extensions["gincore_chats"]
        with unit_of_work(state.session):
            tg = sources.do_create_widget_source(state, "Bot A", ["a.example"])
            wa = sources.do_create_widget_source(state, "Bot B", ["b.example"])
            first = customers.do_upsert_channel_contact(
                state, tg, Sender(id="100", name="Tom", phone="+15551234")
            )
            second = customers.do_upsert_channel_contact(
                state, wa, Sender(id="15551234", name="Tom W", phone="+15551234")
            )
            unrelated = customers.do_upsert_channel_contact(
                state, wa, Sender(id="999", name="Zed", phone="+15559999")
            )
        with unit_of_work(state.session):
            [suggestion] = merges.open_suggestions(state, second)
            assert (suggestion.contact_id, suggestion.candidate_id) == (second.id, first.id)
            assert suggestion.reason == "same_phone"
            assert merges.open_suggestions(state, unrelated) == []


def test_platform_id_of_a_merged_contact_reaches_the_survivor(app, manager_id):
    from gincore_chats.channels.base import Sender
    from gincore_chats.identity import Manager
    from gincore_chats.services import sources
    from gincore_chats.services.contacts import customers, merges
    from gincore_chats.services.unit_of_work import unit_of_work

    boss = Manager("m", "M", None, None, frozenset({"customers.edit", "chats.admin"}))
    with app.app_context():
        state = app.extensions["gincore_chats"]
        with unit_of_work(state.session):
            bot = sources.do_create_widget_source(state, "Bot", ["a.example"])
            web = customers.do_create_visitor_contact(state, bot)
            state.session.flush()
            tg = customers.do_upsert_channel_contact(state, bot, Sender(id="77", name="T"))
            merges.do_merge(state, boss, web, tg)
        with unit_of_work(state.session):
            again = customers.do_upsert_channel_contact(state, bot, Sender(id="77", name="T"))
            assert again.id == web.id
            # Replies to the moved conversations still go to the platform user's id.
            holder = customers.platform_contact(state, web, bot.id)
            assert holder is not None and holder.external_id == "77"
            assert customers.platform_contact(state, tg, bot.id) is tg


def test_contact_search_by_name_email_phone_and_platform_id(app, live_server, manager_id):
    _, _, contact_a, contact_b = two_visitors(app, live_server, manager_id)
    console = Console(live_server, manager_id)

    def found(q: str) -> set[int]:
        r = console.api("GET", f"/contacts?q={q}")
        assert r.status_code == 200, r.text
        return {c["id"] for c in r.json()["contacts"]}

    assert found("ann") == {contact_a, contact_b}
    assert found("anna%40example") == {contact_b}
    assert found("%25") == set()  # a LIKE wildcard is searched for literally
    # Without customers.view there is no contact search.
    plain = make_staff(app, "Pat", "chats.view,chats.reply")
    assert Console(live_server, plain).api("GET", "/contacts?q=ann").status_code == 403
    # A manager of another source does not find them.
    other = make_staff(app, "Oz", "chats.view,customers.view")
    create_source(app, ["other.example"], [other], name="Other")
    assert {
        c["id"]
        for c in Console(live_server, other).api("GET", "/contacts?q=ann").json()["contacts"]
    } == set()


def test_message_times_in_visitor_zone_across_dst(app, live_server, manager_id):
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(live_server, key)
    conv_id = visitor.open(time_zone="Europe/Berlin", tz_offset=60).json()["conversation_id"]
    visitor.send("before the change")
    visitor.send("after the change")
    with app.app_context():
        state = app.extensions["gincore_chats"]
        rows = state.session.query(Message).order_by(Message.id).all()
        # Berlin moves from +01:00 to +02:00 on 29 March 2026 at 01:00 UTC.
        rows[0].created_at = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
        rows[1].created_at = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)
        state.session.commit()
    detail = Console(live_server, manager_id).api("GET", f"/conversations/{conv_id}").json()
    assert detail["context"]["time_zone"] == "Europe/Berlin"
    local = [m["customer_local_at"] for m in detail["messages"]]
    assert local == ["2026-03-28T13:00:00+01:00", "2026-03-30T14:00:00+02:00"]


def test_unknown_zone_falls_back_to_the_offset(app, live_server, manager_id):
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    for bad in ("Mars/Olympus", "../../etc/passwd", "x" * 100, 5):
        visitor = Visitor(live_server, key)
        conv_id = visitor.open(time_zone=bad, tz_offset=-300).json()["conversation_id"]
        visitor.send("hi")
        detail = Console(live_server, manager_id).api("GET", f"/conversations/{conv_id}").json()
        assert detail["context"]["time_zone"] is None
        assert detail["context"]["utc_offset_minutes"] == -300
        assert detail["messages"][0]["customer_local_at"].endswith("-05:00")
