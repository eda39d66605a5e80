"""What the manager learns about the visitor: page, referrer, navigation (single-page-app steps and
full page loads), language, local time, browser/OS/device, and the place from a GeoIP database
(a small one made for the test) once the worker ran. On a phone, as the widget must work there."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from ..conftest import create_source
from .conftest import BrowserSide, ShopServer
from .widget_support import (  # noqa: F401  (fixtures)
    Manager,
    add_phone_page,
    config_fixture,
    frames_until,
    launcher,
    only_conversation,
    open_chat,
    panel,
    texts,
    visitor_browser_fixture,
)

pytestmark = pytest.mark.e2e

PIXEL_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
PHONE = {"width": 412, "height": 915}


def make_geoip_db(path: Path) -> None:
    """A City database where the loopback network (the browser here) is in Lviv."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(
        ip_version=6, ipv4_compatible=True, database_type="GeoIP2-City", languages=["en"]
    )
    writer.insert_network(
        IPSet(["127.0.0.0/8"]),
        {
            "country": {"iso_code": "UA", "names": {"en": "Ukraine"}},
            "city": {"names": {"en": "Lviv"}},
        },
    )
    writer.to_db_file(str(path))


def test_visitor_context_and_place_reach_the_managers_panel(
    app: Any,
    live_server: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
    config: Callable[..., None],
    tmp_path: Path,
) -> None:
    make_geoip_db(tmp_path / "city.mmdb")
    config(geoip_database=str(tmp_path / "city.mmdb"))
    _, key = create_source(app, [shop.host], [manager_id])
    landing = add_phone_page(shop, "/landing", chats_url, key, title="Blue shoes")
    checkout = add_phone_page(shop, "/checkout", chats_url, key, title="Checkout")
    uk = texts(app, "uk")

    side = visitor_browser(
        locale="uk-UA",
        timezone_id="Europe/Kyiv",
        user_agent=PIXEL_UA,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
    )
    page = side.page
    page.goto(landing, referer="https://search.example/?q=blue+shoes")
    chat = open_chat(page, uk)

    # Usable on a phone: the chat takes the whole screen, the launcher steps aside.
    box = chat.bounding_box()
    assert box is not None and (box["x"], box["y"]) == (0, 0)
    assert (box["width"], box["height"]) == (PHONE["width"], PHONE["height"])
    expect(page.get_by_role("button", name=uk["close"], expanded=True)).to_be_hidden()

    manager = Manager(live_server, manager_id, only_conversation(app).id)
    console = manager.socket()

    # A single-page-app step, then a full page load (the restored chat reports the new page).
    with page.expect_response(re.compile(r"/widget/api/context$")):
        page.evaluate("() => history.pushState({}, '', '/landing?color=blue')")
    with page.expect_response(re.compile(r"/widget/api/context$")):
        page.goto(checkout)
    expect(launcher(page, uk["open"])).to_be_visible()

    ctx = manager.detail()["context"]
    assert [p["url"] for p in ctx["pages"]] == [landing, f"{landing}?color=blue", checkout]
    assert [p["title"] for p in ctx["pages"]] == ["Blue shoes", "Blue shoes", "Checkout"]
    assert ctx["current_page"] == checkout
    assert ctx["referrer"] == "https://search.example/?q=blue+shoes"
    assert ctx["language"] == "uk-UA"
    kyiv = datetime.now(ZoneInfo("Europe/Kyiv")).utcoffset()
    assert kyiv is not None and ctx["tz_offset_minutes"] == kyiv.total_seconds() // 60
    assert ctx["browser"].startswith("Chrome Mobile") and ctx["os"].startswith("Android")
    assert ctx["device"] == "mobile"
    assert ctx["ip"] == "127.0.0.1"
    assert ctx["city"] is None  # the place comes from the worker

    result = app.test_cli_runner().invoke(args=["chats", "worker", "--burst", "--simple"])
    assert result.exit_code == 0, result.output
    # The open console hears it at once (no reload), and the API has it.
    [*_, update] = frames_until(
        console,
        lambda f: f.get("event") == "visitor.context" and f["data"]["context"]["city"],
    )
    place = update["data"]["context"]
    assert (place["city"], place["country"], place["country_code"]) == ("Lviv", "Ukraine", "UA")
    ctx = manager.detail()["context"]
    assert (ctx["city"], ctx["country"], ctx["country_code"]) == ("Lviv", "Ukraine", "UA")
    console.close()

    # The panel closes with its own button on the phone, and the launcher is back.
    launcher(page, uk["open"]).click()
    panel(page, uk).get_by_role("button", name=uk["close"], exact=True).click()
    expect(panel(page, uk)).to_be_hidden()
    expect(launcher(page, uk["open"])).to_be_visible()
