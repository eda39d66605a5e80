"""Browser push through a local push service that checks what real ones check.

The fake service verifies the VAPID JWT (RFC 8292: ES256 with the key in ``k``, audience = the
service's origin, expiry) and decrypts the ``aes128gcm`` body (RFC 8291) with the subscription's
private key, which the test generated as a browser would. Jobs run in the real RQ worker
(``flask chats worker --burst --simple``).
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from websockets.sync.client import connect

from .conftest import Console, Visitor, create_source, make_staff
from .test_realtime import frames_until

SUBJECT = "mailto:ops@shop.example"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Device:
    """A browser's push subscription: the key pair and secret only the browser knows."""

    token: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    status: int = 201

    def keys(self) -> dict[str, str]:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"p256dh": b64url(public), "auth": b64url(self.auth)}


@dataclass
class PushService:
    url: str = ""
    devices: dict[str, Device] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def device(self, token: str, status: int = 201) -> tuple[Device, dict[str, Any]]:
        device = Device(token, ec.generate_private_key(ec.SECP256R1()), os.urandom(16), status)
        self.devices[token] = device
        return device, {"endpoint": f"{self.url}/push/{token}", "keys": device.keys()}

    def for_token(self, token: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.received if r["token"] == token]

    def check(self, token: str, headers: Any, body: bytes) -> tuple[int, dict[str, Any] | str]:
        device = self.devices.get(token)
        if device is None:
            return 404, "unknown subscription"
        scheme, _, params = (headers.get("Authorization") or "").partition(" ")
        parts = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
        if scheme != "vapid" or "t" not in parts or "k" not in parts:
            return 401, "VAPID Authorization header missing"
        head, claims_b64, signature = parts["t"].split(".")
        if json.loads(b64url_decode(head)) != {"typ": "JWT", "alg": "ES256"}:
            return 401, "JWT header is not ES256"
        sig = b64url_decode(signature)
        public = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), b64url_decode(parts["k"])
        )
        try:
            public.verify(
                encode_dss_signature(int.from_bytes(sig[:32]), int.from_bytes(sig[32:])),
                f"{head}.{claims_b64}".encode(),
                ec.ECDSA(hashes.SHA256()),
            )
        except InvalidSignature:
            return 403, "bad VAPID signature"
        claims = json.loads(b64url_decode(claims_b64))
        if claims.get("aud") != self.url:
            return 403, f"wrong audience {claims.get('aud')!r}"
        if not time.time() < claims["exp"] <= time.time() + 24 * 3600:
            return 403, "expired or too long-lived token"
        if headers.get("Content-Encoding") != "aes128gcm":
            return 400, "not aes128gcm"
        plain = http_ece.decrypt(
            body, private_key=device.private_key, auth_secret=device.auth, version="aes128gcm"
        )
        return device.status, {
            "token": token,
            "payload": json.loads(plain),
            "vapid_key": parts["k"],
            "sub": claims.get("sub"),
            "ttl": headers.get("TTL"),
            "topic": headers.get("Topic"),
            "urgency": headers.get("Urgency"),
        }


@pytest.fixture(scope="module")
def push_service() -> Iterator[PushService]:
    service = PushService()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            token = self.path.rsplit("/", 1)[-1]
            try:
                status, result = service.check(token, self.headers, body)
            except Exception as exc:  # report, do not hang the client
                status, result = 400, f"{type(exc).__name__}: {exc}"
            with service.lock:
                if isinstance(result, dict):
                    result["status"] = status
                    service.received.append(result)
                else:
                    service.errors.append(result)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield service
    server.shutdown()
    server.server_close()


@pytest.fixture
def push(app: Any, push_service: PushService, monkeypatch: pytest.MonkeyPatch) -> PushService:
    """Push set up (keys), a clean service, and http endpoints allowed (a local service)."""
    from gincore_chats.services.notifications import web_push
    from gincore_chats.services.unit_of_work import unit_of_work

    monkeypatch.setitem(app.config, "TESTING", True)
    state = app.extensions["gincore_chats"]
    with app.app_context(), unit_of_work(state.session):
        web_push.do_create_keys(state, SUBJECT)
    push_service.received.clear()
    push_service.errors.clear()
    push_service.devices.clear()
    return push_service


def run_worker(app: Any) -> None:
    result = app.test_cli_runner().invoke(args=["chats", "worker", "--burst", "--simple"])
    assert result.exit_code == 0, result.output


def subscribe(console: Console, subscription: dict[str, Any]) -> None:
    r = console.api("POST", "/push-subscriptions", subscription)
    assert r.status_code == 201, r.text


def watch(live_server: Any, console: Console, conv_id: int) -> Any:
    """A console tab showing the conversation."""
    ws = connect(
        live_server.ws_url("/chats/console/ws"),
        additional_headers={"Origin": live_server.url, "Cookie": console.cookie_header()},
    )
    frames_until(ws, lambda f: f["type"] == "hello")
    ws.send(json.dumps({"op": "sync", "conversation_id": conv_id, "after": 0}))
    frames_until(ws, lambda f: f["type"] == "synced")
    return ws


@pytest.fixture
def team(app: Any) -> dict[str, str]:
    perms = "chats.view,chats.reply,customers.view"
    return {
        "mia": make_staff(app, "Mia", perms, email="mia@shop.example"),
        "bob": make_staff(app, "Bob", perms, email="bob@shop.example"),
    }


def test_pushes_reach_assigned_managers_not_looking_and_gone_devices_go(
    app, live_server, push, team
):
    from gincore_chats.services.notifications import web_push

    _, key = create_source(app, ["shop.example.com"], [team["mia"], team["bob"]])
    mia, bob = Console(live_server, team["mia"]), Console(live_server, team["bob"])
    _, mia_sub = push.device("mia-laptop")
    _, bob_sub = push.device("bob-phone")
    _, old_sub = push.device("bob-old-browser", status=410)
    subscribe(mia, mia_sub)
    subscribe(bob, bob_sub)
    subscribe(bob, old_sub)
    assert bob.api("GET", "/notifications").json()["push"]["devices"] == 2

    visitor = Visitor(live_server, key)
    conv_id = visitor.open().json()["conversation_id"]
    visitor.api("PATCH", "/contact", {"name": "Olena"})
    mia_tab = watch(live_server, mia, conv_id)  # Mia has the chat open right now
    visitor.send("Hello, is the blue one in stock?")
    run_worker(app)

    assert push.errors == []
    assert push.for_token("mia-laptop") == []
    [pushed] = push.for_token("bob-phone")
    with app.app_context():
        keys = web_push.load_keys(app.extensions["gincore_chats"])
    assert pushed["vapid_key"] == keys.public_key and pushed["sub"] == SUBJECT
    assert (pushed["ttl"], pushed["topic"], pushed["urgency"]) == ("900", f"conv{conv_id}", "high")
    assert pushed["payload"] == {
        "title": "New chat from Olena",
        "body": "Hello, is the blue one in stock?",
        "conversation_id": conv_id,
        "message_id": pushed["payload"]["message_id"],
        "url": f"/chats/console?c={conv_id}",
        "tag": f"gincore-chats-{conv_id}",
    }
    # The push service said the old browser's subscription is gone: it is deleted.
    assert [r["status"] for r in push.for_token("bob-old-browser")] == [410]
    assert bob.api("GET", "/notifications").json()["push"]["devices"] == 1

    # The tab is hidden now: Mia is not looking any more, so she is notified too.
    mia_tab.send(json.dumps({"op": "viewing", "conversation_id": conv_id, "active": False}))
    mia_tab.send(json.dumps({"op": "ping"}))
    frames_until(mia_tab, lambda f: f["type"] == "pong")
    visitor.send("Hello?")
    run_worker(app)
    [for_mia] = push.for_token("mia-laptop")
    assert for_mia["payload"]["title"] == "New message from Olena"
    assert len(push.for_token("bob-phone")) == 2

    # Once Mia joins, the chat is hers: her colleagues are not disturbed any more.
    mia.api("POST", f"/conversations/{conv_id}/join")
    mia_tab.close()
    visitor.send("Thanks")
    run_worker(app)
    assert len(push.for_token("mia-laptop")) == 2
    assert len(push.for_token("bob-phone")) == 2


def test_a_burst_of_messages_is_one_push_per_device(app, live_server, push, team):
    _, key = create_source(app, ["shop.example.com"], [team["bob"]])
    bob = Console(live_server, team["bob"])
    _, phone = push.device("bob-phone")
    _, laptop = push.device("bob-laptop")
    subscribe(bob, phone)
    subscribe(bob, laptop)
    visitor = Visitor(live_server, key)
    visitor.open()
    for i in range(1, 6):
        visitor.send(f"message {i}")
    assert app.extensions["gincore_chats"].queue.count == 5  # one job per message ...
    run_worker(app)
    for token in ("bob-phone", "bob-laptop"):
        [pushed] = push.for_token(token)  # ... and one push per device, with the newest text
        assert pushed["payload"]["body"] == "message 5"


def test_subscriptions_api_and_service_worker(app, live_server, monkeypatch, team):
    from gincore_chats.services.notifications import web_push
    from gincore_chats.services.unit_of_work import unit_of_work

    mia = Console(live_server, team["mia"])
    device = Device("x", ec.generate_private_key(ec.SECP256R1()), os.urandom(16))
    subscription = {"endpoint": "https://push.example.net/send/abc", "keys": device.keys()}
    r = mia.api("POST", "/push-subscriptions", subscription)
    assert r.status_code == 409 and "not set up" in r.json()["error"]
    settings = mia.api("GET", "/notifications").json()
    assert settings["push"]["public_key"] is None and settings["email_notifications"] is True

    state = app.extensions["gincore_chats"]
    with app.app_context(), unit_of_work(state.session):
        web_push.do_create_keys(state, SUBJECT)
    assert mia.api("POST", "/push-subscriptions", subscription).status_code == 201
    # Twice is one device (the endpoint is unique), and only https endpoints outside tests.
    assert mia.api("POST", "/push-subscriptions", subscription).json()["devices"] == 1
    plain = {**subscription, "endpoint": "http://10.0.0.1/push"}
    assert mia.api("POST", "/push-subscriptions", plain).status_code == 400
    bad = {**subscription, "keys": {"p256dh": "abc", "auth": device.keys()["auth"]}}
    r = mia.api("POST", "/push-subscriptions", bad)
    assert r.status_code == 400 and "keys.p256dh" in r.json()["error"]
    no_csrf = mia.http.post(
        f"{live_server.url}/chats/console/api/push-subscriptions", json=subscription
    )
    assert no_csrf.status_code == 400
    settings = mia.api("GET", "/notifications").json()
    assert settings["push"] == {
        "public_key": settings["push"]["public_key"],
        "devices": 1,
        "service_worker": "/chats/console/sw.js",
        "scope": "/chats/console",
    }
    assert len(b64url_decode(settings["push"]["public_key"])) == 65
    r = mia.api("DELETE", "/push-subscriptions", {"endpoint": subscription["endpoint"]})
    assert r.json() == {"removed": True, "devices": 0}

    r = mia.api("PATCH", "/notifications", {"email_notifications": False})
    assert r.status_code == 200 and r.json()["email_notifications"] is False
    assert mia.api("GET", "/notifications").json()["email_notifications"] is False
    assert mia.api("PATCH", "/notifications", {"email_notifications": "no"}).status_code == 400

    sw = mia.http.get(f"{live_server.url}/chats/console/sw.js")
    assert sw.status_code == 200
    assert sw.headers["Content-Type"].startswith("application/javascript")
    assert sw.headers["Service-Worker-Allowed"] == "/chats/console"
    assert "notificationclick" in sw.text
    page = mia.http.get(f"{live_server.url}/chats/console").text
    assert 'id="gc-notify"' in page and "console-notifications.js" in page

    anonymous = requests.get(f"{live_server.url}/chats/console/api/notifications")
    assert anonymous.status_code == 401


def test_cli_creates_vapid_keys_once(app, team):
    from gincore_chats.models import PushSubscription
    from gincore_chats.services.notifications import web_push
    from gincore_chats.services.unit_of_work import unit_of_work

    runner = app.test_cli_runner()
    r = runner.invoke(args=["chats", "vapid-keys"])
    assert r.exit_code == 1 and "mailto:" in r.output
    r = runner.invoke(args=["chats", "vapid-keys", "--subject", SUBJECT])
    assert r.exit_code == 0 and "Created push keys" in r.output
    public = r.output.strip().splitlines()[-1]
    r = runner.invoke(args=["chats", "vapid-keys"])
    assert r.exit_code == 0 and "exist" in r.output and public in r.output

    state = app.extensions["gincore_chats"]
    device = Device("x", ec.generate_private_key(ec.SECP256R1()), os.urandom(16))
    with app.app_context(), unit_of_work(state.session):
        web_push.do_subscribe(
            state,
            team["mia"],
            {"endpoint": "https://push.example.net/1", "keys": device.keys()},
            None,
        )
    r = runner.invoke(args=["chats", "vapid-keys", "--replace"])
    assert r.exit_code == 0 and public not in r.output
    with app.app_context():
        # Subscriptions were made for the old public key: the push services would refuse them.
        assert state.session.query(PushSubscription).count() == 0
        state.session.remove()
