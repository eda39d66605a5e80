"""WhatsApp, Messenger and Instagram end to end, through the real surface.

A channel source is created with credentials like an admin would; the app's Graph base URLs
point at local fake Graph servers (``fake_graph.FakeGraph``); webhooks are signed and POSTed
to the live server; the real RQ worker processes them; managers read and reply through the
console's HTTP API; the fake records what reached "Meta".

Instagram runs the Instagram-Login setup (``graph.instagram.com`` + Bearer): its calls go to a
second fake, so a call to the wrong host shows up as a request on the other one.

Meta sends no ``Retry-After`` with its rate-limit errors (the adapter maps codes to 5-60 s
waits), but the adapter honours one when present; the rate-limit test has the fake send
``Retry-After: 1`` to keep the wait short without patching anything.
"""

from __future__ import annotations

import copy
import dataclasses
import hmac
import io
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
from PIL import Image
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from gincore_chats.channels.meta.errors import WINDOW_MESSENGER, WINDOW_WHATSAPP

from ..channels.conftest import (
    clear_queue,
    count_rows,
    make_channel_source,
    pending_jobs,
    run_worker,
    stored_credentials,
    webhook_url,
    work_until,
)
from ..conftest import Console, LiveServer
from .fake_graph import TOKEN, VERSION, FakeGraph, Recorded, graph_error
from .helpers import APP_SECRET, dumps, load, raw, signature

KINDS = ["whatsapp", "messenger", "instagram"]

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
PAGE_ID = "106540352242922"
IG_ACCOUNT_ID = "17841405726653026"

ACCOUNT = {"whatsapp": PHONE_NUMBER_ID, "messenger": PAGE_ID, "instagram": IG_ACCOUNT_ID}
CREDENTIALS: dict[str, dict[str, str]] = {
    # No verify_token: the library generates one, which the handshake must then accept.
    "whatsapp": {
        "access_token": TOKEN,
        "app_secret": APP_SECRET,
        "phone_number_id": PHONE_NUMBER_ID,
        "business_account_id": WABA_ID,
    },
    "messenger": {"page_access_token": TOKEN, "app_secret": APP_SECRET, "page_id": PAGE_ID},
    "instagram": {
        "access_token": TOKEN,
        "app_secret": APP_SECRET,
        "instagram_account_id": IG_ACCOUNT_ID,
    },
}
# The reference payloads (§2.2, §4.2, §5.2): who writes, and what.
TEXT_PAYLOAD = {
    "whatsapp": "wa_text.json",
    "messenger": "ms_text.json",
    "instagram": "ig_text.json",
}
FIRST_TEXT = {
    "whatsapp": "Does it come in another color?",
    "messenger": "hello, world!",
    "instagram": "Do you ship to Austria?",
}
FIRST_MID = {
    "whatsapp": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
    "messenger": "m_1457764197618:41d102a3e1ae206a38",
    "instagram": load("ig_text.json")["entry"][0]["messaging"][0]["message"]["mid"],
}
CUSTOMER = {
    "whatsapp": "16505551234",
    "messenger": "6783234567890123",
    "instagram": "1234567890123456",
}
SECOND = {
    "whatsapp": "4915112345678",
    "messenger": "6783234567890999",
    "instagram": "1234567890999999",
}
# WhatsApp names come in the webhook; Messenger/Instagram from the profile API (§4.4, §5.4).
NAME = {"whatsapp": "Sheena Nelson", "messenger": "Peter Chang", "instagram": "Lena Gruber"}
SECOND_NAME = "Jonas Weber"
PROFILES: dict[str, dict[str, dict[str, Any]]] = {
    "whatsapp": {},
    "messenger": {
        CUSTOMER["messenger"]: {"first_name": "Peter", "last_name": "Chang"},
        SECOND["messenger"]: {"first_name": "Jonas", "last_name": "Weber"},
    },
    "instagram": {
        CUSTOMER["instagram"]: {"name": "Lena Gruber", "username": "lena.gruber"},
        SECOND["instagram"]: {"name": "Jonas Weber", "username": "jonas.w"},
    },
}
MESSAGES_PATH = {
    "whatsapp": f"/{VERSION}/{PHONE_NUMBER_ID}/messages",
    "messenger": f"/{VERSION}/{PAGE_ID}/messages",
    "instagram": f"/{VERSION}/{IG_ACCOUNT_ID}/messages",
}


def image_bytes(fmt: str, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), colour).save(out, format=fmt)
    return out.getvalue()


JPEG = image_bytes("JPEG", (200, 40, 40))
PNG = image_bytes("PNG", (20, 120, 220))
PDF = b"%PDF-1.4\n% receipt 5521\n%%EOF\n"


# -- a fake Graph API that also notes when each call came and what it answered --------------------


@dataclasses.dataclass(frozen=True)
class Exchange:
    request: Recorded
    at: float
    status: int
    body: bytes

    def answer(self) -> Any:
        return json.loads(self.body)


class TimedGraph(FakeGraph):
    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[Exchange] = []
        #: Runs before each answer, while the caller waits on it (a platform that stalls).
        self.before_answer: Callable[[Recorded], None] | None = None

    def _handle(self, rec: Recorded) -> tuple[int, dict[str, str], bytes]:
        if self.before_answer is not None:
            self.before_answer(rec)
        at = time.monotonic()
        status, headers, body = super()._handle(rec)
        with self._lock:
            self.exchanges.append(Exchange(rec, at, status, body))
        return status, headers, body

    def posts(self, path: str) -> list[Exchange]:
        with self._lock:
            return [
                e for e in self.exchanges if e.request.method == "POST" and e.request.path == path
            ]


@pytest.fixture
def fb() -> Iterator[TimedGraph]:
    """graph.facebook.com: WhatsApp and Messenger (and their CDN / lookaside links)."""
    fake = TimedGraph()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def ig() -> Iterator[TimedGraph]:
    """graph.instagram.com: Instagram with Instagram Login."""
    fake = TimedGraph()
    fake.start()
    yield fake
    fake.stop()


# -- one channel source and the calls a test makes -------------------------------------------


@dataclasses.dataclass
class Flow:
    kind: str
    app: Any
    server: LiveServer
    manager_id: str
    source_id: int
    url: str
    verify_token: str
    api: TimedGraph  # the host this kind's calls must go to
    other: TimedGraph  # the other host: must see nothing

    # webhooks in

    def post(
        self, body: bytes, *, secret: str | None = APP_SECRET, headers: dict[str, str] | None = None
    ) -> requests.Response:
        sent = {"Content-Type": "application/json"}
        if secret is not None:
            sent["X-Hub-Signature-256"] = signature(body, secret)
        sent.update(headers or {})
        return requests.post(self.url, data=body, headers=sent, timeout=10)

    def deliver(self, body: bytes) -> int:
        r = self.post(body)
        assert r.status_code == 200 and r.json()["ok"] is True, r.text
        return int(r.json()["event_id"])

    def texts(self, *entries: list[tuple[str, str, str]]) -> bytes:
        """One delivery: an ``entry[]`` per argument, each with (mid, text, sender) messages."""
        now_ms = int(time.time() * 1000)
        if self.kind == "whatsapp":
            names = {CUSTOMER["whatsapp"]: NAME["whatsapp"], SECOND["whatsapp"]: SECOND_NAME}
            built = []
            for items in entries:
                senders = list(dict.fromkeys(s for _, _, s in items))
                value = {
                    "messaging_product": "whatsapp",
                    "metadata": {
                        "display_phone_number": "15550783881",
                        "phone_number_id": PHONE_NUMBER_ID,
                    },
                    "contacts": [{"profile": {"name": names[s]}, "wa_id": s} for s in senders],
                    "messages": [
                        {
                            "from": s,
                            "id": mid,
                            "timestamp": str(now_ms // 1000),
                            "type": "text",
                            "text": {"body": text},
                        }
                        for mid, text, s in items
                    ],
                }
                built.append({"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]})
            return dumps({"object": "whatsapp_business_account", "entry": built})
        account = ACCOUNT[self.kind]
        return dumps(
            {
                "object": "page" if self.kind == "messenger" else "instagram",
                "entry": [
                    {
                        "id": account,
                        "time": now_ms,
                        "messaging": [
                            {
                                "sender": {"id": s},
                                "recipient": {"id": account},
                                "timestamp": now_ms,
                                "message": {"mid": mid, "text": text},
                            }
                            for mid, text, s in items
                        ],
                    }
                    for items in entries
                ],
            }
        )

    def text(self, mid: str, text: str, sender: str | None = None) -> bytes:
        return self.texts([(mid, text, sender or CUSTOMER[self.kind])])

    # the console

    def console(self) -> Console:
        return Console(self.server, self.manager_id)

    def conversations(self, console: Console) -> list[dict[str, Any]]:
        rows = console.api("GET", "/conversations").json()["conversations"]
        return [console.api("GET", f"/conversations/{r['id']}").json() for r in rows]

    def conversation(self, console: Console) -> dict[str, Any]:
        [detail] = self.conversations(console)
        return detail

    def joined(self) -> tuple[Console, int]:
        """The reference text message processed, and the manager joined its conversation."""
        self.deliver(raw(TEXT_PAYLOAD[self.kind]))
        run_worker(self.app)
        console = self.console()
        conv_id = self.conversation(console)["conversation"]["id"]
        assert console.api("POST", f"/conversations/{conv_id}/join").status_code == 200
        return console, conv_id

    # outbound

    def sends(self) -> list[Exchange]:
        return self.api.posts(MESSAGES_PATH[self.kind])

    def sent_id(self, exchange: Exchange) -> str:
        answer = exchange.answer()
        if self.kind == "whatsapp":
            return str(answer["messages"][0]["id"])
        return str(answer["message_id"])

    def assert_auth(self, rec: Recorded) -> None:
        """WhatsApp and Instagram Login: Bearer header; Messenger: the Page token in the query."""
        if self.kind == "messenger":
            assert rec.query.get("access_token") == TOKEN
            assert "authorization" not in rec.headers
        else:
            assert rec.headers.get("authorization") == f"Bearer {TOKEN}"
            assert "access_token" not in rec.query


def reply(console: Console, conv_id: int, text: str, **extra: Any) -> dict[str, Any]:
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


def customer_bodies(detail: dict[str, Any]) -> list[str]:
    return [m["body"] for m in detail["messages"] if m["kind"] == "customer"]


@pytest.fixture(params=KINDS)
def meta(
    request: pytest.FixtureRequest,
    app: Any,
    live_server: LiveServer,
    manager_id: str,
    fb: TimedGraph,
    ig: TimedGraph,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Flow]:
    kind: str = request.param
    state = app.extensions["gincore_chats"]
    clear_queue(state)
    monkeypatch.setattr(
        state,
        "config",
        dataclasses.replace(
            state.config,
            graph_api_base=fb.base_url,
            graph_api_version=VERSION,
            instagram_graph_base=ig.base_url,
            public_url=live_server.url,
            send_backoff=0.2,
            send_max_attempts=3,
            channel_timeout=5.0,
        ),
    )
    api, other = (ig, fb) if kind == "instagram" else (fb, ig)
    api.profiles.update(copy.deepcopy(PROFILES[kind]))
    source_id, key = make_channel_source(
        app, kind, CREDENTIALS[kind], [manager_id], name=f"Acme {kind}"
    )
    yield Flow(
        kind=kind,
        app=app,
        server=live_server,
        manager_id=manager_id,
        source_id=source_id,
        url=webhook_url(live_server, key),
        verify_token=stored_credentials(app, source_id)["verify_token"],
        api=api,
        other=other,
    )
    clear_queue(state)


# -- (1) the GET verification handshake --------------------------------------------------------


def test_handshake_answers_the_challenge_for_the_right_verify_token_only(app, meta):
    from gincore_chats.models import InboundEvent

    assert len(meta.verify_token) >= 32  # generated when the source was created
    ok = {
        "hub.mode": "subscribe",
        "hub.challenge": "1158201444",
        "hub.verify_token": meta.verify_token,
    }
    r = requests.get(meta.url, params=ok, timeout=10)
    assert (r.status_code, r.text) == (200, "1158201444")
    assert r.headers["Content-Type"].startswith("text/plain")
    for wrong in (
        {**ok, "hub.verify_token": "not-the-token"},
        {**ok, "hub.verify_token": meta.verify_token[:-1]},
        {k: v for k, v in ok.items() if k != "hub.verify_token"},
        {**ok, "hub.mode": "unsubscribe"},
        {k: v for k, v in ok.items() if k != "hub.challenge"},
    ):
        r = requests.get(meta.url, params=wrong, timeout=10)
        assert r.status_code == 403, wrong
        assert "1158201444" not in r.text
    assert count_rows(app, InboundEvent) == 0


# -- (2) signed webhooks in; unsigned or wrongly signed ones refused ---------------------------


def test_the_signed_reference_payload_reaches_the_console_with_the_contacts_name(app, meta):
    body = raw(TEXT_PAYLOAD[meta.kind])  # the exact bytes of the reference
    r = meta.post(body)
    assert r.status_code == 200 and r.json()["ok"] is True, r.text
    console = meta.console()
    assert console.api("GET", "/conversations").json()["conversations"] == []  # not yet processed
    run_worker(app)
    detail = meta.conversation(console)
    assert detail["conversation"]["source_kind"] == meta.kind
    contact = detail["conversation"]["contact"]
    assert contact["name"] == NAME[meta.kind]
    assert customer_bodies(detail) == [FIRST_TEXT[meta.kind]]
    if meta.kind == "whatsapp":
        assert contact["phone"] == "+16505551234"
    else:
        # Asked once from the profile API of the right host, with the token as a query parameter.
        [profile] = [r for r in meta.api.requests if r.method == "GET"]
        assert profile.path == f"/{VERSION}/{CUSTOMER[meta.kind]}"
        assert profile.query["access_token"] == TOKEN and "fields" in profile.query
    if meta.kind == "instagram":
        assert contact["username"] == "lena.gruber"
    assert meta.other.requests == []


def test_unsigned_or_wrongly_signed_posts_are_refused_and_nothing_is_stored(app, meta):
    from gincore_chats.models import InboundEvent, Message

    body = raw(TEXT_PAYLOAD[meta.kind])
    respaced = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert respaced != body
    attempts = [
        meta.post(body, secret=None),  # no signature at all
        meta.post(body, secret="another_app_secret"),
        meta.post(body, secret=None, headers={"X-Hub-Signature-256": "sha256="}),
        meta.post(body, secret=None, headers={"X-Hub-Signature-256": signature(body)[7:]}),
        # Only the legacy SHA-1 header, with a "valid" value for the right secret: ignored.
        meta.post(
            body,
            secret=None,
            headers={
                "X-Hub-Signature": "sha1=" + hmac.new(APP_SECRET.encode(), body, "sha1").hexdigest()
            },
        ),
        # Signed over other bytes of the same JSON: only the raw body counts.
        meta.post(body, secret=None, headers={"X-Hub-Signature-256": signature(respaced)}),
    ]
    assert [r.status_code for r in attempts] == [403] * len(attempts)
    assert count_rows(app, InboundEvent) == 0 and count_rows(app, Message) == 0
    assert pending_jobs(app) == 0  # nothing for the worker either
    # The same bytes, rightly signed, are accepted: the refusals were about the signature.
    assert meta.post(body).status_code == 200
    run_worker(app)
    assert count_rows(app, InboundEvent) == 1 and count_rows(app, Message) == 1


# -- (3) batches -------------------------------------------------------------------------------


def test_a_batch_with_several_entries_and_messages_stores_every_message(app, meta):
    from gincore_chats.models import Contact, Conversation, InboundEvent, Message

    me, other = CUSTOMER[meta.kind], SECOND[meta.kind]
    body = meta.texts(
        [("mid.batch.1", "first", me), ("mid.batch.2", "hello from Jonas", other)],
        [("mid.batch.3", "second", me), ("mid.batch.4", "third", me)],
    )
    meta.deliver(body)
    run_worker(app)
    assert count_rows(app, InboundEvent) == 1
    assert count_rows(app, Message) == 4
    assert count_rows(app, Contact) == 2 and count_rows(app, Conversation) == 2
    by_name = {
        d["conversation"]["contact"]["name"]: customer_bodies(d)
        for d in meta.conversations(meta.console())
    }
    assert by_name == {
        NAME[meta.kind]: ["first", "second", "third"],
        SECOND_NAME: ["hello from Jonas"],
    }


# -- (4) retried deliveries --------------------------------------------------------------------


def test_the_same_delivery_posted_three_times_stores_one_message(app, meta):
    from gincore_chats.models import Contact, Conversation, InboundEvent, Message

    body = raw(TEXT_PAYLOAD[meta.kind])
    answers = [meta.post(body) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert len({r.json()["event_id"] for r in answers}) == 1  # repeats get the first answer
    assert count_rows(app, InboundEvent) == 1
    # Meta retries for hours or days: once the bytes are no longer remembered, the repeat is
    # stored again, and the platform message id still keeps it from becoming a second message.
    state = app.extensions["gincore_chats"]
    for key in state.redis.scan_iter(state.key("delivery", "*")):
        state.redis.delete(key)
    assert meta.post(body).status_code == 200
    assert count_rows(app, InboundEvent) == 2
    run_worker(app)
    assert count_rows(app, Message) == 1
    assert count_rows(app, Contact) == 1 and count_rows(app, Conversation) == 1
    assert customer_bodies(meta.conversation(meta.console())) == [FIRST_TEXT[meta.kind]]


# -- (5) a manager's reply out, receipts in ----------------------------------------------------


def test_a_reply_goes_out_as_documented_and_receipts_move_it_forward(app, meta):
    console, conv_id = meta.joined()
    customer_message = meta.conversation(console)["messages"][0]
    text = "Yes! It also comes in blue and green."
    sent = reply(console, conv_id, text, quoted_message_id=customer_message["id"])
    assert sent["delivery_status"] == "pending" and sent["edits_reach_customer"] is False
    assert meta.sends() == []  # the job sends, not the request
    run_worker(app)

    [call] = meta.sends()
    meta.assert_auth(call.request)
    assert call.request.headers["content-type"].startswith("application/json")
    to = CUSTOMER[meta.kind]
    expected: dict[str, Any]
    if meta.kind == "whatsapp":
        expected = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "text",
            "text": {"preview_url": False, "body": text},
            "context": {"message_id": FIRST_MID["whatsapp"]},
        }
    elif meta.kind == "messenger":
        expected = {
            "recipient": {"id": to},
            "messaging_type": "RESPONSE",
            "message": {"text": text},
        }
    else:  # Instagram Login's documented body has no messaging_type
        expected = {"recipient": {"id": to}, "message": {"text": text}}
    assert call.request.json() == expected  # recipient ids are strings, as Meta's are
    state = message_state(console, conv_id, sent["id"])
    assert (state["delivery_status"], state["delivery_error"]) == ("sent", None)
    assert meta.other.requests == []
    external_id = meta.sent_id(call)

    def receipt(body: bytes, status: str) -> None:
        meta.deliver(body)
        run_worker(app)
        assert message_state(console, conv_id, sent["id"])["delivery_status"] == status

    if meta.kind == "whatsapp":

        def statuses(status: str, seconds_later: int) -> bytes:
            data = load("wa_status_delivered.json")
            item = data["entry"][0]["changes"][0]["value"]["statuses"][0]
            stamp = str(int(time.time()) + seconds_later)
            item.update(id=external_id, status=status, timestamp=stamp)
            return dumps(data)

        receipt(statuses("delivered", 1), "delivered")
        meta.deliver(statuses("read", 3))
        # A "delivered" arriving after "read" (statuses come out of order): never backwards.
        receipt(statuses("delivered", 2), "read")
    elif meta.kind == "messenger":
        delivery = load("ms_delivery_event.json")
        delivery["delivery"] = {"mids": [external_id], "watermark": int(time.time() * 1000)}
        receipt(dumps(envelope("page", PAGE_ID, delivery)), "delivered")
        # "Everything sent up to the watermark has been read": no mid named.
        read = load("ms_read_event.json")
        read["timestamp"] = read["read"]["watermark"] = int(time.time() * 1000) + 1000
        receipt(dumps(envelope("page", PAGE_ID, read)), "read")
    else:  # Instagram sends no delivery receipts; messaging_seen names one mid
        seen = load("ig_read.json")
        seen["entry"][0]["messaging"][0]["read"]["mid"] = external_id
        receipt(dumps(seen), "read")


def envelope(object_name: str, entry_id: str, event: dict[str, Any]) -> dict[str, Any]:
    now_ms = int(time.time() * 1000)
    return {
        "object": object_name,
        "entry": [{"id": entry_id, "time": now_ms, "messaging": [event]}],
    }


# -- (6) rate limits -----------------------------------------------------------------------------

RATE_LIMITS = {
    # (HTTP status, Graph error): what each platform answers when a limit is hit (§2.3, §4.3).
    "whatsapp": (
        429,
        graph_error(
            130429,
            "(#130429) Rate limit hit",
            details="Cloud API message throughput has been reached.",
        ),
    ),
    "messenger": (400, graph_error(613, "(#613) Calls to this api have exceeded the rate limit.")),
    "instagram": (403, graph_error(4, "(#4) Application request limit reached")),
}


def test_a_rate_limited_send_is_retried_after_the_wait_and_then_sent(app, meta):
    console, conv_id = meta.joined()
    status, error = RATE_LIMITS[meta.kind]
    # Meta itself sends no Retry-After (the adapter would wait 5-60 s by the error code); the
    # adapter prefers the header when there is one, which keeps this test short.
    meta.api.fail_next(
        status, error, path_contains=MESSAGES_PATH[meta.kind], headers={"Retry-After": "1"}
    )
    sent = reply(console, conv_id, "Your parcel left the warehouse.")
    run_worker(app)
    waiting = message_state(console, conv_id, sent["id"])
    assert waiting["delivery_status"] == "pending"
    assert waiting["delivery_error"].startswith(
        "Retrying: Meta's rate limit was reached; retrying in 1 s."
    )
    work_until(
        app, lambda: message_state(console, conv_id, sent["id"])["delivery_status"] == "sent"
    )
    first, second = meta.sends()
    assert first.status == status and second.status == 200
    assert second.at - first.at >= 1.0  # the wait was honoured, not retried at once
    assert first.request.body == second.request.body
    assert message_state(console, conv_id, sent["id"])["delivery_error"] is None


# -- (7) the customer-service window -----------------------------------------------------------


def age_customer_messages(app: Any, hours: float) -> None:
    from sqlalchemy import update

    from gincore_chats.models import Message, MessageKind, utcnow

    with app.app_context():
        session = app.extensions["gincore_chats"].session
        session.execute(
            update(Message)
            .where(Message.kind == MessageKind.CUSTOMER)
            .values(created_at=utcnow() - timedelta(hours=hours))
        )
        session.commit()
        session.remove()


def test_a_reply_after_the_24_hour_window_fails_with_a_reason_and_can_be_retried(app, meta):
    console, conv_id = meta.joined()
    age_customer_messages(app, 25)
    sent = reply(console, conv_id, "Sorry for the late answer!")
    run_worker(app)
    failed = message_state(console, conv_id, sent["id"])
    assert failed["delivery_status"] == "failed" and failed["can_retry"] is True
    if meta.kind == "whatsapp":
        assert failed["delivery_error"] == WINDOW_WHATSAPP
        assert "24 hours" in failed["delivery_error"] and "template" in failed["delivery_error"]
    else:
        assert failed["delivery_error"] == WINDOW_MESSENGER
        assert "24-hour window" in failed["delivery_error"]
    assert meta.sends() == []  # refused before calling Meta
    assert pending_jobs(app) == 0  # permanent: no retry scheduled

    # Retried while the window is still closed: failed again, still not sent.
    r = console.api("POST", f"/conversations/{conv_id}/messages/{sent['id']}/retry")
    assert r.status_code == 200 and r.json()["message"]["delivery_status"] == "pending"
    run_worker(app)
    assert message_state(console, conv_id, sent["id"])["delivery_status"] == "failed"
    assert meta.sends() == []
    # The customer writes again: the window reopens and the retry goes out (one worker run:
    # its jobs run in order, the customer's message first).
    meta.deliver(meta.text("mid.back.again", "Hello? Still there?"))
    r = console.api("POST", f"/conversations/{conv_id}/messages/{sent['id']}/retry")
    assert r.status_code == 200
    run_worker(app)
    back = message_state(console, conv_id, sent["id"])
    assert (back["delivery_status"], back["delivery_error"], back["can_retry"]) == (
        "sent",
        None,
        False,
    )
    [call] = meta.sends()
    assert "Sorry for the late answer!" in call.request.body.decode()


@pytest.mark.parametrize("meta", ["whatsapp"], indirect=True)
def test_whatsapp_131047_from_the_api_or_a_failed_status_is_shown_and_retry_works(app, meta):
    console, conv_id = meta.joined()
    details = (
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number."
    )
    # The window is open as far as we know, but WhatsApp says otherwise, at once ...
    meta.api.fail_next(
        400,
        graph_error(131047, "(#131047) Re-engagement message", details=details),
        path_contains=MESSAGES_PATH["whatsapp"],
    )
    sent = reply(console, conv_id, "Here is the blue one.")
    run_worker(app)
    failed = message_state(console, conv_id, sent["id"])
    assert failed["delivery_status"] == "failed" and failed["can_retry"] is True
    assert failed["delivery_error"].startswith(WINDOW_WHATSAPP)
    assert "131047" in failed["delivery_error"] and details in failed["delivery_error"]
    assert len(meta.sends()) == 1 and pending_jobs(app) == 0

    r = console.api("POST", f"/conversations/{conv_id}/messages/{sent['id']}/retry")
    assert r.status_code == 200 and r.json()["message"]["delivery_status"] == "pending"
    run_worker(app)
    assert message_state(console, conv_id, sent["id"])["delivery_status"] == "sent"
    first, second = meta.sends()
    assert second.status == 200 and second.request.body == first.request.body

    # ... or later, as a "failed" status webhook for a message it had accepted (§2.2).
    item = load("wa_status_failed_item.json")
    item["id"] = meta.sent_id(second)
    data = load("wa_status_delivered.json")
    data["entry"][0]["changes"][0]["value"]["statuses"] = [item]
    meta.deliver(dumps(data))
    run_worker(app)
    late = message_state(console, conv_id, sent["id"])
    assert late["delivery_status"] == "failed" and late["can_retry"] is True
    assert late["delivery_error"] == f"Re-engagement message (131047): {details}"
    # And a failed message can be retried from the console once more.
    r = console.api("POST", f"/conversations/{conv_id}/messages/{sent['id']}/retry")
    assert r.status_code == 200
    run_worker(app)
    assert message_state(console, conv_id, sent["id"])["delivery_status"] == "sent"
    assert len(meta.sends()) == 3


# -- (8) media in and out --------------------------------------------------------------------------


def deliver_media(meta: Flow) -> list[tuple[str | None, list[tuple[str, str | None, bytes]]]]:
    """Post each kind's reference media messages; returns (body, [(mime, name, bytes)]) each."""
    api = meta.api
    if meta.kind == "whatsapp":
        # Two steps (§2.4): media id -> short-lived lookaside URL -> bytes, both with the Bearer.
        api.media["1003383421387256"] = (JPEG, "image/jpeg")
        api.media["1234567890987654"] = (PDF, "application/pdf")
        meta.deliver(raw("wa_image.json"))
        meta.deliver(raw("wa_document.json"))
        expected = [
            ("Here is the scratch", [("image/jpeg", None, JPEG)]),
            ("Receipt", [("application/pdf", "receipt-5521.pdf", PDF)]),
        ]
    elif meta.kind == "messenger":
        # Signed CDN links that need no token (§4.2).
        data = load("ms_attachments.json")
        attachments = data["entry"][0]["messaging"][0]["message"]["attachments"]
        attachments[0]["payload"]["url"] = api.cdn_url("12345_n.jpg", JPEG, "image/jpeg")
        attachments[1]["payload"]["url"] = api.cdn_url("invoice-5521.pdf", PDF, "application/pdf")
        meta.deliver(dumps(data))
        expected = [
            (
                None,
                [("image/jpeg", None, JPEG), ("application/pdf", "invoice-5521.pdf", PDF)],
            )
        ]
    else:
        data = load("ig_image.json")
        message = data["entry"][0]["messaging"][0]["message"]
        message["attachments"][0]["payload"]["url"] = api.cdn_url(
            "ig_messaging_cdn", JPEG, "image/jpeg"
        )
        meta.deliver(dumps(data))
        expected = [(None, [("image/jpeg", None, JPEG)])]
    return expected


def test_inbound_media_is_downloaded_and_served_in_the_console(app, meta):
    api = meta.api
    expected = deliver_media(meta)
    run_worker(app)

    console = meta.console()
    messages = [m for m in meta.conversation(console)["messages"] if m["kind"] == "customer"]
    assert len(messages) == len(expected)
    for message, (body, files) in zip(messages, expected, strict=True):
        if body is not None:
            assert message["body"] == body
        assert len(message["attachments"]) == len(files), message
        for stored, (mime, name, data_bytes) in zip(message["attachments"], files, strict=True):
            assert stored["type"] == mime
            if name is not None:
                assert stored["name"] == name
            download = console.http.get(f"{meta.server.url}/chats/console/files/{stored['id']}")
            assert download.status_code == 200 and download.content == data_bytes
        refs = message["system_data"]["media"]
        assert [r.get("stored") for r in refs] == [a["id"] for a in message["attachments"]]

    if meta.kind == "whatsapp":
        for media_id in ("1003383421387256", "1234567890987654"):
            [info] = [r for r in api.requests if r.path == f"/{VERSION}/{media_id}"]
            [blob] = [r for r in api.requests if r.path == f"/lookaside/{media_id}"]
            assert info.method == blob.method == "GET"
            assert (
                info.headers["authorization"] == blob.headers["authorization"] == f"Bearer {TOKEN}"
            )
    else:
        cdn = [r for r in api.requests if r.path.startswith("/cdn/")]
        assert len(cdn) == len(expected[0][1])
        # Our token never goes to a CDN.
        assert all("authorization" not in r.headers and "access_token" not in r.query for r in cdn)
    assert meta.other.requests == []


def test_a_png_uploaded_in_the_console_goes_out_as_an_image(app, meta):
    console, conv_id = meta.joined()
    r = console.http.post(
        f"{meta.server.url}/chats/console/api/conversations/{conv_id}/attachments",
        files={"file": ("label.png", PNG, "image/png")},
        data={"client_id": str(uuid.uuid4())},
        headers={"X-CSRF-Token": console.csrf},
    )
    assert r.status_code == 201, r.text
    sent = r.json()["message"]
    assert sent["delivery_status"] == "pending"
    run_worker(app)
    assert message_state(console, conv_id, sent["id"])["delivery_status"] == "sent"

    to = CUSTOMER[meta.kind]
    [call] = meta.sends()
    meta.assert_auth(call.request)
    if meta.kind == "whatsapp":
        # Uploaded first (multipart), then sent by the media id (§2.3).
        [upload] = meta.api.posts(f"/{VERSION}/{PHONE_NUMBER_ID}/media")
        meta.assert_auth(upload.request)
        form = upload.request.form()
        assert form["messaging_product"].text == "whatsapp"
        assert form["type"].text == "image/png"
        assert form["file"].data == PNG and form["file"].content_type == "image/png"
        media_id = upload.answer()["id"]
        assert call.request.json() == {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "image",
            "image": {"id": media_id},
        }
    elif meta.kind == "messenger":
        # Multipart upload to the Send API: recipient and message as JSON, the file as filedata.
        form = call.request.form()
        assert json.loads(form["recipient"].text) == {"id": to}
        assert form["messaging_type"].text == "RESPONSE"
        assert json.loads(form["message"].text) == {
            "attachment": {"type": "image", "payload": {"is_reusable": False}}
        }
        assert form["filedata"].data == PNG and form["filedata"].content_type == "image/png"
    else:
        # Instagram takes images by URL only: a signed link to our copy, which Meta fetches.
        body = call.request.json()
        link = body["message"]["attachment"]["payload"]["url"]
        assert body == {
            "recipient": {"id": to},
            "message": {"attachment": {"type": "image", "payload": {"url": link}}},
        }
        assert link.startswith(f"{meta.server.url}/chats/files/p/")
        fetched = requests.get(link, timeout=10)
        assert fetched.status_code == 200 and fetched.content == PNG
    assert meta.other.requests == []


# -- (9) a slow platform holds nothing in our database -----------------------------------------


LOCKABLE = ("chats_inbound_events", "chats_contacts", "chats_conversations", "chats_messages")


def held_by_others(database_url: str) -> list[str]:
    """What other connections hold in our database at this moment: transactions left open
    (a pooled connection taken) and row locks on the tables inbound processing writes."""
    engine = create_engine(database_url, poolclass=NullPool)
    held = []
    try:
        with engine.begin() as conn:
            held += [
                f"a connection is {state}: {query}"
                for state, query in conn.execute(
                    text(
                        "SELECT state, query FROM pg_stat_activity WHERE datname ="
                        " current_database() AND pid <> pg_backend_pid()"
                        " AND state LIKE 'idle in transaction%'"
                    )
                )
            ]
        for table in LOCKABLE:
            try:
                with engine.begin() as conn:
                    conn.execute(text(f"SELECT 1 FROM {table} FOR UPDATE NOWAIT"))
            except OperationalError:
                held.append(f"a row of {table} is locked")
    finally:
        engine.dispose()
    return held


def test_profile_and_media_calls_wait_on_the_platform_with_no_transaction_open(
    app, meta, database_url
):
    # Every GET (profile look-up, media info, the file itself) is answered only after another
    # connection has looked at the database, while the worker waits on that answer.
    seen: list[tuple[str, list[str]]] = []

    def look(rec: Recorded) -> None:
        if rec.method == "GET":
            seen.append((rec.path, held_by_others(database_url)))

    meta.api.before_answer = look
    expected = deliver_media(meta)
    run_worker(app)

    files = sum(len(f) for _, f in expected)
    calls = files * 2 if meta.kind == "whatsapp" else files + 1  # + media info / + profile
    assert len(seen) == calls, seen
    assert [held for _, held in seen] == [[]] * calls, seen
    detail = meta.conversation(meta.console())
    messages = [m for m in detail["messages"] if m["kind"] == "customer"]
    assert [len(m["attachments"]) for m in messages] == [len(f) for _, f in expected]
    assert detail["conversation"]["contact"]["name"] == NAME[meta.kind]
