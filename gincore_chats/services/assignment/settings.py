"""Per-source assignment settings, kept in the source's settings under ``"assignment"``.

Off is today's manual join. Round-robin hands each conversation the customer wrote in to an
assigned manager who is online, below their capacity of open conversations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...models import Source


class AssignmentMode:
    OFF = "off"
    ROUND_ROBIN = "round_robin"
    ALL = (OFF, ROUND_ROBIN)


MAX_CAPACITY = 500
MAX_RETURN_MINUTES = 7 * 24 * 60
DEFAULT_CAPACITY = 5
DEFAULT_RETURN_MINUTES = 15


class AssignmentSettingsError(ValueError):
    """Invalid settings; the text is shown to the admin."""


@dataclass(frozen=True)
class AssignmentSettings:
    mode: str = AssignmentMode.OFF
    #: Open conversations a manager holds at most before the next one waits for someone.
    capacity: int = DEFAULT_CAPACITY
    #: Minutes a manager may be away (offline, invisible or disconnected) before the
    #: conversations where the customer waits for them go back to the pool.
    return_after_minutes: int = DEFAULT_RETURN_MINUTES

    @property
    def automatic(self) -> bool:
        return self.mode == AssignmentMode.ROUND_ROBIN

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "capacity": self.capacity,
            "return_after_minutes": self.return_after_minutes,
        }


def of(source: Source) -> AssignmentSettings:
    raw = (source.settings or {}).get("assignment")
    if not isinstance(raw, dict):
        return AssignmentSettings()
    try:
        return validate(raw)
    except AssignmentSettingsError:
        return AssignmentSettings()  # a hand-edited row falls back to manual joins


def _bounded(value: Any, low: int, high: int, message: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise AssignmentSettingsError(message) from None
    if not low <= number <= high:
        raise AssignmentSettingsError(message)
    return number


def validate(raw: dict[str, Any]) -> AssignmentSettings:
    mode = str(raw.get("mode") or AssignmentMode.OFF)
    if mode not in AssignmentMode.ALL:
        raise AssignmentSettingsError("Choose off or round-robin.")
    capacity = _bounded(
        raw.get("capacity", DEFAULT_CAPACITY),
        1,
        MAX_CAPACITY,
        f"Capacity must be a whole number from 1 to {MAX_CAPACITY}.",
    )
    minutes = _bounded(
        raw.get("return_after_minutes", DEFAULT_RETURN_MINUTES),
        0,
        MAX_RETURN_MINUTES,
        f"The return time must be a whole number of minutes from 0 to {MAX_RETURN_MINUTES}.",
    )
    return AssignmentSettings(mode=mode, capacity=capacity, return_after_minutes=minutes)


def do_set(source: Source, raw: dict[str, Any]) -> AssignmentSettings:
    """Store validated settings; the caller starts the sweep (``sweep.schedule``) after
    commit when the mode is automatic."""
    chosen = validate(raw)
    source.settings = {**(source.settings or {}), "assignment": chosen.as_dict()}
    return chosen
