"""Where the widget may run: the page's origin decided from Origin, Fetch Metadata or Referer.

Browsers send no ``Origin`` on a same-origin GET, so a restored chat on the host's own site must
be told apart from a foreign page by ``Sec-Fetch-Site`` or the ``Referer``; an ``Origin`` is only
ever ``scheme://host[:port]`` (RFC 6454). Every widget entrance (API, WebSocket, files) uses the
same check, so each case is asked of all of them.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from gincore_chats.origins import Origin, origin_of_url, parse_origin

from .conftest import Console, Visitor, create_source

SHOP = "https://shop.example.com"

MALFORMED = [
    "https://shop.example.com/path",
    "https://shop.example.com/",
    "https://shop.example.com?x=1",
    "https://shop.example.com#top",
    "https://user@shop.example.com",
    "https://shop.example.com:99999",
    "https://shop.example.com:",
    "ftp://shop.example.com",
    "shop.example.com",
    "null",
    "",
    "https://shop.example.com https://evil.example",
]


# -- the parser -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", MALFORMED)
def test_only_scheme_host_and_port_is_an_origin(value: str) -> None:
    assert parse_origin(value) is None


def test_origins_are_normalised() -> None:
    assert parse_origin("HTTPS://Shop.Example.COM") == Origin("https", "shop.example.com")
    assert parse_origin("https://shop.example.com:443") == Origin("https", "shop.example.com")
    assert parse_origin("http://localhost:5000") == Origin("http", "localhost", 5000)
    assert str(parse_origin("http://[::1]:8080")) == "http://[::1]:8080"


def test_the_origin_of_a_referer() -> None:
    assert origin_of_url("https://shop.example.com/p/1?x#y") == Origin("https", "shop.example.com")
    assert origin_of_url("http://user:pw@localhost:5000/a") == Origin("http", "localhost", 5000)
    assert origin_of_url("http://[::1]:8080/") == Origin("http", "[::1]", 8080)
    for bad in ("", "about:blank", "file:///etc/passwd", "https://x.example:port/", "//x/"):
        assert origin_of_url(bad) is None


# -- the widget's entrances -----------------------------------------------------------------------


@pytest.fixture
def opened(app: Any, live_server: Any, manager_id: str) -> Visitor:
    """A visitor with a conversation (one message with a file), opened from the allowed shop."""
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(live_server, key, origin=SHOP)
    assert visitor.open().status_code == 201
    r = requests.post(
        f"{live_server.url}/chats/widget/api/attachments",
        headers=visitor.headers(),
        data={"client_id": "c6b8e0d2-0d5b-4bb5-9b5a-4c8f8f1a0b11"},
        files={"file": ("note.txt", b"hello", "text/plain")},
    )
    assert r.status_code == 201, r.text
    visitor.file_id = r.json()["message"]["attachments"][0]["id"]  # type: ignore[attr-defined]
    return visitor


def close_code(ws: ClientConnection, deadline: float = 10.0) -> int | None:
    """The close code the server sent, as soon as its close frame is in (Werkzeug may leave
    TCP open after it, so the frame counts without the connection having closed)."""
    end = time.monotonic() + deadline
    while ws.protocol.close_rcvd is None and time.monotonic() < end:
        try:
            ws.recv(timeout=0.1)
        except ConnectionClosed:
            break
        except TimeoutError:
            continue
    frame = ws.protocol.close_rcvd
    return frame.code if frame else None


def entrances(visitor: Visitor, headers: dict[str, str]) -> dict[str, int]:
    """Status of each visitor entrance when the page sends these headers (and the token)."""
    base = f"{visitor.server.url}/chats/widget"
    auth = {"Authorization": f"Bearer {visitor.token}", **headers}
    got = {
        "history": requests.get(f"{base}/api/conversation", headers=auth).status_code,
        "events": requests.get(f"{base}/api/events?after=0", headers=auth).status_code,
        "file": requests.get(
            f"{base}/api/files/{visitor.file_id}",  # type: ignore[attr-defined]
            headers=auth,
        ).status_code,
        "seen": requests.post(f"{base}/api/seen", json={"message_id": 1}, headers=auth).status_code,
    }
    url = visitor.server.ws_url("/chats/widget/ws")
    # A short close timeout: Werkzeug may leave TCP open after its close frame.
    with connect(url, additional_headers=headers, close_timeout=1) as ws:
        ws.send(json.dumps({"op": "auth", "token": visitor.token}))
        frame = json.loads(ws.recv(timeout=10))
        if frame["type"] != "hello":
            # Refused: the server closes with 1008 after saying why.
            assert close_code(ws) == 1008
    got["socket"] = 200 if frame["type"] == "hello" else 403
    return got


ALLOWED = {"history": 200, "events": 200, "file": 200, "seen": 200, "socket": 200}
REFUSED = {"history": 403, "events": 403, "file": 403, "seen": 403, "socket": 403}


@pytest.mark.parametrize("origin", MALFORMED)
def test_a_malformed_origin_is_refused_everywhere(opened: Visitor, origin: str) -> None:
    assert entrances(opened, {"Origin": origin}) == REFUSED


def test_a_path_after_an_allowed_origin_is_refused_with_the_reason(
    opened: Visitor, live_server: Any
) -> None:
    r = requests.post(
        f"{live_server.url}/chats/widget/api/conversations",
        json={"key": opened.key},
        headers={"Origin": f"{SHOP}/path"},
    )
    assert r.status_code == 403 and "not enabled on https://shop.example.com/path" in r.text
    # Not echoed as an allowed origin, and no preflight is answered for it.
    assert "Access-Control-Allow-Origin" not in r.headers
    pre = requests.options(
        f"{live_server.url}/chats/widget/api/messages",
        headers={"Origin": f"{SHOP}/path", "Access-Control-Request-Method": "POST"},
    )
    assert pre.status_code == 400 and "scheme://host[:port]" in pre.json()["error"]
    assert "Access-Control-Allow-Origin" not in pre.headers


def test_the_allowed_origin_itself_passes_everywhere(opened: Visitor) -> None:
    assert entrances(opened, {"Origin": SHOP}) == ALLOWED
    assert entrances(opened, {"Origin": "https://evil.example"}) == REFUSED


def test_a_same_origin_get_without_origin_passes_by_fetch_metadata(
    opened: Visitor, live_server: Any
) -> None:
    # What Chromium sends for the widget's GET on the host's own page: no Origin at all.
    same = {"Sec-Fetch-Site": "same-origin", "Referer": f"{live_server.url}/shop"}
    assert entrances(opened, same) == ALLOWED
    # Fetch Metadata says "another site" and there is nothing else: refused.
    assert entrances(opened, {"Sec-Fetch-Site": "cross-site"}) == REFUSED
    assert entrances(opened, {"Sec-Fetch-Site": "none"}) == REFUSED


def test_without_origin_the_referer_decides(opened: Visitor) -> None:
    shop_page = {"Sec-Fetch-Site": "cross-site", "Referer": f"{SHOP}/p/1?color=blue"}
    assert entrances(opened, shop_page) == ALLOWED
    foreign = {"Sec-Fetch-Site": "cross-site", "Referer": "https://evil.example/p/1"}
    assert entrances(opened, foreign) == REFUSED
    # Old browsers send no Fetch Metadata: the Referer still decides.
    assert entrances(opened, {"Referer": "https://evil.example/"}) == REFUSED
    assert entrances(opened, {"Referer": f"{SHOP}/"}) == ALLOWED


def test_with_no_header_at_all_the_request_is_the_servers_own(opened: Visitor) -> None:
    # A browser without Fetch Metadata on a no-referrer page: same-origin is the only possibility
    # a browser leaves (a cross-origin fetch always carries Origin).
    assert entrances(opened, {}) == ALLOWED


def test_the_servers_own_origin_needs_no_allowed_domain(
    app: Any, live_server: Any, manager_id: str
) -> None:
    # The host's own pages embed the widget without listing their domain.
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    own = Visitor(live_server, key, origin=live_server.url)
    r = own.open()
    assert r.status_code == 201, r.text
    assert r.headers["Access-Control-Allow-Origin"] == live_server.url
    assert own.send("Hello from the host's own page").status_code == 201
    # Another port on the same host is another origin.
    other = Visitor(live_server, key, origin=f"http://127.0.0.1:{live_server.port + 1}")
    assert other.open().status_code == 403


def test_a_switched_off_source_is_refused_even_on_its_own_origin(
    app: Any, live_server: Any, opened: Visitor
) -> None:
    from gincore_chats.models import Source

    with app.app_context():
        session = app.extensions["gincore_chats"].session
        for source in session.query(Source):
            source.active = False
        session.commit()
        session.remove()
    assert entrances(opened, {"Sec-Fetch-Site": "same-origin"}) == REFUSED
    assert entrances(opened, {"Origin": live_server.url}) == REFUSED


def test_the_console_socket_refuses_an_origin_with_a_path(
    app: Any, live_server: Any, manager_id: str
) -> None:
    console = Console(live_server, manager_id)
    for origin, accepted in ((live_server.url, True), (f"{live_server.url}/chats", False)):
        with connect(
            live_server.ws_url("/chats/console/ws"),
            additional_headers={"Origin": origin, "Cookie": console.cookie_header()},
            close_timeout=1,
        ) as ws:
            if accepted:
                assert json.loads(ws.recv(timeout=10))["type"] == "hello"
            else:
                assert close_code(ws) == 1008, origin
