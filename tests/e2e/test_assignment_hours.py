"""Auto-assignment seen live in two managers' consoles, and the out-of-hours widget."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import expect

from ..conftest import ALL_PERMS, Visitor, create_source, make_staff
from .conftest import BrowserSide, ShopServer
from .console_kit import open_console, row, rows
from .widget_support import (  # noqa: F401  (fixtures)
    open_chat,
    set_presence,
    texts,
    visitor_browser_fixture,
)

pytestmark = pytest.mark.e2e


def round_robin(app: Any, source_id: int, capacity: int) -> None:
    from gincore_chats.models import Source
    from gincore_chats.services.assignment import settings
    from gincore_chats.services.unit_of_work import unit_of_work

    state = app.extensions["gincore_chats"]
    with app.app_context(), unit_of_work(state.session):
        settings.do_set(state.session.get(Source, source_id),
                        {"mode": "round_robin", "capacity": capacity})  # fmt: skip


def test_a_new_chat_appears_joined_by_the_chosen_manager_in_both_consoles(
    app: Any,
    live_server: Any,
    chats_url: str,
    shop: ShopServer,
    open_browser: Callable[[], BrowserSide],
) -> None:
    ann = make_staff(app, "Ann Agent", ALL_PERMS)
    ben = make_staff(app, "Ben Agent", ALL_PERMS)
    source_id, key = create_source(app, [shop.host], [ann, ben])
    round_robin(app, source_id, capacity=1)
    consoles = {ann: open_console(open_browser(), chats_url, ann),
                ben: open_console(open_browser(), chats_url, ben)}  # fmt: skip
    names = {ann: "Ann Agent", ben: "Ben Agent"}

    first = Visitor(live_server, key, origin=f"http://{shop.host}")
    first.open()
    first.api("PATCH", "/contact", {"name": "Olga First"})
    assert first.send("Where is my parcel?").status_code == 201
    # Both consoles show it live, already joined by the same manager.
    for page in consoles.values():
        expect(row(page, "Olga First")).to_contain_text("In chat:")
    chosen = next(
        m for m in (ann, ben) if names[m] in row(consoles[ann], "Olga First").inner_text()
    )
    other = ben if chosen == ann else ann
    for page in consoles.values():
        expect(row(page, "Olga First")).to_contain_text(f"In chat: {names[chosen]}")

    # The next one goes to the other manager; a third waits (both at capacity).
    second = Visitor(live_server, key, origin=f"http://{shop.host}")
    second.open()
    second.api("PATCH", "/contact", {"name": "Petra Second"})
    second.send("Can I change my order?")
    third = Visitor(live_server, key, origin=f"http://{shop.host}")
    third.open()
    third.api("PATCH", "/contact", {"name": "Quinn Third"})
    third.send("Hello?")
    for page in consoles.values():
        expect(row(page, "Petra Second")).to_contain_text(f"In chat: {names[other]}")
        expect(row(page, "Quinn Third")).to_contain_text("Unassigned")
    expect(rows(consoles[chosen])).to_have_count(3)


def test_outside_hours_the_widget_is_away_and_says_when_the_team_is_back(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gincore_chats.models import Source
    from gincore_chats.services.hours import settings as hours_settings
    from gincore_chats.services.hours import status
    from gincore_chats.services.unit_of_work import unit_of_work

    source_id, key = create_source(app, [shop.host], [manager_id])
    state = app.extensions["gincore_chats"]
    weekdays = {f"day_{d}": "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")}
    with app.app_context(), unit_of_work(state.session):
        form = {"enabled": "on", "timezone": "Europe/Berlin", "offline_outside": "on", **weekdays}
        hours_settings.do_set(state.session.get(Source, source_id), form)
    set_presence(app, manager_id)  # someone is online, yet the team is closed
    evening = datetime(2026, 3, 26, 19, 0, tzinfo=UTC)  # Thursday, 20:00 in Berlin
    monkeypatch.setattr(status, "now", lambda: evening)

    t = texts(app, "en")
    visitor = visitor_browser(locale="en-GB", timezone_id="Europe/Berlin").page
    visitor.goto(shop.add_page("/closed", chats_url, key))
    panel = open_chat(visitor, t)
    hint = panel.locator(".gc-hint")
    expect(hint).to_contain_text(t["offline"])
    expect(hint.locator(".gc-back")).to_have_text("We reply from 09:00 tomorrow.")
    expect(panel.locator(".gc-team li")).to_have_count(0)
    expect(panel.locator(".gc-greet")).to_contain_text(t["business_hours"])
