"""A messenger contact merged into another one: replies still reach the platform user, and
their next message joins the contact it was merged into (docs/identity.rst)."""

from __future__ import annotations

import copy

from ..conftest import Console, Visitor, create_source
from .conftest import make_channel_source, run_worker, stored_credentials, webhook_url
from .fakes import TELEGRAM_TOKEN, telegram_update
from .payloads import TEXT
from .test_telegram import reply


def test_merged_telegram_contact_keeps_its_platform_id(
    app, channels, live_server, manager_id, fake_telegram
):
    source_id, key = make_channel_source(
        app, "telegram", {"bot_token": TELEGRAM_TOKEN}, [manager_id], name="Acme bot"
    )
    url, secret = (
        webhook_url(live_server, key),
        stored_credentials(app, source_id)["webhook_secret"],
    )
    telegram_update(url, TEXT, secret)
    run_worker(app)
    _, widget_key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(live_server, widget_key)
    web_conv = visitor.open().json()["conversation_id"]
    visitor.send("Hello from the website")

    console = Console(live_server, manager_id)
    rows = console.api("GET", "/conversations").json()["conversations"]
    tg = next(r for r in rows if r["source_id"] == source_id)
    web = console.api("GET", f"/conversations/{web_conv}").json()["contact"]["id"]
    merged = console.api("POST", f"/contacts/{web}/merge", {"other_id": tg["contact"]["id"]})
    assert merged.status_code == 201, merged.text

    assert console.api("POST", f"/conversations/{tg['id']}/join").status_code == 200
    reply(console, tg["id"], "Got it, on Telegram too")
    run_worker(app)
    [call] = fake_telegram.calls("sendMessage")
    assert call.params["chat_id"] == 987654321 and call.params["text"] == "Got it, on Telegram too"

    again = copy.deepcopy(TEXT)
    again["update_id"] += 1
    again["message"]["message_id"] += 1
    again["message"]["text"] = "One more thing"
    telegram_update(url, again, secret)
    run_worker(app)
    detail = console.api("GET", f"/conversations/{tg['id']}").json()
    assert detail["contact"]["id"] == web
    assert "One more thing" in [m["body"] for m in detail["messages"]]
    page = console.api("GET", f"/contacts/{web}").json()
    assert {c["id"] for c in page["conversations"]} == {web_conv, tg["id"]}
