"""Every platform's real payload shape with every field at its longest, end to end on PostgreSQL.

SQLite ignores ``VARCHAR(n)``; PostgreSQL refuses a longer value, and one too-long field used
to fail the whole delivery (an Instagram message id is ~300 characters: every Instagram DM was
lost). Each test posts a signed, real-format webhook to the live server, the real RQ worker
processes it, and the message, the contact and the attachment must come back whole through the
console API (platform ids, which the API does not show, are read from the database). A second
delivery of the same message must find it by its long id and store nothing new.

Lengths: where the platform documents a limit it is used (Telegram names 64, usernames 32,
captions 1024, texts 4096; WhatsApp texts 4096; Messenger texts 2000; Instagram texts 1000;
Viber texts 7000; the generic source's documented field limits). Where it documents none
(Meta message ids, display names, CDN and avatar URLs, file names, language tags), values are
far longer than the old columns: 300-character ids, 300-character names, 2000-character URLs,
255-character file names (the file-system maximum), a 35-character language tag (RFC 5646).
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
from sqlalchemy import select

from ..channels_meta.fake_graph import TOKEN, VERSION, FakeGraph
from ..channels_meta.helpers import APP_SECRET, signature
from ..conftest import Console
from .conftest import make_channel_source, run_worker, stored_credentials, webhook_url
from .fakes import TELEGRAM_TOKEN, VIBER_TOKEN, telegram_update, viber_callback

PDF = b"%PDF-1.4\n% a long-named invoice\n%%EOF\n"
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwc"
    "KDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAA"
    "AAAAAAAAAAD/2gAIAQEAAD8AKp//2Q=="
)
# A language tag as long as RFC 5646 asks implementations to support.
LANGUAGE = "sr-Latn-RS-u-ca-gregory-nu-latnxyz"
assert len(LANGUAGE) == 34


def text_of(length: int, seed: str) -> str:
    """``length`` characters, non-ASCII included (limits count characters, not bytes)."""
    unit = f"{seed} Ünïcødé текст 😀 "
    text = (unit * (length // len(unit) + 1))[:length]
    return text[:-1] + "." if text.endswith(" ") else text  # services trim whitespace


def file_name(ext: str) -> str:
    """A 255-character file name (the usual file-system maximum) ending in ``ext``."""
    stem = text_of(255 - len(ext) - 1, "Rechnung").replace(" ", "_").replace("😀", "x")
    return f"{stem}.{ext}"


def long_url(base: str, length: int = 2000) -> str:
    """A signed-CDN-looking URL of exactly ``length`` characters (the query is padding)."""
    url = f"{base}{'&' if '?' in base else '?'}_nc_ohc=" + "Ab9" * 700
    return url[:length]


def ig_mid(n: int) -> str:
    """An Instagram message id as Meta makes them: base64 of an item path, ~300 characters."""
    raw = f"ig_item:1:IGMessageID:17841405726653026:{340282366841710301244259606670290929728 + n}"
    mid = base64.b64encode((raw * 4).encode()).decode().rstrip("=")
    return ("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQx" + mid)[:300]


@dataclasses.dataclass
class Stored:
    external_ids: list[str]
    contact_external_ids: list[str]
    attachments: list[tuple[str, str, int]]


def stored(app: Any, source_id: int) -> Stored:
    """What the database holds for the source's customers (the API does not show ids)."""
    from gincore_chats.models import Attachment, Contact, Message

    with app.app_context():
        session = app.extensions["gincore_chats"].session
        try:
            messages = session.scalars(
                select(Message).where(Message.source_id == source_id).order_by(Message.id)
            ).all()
            contacts = session.scalars(select(Contact).where(Contact.source_id == source_id)).all()
            files = session.scalars(select(Attachment).order_by(Attachment.id)).all()
            return Stored(
                [str(m.external_id) for m in messages],
                [str(c.external_id) for c in contacts],
                [(a.filename, a.content_type, a.size) for a in files],
            )
        finally:
            session.remove()


def forget_deliveries(app: Any) -> None:
    """Drop the remembered delivery bytes, so a repeat reaches the database's dedup."""
    state = app.extensions["gincore_chats"]
    for key in state.redis.scan_iter(state.key("delivery", "*")):
        state.redis.delete(key)


def only_conversation(console: Console) -> dict[str, Any]:
    rows = console.api("GET", "/conversations").json()["conversations"]
    assert len(rows) == 1, rows
    return console.api("GET", f"/conversations/{rows[0]['id']}").json()


def customer_messages(detail: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in detail["messages"] if m["kind"] == "customer"]


def download(console: Console, attachment: dict[str, Any]) -> bytes:
    r = console.http.get(f"{console.server.url}/chats/console/files/{attachment['id']}")
    assert r.status_code == 200
    return r.content


@pytest.fixture
def cdn(app: Any, channels: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGraph]:
    """One fake Graph API for every Meta host, which is also the CDN files are fetched from."""
    fake = FakeGraph().start()
    monkeypatch.setattr(
        channels,
        "config",
        dataclasses.replace(
            channels.config,
            graph_api_base=fake.base_url,
            graph_api_version=VERSION,
            instagram_graph_base=fake.base_url,
        ),
    )
    yield fake
    fake.stop()


def meta_post(url: str, body: dict[str, Any]) -> requests.Response:
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature(raw)}
    return requests.post(url, data=raw, headers=headers, timeout=10)


# -- Telegram -------------------------------------------------------------------------------------


def test_telegram_longest_names_caption_language_and_file_name(
    app, live_server, channels, manager_id, fake_telegram
):
    source_id, key = make_channel_source(
        app, "telegram", {"bot_token": TELEGRAM_TOKEN}, [manager_id]
    )
    url = webhook_url(live_server, key)
    secret = stored_credentials(app, source_id)["webhook_secret"]
    first, last = text_of(64, "Anna"), text_of(64, "Kovács")  # Telegram: 1-64 characters each
    username = "anna_" + "k" * 27  # 5-32 characters
    user_id = 2**52 - 1  # "up to 52 significant bits"
    name = file_name("pdf")
    file_id = "BQACAgIAAxkBAAIEs2VkDoc" + "Z" * 60
    fake_telegram.files[file_id] = ("documents/file_99.pdf", PDF)
    person = {"first_name": first, "last_name": last, "username": username}
    update = {
        "update_id": 815600900,
        "message": {
            "message_id": 2**31 - 1,
            "from": {"id": user_id, "is_bot": False, **person, "language_code": LANGUAGE},
            "chat": {"id": user_id, **person, "type": "private"},
            "date": 1700000120,
            "document": {
                "file_name": name,
                "mime_type": "application/pdf",
                "file_id": file_id,
                "file_unique_id": "AgADxw4AAm" + "Q" * 20,
                "file_size": len(PDF),
            },
            "caption": text_of(1024, "caption"),
        },
    }
    assert telegram_update(url, update, secret).status_code == 200
    run_worker(app)
    forget_deliveries(app)
    assert telegram_update(url, {**update, "update_id": 815600901}, secret).status_code == 200
    run_worker(app)

    console = Console(live_server, manager_id)
    detail = only_conversation(console)
    contact = detail["conversation"]["contact"]
    assert (contact["name"], contact["username"], contact["language"]) == (
        f"{first} {last}",
        username,
        LANGUAGE,
    )
    [message] = customer_messages(detail)
    assert message["body"] == update["message"]["caption"]
    [attachment] = message["attachments"]
    assert (attachment["name"], attachment["type"]) == (name, "application/pdf")
    assert download(console, attachment) == PDF
    rows = stored(app, source_id)
    assert rows.external_ids == [f"{user_id}:{2**31 - 1}"]
    assert rows.contact_external_ids == [str(user_id)]
    assert rows.attachments == [(name, "application/pdf", len(PDF))]


# -- WhatsApp -------------------------------------------------------------------------------------


def test_whatsapp_long_wamid_display_name_caption_and_file_name(
    app, live_server, channels, manager_id, cdn
):
    phone_number_id, waba = "106540352242922", "102290129340398"
    credentials = {
        "access_token": TOKEN,
        "app_secret": APP_SECRET,
        "phone_number_id": phone_number_id,
        "business_account_id": waba,
    }
    source_id, key = make_channel_source(app, "whatsapp", credentials, [manager_id])
    url = webhook_url(live_server, key)
    wamid = "wamid." + base64.b64encode(b"HBgLMTY1MDUwNzY1MjAVAgASGBQ" * 9).decode()[:294]
    display_name = text_of(300, "Sheena Nelson")
    name = file_name("pdf")
    media_id = cdn.add_media(PDF, "application/pdf")
    caption = text_of(1024, "receipt")
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": phone_number_id,
                            },
                            "contacts": [
                                {"profile": {"name": display_name}, "wa_id": "491701234567890"}
                            ],
                            "messages": [
                                {
                                    "from": "491701234567890",  # E.164: at most 15 digits
                                    "id": wamid,
                                    "timestamp": "1749416500",
                                    "type": "document",
                                    "document": {
                                        "caption": caption,
                                        "filename": name,
                                        "mime_type": "application/pdf",
                                        "sha256": "grwfwe/ZPx0wAbdfbdeFUNItPZ0RylL8gGUvdt3YFqc=",
                                        "id": media_id,
                                    },
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    assert meta_post(url, body).status_code == 200
    run_worker(app)
    forget_deliveries(app)
    assert meta_post(url, body).status_code == 200
    run_worker(app)

    console = Console(live_server, manager_id)
    detail = only_conversation(console)
    contact = detail["conversation"]["contact"]
    assert (contact["name"], contact["phone"]) == (display_name, "+491701234567890")
    [message] = customer_messages(detail)
    assert message["body"] == caption
    [attachment] = message["attachments"]
    assert attachment["name"] == name and download(console, attachment) == PDF
    rows = stored(app, source_id)
    assert rows.external_ids == [wamid] and len(wamid) == 300
    assert rows.contact_external_ids == ["491701234567890"]
    assert rows.attachments == [(name, "application/pdf", len(PDF))]


# -- Viber ----------------------------------------------------------------------------------------


def test_viber_long_name_avatar_language_media_url_and_file_name(
    app, live_server, channels, manager_id, cdn
):
    source_id, key = make_channel_source(
        app, "viber", {"auth_token": VIBER_TOKEN, "sender_name": "Acme Support"}, [manager_id]
    )
    url = webhook_url(live_server, key)
    name = file_name("pdf")
    media = long_url(
        cdn.cdn_url("share/2/long/bots/generic/file/" + quote(name), PDF, "application/pdf")
    )
    avatar = long_url("https://media-direct.cdn.viber.com/download_photo?dlid=" + "d" * 40)
    sender = {
        "id": "3SQNc4FPUQmysaM/AQEhXg==",
        "name": text_of(300, "John McClane"),
        "avatar": avatar,
        "country": "GB",
        "language": LANGUAGE,
        "api_version": 10,
    }
    callback = {
        "event": "message",
        "timestamp": 1700000120456,
        "chat_hostname": "SN-CHAT-03_",
        "message_token": 2**63 - 1,  # a 64-bit integer, beyond 2**53
        "sender": sender,
        "message": {"type": "file", "media": media, "file_name": name, "file_size": len(PDF)},
        "silent": False,
    }
    text = {
        **callback,
        "message_token": 2**63 - 2,
        "message": {"type": "text", "text": text_of(7000, "Viber"), "tracking_data": "x" * 4000},
    }
    for payload in (callback, text):
        assert viber_callback(url, payload).status_code == 200
    run_worker(app)
    forget_deliveries(app)
    assert viber_callback(url, callback).status_code == 200
    run_worker(app)

    console = Console(live_server, manager_id)
    detail = only_conversation(console)
    contact = detail["conversation"]["contact"]
    assert (contact["name"], contact["avatar_url"], contact["language"]) == (
        sender["name"],
        avatar,
        LANGUAGE,
    )
    file_message, text_message = customer_messages(detail)
    assert text_message["body"] == text["message"]["text"]
    assert file_message["body"] == f"[file: {name}]"
    [attachment] = file_message["attachments"]
    assert attachment["name"] == name and download(console, attachment) == PDF
    assert file_message["system_data"]["media"][0]["ref"] == media
    rows = stored(app, source_id)
    assert rows.external_ids == [str(2**63 - 1), str(2**63 - 2)]
    assert rows.contact_external_ids == [sender["id"]]


# -- Messenger ------------------------------------------------------------------------------------


def test_messenger_long_mid_profile_and_attachment_urls(
    app, live_server, channels, manager_id, cdn
):
    page_id, psid = "106540352242922", "6783234567890123"
    credentials = {"page_access_token": TOKEN, "app_secret": APP_SECRET, "page_id": page_id}
    source_id, key = make_channel_source(app, "messenger", credentials, [manager_id])
    url = webhook_url(live_server, key)
    first, last = text_of(150, "Peter"), text_of(150, "Chang")
    picture = long_url("https://platform-lookaside.fbsbx.com/platform/profilepic/?psid=" + psid)
    cdn.profiles[psid] = {"first_name": first, "last_name": last, "profile_pic": picture}
    name = file_name("pdf")
    image = long_url(cdn.cdn_url("12345_n.jpg", JPEG, "image/jpeg"))
    document = long_url(cdn.cdn_url(quote(name), PDF, "application/pdf"))
    mid = "m_" + ig_mid(1)[2:]
    body = {
        "object": "page",
        "entry": [
            {
                "id": page_id,
                "time": 1518479195594,
                "messaging": [
                    {
                        "sender": {"id": psid},
                        "recipient": {"id": page_id},
                        "timestamp": 1518479195308,
                        "message": {
                            "mid": mid,
                            "text": text_of(2000, "Messenger"),
                            "attachments": [
                                {"type": "image", "payload": {"url": image}},
                                {"type": "file", "payload": {"url": document}},
                            ],
                        },
                    }
                ],
            }
        ],
    }
    assert meta_post(url, body).status_code == 200
    run_worker(app)
    forget_deliveries(app)
    assert meta_post(url, body).status_code == 200
    run_worker(app)

    console = Console(live_server, manager_id)
    detail = only_conversation(console)
    contact = detail["conversation"]["contact"]
    assert (contact["name"], contact["avatar_url"]) == (f"{first} {last}", picture)
    [message] = customer_messages(detail)
    assert message["body"] == body["entry"][0]["messaging"][0]["message"]["text"]
    photo, pdf = message["attachments"]
    assert download(console, photo) == JPEG
    assert pdf["name"] == name and download(console, pdf) == PDF
    assert [m["ref"] for m in message["system_data"]["media"]] == [image, document]
    rows = stored(app, source_id)
    assert rows.external_ids == [mid] and len(mid) == 300
    assert rows.contact_external_ids == [psid]


# -- Instagram ------------------------------------------------------------------------------------


def test_instagram_dms_with_300_character_mids_are_stored(
    app, live_server, channels, manager_id, cdn
):
    account, igsid = "17841405726653026", "1234567890123456"
    credentials = {
        "access_token": TOKEN,
        "app_secret": APP_SECRET,
        "instagram_account_id": account,
    }
    source_id, key = make_channel_source(app, "instagram", credentials, [manager_id])
    url = webhook_url(live_server, key)
    picture = long_url("https://scontent-vie1-1.cdninstagram.com/v/t51.2885-19/4.jpg?stp=dst-jpg")
    profile = {"name": text_of(300, "Lena Gruber"), "username": "lena." + "g" * 25}
    cdn.profiles[igsid] = {**profile, "profile_pic": picture}
    image = long_url(cdn.cdn_url("ig_messaging_cdn", JPEG, "image/jpeg"))
    text_mid, image_mid = ig_mid(1), ig_mid(2)

    def event(mid: str, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "sender": {"id": igsid},
            "recipient": {"id": account},
            "timestamp": 1700000060123,
            "message": {"mid": mid, **message},
        }

    body = {
        "object": "instagram",
        "entry": [
            {
                "id": account,
                "time": 1700000060500,
                "messaging": [
                    event(text_mid, {"text": text_of(1000, "Instagram")}),
                    event(
                        image_mid,
                        {
                            "attachments": [{"type": "image", "payload": {"url": image}}],
                            "reply_to": {"mid": text_mid},
                        },
                    ),
                ],
            }
        ],
    }
    assert meta_post(url, body).status_code == 200
    run_worker(app)
    forget_deliveries(app)
    assert meta_post(url, body).status_code == 200
    run_worker(app)

    console = Console(live_server, manager_id)
    detail = only_conversation(console)
    contact = detail["conversation"]["contact"]
    assert (contact["name"], contact["username"], contact["avatar_url"]) == (
        profile["name"],
        profile["username"],
        picture,
    )
    text_message, image_message = customer_messages(detail)
    assert text_message["body"] == body["entry"][0]["messaging"][0]["message"]["text"]
    assert image_message["quoted"]["id"] == text_message["id"]  # found by its 300-character mid
    [photo] = image_message["attachments"]
    assert download(console, photo) == JPEG
    rows = stored(app, source_id)
    assert rows.external_ids == [text_mid, image_mid]
    assert {len(text_mid), len(image_mid)} == {300}
    assert rows.contact_external_ids == [igsid]


# -- the generic source ---------------------------------------------------------------------------


def test_generic_source_at_every_documented_limit(app, live_server, channels, manager_id, cdn):
    from gincore_chats.channels.generic import parse

    source_id, key = make_channel_source(app, "generic", {}, [manager_id], name="CRM")
    url = webhook_url(live_server, key)
    secret = stored_credentials(app, source_id)["secret"]
    name = file_name("pdf")
    sender = {
        "id": "c" * parse.ID_LIMIT,
        "name": text_of(parse.NAME_LIMIT, "Anna"),
        "username": text_of(parse.NAME_LIMIT, "anna"),
        "language": LANGUAGE + "x",
        "avatar_url": long_url("https://cdn.example.com/a.png", parse.URL_LIMIT),
        "phone": "+" + "4" * (parse.PHONE_LIMIT - 1),
    }
    assert len(sender["language"]) == parse.LANGUAGE_LIMIT
    message = {
        "id": "m" * parse.ID_LIMIT,
        "sender": sender,
        "text": text_of(channels.config.max_message_length, "CRM"),
        "attachments": [
            {
                "type": "file",
                "url": long_url(cdn.cdn_url(quote(name), PDF, "application/pdf"), parse.URL_LIMIT),
                "filename": name,
                "mime_type": "application/" + "x" * (parse.MIME_LIMIT - 12),
                "size": len(PDF),
            }
        ],
    }
    raw = json.dumps({"messages": [message]}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {secret}"}
    assert requests.post(url, data=raw, headers=headers, timeout=10).status_code == 200
    run_worker(app)
    forget_deliveries(app)
    assert requests.post(url, data=raw, headers=headers, timeout=10).status_code == 200
    run_worker(app)

    console = Console(live_server, manager_id)
    detail = only_conversation(console)
    contact = detail["conversation"]["contact"]
    for field in ("name", "username", "language", "avatar_url", "phone"):
        assert contact[field] == sender[field], field
    [stored_message] = customer_messages(detail)
    assert stored_message["body"] == message["text"]
    [attachment] = stored_message["attachments"]
    assert attachment["name"] == name and download(console, attachment) == PDF
    rows = stored(app, source_id)
    assert rows.external_ids == [message["id"]]
    assert rows.contact_external_ids == [sender["id"]]
