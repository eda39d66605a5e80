"""Identity from the host: signed widget identities, one contact per host user, link_contact,
the customer_loader hook and contact signals (docs/identity.rst)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from typing import Any

import requests

from gincore_chats import contact_created, contact_updated
from gincore_chats.models import Contact, ContactMergeSuggestion, Source
from gincore_chats.services.contacts import host_identity
from gincore_chats.services.unit_of_work import unit_of_work

from .conftest import Console, Visitor, create_source, make_staff


def make_secret(app: Any, source_id: int) -> str:
    with app.app_context():
        state = app.extensions["gincore_chats"]
        with unit_of_work(state.session):
            source = state.session.get(Source, source_id)
            return host_identity.do_rotate_identity_secret(state, source)


def signed(secret: str, **claims: Any) -> dict[str, str]:
    """What a host computes, written out independently of the library's own helpers."""
    raw = json.dumps(claims).encode()
    payload = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    sig = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return {"payload": payload, "signature": sig}


def open_with(visitor: Visitor, identity: Any, **context: Any) -> requests.Response:
    body = {
        "key": visitor.key,
        "context": {"url": "https://shop.example.com/", "language": "en", **context},
        "identity": identity,
    }
    r = requests.post(
        f"{visitor.server.url}/chats/widget/api/conversations", json=body, headers=visitor.headers()
    )
    if r.status_code == 201:
        visitor.token = r.json()["token"]
    return r


def contact_of(app: Any, conversation_id: int) -> Contact:
    with app.app_context():
        from gincore_chats.models import Conversation

        state = app.extensions["gincore_chats"]
        conv = state.session.get(Conversation, conversation_id)
        contact = conv.contact
        state.session.expunge(contact)
        return contact


def test_signed_identity_on_two_devices_reaches_one_contact(app, live_server, manager_id):
    source_id, key = create_source(app, ["shop.example.com"], [manager_id])
    secret = make_secret(app, source_id)
    identity = signed(
        secret,
        user_id="u-42",
        name="Olga Host",
        email="olga@example.com",
        attributes={"plan": "pro"},
        exp=int(time.time()) + 600,
    )
    laptop, phone = Visitor(live_server, key), Visitor(live_server, key)
    first = open_with(laptop, identity)
    second = open_with(phone, identity)
    assert first.status_code == second.status_code == 201, first.text
    assert first.json()["identity"] == {"verified": True, "user_id": "u-42"}
    a = contact_of(app, first.json()["conversation_id"])
    b = contact_of(app, second.json()["conversation_id"])
    assert a.id == b.id and a.host_user_id == "u-42" and a.verified_at is not None
    assert (a.name, a.email, a.custom_fields) == ("Olga Host", "olga@example.com", {"plan": "pro"})

    console = Console(live_server, manager_id)
    detail = console.api("GET", f"/conversations/{second.json()['conversation_id']}").json()
    listed = {c["id"] for c in detail["customer_conversations"]}
    assert listed == {first.json()["conversation_id"], second.json()["conversation_id"]}
    assert detail["contact"]["verified"] is True and detail["contact"]["host_user_id"] == "u-42"


def test_forged_expired_and_missing_signatures_stay_anonymous(app, live_server, manager_id):
    source_id, key = create_source(app, ["shop.example.com"], [manager_id])
    secret = make_secret(app, source_id)
    good = signed(secret, user_id="u-1", name="Real")
    forged_sig = {**good, "signature": "0" * 64}
    other_secret = signed("not-the-secret", user_id="u-1", name="Real")
    tampered = {**signed(secret, user_id="u-2"), "payload": good["payload"] + "x"}
    expired = signed(secret, user_id="u-1", exp=int(time.time()) - 5)
    cases = [
        (forged_sig, "identity_invalid"),
        (other_secret, "identity_invalid"),
        (tampered, "identity_invalid"),
        (expired, "identity_expired"),
        ({"payload": good["payload"]}, "identity_missing"),
        ("u-1", "identity_malformed"),
    ]
    for identity, code in cases:
        r = open_with(Visitor(live_server, key), identity)
        # The chat opens all the same: the visitor is anonymous, nothing is lost.
        assert r.status_code == 201, r.text
        answer = r.json()["identity"]
        assert answer["verified"] is False and answer["code"] == code, (identity, answer)
        assert answer["error"]
        contact = contact_of(app, r.json()["conversation_id"])
        assert contact.host_user_id is None and contact.verified_at is None
    with app.app_context():
        state = app.extensions["gincore_chats"]
        assert state.session.query(Contact).filter(Contact.host_user_id.is_not(None)).count() == 0


def test_source_without_a_secret_accepts_no_identity(app, live_server, manager_id):
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    r = open_with(Visitor(live_server, key), signed("anything", user_id="u-1"))
    assert r.status_code == 201
    assert r.json()["identity"]["code"] == "identity_not_configured"


def test_rotated_secret_stops_old_signatures(app, live_server, manager_id):
    source_id, key = create_source(app, ["shop.example.com"], [manager_id])
    old = make_secret(app, source_id)
    make_secret(app, source_id)
    r = open_with(Visitor(live_server, key), signed(old, user_id="u-1"))
    assert r.json()["identity"]["code"] == "identity_invalid"


def test_unsigned_claim_never_overrides_a_verified_contact(app, live_server, manager_id):
    source_id, key = create_source(app, ["shop.example.com"], [manager_id])
    secret = make_secret(app, source_id)
    visitor = Visitor(live_server, key)
    r = open_with(visitor, signed(secret, user_id="u-7", name="Verified Name"))
    conv_id = r.json()["conversation_id"]
    # The widget's own form: the visitor may fill in what is empty, not replace what the
    # host vouched for.
    answer = visitor.api("PATCH", "/contact", {"name": "Someone Else", "email": "v@example.com"})
    assert answer.status_code == 200, answer.text
    contact = contact_of(app, conv_id)
    assert contact.name == "Verified Name" and contact.email == "v@example.com"
    # A signed identity still updates it.
    open_with(Visitor(live_server, key), signed(secret, user_id="u-7", name="New Verified"))
    assert contact_of(app, conv_id).name == "New Verified"


def test_anonymous_visitor_giving_a_verified_email_is_offered_as_a_merge(
    app, live_server, manager_id
):
    source_id, key = create_source(app, ["shop.example.com"], [manager_id])
    secret = make_secret(app, source_id)
    r = open_with(Visitor(live_server, key), signed(secret, user_id="u-9", email="p@example.com"))
    verified_id = contact_of(app, r.json()["conversation_id"]).id
    anonymous = Visitor(live_server, key)
    anon_conv = anonymous.open().json()["conversation_id"]
    assert anonymous.api("PATCH", "/contact", {"email": "p@example.com"}).status_code == 200
    console = Console(live_server, manager_id)
    detail = console.api("GET", f"/conversations/{anon_conv}").json()
    [suggestion] = detail["customer_suggestions"]
    assert suggestion["reason"] == "same_email" and suggestion["other"]["id"] == verified_id


def test_restored_anonymous_chat_that_signs_in_is_suggested(app, live_server, manager_id):
    source_id, key = create_source(app, ["shop.example.com"], [manager_id])
    secret = make_secret(app, source_id)
    visitor = Visitor(live_server, key)
    anon_conv = visitor.open().json()["conversation_id"]
    r = visitor.api("POST", "/identity", signed(secret, user_id="u-3", name="Signed In"))
    assert r.status_code == 200, r.text
    assert r.json()["identity"]["outcome"] == "suggested"
    # A forged claim for the same chat is refused with the reason.
    bad = visitor.api("POST", "/identity", {**signed(secret, user_id="u-3"), "signature": "ab"})
    assert bad.status_code == 400 and bad.json()["code"] == "identity_invalid"
    with app.app_context():
        state = app.extensions["gincore_chats"]
        rows = state.session.query(ContactMergeSuggestion).all()
        assert [(s.contact_id, s.reason) for s in rows] == [
            (contact_of(app, anon_conv).id, "same_identity")
        ]
    # Another user of the site in the same browser: the widget must start a new chat.
    signed_visitor = Visitor(live_server, key)
    open_with(signed_visitor, signed(secret, user_id="u-4"))
    other = signed_visitor.api("POST", "/identity", signed(secret, user_id="u-5"))
    assert other.status_code == 409 and other.json()["identity"]["outcome"] == "other_user"


def test_link_contact_api_cli_signals_and_customer_loader(
    app, live_server, manager_id, monkeypatch
):
    created: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []

    def on_created(sender: Any, **kw: Any) -> None:
        created.append(kw)

    def on_updated(sender: Any, **kw: Any) -> None:
        updated.append(kw)

    contact_created.connect(on_created)
    contact_updated.connect(on_updated)
    try:
        from tests.hostapp import chats

        with app.app_context():
            contact_id = chats.link_contact("crm-1", name="Imported", email="imp@example.com")
            assert chats.link_contact("crm-1", phone="+15550001") == contact_id
        runner = app.test_cli_runner()
        result = runner.invoke(
            args=["chats", "contacts", "link", "crm-1", "--attributes", '{"tier": "gold"}']
        )
        assert result.exit_code == 0, result.output
        assert f"Updated contact {contact_id}" in result.output
        bad = runner.invoke(args=["chats", "contacts", "link", "crm-2", "--attributes", "[1]"])
        assert bad.exit_code != 0 and "JSON object" in bad.output
    finally:
        contact_created.disconnect(on_created)
        contact_updated.disconnect(on_updated)
    assert created == [{"contact_id": contact_id, "host_user_id": "crm-1"}]
    assert [u["fields"] for u in updated] == [["phone"], ["custom_fields"]]

    # The host's profile of the customer, for the panel, as text.
    source_id, key = create_source(app, ["shop.example.com"], [manager_id])
    secret = make_secret(app, source_id)
    state = app.extensions["gincore_chats"]
    monkeypatch.setattr(
        state.hooks,
        "customer",
        lambda uid: (
            [("Orders", 3), ("Plan", "<b>pro</b>"), ("Skipped", None)] if uid == "crm-1" else None
        ),
    )
    r = open_with(Visitor(live_server, key), signed(secret, user_id="crm-1"))
    conv_id = r.json()["conversation_id"]
    assert contact_of(app, conv_id).id == contact_id
    detail = Console(live_server, manager_id).api("GET", f"/conversations/{conv_id}").json()
    assert detail["customer_host_profile"] == [
        {"label": "Orders", "value": "3"},
        {"label": "Plan", "value": "<b>pro</b>"},
    ]
    assert detail["contact"]["custom_fields"] == {"tier": "gold"}


def test_admin_rotates_the_secret_in_source_settings(app, live_server, manager_id):
    admin = make_staff(app, "Ada Admin", "chats.view,chats.admin")
    source_id, _key = create_source(app, ["shop.example.com"], [manager_id])
    console = Console(live_server, admin)
    page = console.http.get(f"{live_server.url}/chats/settings/sources/{source_id}")
    assert "Identity verification" in page.text and 'id="identity-secret"' not in page.text
    url = f"{live_server.url}/chats/settings/sources/{source_id}/identity-secret"
    assert console.http.post(url, data={}).status_code in (400, 403)  # no CSRF token
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = console.http.post(url, data={"csrf_token": token}, allow_redirects=False)
    assert r.status_code == 302
    page = console.http.get(f"{live_server.url}/chats/settings/sources/{source_id}")
    shown = re.search(r'id="identity-secret"[^>]*value="([^"]+)"', page.text).group(1)
    with app.app_context():
        src = app.extensions["gincore_chats"].session.get(Source, source_id)
        assert host_identity.identity_secret(app.extensions["gincore_chats"], src) == shown
        # Stored encrypted like every other secret, never in clear.
        assert shown not in (src.credentials_encrypted or "")
    # A manager without chats.admin cannot rotate it.
    manager = Console(live_server, manager_id)
    manager.http.post(url, data={"csrf_token": token})
    with app.app_context():
        src = app.extensions["gincore_chats"].session.get(Source, source_id)
        assert host_identity.identity_secret(app.extensions["gincore_chats"], src) == shown


def test_longest_host_user_id_and_payload_fit_the_columns(app, live_server, manager_id):
    source_id, key = create_source(app, ["shop.example.com"], [manager_id])
    secret = make_secret(app, source_id)
    longest = "u" * 255
    attributes = {f"field_{i:02d}": "é" * 1000 for i in range(50)}
    identity = signed(
        secret,
        user_id=longest,
        name="N" * 200,
        email="e" * 64 + "@example.com",
        phone="+" + "1" * 63,
        attributes=attributes,
    )
    assert len(identity["payload"]) <= host_identity.MAX_PAYLOAD
    r = open_with(Visitor(live_server, key), identity, time_zone="America/Argentina/ComodRivadavia")
    assert r.status_code == 201 and r.json()["identity"]["verified"] is True, r.text
    contact = contact_of(app, r.json()["conversation_id"])
    assert contact.host_user_id == longest and len(contact.custom_fields) == 50
    too_long = open_with(Visitor(live_server, key), signed(secret, user_id="u" * 256))
    assert too_long.json()["identity"]["code"] == "identity_malformed"
    huge = signed(secret, user_id="u", attributes={"a": "x" * 400_000})
    assert open_with(Visitor(live_server, key), huge).json()["identity"]["code"] == (
        "identity_malformed"
    )
