"""Open or closed now, and the visitor's "we reply from 09:00 tomorrow" line.

The line is in the visitor's language (the caller translates inside the visitor's locale) and
local time: the widget reports the browser's UTC offset; without it the schedule's zone is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from ...babel import gettext as _
from ...models import Source
from . import settings as hours_settings


@dataclass(frozen=True)
class HoursStatus:
    open: bool
    #: When the team is back (UTC); None while open or not within the horizon.
    back_at: datetime | None
    #: Outside hours the widget shows the away text even while someone is online.
    offline_outside: bool


def now() -> datetime:
    """The current time (one place, so a test can set the clock of the whole app)."""
    return datetime.now(UTC)


def status_of(source: Source, at: datetime | None = None) -> HoursStatus | None:
    """None when the source has no business hours (always open, as before)."""
    config = hours_settings.of(source)
    if not config.enabled:
        return None
    at = at or now()
    if config.schedule.is_open(at):
        return HoursStatus(True, None, config.offline_outside)
    return HoursStatus(False, config.schedule.next_opening(at), config.offline_outside)


def visitor_zone(zone: ZoneInfo, offset_minutes: int | None, at: datetime) -> tzinfo:
    """The visitor's clock: the browser reports only its current UTC offset. When that is the
    schedule zone's offset now, the visitor is taken to live there, so a daylight-saving change
    before the team is back moves their clock too; otherwise the fixed offset (or, unknown, the
    schedule's zone)."""
    if offset_minutes is None or not -16 * 60 <= offset_minutes <= 16 * 60:
        return zone
    offset = timedelta(minutes=offset_minutes)
    return zone if at.astimezone(zone).utcoffset() == offset else timezone(offset)


def back_text(
    source: Source,
    back_at: datetime,
    now: datetime,
    *,
    language: str,
    offset_minutes: int | None,
) -> str:
    """Translated with the library's domain; call inside the visitor's locale."""
    clock_zone = visitor_zone(hours_settings.of(source).schedule.zone, offset_minutes, now)
    back, today = back_at.astimezone(clock_zone), now.astimezone(clock_zone)
    locale = language.replace("-", "_")
    clock = format_time(back, format="short", locale=locale)
    days = (back.date() - today.date()).days
    if days <= 0:
        return _("We reply from %(time)s today.", time=clock)
    if days == 1:
        return _("We reply from %(time)s tomorrow.", time=clock)
    day = format_date(back, "EEEE" if days < 7 else "long", locale=locale)
    return _("We reply from %(time)s on %(day)s.", time=clock, day=day)
