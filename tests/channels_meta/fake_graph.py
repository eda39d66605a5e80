"""A local stand-in for graph.facebook.com / graph.instagram.com, speaking the real wire format.

It records every request (method, path, query, headers, raw body) so tests assert exactly what
went over the wire, answers like the Graph API does (WhatsApp and Send API success bodies, the
``{"error": {...}}`` envelope with its HTTP status, 401 + code 190 for a wrong token), and can be
told to fail the next calls (rate limits, the 24-hour window ...). WhatsApp media live behind a
lookaside URL that needs the Bearer token; Messenger/Instagram attachments behind a CDN URL that
needs none.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

TOKEN = "EAAGtestToken123"
VERSION = "v21.0"


def graph_error(
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    error_type: str = "OAuthException",
    details: str | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": error_type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    error["fbtrace_id"] = "A" + secrets.token_hex(5)
    return {"error": error}


@dataclass(frozen=True)
class Part:
    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None

    @property
    def text(self) -> str:
        return self.data.decode()


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, Part]:
        """The multipart/form-data fields, parsed independently of the client that sent them."""
        content_type = self.headers.get("content-type", "")
        assert content_type.startswith("multipart/form-data"), content_type
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + self.body
        )
        parts: dict[str, Part] = {}
        for item in message.iter_parts():
            name = item.get_param("name", header="content-disposition")
            payload = item.get_payload(decode=True)
            has_type = "content-type" in item
            parts[str(name)] = Part(
                name=str(name),
                data=payload if isinstance(payload, bytes) else b"",
                filename=item.get_filename(),
                content_type=item.get_content_type() if has_type else None,
            )
        return parts


@dataclass
class _Scripted:
    status: int
    body: Any
    times: int
    path_contains: str | None
    skip: int = 0
    headers: dict[str, str] = field(default_factory=dict)


class FakeGraph:
    def __init__(self, *, token: str = TOKEN, version: str = VERSION) -> None:
        self.token = token
        self.version = version
        self.requests: list[Recorded] = []
        self.media: dict[str, tuple[bytes, str]] = {}  # WhatsApp media id -> (bytes, mime)
        self.cdn: dict[str, tuple[bytes, str]] = {}  # /cdn/<name> -> (bytes, mime)
        self.chunked: set[str] = set()  # CDN names served without Content-Length
        self.profiles: dict[str, dict[str, Any]] = {}
        # GET /me: whom the token belongs to (a Page for a Page token, a system user ...).
        self.me: dict[str, Any] = {"id": "100000000000001", "name": "Acme system user"}
        self._scripted: list[_Scripted] = []
        self._lock = threading.Lock()
        self._counter = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        # A short poll interval: shutdown() waits for it, once per test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeGraph:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- test controls ---------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        body: Any,
        *,
        times: int = 1,
        path_contains: str | None = None,
        skip: int = 0,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer ``times`` authenticated calls (matching ``path_contains``, after letting
        ``skip`` of them through) with ``status`` and ``body`` (an error, or a canned success)."""
        with self._lock:
            self._scripted.append(
                _Scripted(status, body, times, path_contains, skip, headers or {})
            )

    def add_media(self, data: bytes, mime: str) -> str:
        media_id = str(1003383421387256 + self._next())
        self.media[media_id] = (data, mime)
        return media_id

    def cdn_url(self, name: str, data: bytes, mime: str, *, chunked: bool = False) -> str:
        self.cdn[name] = (data, mime)
        if chunked:
            self.chunked.add(name)
        return f"{self.base_url}/cdn/{name}?_nc_cat=1&oh=abc&oe=65F00000"

    def calls(self, method: str, path_suffix: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path.endswith(path_suffix)]

    # --- behaviour -------------------------------------------------------------------------

    def _next(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def _take_scripted(self, path: str) -> _Scripted | None:
        with self._lock:
            for item in self._scripted:
                if item.path_contains is None or item.path_contains in path:
                    if item.skip > 0:
                        item.skip -= 1
                        return None
                    item.times -= 1
                    if item.times <= 0:
                        self._scripted.remove(item)
                    return item
        return None

    def _handle(self, rec: Recorded) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append(rec)
        if rec.path.startswith("/cdn/"):
            name = rec.path.removeprefix("/cdn/")
            status, headers, body = self._file(self.cdn.get(name))
            if name in self.chunked:
                headers["Transfer-Encoding"] = "chunked"
            return status, headers, body
        if rec.path.startswith("/lookaside/"):
            if rec.headers.get("authorization") != f"Bearer {self.token}":
                return _json(401, graph_error(190, "Invalid OAuth access token."))
            return self._file(self.media.get(rec.path.removeprefix("/lookaside/")))

        parts = rec.path.strip("/").split("/")
        if not parts or parts[0] != self.version:
            return _json(400, graph_error(2500, "Unknown path components: /" + parts[0]))
        if self._token_of(rec) != self.token:
            return _json(
                401, graph_error(190, "Invalid OAuth access token - Cannot parse access token")
            )
        scripted = self._take_scripted(rec.path)
        if scripted is not None:
            status, headers, body = _json(scripted.status, scripted.body)
            return status, {**headers, **scripted.headers}, body
        return self._route(rec, parts[1:])

    def _token_of(self, rec: Recorded) -> str | None:
        auth = rec.headers.get("authorization", "")
        if auth.startswith("Bearer "):
            return auth.removeprefix("Bearer ")
        return rec.query.get("access_token")

    def _route(self, rec: Recorded, parts: list[str]) -> tuple[int, dict[str, str], bytes]:
        if rec.method == "POST" and len(parts) == 2 and parts[1] == "messages":
            return self._messages(rec)
        if rec.method == "POST" and len(parts) == 2 and parts[1] == "media":
            form = rec.form()
            if (
                form.get("messaging_product", Part("", b"")).text != "whatsapp"
                or "file" not in form
            ):
                return _json(400, graph_error(100, "(#100) The parameter file is required."))
            file = form["file"]
            media_id = self.add_media(file.data, file.content_type or "application/octet-stream")
            return _json(200, {"id": media_id})
        if rec.method == "POST" and len(parts) == 2 and parts[1] == "subscribed_apps":
            return _json(200, {"success": True})
        if rec.method == "GET" and len(parts) == 1 and parts[0] in self.media:
            data, mime = self.media[parts[0]]
            return _json(
                200,
                {
                    "messaging_product": "whatsapp",
                    "url": f"{self.base_url}/lookaside/{parts[0]}",
                    "mime_type": mime,
                    "sha256": "Ti8m3ZmMDwvdWdV0pcLmGdQkJKJoYwZ9KyY8F3jLcf8=",
                    "file_size": str(len(data)),
                    "id": parts[0],
                },
            )
        if rec.method == "GET" and parts == ["me"]:
            return _json(200, self.me)
        if rec.method == "GET" and len(parts) == 1 and parts[0] in self.profiles:
            return _json(200, {**self.profiles[parts[0]], "id": parts[0]})
        return _json(
            400, graph_error(100, "(#100) Unsupported request", error_type="GraphMethodException")
        )

    def _messages(self, rec: Recorded) -> tuple[int, dict[str, str], bytes]:
        content_type = rec.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            form = rec.form()
            body = {"recipient": json.loads(form["recipient"].text)}
        else:
            body = rec.json()
        if body.get("messaging_product") == "whatsapp":
            if body.get("status") == "read":
                return _json(200, {"success": True})
            to = body.get("to")
            if not isinstance(to, str) or body.get("type") not in body:
                return _json(400, graph_error(100, "(#100) Invalid parameter"))
            wamid = f"wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI{self._next():08d}"
            return _json(
                200,
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": to, "wa_id": to}],
                    "messages": [{"id": wamid}],
                },
            )
        recipient = body.get("recipient", {}).get("id")
        if not isinstance(recipient, str):
            return _json(400, graph_error(100, "(#100) param recipient must be non-empty."))
        message_id = f"m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM{self._next():06d}"
        return _json(200, {"recipient_id": recipient, "message_id": message_id})

    def _file(self, item: tuple[bytes, str] | None) -> tuple[int, dict[str, str], bytes]:
        if item is None:
            return 404, {"Content-Type": "text/plain"}, b"Not Found"
        data, mime = item
        return 200, {"Content-Type": mime}, data

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                split = urlsplit(self.path)
                rec = Recorded(
                    method=self.command,
                    path=split.path,
                    query=dict(parse_qsl(split.query, keep_blank_values=True)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                status, headers, body = fake._handle(rec)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if headers.get("Transfer-Encoding") == "chunked":
                    # No size announced up front: the client must count while reading.
                    self.end_headers()
                    for start in range(0, len(body), 1024):
                        piece = body[start : start + 1024]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                    return
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = _serve
            do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        return Handler


def _json(status: int, body: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json; charset=UTF-8"}, json.dumps(body).encode()
