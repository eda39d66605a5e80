"""The reports' figures: one SQL aggregate per table, over a date range and a scope.

A conversation counts from the day it was started, and only once the customer wrote (visits
nobody wrote in are not work). *First response time* runs from the customer's first message
to the first manager reply; *resolution time* to the last close. A conversation is *missed*
when it was closed (by a manager, or after inactivity: the customer left) with no reply at
all. Managers without ``chats.admin`` see only the conversations they took part in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.sql import Select

from ...identity import Manager
from ...models import (
    Conversation,
    ConversationLabel,
    ConversationStatus,
    Label,
    Participant,
    Rating,
    Source,
)
from ...permissions import Permission, PermissionDenied
from ...state import ChatsState
from ..managers.profiles import profiles
from . import sql

#: Longest range one report covers.
MAX_DAYS = 366
#: A viewer's UTC offset is at most 14 hours either way.
MAX_OFFSET = 14 * 60
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class ReportError(ValueError):
    """Bad report parameters; the message is shown to the manager."""


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive
    offset_minutes: int = 0

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), UTC) - timedelta(minutes=self.offset_minutes)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=(self.last - self.first).days + 1)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def _date(value: str | None, label: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ReportError(f"{label}: enter a date as YYYY-MM-DD.") from None


def parse_period(
    first: str | None, last: str | None, offset: str | None = None, today: date | None = None
) -> Period:
    """From query parameters; the last 30 days (to today) when not given."""
    today = today or datetime.now(UTC).date()
    end = _date(last, "To") or today
    start = _date(first, "From") or end - timedelta(days=29)
    if start > end:
        raise ReportError("The start date is after the end date.")
    if (end - start).days + 1 > MAX_DAYS:
        raise ReportError(f"Choose at most {MAX_DAYS} days.")
    try:
        minutes = int(offset) if offset not in (None, "") else 0
    except ValueError:
        raise ReportError("tz must be the UTC offset in minutes.") from None
    if abs(minutes) > MAX_OFFSET:
        raise ReportError("tz must be between -840 and 840 minutes.")
    return Period(start, end, minutes)


@dataclass(frozen=True)
class Scope:
    """Whose figures: everyone's (``manager_id`` None), or one manager's own."""

    manager_id: str | None = None

    @property
    def everyone(self) -> bool:
        return self.manager_id is None


def scope_for(manager: Manager, wanted: str | None = None) -> Scope:
    """Admins see everyone's figures (or one manager's); others only their own."""
    if manager.is_admin or manager.can(Permission.ADMIN):
        return Scope(wanted or None)
    if not manager.can(Permission.VIEW):
        raise PermissionDenied("You need the chats.view permission.", Permission.VIEW)
    if wanted and wanted != manager.id:
        raise PermissionDenied("Only admins see other managers' figures.", Permission.ADMIN)
    return Scope(manager.id)


@dataclass
class Table:
    name: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "columns": [{"key": k, "label": label} for k, label in self.columns],
            "rows": self.rows,
        }


def _in_scope(query: Select[Any], period: Period, scope: Scope) -> Select[Any]:
    query = query.where(
        Conversation.created_at >= period.start,
        Conversation.created_at < period.end,
        Conversation.first_customer_message_at.is_not(None),
    )
    if not scope.everyone:
        took_part = select(Participant.id).where(
            Participant.conversation_id == Conversation.id,
            Participant.manager_id == scope.manager_id,
        )
        query = query.where(took_part.exists())
    return query


def _missed() -> Any:
    return (Conversation.status == ConversationStatus.CLOSED) & (
        Conversation.first_response_at.is_(None)
    )


def daily(state: ChatsState, period: Period, scope: Scope) -> Table:
    pg = sql.is_postgres(state.session)
    day = sql.day_of(pg, Conversation.created_at, period.offset_minutes).label("day")
    query = select(
        day,
        func.count(),
        func.count(Conversation.first_response_at),
        func.sum(case((_missed(), 1), else_=0)),
        func.count(Conversation.closed_at),
    ).group_by(day)
    found = {str(row[0]): row[1:] for row in state.session.execute(_in_scope(query, period, scope))}
    table = Table(
        "daily",
        "Conversations per day",
        [
            ("day", "Day"),
            ("conversations", "Conversations"),
            ("answered", "Answered"),
            ("missed", "Missed"),
            ("closed", "Closed"),
        ],
    )
    for d in period.days():
        total, answered, missed, closed = found.get(d.isoformat(), (0, 0, 0, 0))
        table.rows.append(
            {
                "day": d.isoformat(),
                "conversations": int(total),
                "answered": int(answered),
                "missed": int(missed or 0),
                "closed": int(closed),
            }
        )
    return table


_DURATION_COLUMNS = [
    ("conversations", "Conversations"),
    ("first_response_median", "First response, median (s)"),
    ("first_response_p90", "First response, 90th percentile (s)"),
    ("resolution_median", "Resolution, median (s)"),
    ("resolution_p90", "Resolution, 90th percentile (s)"),
]


def _rounded(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def _durations(
    state: ChatsState, period: Period, scope: Scope, key: Any, joins: Callable[[Any], Any]
) -> list[tuple[Any, int, list[float | None]]]:
    """(group key, conversations, [frt median, frt p90, res median, res p90]) per group."""
    pg = sql.is_postgres(state.session)
    first = Conversation.first_customer_message_at
    frt = sql.seconds_between(pg, Conversation.first_response_at, first)
    res = sql.seconds_between(pg, Conversation.closed_at, first)
    if pg:
        query = select(
            key,
            func.count(),
            func.percentile_cont(0.5).within_group(frt),
            func.percentile_cont(0.9).within_group(frt),
            func.percentile_cont(0.5).within_group(res),
            func.percentile_cont(0.9).within_group(res),
        ).group_by(key)
        rows = state.session.execute(_in_scope(joins(query), period, scope))
        return [(r[0], int(r[1]), [_rounded(v) for v in r[2:]]) for r in rows]
    # SQLite: the values, then percentile_cont's interpolation in Python (sql.percentile).
    groups: dict[Any, tuple[list[float], list[float], list[int]]] = defaultdict(
        lambda: ([], [], [0])
    )
    for k, f, r in state.session.execute(_in_scope(joins(select(key, frt, res)), period, scope)):
        frts, ress, count = groups[k]
        count[0] += 1
        if f is not None:
            frts.append(float(f))
        if r is not None:
            ress.append(float(r))
    return [
        (
            k,
            count[0],
            [
                _rounded(sql.percentile(frts, 0.5)),
                _rounded(sql.percentile(frts, 0.9)),
                _rounded(sql.percentile(ress, 0.5)),
                _rounded(sql.percentile(ress, 0.9)),
            ],
        )
        for k, (frts, ress, count) in groups.items()
    ]


def _duration_row(name: str, count: int, values: Sequence[float | None]) -> dict[str, Any]:
    keys = [k for k, _label in _DURATION_COLUMNS[1:]]
    return {"name": name, "conversations": count, **dict(zip(keys, values, strict=True))}


def by_source(state: ChatsState, period: Period, scope: Scope) -> Table:
    table = Table("by_source", "Response times by source", [("name", "Source"), *_DURATION_COLUMNS])
    found = _durations(state, period, scope, Conversation.source_id, lambda q: q)
    names = dict(
        state.session.execute(
            select(Source.id, Source.name).where(Source.id.in_([k for k, _c, _v in found]))
        ).all()
    )
    for key, count, values in sorted(found, key=lambda r: (-r[1], str(names.get(r[0])))):
        table.rows.append(_duration_row(str(names.get(key, key)), count, values))
    return table


def by_manager(state: ChatsState, period: Period, scope: Scope) -> Table:
    """Each conversation counts for every manager who took part in it."""
    table = Table(
        "by_manager", "Response times by manager", [("name", "Manager"), *_DURATION_COLUMNS]
    )
    # Only the range's conversations: PostgreSQL cannot push the outer filter into DISTINCT.
    in_range = _in_scope(select(Conversation.id), period, scope)
    pairs = (
        select(Participant.conversation_id, Participant.manager_id)
        .where(Participant.conversation_id.in_(in_range))
        .distinct()
        .subquery("pairs")
    )
    key = pairs.c.manager_id

    def joins(query: Any) -> Any:
        query = query.join(pairs, pairs.c.conversation_id == Conversation.id)
        if not scope.everyone:
            query = query.where(key == scope.manager_id)
        return query

    found = _durations(state, period, scope, key, joins)
    people = profiles(state, {str(k) for k, _c, _v in found})
    for manager_id, count, values in sorted(found, key=lambda r: -r[1]):
        profile = people.get(manager_id)
        name = profile.display_name if profile is not None else str(manager_id)
        table.rows.append(_duration_row(name, count, values))
    return table


def by_label(state: ChatsState, period: Period, scope: Scope) -> Table:
    """Each conversation counts under every label it carries; unlabelled ones are left out."""
    table = Table("by_label", "Response times by label", [("name", "Label"), *_DURATION_COLUMNS])
    key = ConversationLabel.label_id

    def joins(query: Any) -> Any:
        return query.join(ConversationLabel, ConversationLabel.conversation_id == Conversation.id)

    found = _durations(state, period, scope, key, joins)
    names = dict(
        state.session.execute(
            select(Label.id, Label.name).where(Label.id.in_([k for k, _c, _v in found]))
        ).all()
    )
    for label_id, count, values in sorted(found, key=lambda r: (-r[1], str(names.get(r[0])))):
        table.rows.append(_duration_row(str(names.get(label_id, label_id)), count, values))
    return table


def ratings(state: ChatsState, period: Period, scope: Scope) -> Table:
    query: Any = (
        select(Rating.score, func.count())
        .join(Conversation, Conversation.id == Rating.conversation_id)
        .where(Rating.score.is_not(None))
        .group_by(Rating.score)
    )
    found = {int(s): int(n) for s, n in state.session.execute(_in_scope(query, period, scope))}
    table = Table("ratings", "Ratings", [("score", "Score"), ("count", "Ratings")])
    table.rows = [{"score": s, "count": found.get(s, 0)} for s in range(1, 6)]
    return table


def hours(state: ChatsState, period: Period, scope: Scope) -> Table:
    """When customers start writing: weekday x hour, in the viewer's time (their offset)."""
    pg = sql.is_postgres(state.session)
    at = Conversation.first_customer_message_at
    weekday = sql.weekday_of(pg, at, period.offset_minutes).label("weekday")
    hour = sql.hour_of(pg, at, period.offset_minutes).label("hour")
    query = select(weekday, hour, func.count()).group_by(weekday, hour)
    found = {
        (int(w), int(h)): int(n)
        for w, h, n in state.session.execute(_in_scope(query, period, scope))
    }
    table = Table(
        "hours",
        "Busiest hours",
        [("weekday", "Weekday"), *((f"h{h:02d}", f"{h:02d}") for h in range(24))],
    )
    for w, name in enumerate(WEEKDAYS):
        row: dict[str, Any] = {"weekday": name}
        row.update({f"h{h:02d}": found.get((w, h), 0) for h in range(24)})
        table.rows.append(row)
    return table


def summary(tables: dict[str, Table], overall: list[float | None]) -> dict[str, Any]:
    days = tables["daily"].rows
    scores = tables["ratings"].rows
    rated = sum(r["count"] for r in scores)
    return {
        "conversations": sum(r["conversations"] for r in days),
        "answered": sum(r["answered"] for r in days),
        "missed": sum(r["missed"] for r in days),
        "first_response_median": overall[0],
        "first_response_p90": overall[1],
        "resolution_median": overall[2],
        "resolution_p90": overall[3],
        "ratings": rated,
        "rating_average": round(sum(r["score"] * r["count"] for r in scores) / rated, 2)
        if rated
        else None,
    }


#: Every table by name, in the page's order.
TABLES: dict[str, Callable[[ChatsState, Period, Scope], Table]] = {
    "daily": daily,
    "by_source": by_source,
    "by_manager": by_manager,
    "by_label": by_label,
    "ratings": ratings,
    "hours": hours,
}


def overall(state: ChatsState, period: Period, scope: Scope) -> list[float | None]:
    found = _durations(state, period, scope, literal(1), lambda q: q)
    return found[0][2] if found else [None, None, None, None]


def report(state: ChatsState, period: Period, scope: Scope) -> dict[str, Any]:
    tables = {name: build(state, period, scope) for name, build in TABLES.items()}
    return {
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "tz": period.offset_minutes,
        "scope": "everyone" if scope.everyone else "own",
        "summary": summary(tables, overall(state, period, scope)),
        "tables": [t.as_dict() for t in tables.values()],
    }
