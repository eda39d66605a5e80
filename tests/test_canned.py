"""Saved replies: who may change which, the limits, and what the composer's picker gets for a
conversation (its language, the variables filled in as text, unknown ones left visible)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from gincore_chats.services.canned import responses

from .conftest import ALL_PERMS, Console, create_source, make_staff


def open_conversation(app: Any, source_id: int, language: str | None, **contact: Any) -> int:
    from gincore_chats.models import Source
    from gincore_chats.services.contacts import customers
    from gincore_chats.services.conversations import lifecycle, messages
    from gincore_chats.services.unit_of_work import unit_of_work

    with app.app_context():
        state = app.extensions["gincore_chats"]
        with unit_of_work(state.session):
            source = state.session.get(Source, source_id)
            person = customers.do_create_visitor_contact(state, source)
            for key, value in contact.items():
                setattr(person, key, value)
            conv = lifecycle.do_open_conversation(state, source, person, language)
            messages.do_send_customer_message(state, conv, "Hello", uuid.uuid4().hex)
        conv_id = conv.id
        state.session.remove()
        return conv_id


def create(console: Console, **fields: Any) -> Any:
    return console.api("POST", "/canned", fields)


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_a_manager_keeps_own_replies_with_clear_errors(live_server, manager_id, monkeypatch):
    mia = Console(live_server, manager_id)
    r = create(mia, shortcut="/Greet", text="  Hello {{ customer.name }}!  ", language="EN_us")
    assert r.status_code == 201, r.text
    reply = r.json()["response"]
    assert (reply["shortcut"], reply["text"], reply["language"]) == (
        "greet",
        "Hello {{ customer.name }}!",
        "en-us",
    )
    assert reply["scope"] == "personal" and reply["editable"] is True

    for fields, error in [
        ({"shortcut": "two words", "text": "x"}, "shortcut"),
        ({"shortcut": "x" * 33, "text": "x"}, "shortcut"),
        ({"shortcut": "ok", "text": "   "}, "text"),
        ({"shortcut": "ok", "text": "x" * (responses.TEXT_MAX + 1)}, "at most 4000"),
        ({"shortcut": "ok", "text": "x", "language": "english please"}, "language"),
        ({"shortcut": "greet", "text": "again", "language": "en-us"}, "already exists"),
    ]:
        r = create(mia, **fields)
        assert r.status_code == 400, fields
        assert error in r.json()["error"], (fields, r.json())
    # The same shortcut in another language is another reply.
    assert create(mia, shortcut="greet", text="Вітаю!", language="uk").status_code == 201

    r = mia.api("PATCH", f"/canned/{reply['id']}", {"shortcut": "hi", "text": "Hi there"})
    assert r.status_code == 200 and r.json()["response"]["language"] is None
    monkeypatch.setattr(responses, "PERSONAL_MAX", 2)
    r = create(mia, shortcut="third", text="x")
    assert r.status_code == 400 and "at most 2 personal" in r.json()["error"]
    assert sorted(x["shortcut"] for x in mia.api("GET", "/canned").json()["responses"]) == [
        "greet",
        "hi",
    ]
    assert mia.api("DELETE", f"/canned/{reply['id']}").json() == {"deleted": True}
    assert [x["shortcut"] for x in mia.api("GET", "/canned").json()["responses"]] == ["greet"]


def test_nobody_edits_another_managers_or_a_shared_reply_without_admin(
    app, live_server, admin_id, manager_id
):
    mia = Console(live_server, manager_id)
    colin = Console(live_server, make_staff(app, "Colin Colleague", ALL_PERMS))
    admin = Console(live_server, admin_id)
    mine = create(mia, shortcut="mine", text="Mia's own").json()["response"]

    # Another manager's personal reply does not even exist for Colin, nor for an admin.
    for other in (colin, admin):
        assert (
            other.api("PATCH", f"/canned/{mine['id']}", {"shortcut": "x", "text": "y"}).status_code
            == 404
        )
        assert other.api("DELETE", f"/canned/{mine['id']}").status_code == 404
        assert mine["id"] not in [x["id"] for x in other.api("GET", "/canned").json()["responses"]]

    r = create(mia, shortcut="team", text="For all", scope="shared")
    assert r.status_code == 403 and r.json()["permission"] == "chats.admin"
    shared = create(admin, shortcut="team", text="For all", scope="shared").json()["response"]
    assert shared["scope"] == "shared"
    listed = {x["id"]: x for x in mia.api("GET", "/canned").json()["responses"]}
    assert listed[shared["id"]]["editable"] is False
    r = mia.api("PATCH", f"/canned/{shared['id']}", {"shortcut": "team", "text": "Changed"})
    assert r.status_code == 403 and "admins" in r.json()["error"]
    assert mia.api("DELETE", f"/canned/{shared['id']}").status_code == 403
    r = admin.api("PATCH", f"/canned/{shared['id']}", {"shortcut": "team", "text": "Changed"})
    assert r.status_code == 200 and r.json()["response"]["text"] == "Changed"

    # Writes need the session's CSRF token.
    r = mia.http.post(
        f"{live_server.url}/chats/console/api/canned", json={"shortcut": "x", "text": "y"}
    )
    assert r.status_code == 400 and "CSRF" in r.json()["error"]
    r = mia.http.delete(f"{live_server.url}/chats/console/api/canned/{mine['id']}")
    assert r.status_code == 400
    assert [x["text"] for x in mia.api("GET", "/canned").json()["responses"]] == [
        "Mia's own",
        "Changed",
    ]


def test_the_picker_fills_variables_as_text_in_the_conversations_language(
    app, live_server, admin_id, manager_id
):
    shop, _ = create_source(app, ["shop.example.com"], [manager_id], name="Shop")
    other, _ = create_source(app, ["other.example.com"], [manager_id], name="Other")
    conv = open_conversation(
        app, shop, "uk", name="{{ manager.name }} <b>Rita</b> Roe", email="rita@example.com"
    )
    admin = Console(live_server, admin_id)
    for fields in [
        {"shortcut": "hello", "text": "Hello {{ customer.first_name }}"},
        {"shortcut": "hello", "text": "Вітаю, {{customer.name}}!", "language": "uk"},
        {"shortcut": "hello", "text": "Hallo", "language": "de"},
        {"shortcut": "ship", "text": "Other shop only", "source_id": str(other)},
        {"shortcut": "ship", "text": "Shop shipping", "source_id": str(shop), "language": "en"},
    ]:
        assert create(admin, scope="shared", **fields).status_code == 201
    mia = Console(live_server, manager_id)
    create(
        mia,
        shortcut="mail",
        text="{{ manager.name }} here. We wrote to {{ customer.email }}"
        " about #{{ conversation.id }} ({{ customer.shoe_size }}, {{ unknown }}).",
    )

    picked = mia.api("GET", f"/conversations/{conv}/canned").json()["responses"]
    assert [(p["scope"], p["shortcut"], p["filled"]) for p in picked] == [
        (
            "personal",
            "mail",
            f"Mia Manager here. We wrote to rita@example.com about #{conv}"
            " ({{ customer.shoe_size }}, {{ unknown }}).",
        ),
        # The conversation's language wins; the customer's name is text, never a variable.
        ("shared", "hello", "Вітаю, {{ manager.name }} <b>Rita</b> Roe!"),
        # Only this source's reply, in another language since there is no other.
        ("shared", "ship", "Shop shipping"),
    ]

    # Without customers.view the email is not filled in: it stays a visible variable.
    viewer_id = make_staff(app, "Rex Replier", "chats.view,chats.reply")
    from gincore_chats.models import Source
    from gincore_chats.services import sources
    from gincore_chats.services.unit_of_work import unit_of_work

    with app.app_context():
        state = app.extensions["gincore_chats"]
        with unit_of_work(state.session):
            sources.do_set_employees(
                state, state.session.get(Source, shop), [manager_id, viewer_id]
            )
        state.session.remove()
    rex = Console(live_server, viewer_id)
    create(rex, shortcut="mail", text="Sent to {{ customer.email }}, {{ customer.first_name }}")
    [rexs] = [
        p
        for p in rex.api("GET", f"/conversations/{conv}/canned").json()["responses"]
        if p["scope"] == "personal"
    ]
    # The first word of that name is "{{": text, not the start of a variable.
    assert rexs["filled"] == "Sent to {{ customer.email }}, {{"
    outsider = Console(live_server, make_staff(app, "Otto Outsider", ALL_PERMS))
    assert outsider.api("GET", f"/conversations/{conv}/canned").status_code == 403


def test_shared_replies_settings_page_is_for_admins(app, live_server, admin_id, manager_id):
    url = f"{live_server.url}/chats/settings/canned"
    mia = Console(live_server, manager_id)
    assert mia.http.get(url).status_code == 403
    admin = Console(live_server, admin_id)
    page = admin.http.get(url)
    assert page.status_code == 200 and "{{ customer.name }}" in page.text
    token = form_token(page.text)
    r = admin.http.post(url, data={"shortcut": "x", "text": "y"})
    assert r.status_code == 400 and "CSRF" in r.text
    r = admin.http.post(url, data={"csrf_token": token, "shortcut": "bad shortcut", "text": "y"})
    assert r.status_code == 400 and "The shortcut is 1 to 32" in r.text
    assert 'value="bad shortcut"' in r.text  # nothing typed is lost
    r = admin.http.post(
        url,
        data={"csrf_token": token, "shortcut": "thanks", "text": "<script>x</script>"},
        allow_redirects=False,
    )
    assert r.status_code == 302
    page = admin.http.get(url).text
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x</script>" not in page
    [shared] = [x for x in mia.api("GET", "/canned").json()["responses"]]
    assert (shared["scope"], shared["shortcut"]) == ("shared", "thanks")
    r = admin.http.post(f"{url}/{shared['id']}/delete", data={"csrf_token": token})
    assert r.status_code == 200  # redirected to the page
    assert mia.api("GET", "/canned").json()["responses"] == []


def test_a_manager_manages_own_replies_on_the_saved_replies_page(app, live_server, manager_id):
    url = f"{live_server.url}/chats/console/replies"
    mia = Console(live_server, manager_id)
    page = mia.http.get(url)
    assert page.status_code == 200 and "You have no saved replies yet." in page.text
    token = form_token(page.text)
    r = mia.http.post(url, data={"csrf_token": token, "shortcut": "bye", "text": "Bye!"})
    assert r.status_code == 200 and "/bye" in r.text
    [reply] = mia.api("GET", "/canned").json()["responses"]
    r = mia.http.post(
        f"{url}/{reply['id']}", data={"csrf_token": token, "shortcut": "bye", "text": "Goodbye!"}
    )
    assert r.status_code == 200
    assert mia.api("GET", "/canned").json()["responses"][0]["text"] == "Goodbye!"
    colin = Console(live_server, make_staff(app, "Colin Colleague", ALL_PERMS))
    r = colin.http.post(
        f"{url}/{reply['id']}/delete", data={"csrf_token": colin.csrf}, allow_redirects=False
    )
    assert r.status_code == 404
    assert len(mia.api("GET", "/canned").json()["responses"]) == 1


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        (
            "Hi {{ customer.name }}",
            {"customer.name": "{{ manager.name }}"},
            "Hi {{ manager.name }}",
        ),
        ("{{customer.name}}/{{  customer.name  }}", {"customer.name": "A"}, "A/A"),
        ("{{ customer.email }}", {"customer.email": None}, "{{ customer.email }}"),
        (
            "{{ customer.__class__ }} {{ 7*7 }} {% if x %}",
            {},
            "{{ customer.__class__ }} {{ 7*7 }} {% if x %}",
        ),
    ],
)
def test_the_substituter_replaces_known_values_once_and_leaves_the_rest(text, values, expected):
    from gincore_chats.services.canned import variables

    assert variables.fill(text, values) == expected
