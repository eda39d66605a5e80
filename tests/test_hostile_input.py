"""Hostile request bodies against every endpoint that reads one: a clear JSON 4xx, never a 500.

Each public endpoint (the widget API, the widget's upload, every kind of webhook) and each
console endpoint with a body gets the same corpus over real HTTP: unparsable JSON, ~2 KB of
nested arrays (the RecursionError that answered 500), objects nested past the depth limit, a
body over the size limit, JSON that is not an object, a declared content type that is not JSON,
bytes that are not UTF-8, and ``NaN``. Webhooks are signed correctly, so the check after the
signature is what answers; an unsigned one is refused first, and nothing is ever stored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from .channels.conftest import count_rows, make_channel_source, stored_credentials
from .conftest import Console, LiveServer, Visitor, create_source

JSON_LIMIT = 4096
WEBHOOK_LIMIT = 8192
ORIGIN = "https://shop.example.com"


@dataclasses.dataclass(frozen=True)
class Body:
    name: str
    raw: bytes
    content_type: str | None
    status: int
    code: str


def huge(limit: int) -> bytes:
    return json.dumps({"body": "x" * limit}).encode()


def corpus(limit: int) -> list[Body]:
    return [
        Body("unparsable", b'{"body": "hi"', "application/json", 400, "invalid_json"),
        Body("deep arrays", b"[" * 1100 + b"]" * 1100, "application/json", 400, "too_deep"),
        Body(
            "deep objects", b'{"a":' * 100 + b"1" + b"}" * 100, "application/json", 400, "too_deep"
        ),
        Body("too large", huge(limit), "application/json", 413, "too_large"),
        Body("an array", b"[1, 2, 3]", "application/json", 400, "not_an_object"),
        Body("a string", b'"hello"', "application/json", 400, "not_an_object"),
        Body("null", b"null", "application/json", 400, "not_an_object"),
        Body("not UTF-8", b'{"body": "\xff\xfe"}', "application/json", 400, "not_utf8"),
        Body("NaN", b'{"body": NaN, "message_id": NaN}', "application/json", 400, "invalid_json"),
        Body("infinity", b'{"tz_offset": 1e999}', "application/json", 400, "invalid_json"),
        Body("text/plain", b'{"body": "hi"}', "text/plain", 415, "unsupported_media_type"),
        Body(
            "a form",
            b"body=hi&client_id=12345678",
            "application/x-www-form-urlencoded",
            415,
            "unsupported_media_type",
        ),
    ]


@dataclasses.dataclass
class World:
    app: Any
    server: LiveServer
    visitor: Visitor
    console: Console
    conv_id: int
    message_id: int

    def widget(self, method: str, path: str) -> Callable[[Body], requests.Response]:
        def send(body: Body) -> requests.Response:
            headers = {k: v for k, v in self.visitor.headers().items()}
            if body.content_type:
                headers["Content-Type"] = body.content_type
            return requests.request(
                method, f"{self.server.url}/chats{path}", data=body.raw, headers=headers
            )

        return send

    def console_call(self, method: str, path: str) -> Callable[[Body], requests.Response]:
        def send(body: Body) -> requests.Response:
            headers = {"X-CSRF-Token": self.console.csrf, "Origin": self.server.url}
            if body.content_type:
                headers["Content-Type"] = body.content_type
            path_ = path.format(c=self.conv_id, m=self.message_id)
            url = f"{self.server.url}/chats/console/api{path_}"
            return self.console.http.request(method, url, data=body.raw, headers=headers)

        return send


@pytest.fixture
def world(app, live_server, manager_id, monkeypatch) -> World:
    state = app.extensions["gincore_chats"]
    monkeypatch.setattr(
        state,
        "config",
        dataclasses.replace(state.config, json_max_body=JSON_LIMIT, webhook_max_body=WEBHOOK_LIMIT),
    )
    # Push keys exist, so the push-subscription routes get as far as reading the body.
    keys = app.test_cli_runner().invoke(args=["chats", "vapid-keys", "--subject", "mailto:a@b.c"])
    assert keys.exit_code == 0, keys.output
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(live_server, key)
    assert visitor.open().status_code == 201
    assert visitor.send("Hello").status_code == 201
    console = Console(live_server, manager_id)
    conv_id = console.api("GET", "/conversations").json()["conversations"][0]["id"]
    assert console.api("POST", f"/conversations/{conv_id}/join").status_code == 200
    reply = console.api(
        "POST",
        f"/conversations/{conv_id}/messages",
        {"body": "Hi!", "client_id": str(uuid.uuid4())},
    )
    return World(app, live_server, visitor, console, conv_id, reply.json()["message"]["id"])


WIDGET = [
    ("POST", "/widget/api/conversations"),
    ("POST", "/widget/api/messages"),
    ("PATCH", "/widget/api/contact"),
    ("POST", "/widget/api/context"),
    ("POST", "/widget/api/seen"),
]
CONSOLE = [
    ("POST", "/conversations/{c}/messages"),
    ("PATCH", "/conversations/{c}/messages/{m}"),
    ("PATCH", "/conversations/{c}/contact"),
    ("POST", "/conversations/{c}/notes"),
    ("POST", "/conversations/{c}/status"),
    ("POST", "/conversations/{c}/read"),
    ("PUT", "/conversations/{c}/draft"),
    ("POST", "/presence"),
    ("PATCH", "/notifications"),
    ("POST", "/push-subscriptions"),
    ("DELETE", "/push-subscriptions"),
]


def check(send: Callable[[Body], requests.Response], bodies: list[Body], cors: bool) -> None:
    wrong = []
    for body in bodies:
        r = send(body)
        try:
            answer = r.json()
        except ValueError:
            answer = {}
        got = (r.status_code, answer.get("code"), bool(answer.get("error")))
        if got != (body.status, body.code, True):
            wrong.append(f"{body.name}: {got} {r.text[:200]!r}")
        elif cors and r.headers.get("Access-Control-Allow-Origin") != ORIGIN:
            wrong.append(f"{body.name}: the widget cannot read the error (no CORS header)")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(("method", "path"), WIDGET, ids=[p for _, p in WIDGET])
def test_widget_api_answers_hostile_bodies_with_clear_errors(world, method, path):
    check(world.widget(method, path), corpus(JSON_LIMIT), cors=True)
    assert world.visitor.send("still works").status_code == 201


@pytest.mark.parametrize(("method", "path"), CONSOLE, ids=[p for _, p in CONSOLE])
def test_console_api_answers_hostile_bodies_with_clear_errors(world, method, path):
    check(world.console_call(method, path), corpus(JSON_LIMIT), cors=False)


UPLOADS = [
    ("widget", "/widget/api/attachments"),
    ("console", "/conversations/{c}/attachments"),
]


@pytest.mark.parametrize(("who", "path"), UPLOADS, ids=[w for w, _ in UPLOADS])
def test_file_uploads_refuse_json_and_keep_hostile_form_text(world, who, path):
    send = world.widget("POST", path) if who == "widget" else world.console_call("POST", path)
    not_multipart = [
        dataclasses.replace(b, status=415, code="NotMultipart")
        for b in corpus(JSON_LIMIT)
        if b.content_type != "application/x-www-form-urlencoded"
    ]
    check(send, not_multipart, cors=who == "widget")
    # A NUL (werkzeug decodes %00) and a lone surrogate's bytes in the form text are kept out
    # of the database instead of failing the insert.
    url = f"{world.server.url}/chats{path}" if who == "widget" else None
    files = {"file": ("note.txt", b"plain text file", "text/plain")}
    form = {"body": "caption\x00 with a NUL", "client_id": str(uuid.uuid4())}
    if who == "widget":
        r = requests.post(url, files=files, data=form, headers=world.visitor.headers())
    else:
        api = f"{world.server.url}/chats/console/api{path.format(c=world.conv_id)}"
        r = world.console.http.post(
            api, files=files, data=form, headers={"X-CSRF-Token": world.console.csrf}
        )
    assert r.status_code == 201, r.text
    assert r.json()["message"]["body"] == "caption with a NUL"


def test_strings_postgresql_cannot_store_are_cleaned_not_a_500(world):
    # JSON may carry NUL and unpaired surrogates; PostgreSQL refuses both.
    raw = b'{"body": "a\\u0000b \\ud83d c \\ud83d\\ude00", "client_id": "%s"}' % (
        str(uuid.uuid4()).encode()
    )
    send = world.widget("POST", "/widget/api/messages")
    r = send(Body("nul", raw, "application/json", 201, ""))
    assert r.status_code == 201, r.text
    assert r.json()["message"]["body"] == "ab \ufffd c 😀"
    hostile_ua = "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/" + "1" * 300 + ".0"
    opened = requests.post(
        f"{world.server.url}/chats/widget/api/conversations",
        json={
            "key": world.visitor.key,
            "context": {"url": "https://shop.example.com/" + "p" * 3000},
        },
        headers={"Origin": ORIGIN, "User-Agent": hostile_ua},
    )
    assert opened.status_code == 201, opened.text


def test_a_forwarded_for_that_is_not_an_address_is_ignored(world, monkeypatch):
    state = world.app.extensions["gincore_chats"]
    monkeypatch.setattr(state, "config", dataclasses.replace(state.config, trusted_proxies=1))
    r = requests.post(
        f"{world.server.url}/chats/widget/api/conversations",
        json={"key": world.visitor.key},
        headers={"Origin": ORIGIN, "X-Forwarded-For": "<script>" + "x" * 100},
    )
    assert r.status_code == 201, r.text
    conv_id = r.json()["conversation_id"]
    detail = world.console.api("GET", f"/conversations/{conv_id}").json()
    assert detail["context"]["ip"] == "127.0.0.1"


# -- webhooks ------------------------------------------------------------------------------------

APP_SECRET = "test_app_secret"
TELEGRAM_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
VIBER_TOKEN = "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9"
KINDS: dict[str, dict[str, str]] = {
    "telegram": {"bot_token": TELEGRAM_TOKEN},
    "viber": {"auth_token": VIBER_TOKEN},
    "whatsapp": {
        "access_token": "t",
        "app_secret": APP_SECRET,
        "phone_number_id": "106540352242922",
        "business_account_id": "102290129340398",
    },
    "messenger": {"page_access_token": "t", "app_secret": APP_SECRET, "page_id": "106540352242922"},
    "instagram": {
        "access_token": "t",
        "app_secret": APP_SECRET,
        "instagram_account_id": "17841405726653026",
    },
    "generic": {},
}


def signed_headers(kind: str, credentials: dict[str, Any], raw: bytes) -> dict[str, str]:
    if kind == "telegram":
        return {"X-Telegram-Bot-Api-Secret-Token": credentials["webhook_secret"]}
    if kind == "viber":
        digest = hmac.new(VIBER_TOKEN.encode(), raw, hashlib.sha256).hexdigest()
        return {"X-Viber-Content-Signature": digest}
    if kind == "generic":
        return {"Authorization": f"Bearer {credentials['secret']}"}
    digest = hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}"}


@pytest.mark.parametrize("kind", list(KINDS))
def test_webhooks_check_the_signature_first_then_answer_hostile_bodies_clearly(
    app, live_server, manager_id, monkeypatch, kind
):
    from gincore_chats.models import InboundEvent

    state = app.extensions["gincore_chats"]
    monkeypatch.setattr(
        state, "config", dataclasses.replace(state.config, webhook_max_body=WEBHOOK_LIMIT)
    )
    source_id, key = make_channel_source(app, kind, KINDS[kind], [manager_id])
    credentials = stored_credentials(app, source_id)
    url = f"{live_server.url}/chats/webhooks/{key}"

    def send(body: Body, *, signed: bool = True) -> requests.Response:
        headers = signed_headers(kind, credentials, body.raw) if signed else {}
        if body.content_type:
            headers["Content-Type"] = body.content_type
        return requests.post(url, data=body.raw, headers=headers, timeout=10)

    bodies = corpus(WEBHOOK_LIMIT)
    for body in bodies:
        if body.status != 413:
            r = send(body, signed=False)
            assert r.status_code == 403, (body.name, r.status_code, r.text)
    check(send, bodies, cors=False)
    assert count_rows(app, InboundEvent) == 0


def test_ids_no_row_can_have_are_not_found_not_a_database_error(world):
    big = 10**30  # PostgreSQL refuses to compare a BIGINT with it
    c, conv = world.console, world.conv_id
    client_id = str(uuid.uuid4())
    answers = {
        "conversation": c.api("GET", f"/conversations/{big}").status_code,
        "older page": c.api("GET", f"/conversations/{conv}?before={big}").status_code,
        "events": c.api("GET", f"/conversations/{conv}/events?after={big}").status_code,
        "unread": c.api("GET", f"/unread?ids=1,{big}").status_code,
        "search": c.api("GET", "/conversations?q=a%00b").status_code,
        "quote": c.api(
            "POST",
            f"/conversations/{conv}/messages",
            {"body": "x", "client_id": client_id, "quoted_message_id": big},
        ).status_code,
        "edit": c.api("PATCH", f"/conversations/{conv}/messages/{big}", {"body": "x"}).status_code,
        "read": c.api("POST", f"/conversations/{conv}/read", {"message_id": big}).status_code,
        "draft": c.api(
            "PUT", f"/conversations/{conv}/draft", {"body": "x", "quoted_message_id": big}
        ).status_code,
        "widget seen": world.visitor.api("POST", "/seen", {"message_id": big}).status_code,
        "widget events": world.visitor.api("GET", f"/events?after={big}").status_code,
    }
    assert answers == {
        "conversation": 404,
        "older page": 200,
        "events": 200,
        "unread": 200,
        "search": 200,
        "quote": 400,
        "edit": 400,
        "read": 200,
        "draft": 200,
        "widget seen": 200,
        "widget events": 200,
    }
