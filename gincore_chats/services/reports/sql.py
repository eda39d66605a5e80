"""The few expressions reports need that PostgreSQL and SQLite spell differently.

PostgreSQL computes percentiles itself (``percentile_cont``); SQLite has no such aggregate, so
there the values of each group are fetched and the same linear interpolation is done in
Python: fine for the demo's few rows, and the production database is PostgreSQL.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Date, Integer, cast, func, literal_column
from sqlalchemy.sql.elements import ColumnElement


def is_postgres(session: Any) -> bool:
    return bool(session.get_bind().dialect.name == "postgresql")


def seconds_between(pg: bool, later: Any, earlier: Any) -> ColumnElement[Any]:
    if pg:
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def local(pg: bool, column: Any, offset_minutes: int) -> ColumnElement[Any]:
    """The UTC time shifted by the viewer's offset (their days and hours, without DST rules)."""
    if pg:
        shifted: ColumnElement[Any] = func.timezone("UTC", column)
        if offset_minutes:
            shifted = shifted + literal_column(f"interval '{int(offset_minutes)} minutes'")
        return shifted
    return func.datetime(column, f"{int(offset_minutes):+d} minutes")


def day_of(pg: bool, column: Any, offset_minutes: int) -> ColumnElement[Any]:
    shifted = local(pg, column, offset_minutes)
    return cast(shifted, Date) if pg else func.date(shifted)


def weekday_of(pg: bool, column: Any, offset_minutes: int) -> ColumnElement[Any]:
    """0 = Monday .. 6 = Sunday."""
    shifted = local(pg, column, offset_minutes)
    if pg:
        return cast(func.extract("isodow", shifted), Integer) - 1
    return (cast(func.strftime("%w", shifted), Integer) + 6) % 7


def hour_of(pg: bool, column: Any, offset_minutes: int) -> ColumnElement[Any]:
    shifted = local(pg, column, offset_minutes)
    if pg:
        return cast(func.extract("hour", shifted), Integer)
    return cast(func.strftime("%H", shifted), Integer)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """``percentile_cont``: linear interpolation between the closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
