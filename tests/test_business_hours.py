"""Business hours through the real surface: the settings page (validated), and the widget's
away state with its "we reply from ..." line, in the visitor's language and local time.

The app's clock (``services.hours.status.now``) is set per test, so dates before and after a
daylight-saving change are checked without waiting for one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from .conftest import ALL_PERMS, Console, Visitor, create_source, make_staff
from .test_realtime import console_socket

WEEKDAYS = {f"day_{d}": "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")}


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


@pytest.fixture
def admin(app, live_server) -> Console:
    return Console(live_server, make_staff(app, "Ada Admin", ALL_PERMS + ",chats.admin"))


@pytest.fixture
def shop(app, live_server, admin):
    manager = make_staff(app, "Mia Manager", ALL_PERMS)
    source_id, key = create_source(app, ["shop.example.com"], [manager])
    console = Console(live_server, manager)
    ws = console_socket(live_server, console)  # online: only the hours make the widget away
    yield source_id, key
    ws.close()


def save_hours(admin: Console, source_id: int, **fields: Any) -> Any:
    url = f"{admin.server.url}/chats/settings/sources/{source_id}/team"
    token = form_token(admin.http.get(url).text)
    form = {"csrf_token": token, "enabled": "on", "timezone": "Europe/Berlin",
            "offline_outside": "on", **WEEKDAYS, **fields}  # fmt: skip
    return admin.http.post(f"{url}/hours", data=form, allow_redirects=False)


@pytest.fixture
def clock(monkeypatch):
    from gincore_chats.services.hours import status

    def set_to(iso: str) -> None:
        at = datetime.fromisoformat(iso).astimezone(UTC)
        monkeypatch.setattr(status, "now", lambda: at)

    return set_to


def widget(live_server, key: str, **context: Any) -> dict[str, Any]:
    """A new visitor's widget; a British browser unless told (24-hour clock)."""
    context.setdefault("language", "en-GB")
    visitor = Visitor(live_server, key)
    r = visitor.open(**context)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Mars/Olympus", "is not an IANA time zone"),
        ("day_mon", "9-17", "is not a period like 09:00-17:00"),
        ("day_tue", "17:00-09:00", "ends before it starts"),
        ("day_wed", "09:00-13:00, 12:00-17:00", "must not overlap"),
        ("holidays", "2026-13-01", "is not a date like 2026-12-25"),
        ("exceptions", "2026-12-24 9am", "is not a period like"),
    ],
)
def test_the_settings_page_refuses_bad_hours_and_keeps_what_was_typed(
    admin, shop, field, value, message
):
    source_id, _ = shop
    r = save_hours(admin, source_id, **{field: value})
    assert r.status_code == 400
    assert message in r.text
    assert f'id="{field}-error" role="alert"' in r.text and 'aria-invalid="true"' in r.text
    assert value.replace("-", "") in r.text.replace("-", "")  # nothing the admin typed is lost


def test_saved_hours_come_back_on_the_page(admin, shop):
    source_id, _ = shop
    dates = {"holidays": "2026-12-25\n2026-12-26",
             "exceptions": "2026-12-24 09:00-12:00\n2026-12-31 closed"}  # fmt: skip
    r = save_hours(admin, source_id, day_sat="10:00-24:00", **dates)
    assert r.status_code == 302
    page = admin.http.get(f"{admin.server.url}/chats/settings/sources/{source_id}/team").text
    assert "2026-12-25\n2026-12-26" in page
    assert "2026-12-24 09:00-12:00\n2026-12-31 closed" in page
    assert 'value="10:00-24:00"' in page and 'value="Europe/Berlin"' in page


def test_outside_hours_the_widget_is_away_and_says_when_the_team_is_back(
    admin, shop, clock, live_server
):
    source_id, key = shop
    assert save_hours(admin, source_id).status_code == 302
    clock("2026-03-26T12:00:00+01:00")  # Thursday noon in Berlin: open
    data = widget(live_server, key)
    assert data["hours"]["open"] is True and [m["name"] for m in data["managers"]] == [
        "Mia Manager"
    ]

    clock("2026-03-26T20:00:00+01:00")  # Thursday evening, visitor in Berlin (UTC+1)
    data = widget(live_server, key, tz_offset=60)
    assert data["managers"] == [] and data["hours"]["open"] is False
    assert data["hours"]["back_at"] == "2026-03-27T08:00:00+00:00"
    assert data["hours"]["back_text"] == "We reply from 09:00 tomorrow."

    # In German, for a German browser.
    data = widget(live_server, key, tz_offset=60, language="de-DE", languages=["de-DE"])
    assert data["hours"]["back_text"] == "Wir antworten morgen ab 09:00."


def test_the_back_line_crosses_a_daylight_saving_change(admin, shop, clock, live_server):
    source_id, key = shop
    save_hours(admin, source_id)
    # Friday evening in Berlin, still winter time (UTC+1). Clocks go forward on Sunday the
    # 29th, so Monday 09:00 is 07:00 UTC, not 08:00.
    clock("2026-03-27T18:00:00+01:00")
    data = widget(live_server, key, tz_offset=60)
    assert data["hours"]["back_at"] == "2026-03-30T07:00:00+00:00"
    assert data["hours"]["back_text"] == "We reply from 09:00 on Monday."
    # A visitor in New York (already on summer time, UTC-4): 03:00 their time, their way.
    data = widget(live_server, key, tz_offset=-240, language="en-US")
    assert re.fullmatch(r"We reply from 3:00\s?AM on Monday\.", data["hours"]["back_text"])

    # And back in autumn: Monday 26 October 09:00 is 08:00 UTC again.
    clock("2026-10-23T18:00:00+02:00")
    data = widget(live_server, key, tz_offset=120)
    assert data["hours"]["back_at"] == "2026-10-26T08:00:00+00:00"
    assert data["hours"]["back_text"] == "We reply from 09:00 on Monday."


def test_holidays_and_one_off_hours(admin, shop, clock, live_server):
    source_id, key = shop
    save_hours(admin, source_id, holidays="2026-12-24\n2026-12-25",
               exceptions="2026-12-23 09:00-12:00\n2026-12-26 10:00-14:00")  # fmt: skip
    clock("2026-12-23T13:00:00+01:00")  # Wednesday: closed at noon that day
    data = widget(live_server, key, tz_offset=60)
    assert data["managers"] == []
    # Thursday and Friday are holidays; the one-off Saturday opens at 10:00.
    assert data["hours"]["back_at"] == "2026-12-26T09:00:00+00:00"
    assert data["hours"]["back_text"] == "We reply from 10:00 on Saturday."
    clock("2026-12-26T11:00:00+01:00")
    assert widget(live_server, key)["hours"]["open"] is True


def test_the_away_switch_off_keeps_showing_online_managers(admin, shop, clock, live_server):
    source_id, key = shop
    save_hours(admin, source_id, offline_outside="")
    clock("2026-03-26T20:00:00+01:00")
    data = widget(live_server, key)
    assert data["hours"]["open"] is False and len(data["managers"]) == 1


def test_a_source_without_hours_is_always_open(shop, live_server):
    _, key = shop
    data = widget(live_server, key)
    assert data["hours"] is None and len(data["managers"]) == 1
