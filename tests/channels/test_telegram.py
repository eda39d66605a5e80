"""Telegram end to end against a fake Bot API: webhook in, console, replies out, retries."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from gincore_chats.channels.base import (
    ChannelError,
    HeaderDict,
    OutboundAttachment,
    OutboundMessage,
)

from ..conftest import Console
from .conftest import (
    count_rows,
    make_channel_source,
    pending_jobs,
    run_worker,
    stored_credentials,
    webhook_url,
    work_until,
)
from .fakes import TELEGRAM_TOKEN, telegram_update
from .payloads import DOCUMENT, LOCATION, PHOTO, STICKER, TEXT


def update(message_id: int, text: str, update_id: int | None = None) -> dict[str, Any]:
    data = copy.deepcopy(TEXT)
    data["update_id"] = update_id or 815600100 + message_id
    data["message"]["message_id"] = message_id
    data["message"]["text"] = text
    return data


@pytest.fixture
def telegram(app, channels, live_server, manager_id):
    """A Telegram source with the manager assigned: (source id, webhook URL, secret)."""
    source_id, key = make_channel_source(
        app, "telegram", {"bot_token": TELEGRAM_TOKEN}, [manager_id], name="Acme bot"
    )
    secret = stored_credentials(app, source_id)["webhook_secret"]
    return source_id, webhook_url(live_server, key), secret


def conversation_of(console: Console) -> dict[str, Any]:
    rows = console.api("GET", "/conversations").json()["conversations"]
    assert len(rows) == 1, rows
    return console.api("GET", f"/conversations/{rows[0]['id']}").json()


def bodies(detail: dict[str, Any], kind: str = "customer") -> list[str]:
    return [m["body"] for m in detail["messages"] if m["kind"] == kind]


# -- the adapter on its own -------------------------------------------------------------------


def test_secret_header_is_compared_exactly():
    from gincore_chats.channels.telegram import TelegramChannel

    adapter = TelegramChannel()
    creds = {"webhook_secret": "k3y_F0r-Channel_42"}
    body = b'{"update_id": 1}'
    ok = HeaderDict({"X-Telegram-Bot-Api-Secret-Token": "k3y_F0r-Channel_42"})
    assert adapter.verify(creds, ok, body)
    assert adapter.verify(
        creds, HeaderDict({"x-telegram-bot-api-secret-token": "k3y_F0r-Channel_42"}), body
    )
    assert not adapter.verify(
        creds, HeaderDict({"X-Telegram-Bot-Api-Secret-Token": "k3y_F0r"}), body
    )
    assert not adapter.verify(creds, HeaderDict(), body)
    assert not adapter.verify({}, ok, body)  # no secret stored: nothing is accepted


def test_parse_the_documented_updates():
    import json

    from gincore_chats.channels.telegram import TelegramChannel

    parse = TelegramChannel().parse
    text = parse(json.dumps(TEXT).encode()).messages[0]
    assert text.external_id == "987654321:1201"
    assert text.sender.id == "987654321" and text.sender.name == "Anna Kovacs"
    assert (text.sender.username, text.sender.language) == ("anna_k", "en")
    photo = parse(json.dumps(PHOTO).encode()).messages[0]
    assert photo.text == "This is the damaged box"
    assert photo.media[0].kind == "image" and photo.media[0].ref == "AgACAgIAAxkBAAIEsmVkPhoto1280"
    doc = parse(json.dumps(DOCUMENT).encode()).messages[0]
    assert (doc.media[0].kind, doc.media[0].filename, doc.media[0].mime_type) == (
        "file",
        "invoice-5521.pdf",
        "application/pdf",
    )
    assert parse(json.dumps(STICKER).encode()).messages[0].fallback_text == "[sticker 👍]"
    assert "48.2082, 16.3738" in parse(json.dumps(LOCATION).encode()).messages[0].fallback_text
    edited = {"update_id": 9, "edited_message": {**TEXT["message"], "text": "order #5522"}}
    assert parse(json.dumps(edited).encode()).edits[0].text == "order #5522"
    kicked = {"update_id": 10, "my_chat_member": {"new_chat_member": {"status": "kicked"}}}
    assert parse(json.dumps(kicked).encode()).ignored == ("my_chat_member:kicked",)  # no chat
    blocked = {
        "update_id": 11,
        "my_chat_member": {
            "chat": TEXT["message"]["chat"],
            "from": TEXT["message"]["from"],
            "date": 1700000300,
            "old_chat_member": {"user": {"id": 1, "is_bot": True}, "status": "member"},
            "new_chat_member": {"user": {"id": 1, "is_bot": True}, "status": "kicked"},
        },
    }
    [change] = parse(json.dumps(blocked).encode()).reachability
    assert (change.user_id, change.reachable, change.at.timestamp()) == (
        "987654321",
        False,
        1700000300,
    )
    blocked["my_chat_member"]["new_chat_member"]["status"] = "member"
    assert parse(json.dumps(blocked).encode()).reachability[0].reachable is True


# -- webhook in --------------------------------------------------------------------------------


def test_wrong_or_missing_secret_is_refused_and_nothing_stored(app, telegram):
    from gincore_chats.models import InboundEvent, Message

    _, url, secret = telegram
    assert telegram_update(url, TEXT, "not-the-secret").status_code == 403
    assert telegram_update(url, TEXT, None).status_code == 403
    assert telegram_update(url + "x", TEXT, secret).status_code == 404
    assert count_rows(app, InboundEvent) == 0
    assert pending_jobs(app) == 0
    run_worker(app)
    assert count_rows(app, Message) == 0


def test_customer_message_reaches_the_console_with_what_telegram_tells(
    app, live_server, telegram, manager_id
):
    _, url, secret = telegram
    r = telegram_update(url, TEXT, secret)
    assert r.status_code == 200 and r.json()["ok"] is True
    console = Console(live_server, manager_id)
    assert console.api("GET", "/conversations").json()["conversations"] == []  # not yet processed
    run_worker(app)
    detail = conversation_of(console)
    assert detail["conversation"]["source_kind"] == "telegram"
    contact = detail["conversation"]["contact"]
    assert (contact["name"], contact["username"], contact["language"]) == (
        "Anna Kovacs",
        "anna_k",
        "en",
    )
    assert bodies(detail) == ["Hi, my order #5521 has not arrived"]


def test_the_same_update_delivered_three_times_stores_one_message(
    app, live_server, telegram, manager_id
):
    from gincore_chats.models import Contact, Conversation, InboundEvent, Message

    _, url, secret = telegram
    answers = [telegram_update(url, TEXT, secret) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert len({r.json()["event_id"] for r in answers}) == 1  # repeats get the first answer
    assert count_rows(app, InboundEvent) == 1
    run_worker(app)
    # A repeat days later (the bytes are no longer remembered) is stored, yet adds no message.
    state = app.extensions["gincore_chats"]
    for key in state.redis.scan_iter(state.key("delivery", "*")):
        state.redis.delete(key)
    assert telegram_update(url, TEXT, secret).status_code == 200
    run_worker(app)
    assert count_rows(app, InboundEvent) == 2
    assert count_rows(app, Message) == 1
    assert count_rows(app, Contact) == 1 and count_rows(app, Conversation) == 1
    # The next message from the same person lands in the same conversation.
    telegram_update(url, update(1300, "Any news?"), secret)
    run_worker(app)
    detail = conversation_of(Console(live_server, manager_id))
    assert bodies(detail) == ["Hi, my order #5521 has not arrived", "Any news?"]


def test_photos_files_stickers_and_locations_arrive_as_something_sensible(
    app, live_server, telegram, manager_id, fake_telegram
):
    _, url, secret = telegram
    for item in (PHOTO, DOCUMENT, STICKER, LOCATION):
        assert telegram_update(url, item, secret).status_code == 200
    run_worker(app)
    detail = conversation_of(Console(live_server, manager_id))
    messages = [m for m in detail["messages"] if m["kind"] == "customer"]
    assert [m["body"] for m in messages[:3]] == [
        "This is the damaged box",
        "[file: invoice-5521.pdf]",
        "[sticker 👍]",
    ]
    assert messages[3]["body"].startswith("📍 Location: 48.2082, 16.3738")
    photo_media = messages[0]["system_data"]["media"][0]
    assert photo_media["kind"] == "image" and photo_media["ref"].endswith("Photo1280")
    assert messages[1]["system_data"]["media"][0]["mime_type"] == "application/pdf"
    # The reference is enough to fetch the bytes later (getFile + download; token never shown).
    from gincore_chats.channels.base import InboundMedia
    from gincore_chats.channels.telegram import TelegramChannel

    state = app.extensions["gincore_chats"]
    ref = messages[1]["system_data"]["media"][0]
    media = InboundMedia(
        kind=ref["kind"],
        ref=ref["ref"],
        mime_type=ref["mime_type"],
        filename=ref["filename"],
        size=ref["size"],
    )
    got = TelegramChannel().fetch_media(
        state.config.channels, {"bot_token": TELEGRAM_TOKEN}, media, 10_000
    )
    assert got.data == b"%PDF-1.4 invoice 5521" and got.filename == "invoice-5521.pdf"
    assert TELEGRAM_TOKEN not in str(detail)
    # The worker already stored the file in the chat's storage: managers download it from us.
    [stored] = messages[1]["attachments"]
    assert (stored["name"], stored["type"]) == ("invoice-5521.pdf", "application/pdf")
    assert messages[1]["system_data"]["media"][0]["stored"] == stored["id"]
    download = Console(live_server, manager_id).http.get(
        f"{live_server.url}/chats/console/files/{stored['id']}"
    )
    assert download.content == b"%PDF-1.4 invoice 5521"


def test_an_edit_on_telegram_changes_the_stored_message(app, live_server, telegram, manager_id):
    _, url, secret = telegram
    telegram_update(url, TEXT, secret)
    edited = {"update_id": 815600099, "edited_message": {**TEXT["message"], "text": "order #5522"}}
    telegram_update(url, edited, secret)
    run_worker(app)
    detail = conversation_of(Console(live_server, manager_id))
    message = detail["messages"][-1]
    assert message["body"] == "order #5522" and message["edited_at"]


# -- replies out -----------------------------------------------------------------------------------


def joined_console(app, live_server, url, secret, manager_id) -> tuple[Console, int]:
    telegram_update(url, TEXT, secret)
    run_worker(app)
    console = Console(live_server, manager_id)
    conv_id = conversation_of(console)["conversation"]["id"]
    assert console.api("POST", f"/conversations/{conv_id}/join").status_code == 200
    return console, conv_id


def reply(console: Console, conv_id: int, text: str, **extra: Any) -> dict[str, Any]:
    import uuid

    r = console.api(
        "POST",
        f"/conversations/{conv_id}/messages",
        {"body": text, "client_id": str(uuid.uuid4()), **extra},
    )
    assert r.status_code == 201, r.text
    return r.json()["message"]


def message_state(console: Console, conv_id: int, message_id: int) -> dict[str, Any]:
    detail = console.api("GET", f"/conversations/{conv_id}").json()
    return next(m for m in detail["messages"] if m["id"] == message_id)


def test_a_reply_goes_out_through_sendmessage_and_edits_and_deletes_follow(
    app, live_server, telegram, manager_id, fake_telegram
):
    _, url, secret = telegram
    console, conv_id = joined_console(app, live_server, url, secret, manager_id)
    customer_id = conversation_of(console)["messages"][0]["id"]
    sent = reply(
        console, conv_id, "Hello Anna, I'm checking order #5521 now.", quoted_message_id=customer_id
    )
    assert sent["delivery_status"] == "pending" and sent["edits_reach_customer"] is True
    assert fake_telegram.calls("sendMessage") == []  # the job sends, not the request
    run_worker(app)
    [call] = fake_telegram.calls("sendMessage")
    assert call.params["chat_id"] == 987654321  # a number, as Telegram's ids are
    assert call.params["text"] == "Hello Anna, I'm checking order #5521 now."
    assert call.params["reply_to_message_id"] == 1201
    state = message_state(console, conv_id, sent["id"])
    assert state["delivery_status"] == "sent" and state["delivery_error"] is None

    r = console.api(
        "PATCH",
        f"/conversations/{conv_id}/messages/{sent['id']}",
        {"body": "Order #5521 ships today."},
    )
    assert r.status_code == 200
    run_worker(app)
    [edit] = fake_telegram.calls("editMessageText")
    assert edit.params["text"] == "Order #5521 ships today."
    assert (edit.params["chat_id"], edit.params["message_id"]) == (987654321, 5000)

    assert (
        console.api("DELETE", f"/conversations/{conv_id}/messages/{sent['id']}").status_code == 200
    )
    run_worker(app)
    [delete] = fake_telegram.calls("deleteMessage")
    assert (delete.params["chat_id"], delete.params["message_id"]) == (987654321, 5000)
    assert message_state(console, conv_id, sent["id"])["delivery_error"] is None


def test_a_rate_limited_send_waits_as_long_as_telegram_says_then_succeeds(
    app, live_server, telegram, manager_id, fake_telegram
):
    _, url, secret = telegram
    console, conv_id = joined_console(app, live_server, url, secret, manager_id)
    fake_telegram.fail_next(
        "sendMessage",
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )
    sent = reply(console, conv_id, "Your parcel left the warehouse.")
    run_worker(app)
    waiting = message_state(console, conv_id, sent["id"])
    assert waiting["delivery_status"] == "pending"
    assert waiting["delivery_error"] == "Retrying: Too Many Requests: retry after 1"
    work_until(
        app, lambda: message_state(console, conv_id, sent["id"])["delivery_status"] == "sent"
    )
    first, second = fake_telegram.calls("sendMessage")
    assert second.at - first.at >= 1.0  # retry_after honoured, not retried at once
    assert second.params["text"] == "Your parcel left the warehouse."
    assert message_state(console, conv_id, sent["id"])["delivery_error"] is None


def test_a_blocked_bot_fails_with_telegrams_reason_and_the_manager_can_retry(
    app, live_server, telegram, manager_id, fake_telegram
):
    _, url, secret = telegram
    console, conv_id = joined_console(app, live_server, url, secret, manager_id)
    fake_telegram.fail_next(
        "sendMessage",
        403,
        {
            "ok": False,
            "error_code": 403,
            "description": "Forbidden: bot was blocked by the user",
        },
    )
    sent = reply(console, conv_id, "Are you still there?")
    run_worker(app)
    failed = message_state(console, conv_id, sent["id"])
    assert failed["delivery_status"] == "failed" and failed["can_retry"] is True
    assert failed["delivery_error"] == "Forbidden: bot was blocked by the user"
    assert pending_jobs(app) == 0  # permanent: no retry scheduled
    assert len(fake_telegram.calls("sendMessage")) == 1

    # Not a failed message: refused. The failed one: sent again.
    customer_id = conversation_of(console)["messages"][0]["id"]
    assert (
        console.api("POST", f"/conversations/{conv_id}/messages/{customer_id}/retry").status_code
        == 400
    )
    r = console.api("POST", f"/conversations/{conv_id}/messages/{sent['id']}/retry")
    assert r.status_code == 200 and r.json()["message"]["delivery_status"] == "pending"
    run_worker(app)
    assert message_state(console, conv_id, sent["id"])["delivery_status"] == "sent"
    assert len(fake_telegram.calls("sendMessage")) == 2


def test_passing_errors_back_off_and_give_up_after_the_configured_attempts(
    app, live_server, telegram, manager_id, fake_telegram
):
    _, url, secret = telegram
    console, conv_id = joined_console(app, live_server, url, secret, manager_id)
    fake_telegram.fail_next(
        "sendMessage", 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}, times=3
    )
    sent = reply(console, conv_id, "Hello?")
    work_until(
        app, lambda: message_state(console, conv_id, sent["id"])["delivery_status"] == "failed"
    )
    assert len(fake_telegram.calls("sendMessage")) == 3  # CHATS_SEND_MAX_ATTEMPTS in the fixture
    error = message_state(console, conv_id, sent["id"])["delivery_error"]
    assert error == "Bad Gateway (gave up after 3 attempts)"


def test_notes_and_widget_replies_never_go_to_telegram(
    app, live_server, telegram, manager_id, fake_telegram
):
    _, url, secret = telegram
    console, conv_id = joined_console(app, live_server, url, secret, manager_id)
    note = reply(console, conv_id, "internal: VIP customer", note=True)
    assert note["delivery_status"] is None
    run_worker(app)
    assert fake_telegram.calls("sendMessage") == []


# -- media out -------------------------------------------------------------------------------------


def test_images_go_by_url_and_files_by_multipart_upload(app, channels, fake_telegram):
    from gincore_chats.channels.telegram import TelegramChannel

    adapter = TelegramChannel()
    creds = {"bot_token": TELEGRAM_TOKEN}
    photo = OutboundAttachment(
        "image", "https://cdn.example.com/labels/return-5521.png", "label.png", "image/png"
    )
    pdf = OutboundAttachment("file", "", "invoice-5521.pdf", "application/pdf", data=b"%PDF-1.4 x")
    result = adapter.send(
        channels.config.channels,
        creds,
        OutboundMessage("987654321", "Your return label", (photo, pdf)),
    )
    [p] = fake_telegram.calls("sendPhoto")
    assert p.params["photo"] == photo.url and p.params["caption"] == "Your return label"
    [d] = fake_telegram.calls("sendDocument")
    assert d.files["document"] == ("invoice-5521.pdf", b"%PDF-1.4 x", "application/pdf")
    assert d.params["chat_id"] == "987654321" and "caption" not in d.params
    assert result.external_id == "987654321:5000"
    assert result.extra["external_ids"] == ["987654321:5000", "987654321:5001"]
    assert fake_telegram.calls("sendMessage") == []


def test_a_reply_with_a_file_is_uploaded_by_the_job(
    app, live_server, telegram, manager_id, fake_telegram
):
    """A file the manager sends in the console reaches Telegram as an upload of its bytes."""
    import uuid

    _, url, secret = telegram
    console, conv_id = joined_console(app, live_server, url, secret, manager_id)
    pdf = b"%PDF-1.4\n% invoice 42\n%%EOF\n"
    r = console.http.post(
        f"{live_server.url}/chats/console/api/conversations/{conv_id}/attachments",
        files={"file": ("invoice.pdf", pdf, "application/pdf")},
        data={"client_id": str(uuid.uuid4()), "body": "Invoice attached"},
        headers={"X-CSRF-Token": console.csrf},
    )
    assert r.status_code == 201, r.text
    sent = r.json()["message"]
    assert sent["delivery_status"] == "pending"
    run_worker(app)
    [d] = fake_telegram.calls("sendDocument")
    assert d.files["document"] == ("invoice.pdf", pdf, "application/pdf")
    assert d.params["caption"] == "Invoice attached"
    assert message_state(console, conv_id, sent["id"])["delivery_status"] == "sent"


def test_api_errors_never_carry_the_bot_token(channels):
    import dataclasses

    from gincore_chats.channels.telegram import TelegramChannel

    config = dataclasses.replace(
        channels.config.channels, telegram_api_base="http://127.0.0.1:9", timeout=1
    )
    with pytest.raises(ChannelError) as caught:
        TelegramChannel().send(config, {"bot_token": TELEGRAM_TOKEN}, OutboundMessage("1", "hi"))
    assert not caught.value.permanent and TELEGRAM_TOKEN not in str(caught.value)
    assert TELEGRAM_TOKEN not in repr(caught.value.__cause__) and caught.value.__suppress_context__


# -- settings: create, connect -----------------------------------------------------------------


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_admin_creates_a_telegram_source_and_connects_it(
    app, live_server, channels, admin_id, fake_telegram
):
    admin = Console(live_server, admin_id)
    page = admin.http.get(f"{live_server.url}/chats/settings")
    assert (
        "Connect a messenger" in page.text and "/chats/settings/channels/new/telegram" in page.text
    )
    token = form_token(page.text)
    new = f"{live_server.url}/chats/settings/channels/new/telegram"
    r = admin.http.post(
        new, data={"csrf_token": token, "name": "Support bot", "credential_bot_token": "nope"}
    )
    assert r.status_code == 400 and "not a bot token" in r.text
    r = admin.http.post(
        new,
        data={"csrf_token": token, "name": "Support bot", "credential_bot_token": TELEGRAM_TOKEN},
    )
    assert r.status_code == 200, r.text[:300]
    assert TELEGRAM_TOKEN not in r.text  # a stored secret is never shown again
    assert "stored — leave empty to keep" in r.text
    source_url = r.url
    source_id = int(source_url.rsplit("/", 1)[1])
    creds = stored_credentials(app, source_id)
    assert creds["bot_token"] == TELEGRAM_TOKEN and len(creds["webhook_secret"]) >= 32
    from gincore_chats.models import Source

    with app.app_context():
        raw = app.extensions["gincore_chats"].session.get(Source, source_id).credentials_encrypted
        app.extensions["gincore_chats"].session.remove()
    assert TELEGRAM_TOKEN not in raw  # encrypted at rest
    hook = re.search(r'id="webhook-url"[^>]* value="([^"]+)"', r.text).group(1)
    assert hook.startswith(f"{live_server.url}/chats/webhooks/")

    r = admin.http.post(f"{source_url}/connect", data={"csrf_token": token})
    assert r.status_code == 200 and "Telegram now delivers @acme_support_bot" in r.text
    assert fake_telegram.webhook["url"] == hook
    assert fake_telegram.webhook["secret_token"] == creds["webhook_secret"]
    assert "message" in fake_telegram.webhook["allowed_updates"]
    # Saving with an empty secret keeps it.
    r = admin.http.post(
        source_url,
        data={
            "csrf_token": token,
            "name": "Support bot 2",
            "active": "on",
            "credential_bot_token": "",
        },
    )
    assert r.status_code == 200 and "Saved." in r.text
    assert stored_credentials(app, source_id)["bot_token"] == TELEGRAM_TOKEN
    # What Telegram will send now is accepted.
    assert telegram_update(hook, TEXT, fake_telegram.webhook["secret_token"]).status_code == 200

    # The platform's refusal is shown.
    fake_telegram.fail_next(
        "getMe", 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
    )
    r = admin.http.post(f"{source_url}/connect", data={"csrf_token": token})
    assert r.status_code == 400 and "Telegram refused: Unauthorized" in r.text


def test_connect_calls_telegram_with_no_transaction_open(
    app, live_server, channels, admin_id, fake_telegram, database_url
):
    """A slow platform must hold no row lock and no pooled connection: while setWebhook is
    being answered, no session of the test database has a transaction open."""
    source_id, _key = make_channel_source(app, "telegram", {"bot_token": TELEGRAM_TOKEN}, [])
    engine = create_engine(database_url)
    open_during_call: list[int] = []

    def count_open_transactions() -> None:
        with engine.connect() as conn:
            open_during_call.append(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
                    )
                ).scalar_one()
            )

    fake_telegram.while_handling["setwebhook"] = count_open_transactions
    admin = Console(live_server, admin_id)
    source_url = f"{live_server.url}/chats/settings/channels/{source_id}"
    token = form_token(admin.http.get(source_url).text)
    r = admin.http.post(f"{source_url}/connect", data={"csrf_token": token})
    engine.dispose()
    assert r.status_code == 200 and "Telegram now delivers @acme_support_bot" in r.text
    assert open_during_call == [0]
    # What the call returned is stored afterwards, in its own transaction.
    assert "Last connected" in admin.http.get(source_url).text


def test_cli_creates_and_connects_a_source(app, channels, fake_telegram, manager_id):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "chats",
            "create-channel-source",
            "telegram",
            "CLI bot",
            "--credential",
            f"bot_token={TELEGRAM_TOKEN}",
            "--employee",
            manager_id,
        ]
    )
    assert result.exit_code == 0, result.output
    source_id = re.search(r"source (\d+)", result.output).group(1)
    assert "Webhook URL: " + channels.config.public_url in result.output
    result = runner.invoke(args=["chats", "connect", source_id])
    assert result.exit_code == 0, result.output
    assert fake_telegram.webhook["url"].startswith(channels.config.public_url + "/chats/webhooks/")
    bad = runner.invoke(
        args=["chats", "create-channel-source", "telegram", "x", "--credential", "token=1"]
    )
    assert bad.exit_code != 0 and "Unknown credential token" in bad.output
