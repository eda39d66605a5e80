"""A source's opening hours as plain values, and the arithmetic on them (no I/O).

Hours are wall-clock times in the schedule's IANA zone, so 09:00 stays 09:00 across a
daylight-saving change: each local day is turned into UTC instants on its own. A holiday
closes a whole local day; an exception replaces one day's hours (no hours: closed). A period
may end at 24:00 and the next day's may start at 00:00: open across midnight.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

#: Monday first, as ``date.weekday()`` counts.
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: How far ahead "when are we back" looks: a team closed for longer says nothing.
HORIZON_DAYS = 400

Period = tuple[time, time | None]  # end None: midnight at the end of the day (24:00)


@dataclass(frozen=True)
class Schedule:
    timezone: str = "UTC"
    #: Periods per weekday (0 = Monday).
    weekly: dict[int, tuple[Period, ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    #: One-off hours for a local date; an empty tuple closes the day.
    exceptions: dict[date, tuple[Period, ...]] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def periods_on(self, day: date) -> tuple[Period, ...]:
        if day in self.exceptions:
            return self.exceptions[day]
        if day in self.holidays:
            return ()
        return self.weekly.get(day.weekday(), ())

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's open intervals as UTC instants (a wall time skipped by a DST change
        counts from the first valid instant after it)."""
        zone = self.zone
        out = []
        for start, end in self.periods_on(day):
            begin = _instant(day, start, zone)
            finish = (
                _instant(day + timedelta(days=1), time(0), zone)
                if end is None
                else _instant(day, end, zone)
            )
            if finish > begin:
                out.append((begin, finish))
        return out

    def _intervals_from(self, at: datetime, days: int) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals ending after ``at``, in order, adjacent ones merged."""
        local_day = at.astimezone(self.zone).date() - timedelta(days=1)
        pending: tuple[datetime, datetime] | None = None
        for offset in range(days + 2):
            for begin, finish in self.intervals_on(local_day + timedelta(days=offset)):
                if finish <= at:
                    continue
                if pending is not None and begin <= pending[1]:
                    pending = (pending[0], max(pending[1], finish))
                    continue
                if pending is not None:
                    yield pending
                pending = (begin, finish)
        if pending is not None:
            yield pending

    def is_open(self, at: datetime) -> bool:
        for begin, finish in self._intervals_from(at, 1):
            return begin <= at < finish
        return False

    def next_opening(self, at: datetime) -> datetime | None:
        """When the team is next open: ``at`` itself while open; None if not within the
        horizon (or never)."""
        for begin, _finish in self._intervals_from(at, HORIZON_DAYS):
            return max(begin, at)
        return None

    def closed_since(self, at: datetime) -> datetime | None:
        """Start of the closed period ``at`` lies in (the end of the last open interval, or
        None when there was none in the past horizon); None too while open."""
        if self.is_open(at):
            return None
        zone = self.zone
        day = at.astimezone(zone).date()
        for back in range(HORIZON_DAYS):
            ends = [f for _b, f in self.intervals_on(day - timedelta(days=back)) if f <= at]
            if ends:
                return max(ends)
        return None

    def add_business_time(self, start: datetime, amount: timedelta) -> datetime:
        """The instant when ``amount`` of open time has passed since ``start`` (business-time
        timeouts); plain time when the schedule is never open within the horizon."""
        left = amount
        for begin, finish in self._intervals_from(start, HORIZON_DAYS):
            begin = max(begin, start)
            if finish - begin >= left:
                return begin + left
            left -= finish - begin
        return start + amount

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        total = timedelta(0)
        for begin, finish in self._intervals_from(start, HORIZON_DAYS):
            if begin >= end:
                break
            total += min(finish, end) - max(begin, start)
        return total


def _instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    local = datetime.combine(day, wall, tzinfo=zone)
    as_utc = local.astimezone(UTC)
    naive = local.replace(tzinfo=None)
    if as_utc.astimezone(zone).replace(tzinfo=None) == naive:
        return as_utc
    # A wall time a spring-forward skips (02:30 on the night clocks jump from 02:00 to
    # 03:00): the first instant after the gap, minute by minute between its two readings.
    early, late = sorted((local.replace(fold=1).astimezone(UTC), as_utc))
    probe = early
    while probe < late and probe.astimezone(zone).replace(tzinfo=None) < naive:
        probe += timedelta(minutes=1)
    return probe
