"""The customer's local time: their browser's IANA zone through ``zoneinfo`` (right on both
sides of a daylight-saving change), else the fixed offset old widgets report."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# IANA names are ASCII letters, digits, "_", "-", "+" and "/" ("America/Argentina/Salta");
# anything else (a path, "..") never reaches zoneinfo's file lookup.
_ZONE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,3}$")
MAX_ZONE = 64


def valid_zone(name: object) -> str | None:
    """The zone name if zoneinfo knows it, else None."""
    if not isinstance(name, str) or len(name) > MAX_ZONE or not _ZONE_RE.match(name):
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def customer_tz(zone: str | None, offset_minutes: int | None) -> timezone | ZoneInfo | None:
    if zone and valid_zone(zone):
        return ZoneInfo(zone)
    if offset_minutes is not None:
        return timezone(timedelta(minutes=offset_minutes))
    return None


def local_iso(at: datetime | None, tz: timezone | ZoneInfo | None) -> str | None:
    """``at`` as an ISO time with the customer's offset at that moment."""
    if at is None or tz is None:
        return None
    return at.astimezone(tz).isoformat()


def offset_minutes_at(at: datetime, tz: timezone | ZoneInfo | None) -> int | None:
    if tz is None:
        return None
    delta = at.astimezone(tz).utcoffset()
    return int(delta.total_seconds() // 60) if delta is not None else None
