"""Per-source business hours settings, kept in the source's settings under ``"hours"``.

Stored as the admin wrote them (``"09:00-17:00"`` periods, ISO dates), validated on save and
read back into a :class:`~.schedule.Schedule`. Admin-facing errors name the line at fault.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ...models import Source
from .schedule import DAYS, Period, Schedule

MAX_PERIODS_PER_DAY = 6
MAX_DATES = 400
MAX_REPLY = 1000
_PERIOD = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-\u2013]\s*(\d{1,2}):(\d{2})\s*$")


class HoursSettingsError(ValueError):
    """Invalid settings; ``field`` names the form field, the text is shown to the admin."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class HoursSettings:
    enabled: bool = False
    schedule: Schedule = field(default_factory=Schedule)
    #: Outside hours the widget shows the away text even while someone is online.
    offline_outside: bool = True
    #: Unread-message emails to employees count only open time.
    alerts_business_time: bool = False
    #: Messenger channels answer once per closed period with this text (None: off).
    auto_reply: str | None = None
    raw: dict[str, Any] | None = None


def _clock(hour: str, minute: str, *, end: bool) -> time | None:
    h, m = int(hour), int(minute)
    if end and (h, m) == (24, 0):
        return None
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError
    return time(h, m)


def parse_periods(text: str, field: str) -> tuple[Period, ...]:
    """``"09:00-12:00, 13:00-17:00"``; empty or ``closed``: no hours."""
    text = (text or "").strip()
    if not text or text.lower() == "closed":
        return ()
    periods: list[Period] = []
    for part in text.split(","):
        match = _PERIOD.match(part)
        try:
            if match is None:
                raise ValueError
            start = _clock(match[1], match[2], end=False)
            end = _clock(match[3], match[4], end=True)
        except ValueError:
            raise HoursSettingsError(
                field, f"“{part.strip()}” is not a period like 09:00-17:00 (24:00 may end one)."
            ) from None
        assert start is not None
        if end is not None and end <= start:
            raise HoursSettingsError(field, f"“{part.strip()}” ends before it starts.")
        periods.append((start, end))
    if len(periods) > MAX_PERIODS_PER_DAY:
        raise HoursSettingsError(field, f"At most {MAX_PERIODS_PER_DAY} periods a day.")
    periods.sort(key=lambda p: p[0])
    for (_s1, e1), (s2, _e2) in itertools.pairwise(periods):
        if e1 is None or e1 > s2:
            raise HoursSettingsError(field, "The periods of a day must not overlap.")
    return tuple(periods)


def _format_periods(periods: tuple[Period, ...]) -> str:
    return ", ".join(f"{s:%H:%M}-{'24:00' if e is None else f'{e:%H:%M}'}" for s, e in periods)


def _parse_date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise HoursSettingsError(
            field, f"“{text.strip()}” is not a date like 2026-12-25."
        ) from None


def _lines(text: str, field: str) -> list[str]:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) > MAX_DATES:
        raise HoursSettingsError(field, f"At most {MAX_DATES} lines.")
    return lines


def _zone(name: str) -> str:
    name = (name or "").strip()
    try:
        if not name or len(name) > 64:
            raise ValueError
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        raise HoursSettingsError(
            "timezone", f"“{name}” is not an IANA time zone such as Europe/Berlin."
        ) from None
    return name


def validate(form: dict[str, Any]) -> HoursSettings:
    """Form values (strings; checkboxes present or not) into settings, or an error."""
    zone = _zone(str(form.get("timezone") or "UTC"))
    weekly = {i: parse_periods(str(form.get(f"day_{d}") or ""), f"day_{d}")
              for i, d in enumerate(DAYS)}  # fmt: skip
    holidays = frozenset(
        _parse_date(line, "holidays")
        for line in _lines(str(form.get("holidays") or ""), "holidays")
    )
    exceptions: dict[date, tuple[Period, ...]] = {}
    for line in _lines(str(form.get("exceptions") or ""), "exceptions"):
        day_text, _sep, hours = line.partition(" ")
        exceptions[_parse_date(day_text, "exceptions")] = parse_periods(hours, "exceptions")
    reply = str(form.get("auto_reply") or "").strip() or None
    if reply is not None and len(reply) > MAX_REPLY:
        raise HoursSettingsError("auto_reply", f"At most {MAX_REPLY} characters.")
    enabled = _checked(form.get("enabled"))
    if enabled and not any(weekly.values()) and not any(exceptions.values()):
        raise HoursSettingsError("day_mon", "Give the hours of at least one day.")
    schedule = Schedule(zone, weekly, holidays, exceptions)
    offline_outside = _checked(form.get("offline_outside"))
    alerts_business_time = _checked(form.get("alerts_business_time"))
    auto_reply = reply if _checked(form.get("auto_reply_enabled")) else None
    stored = {
        "enabled": enabled,
        "timezone": zone,
        "weekly": {d: _format_periods(weekly[i]) for i, d in enumerate(DAYS)},
        "holidays": sorted(d.isoformat() for d in holidays),
        "exceptions": {d.isoformat(): _format_periods(p) for d, p in sorted(exceptions.items())},
        "offline_outside": offline_outside,
        "alerts_business_time": alerts_business_time,
        "auto_reply": auto_reply,
        "auto_reply_text": reply,
    }
    return HoursSettings(
        enabled=enabled,
        schedule=schedule,
        offline_outside=offline_outside,
        alerts_business_time=alerts_business_time,
        auto_reply=auto_reply,
        raw=stored,
    )


def _checked(value: Any) -> bool:
    return value in (True, "on", "1", "true", "yes")


def form_values(source: Source) -> dict[str, Any]:
    """What the settings page shows: the stored text, or the defaults (Mon-Fri 9-17)."""
    raw = (source.settings or {}).get("hours")
    if not isinstance(raw, dict):
        week = {f"day_{d}": "09:00-17:00" if i < 5 else "" for i, d in enumerate(DAYS)}
        return {"enabled": False, "timezone": "UTC", **week, "holidays": "", "exceptions": "",
                "offline_outside": True, "alerts_business_time": False,
                "auto_reply_enabled": False, "auto_reply": ""}  # fmt: skip
    return {
        "enabled": bool(raw.get("enabled")),
        "timezone": raw.get("timezone", "UTC"),
        **{f"day_{d}": (raw.get("weekly") or {}).get(d, "") for d in DAYS},
        "holidays": "\n".join(raw.get("holidays") or []),
        "exceptions": "\n".join(
            f"{d} {p or 'closed'}" for d, p in (raw.get("exceptions") or {}).items()
        ),
        "offline_outside": bool(raw.get("offline_outside")),
        "alerts_business_time": bool(raw.get("alerts_business_time")),
        "auto_reply_enabled": raw.get("auto_reply") is not None,
        "auto_reply": raw.get("auto_reply_text") or "",
    }


def of(source: Source) -> HoursSettings:
    """The source's settings; off when never set (or when a stored value no longer parses)."""
    values = form_values(source)
    if not values["enabled"] and not (source.settings or {}).get("hours"):
        return HoursSettings()
    form = {k: ("on" if v is True else "" if v is False else v) for k, v in values.items()}
    try:
        return validate(form)
    except HoursSettingsError:
        return HoursSettings()


def do_set(source: Source, form: dict[str, Any]) -> HoursSettings:
    chosen = validate(form)
    source.settings = {**(source.settings or {}), "hours": chosen.raw}
    return chosen
