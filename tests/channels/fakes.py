"""Local fake platform servers that speak the documented wire formats (reference/channels.md).

Each runs a small Flask app on 127.0.0.1 with a random port in a thread, records every request,
and can be told to fail the next calls with the platform's own error shapes.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import Flask, Response, request
from werkzeug.serving import make_server


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


class FakeServer:
    def __init__(self) -> None:
        self.app = Flask(type(self).__name__)
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        self.routes(self.app)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def routes(self, app: Flask) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()

    def record(self) -> Recorded:
        raw = request.get_data(cache=True)
        params: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes, str]] = {}
        if request.is_json:
            params = dict(request.get_json(silent=True) or {})
        else:
            params = request.form.to_dict()
            for name, upload in request.files.items():
                files[name] = (upload.filename or "", upload.read(), upload.mimetype)
        params.update({k: v for k, v in request.args.items() if k not in params})
        item = Recorded(request.method, request.path, dict(request.headers), raw, params, files)
        with self.lock:
            self.requests.append(item)
        return item

    def stop(self) -> None:
        self.server.shutdown()


def reply(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


# -- Telegram Bot API (§1) ------------------------------------------------------------------------

TELEGRAM_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
BOT = {
    "id": 6100000001,
    "is_bot": True,
    "first_name": "Acme Support",
    "username": "acme_support_bot",
}


class FakeTelegram(FakeServer):
    """``/bot<token>/<method>`` (any case, JSON or multipart) and ``/file/bot<token>/<path>``."""

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}
            self.message_ids = itertools.count(5000)
            self.sent: dict[tuple[int, int], dict[str, Any]] = {}
            self.webhook: dict[str, Any] | None = None
            # What getWebhookInfo reports beyond the URL (a test sets a delivery error).
            self.webhook_status: dict[str, Any] = {"pending_update_count": 0}
            # Called (in the fake's thread) while a method is being answered: lets a test look
            # at the database while the library waits for the platform.
            self.while_handling: dict[str, Callable[[], Any]] = {}
            self.files = {
                "BQACAgIAAxkBAAIEs2VkDoc": ("documents/file_7.pdf", b"%PDF-1.4 invoice 5521"),
            }

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def fail_next(self, method: str, status: int, body: dict[str, Any], times: int = 1) -> None:
        with self.lock:
            self.failures.setdefault(method.lower(), []).extend([(status, body)] * times)

    def calls(self, method: str) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.path.lower().endswith("/" + method.lower())]

    def routes(self, app: Flask) -> None:
        @app.route("/bot<token>/<method>", methods=["GET", "POST"])
        def api(token: str, method: str) -> Response:
            call = self.record()
            if token != TELEGRAM_TOKEN:
                return reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            name = method.lower()
            with self.lock:
                queued = self.failures.get(name) or []
                failure = queued.pop(0) if queued else None
            hook = self.while_handling.get(name)
            if hook is not None:
                hook()
            if failure is not None:
                return reply(*failure)
            return self.handle(name, call)

        @app.get("/file/bot<token>/<path:path>")
        def download(token: str, path: str) -> Response:
            self.record()
            for stored_path, data in self.files.values():
                if token == TELEGRAM_TOKEN and stored_path == path:
                    return Response(data, mimetype="application/octet-stream")
            return reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})

    def bad(self, description: str, code: int = 400) -> Response:
        return reply(code, {"ok": False, "error_code": code, "description": description})

    def message(self, chat_id: Any, **content: Any) -> Response:
        message_id = next(self.message_ids)
        chat = {"id": int(chat_id), "first_name": "Anna", "username": "anna_k", "type": "private"}
        result = {"message_id": message_id, "from": BOT, "chat": chat, "date": int(time.time())}
        result.update(content)
        with self.lock:
            self.sent[(int(chat_id), message_id)] = result
        return reply(200, {"ok": True, "result": result})

    def handle(self, name: str, call: Recorded) -> Response:
        p = call.params
        if name == "getme":
            return reply(200, {"ok": True, "result": BOT})
        if name == "setwebhook":
            with self.lock:
                self.webhook = dict(p)
                # A new registration starts clean, as Telegram's does.
                self.webhook_status = {"pending_update_count": 0}
            return reply(200, {"ok": True, "result": True, "description": "Webhook was set"})
        if name == "getwebhookinfo":
            with self.lock:
                hook = dict(self.webhook or {})
                info: dict[str, Any] = {
                    "url": hook.get("url", ""),
                    "has_custom_certificate": False,
                    **self.webhook_status,
                }
            if hook:
                # Optional fields are left out when unset, as in WebhookInfo.
                info.update(max_connections=40, ip_address="149.154.167.220")
                if hook.get("allowed_updates"):
                    info["allowed_updates"] = hook["allowed_updates"]
            return reply(200, {"ok": True, "result": info})
        if name in ("sendmessage", "sendphoto", "senddocument") and not p.get("chat_id"):
            return self.bad("Bad Request: chat_id is empty")
        if name == "sendmessage":
            if not p.get("text"):
                return self.bad("Bad Request: message text is empty")
            return self.message(p["chat_id"], text=p["text"])
        if name == "sendphoto":
            if "photo" not in p and "photo" not in call.files:
                return self.bad("Bad Request: there is no photo in the request")
            sizes = [
                {"file_id": "AgACAgPhotoSent", "file_unique_id": "u1", "width": 90, "height": 67}
            ]
            return self.message(p["chat_id"], photo=sizes, caption=p.get("caption"))
        if name == "senddocument":
            upload = call.files.get("document")
            if upload is None and "document" not in p:
                return self.bad("Bad Request: there is no document in the request")
            document = {"file_id": "BQACAgDocSent", "file_name": upload[0] if upload else "file"}
            return self.message(p["chat_id"], document=document, caption=p.get("caption"))
        if name in ("editmessagetext", "deletemessage"):
            key = (int(p.get("chat_id", 0)), int(p.get("message_id", 0)))
            with self.lock:
                found = self.sent.get(key)
                if found is not None and name == "deletemessage":
                    del self.sent[key]
            if found is None:
                verb = "edit" if name == "editmessagetext" else "delete"
                return self.bad(f"Bad Request: message to {verb} not found")
            if name == "deletemessage":
                return reply(200, {"ok": True, "result": True})
            found["text"] = p.get("text")
            return reply(200, {"ok": True, "result": found})
        if name == "answercallbackquery":
            if not p.get("callback_query_id"):
                return self.bad("Bad Request: query is too old and response timeout expired")
            return reply(200, {"ok": True, "result": True})
        if name == "getfile":
            stored = self.files.get(str(p.get("file_id")))
            if stored is None:
                return self.bad("Bad Request: invalid file_id")
            result = {
                "file_id": p["file_id"],
                "file_unique_id": "AgADxw4AAm",
                "file_size": len(stored[1]),
                "file_path": stored[0],
            }
            return reply(200, {"ok": True, "result": result})
        return self.bad("Not Found: method not found", 404)


def telegram_update(url: str, update: dict[str, Any], secret: str | None) -> requests.Response:
    """Deliver an Update as Telegram does: one JSON POST, the secret in a header."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return requests.post(url, data=json.dumps(update).encode(), headers=headers, timeout=10)


# -- Viber REST Bot API (§3) -----------------------------------------------------------------------

VIBER_TOKEN = "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9"


def viber_signature(token: str, body: bytes) -> str:
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def viber_callback(url: str, payload: dict[str, Any] | bytes, token: str = VIBER_TOKEN) -> Any:
    """POST a callback as Viber does, signed with the bot's auth token."""
    body = (
        payload
        if isinstance(payload, bytes)
        else json.dumps(payload, separators=(",", ":")).encode()
    )
    headers = {
        "Content-Type": "application/json",
        "X-Viber-Content-Signature": viber_signature(token, body),
    }
    return requests.post(url, data=body, headers=headers, timeout=10)


class FakeViber(FakeServer):
    """``/pa/<method>`` with ``X-Viber-Auth-Token``; errors are HTTP 200 with a ``status``."""

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.statuses: list[tuple[int, str]] = []
            # 64-bit tokens beyond 2**53, as Viber sends them.
            self.tokens = itertools.count(5741311803571721087)
            self.webhook_url: str | None = None
            self.send_receipts = False
            self.receipt_threads: list[threading.Thread] = []

    def fail_next(self, status: int, message: str, times: int = 1) -> None:
        with self.lock:
            self.statuses.extend([(status, message)] * times)

    def calls(self, method: str) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.path == f"/pa/{method}"]

    def routes(self, app: Flask) -> None:
        @app.post("/pa/<method>")
        def api(method: str) -> Response:
            call = self.record()
            if call.headers.get("X-Viber-Auth-Token") != VIBER_TOKEN:
                return reply(200, {"status": 2, "status_message": "invalidAuthToken"})
            if method == "set_webhook":
                return self.set_webhook(call.params)
            if method == "send_message":
                return self.send_message(call.params)
            if method == "get_account_info":
                return self.account_info()
            return reply(200, {"status": 3, "status_message": "badData"})

    def set_webhook(self, params: dict[str, Any]) -> Response:
        url = str(params.get("url") or "")
        if not url:
            with self.lock:
                self.webhook_url = None
            return reply(200, {"status": 0, "status_message": "ok"})
        check = {
            "event": "webhook",
            "timestamp": int(time.time() * 1000),
            "chat_hostname": "SN-CHAT-01_",
            "message_token": 5741311803571721000,
        }
        try:
            ok = viber_callback(url, check).status_code == 200
        except requests.RequestException:
            ok = False
        if not ok:
            return reply(200, {"status": 1, "status_message": "invalidUrl"})
        with self.lock:
            self.webhook_url = url
        return reply(
            200,
            {
                "status": 0,
                "status_message": "ok",
                "chat_hostname": "SN-CHAT-01_",
                "event_types": params.get("event_types", []),
            },
        )

    def account_info(self) -> Response:
        """The documented get_account_info answer (webhook only once one is set)."""
        info: dict[str, Any] = {
            "status": 0,
            "status_message": "ok",
            "id": "pa:75346594275468546724",
            "name": "Acme Support",
            "uri": "acmesupport",
            "icon": "https://media-direct.cdn.viber.com/pg_download?id=acme",
            "background": "https://media-direct.cdn.viber.com/pg_download?id=bg",
            "category": "Shopping",
            "subcategory": "Online shop",
            "location": {"lon": 16.3738, "lat": 48.2082},
            "country": "AT",
            "subscribers_count": 35,
            "members": [
                {"id": "01234567890A=", "name": "Ada", "avatar": "https://a.test", "role": "admin"}
            ],
        }
        with self.lock:
            if self.webhook_url:
                info["webhook"] = self.webhook_url
                info["event_types"] = ["delivered", "seen", "failed", "subscribed"]
        return reply(200, info)

    def send_message(self, params: dict[str, Any]) -> Response:
        if not (params.get("sender") or {}).get("name") or not params.get("receiver"):
            return reply(200, {"status": 4, "status_message": "missingData"})
        with self.lock:
            scripted = self.statuses.pop(0) if self.statuses else None
            token = next(self.tokens)
        if scripted is not None:
            status, message = scripted
            return reply(
                200,
                {
                    "status": status,
                    "status_message": message,
                    "message_token": token,
                    "chat_hostname": "SN-CHAT-05_",
                },
            )
        if self.send_receipts and self.webhook_url:
            thread = threading.Thread(
                target=self._receipts,
                args=(self.webhook_url, token, params["receiver"]),
                daemon=True,
            )
            thread.start()
            with self.lock:
                self.receipt_threads.append(thread)
        # Python writes the 64-bit integer exactly, as Viber's own JSON does.
        answer = {
            "status": 0,
            "status_message": "ok",
            "message_token": token,
            "chat_hostname": "SN-CHAT-05_",
            "billing_status": 1,
        }
        return reply(200, answer)

    @staticmethod
    def _receipts(url: str, token: int, user_id: str) -> None:
        for event in ("delivered", "seen"):
            payload = {
                "event": event,
                "timestamp": int(time.time() * 1000),
                "chat_hostname": "SN-CHAT-02_",
                "message_token": token,
                "user_id": user_id,
            }
            viber_callback(url, payload)

    def wait_receipts(self) -> None:
        for thread in list(self.receipt_threads):
            thread.join(10)


# -- the generic source's outgoing webhook receiver -----------------------------------------------


class FakeReceiver(FakeServer):
    """Stands in for the system behind a generic source: records what the webhook POSTs."""

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.answers: list[tuple[int, Any, dict[str, str]]] = []

    def answer_next(
        self, status: int, body: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        with self.lock:
            self.answers.append((status, body, headers or {}))

    def routes(self, app: Flask) -> None:
        @app.post("/hooks/chat")
        def hook() -> Response:
            self.record()
            with self.lock:
                answer = self.answers.pop(0) if self.answers else (200, {"ok": True}, {})
            status, body, headers = answer
            response = reply(status, body if body is not None else {})
            response.headers.update(headers)
            return response
