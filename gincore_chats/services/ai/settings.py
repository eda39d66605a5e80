"""Per-source AI settings: the mode, the assistant's face, instructions, hand-off rules, limits.

A source without a row is "humans only". The provider is ``CHATS_AI_*`` unless the source
overrides the base URL, model or key; the key is stored encrypted (:mod:`..secrets`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ...ai import ProviderSettings
from ...models import AIMode, AISettings, Source, utcnow
from ...state import ChatsState
from ..cached import cached, changed
from ..secrets import SecretUnreadable, decrypt, encrypt
from ..widget.texts import WidgetTextError, normalize_language

MAX_INSTRUCTION = 4000
MAX_NAME = 80
DEFAULT_NAME = "Assistant"


class AISettingsError(ValueError):
    """Invalid settings; the text is shown to the admin."""


@dataclass(frozen=True)
class Snapshot:
    """Plain values read in a transaction and used after it (a job calls the provider then)."""

    source_id: int
    mode: str
    name: str
    avatar_url: str | None
    instructions: dict[str, str]
    use_knowledge: bool
    use_conversation: bool
    max_unresolved_turns: int
    handoff_on_no_answer: bool
    daily_limit: float | None
    price_input_per_million: float
    price_output_per_million: float
    provider: ProviderSettings | None

    def instruction_for(self, language: str | None) -> str:
        tag = (language or "en").lower()
        return (
            self.instructions.get(tag)
            or self.instructions.get(tag.split("-")[0])
            or self.instructions.get("en")
            or ""
        )


def get(state: ChatsState, source_id: int) -> AISettings | None:
    return state.session.get(AISettings, source_id)


def mode_key(source_id: int) -> tuple[str, int]:
    return ("ai_mode", source_id)


def mode_of(state: ChatsState, source_id: int) -> str:
    """Read on every customer message and inbox row: from the per-process cache."""

    def load() -> str:
        row = get(state, source_id)
        return row.mode if row is not None else AIMode.HUMANS

    return cached(state, mode_key(source_id), load)


def provider_for(state: ChatsState, row: AISettings | None) -> ProviderSettings | None:
    """The source's provider: its overrides on top of ``CHATS_AI_*``; None without a model."""
    base = state.config.ai
    key = None
    if row is not None and row.api_key_encrypted:
        try:
            key = decrypt(state, row.api_key_encrypted).get("api_key")
        except SecretUnreadable:
            key = None  # stored with another key: treated as not configured
    if row is not None and row.base_url:
        base = ProviderSettings(
            base_url=row.base_url,
            api_key=key,
            model=row.model,
            timeout=state.config.ai_timeout,
            deadline=state.config.ai_deadline,
        )
    elif base is not None and row is not None:
        base = replace(base, model=row.model or base.model, api_key=key or base.api_key)
    if base is None or not base.can_complete:
        return None
    return base


def snapshot(state: ChatsState, source_id: int) -> Snapshot:
    row = get(state, source_id)
    pick = _columns(row) if row is not None else _defaults()
    return Snapshot(
        source_id=source_id,
        mode=pick["mode"],
        name=pick["assistant_name"] or DEFAULT_NAME,
        avatar_url=pick["assistant_avatar_url"],
        instructions=dict(pick["instructions"] or {}),
        use_knowledge=bool(pick["use_knowledge"]),
        use_conversation=bool(pick["use_conversation"]),
        max_unresolved_turns=int(pick["max_unresolved_turns"]),
        handoff_on_no_answer=bool(pick["handoff_on_no_answer"]),
        daily_limit=pick["daily_limit"],
        price_input_per_million=float(pick["price_input_per_million"] or 0),
        price_output_per_million=float(pick["price_output_per_million"] or 0),
        provider=provider_for(state, row),
    )


def form_values(state: ChatsState, source_id: int) -> dict[str, Any]:
    """What the settings page shows: the stored values (or the defaults), the provider's own
    URL and model, and whether a key is stored (never the key)."""
    row = get(state, source_id)
    values = _columns(row) if row is not None else _defaults()
    values["instructions"] = dict(values["instructions"] or {})
    values["base_url"] = row.base_url if row is not None else None
    values["model"] = row.model if row is not None else None
    values["key_stored"] = bool(row is not None and row.api_key_encrypted)
    values["provider"] = provider_for(state, row)
    return values


def _columns(row: AISettings) -> dict[str, Any]:
    return {c: getattr(row, c) for c in _defaults()}


def _defaults() -> dict[str, Any]:
    return {
        "mode": AIMode.HUMANS,
        "assistant_name": None,
        "assistant_avatar_url": None,
        "instructions": {},
        "use_knowledge": True,
        "use_conversation": False,
        "max_unresolved_turns": 3,
        "handoff_on_no_answer": True,
        "daily_limit": None,
        "price_input_per_million": 0.0,
        "price_output_per_million": 0.0,
    }


def _mode(value: Any) -> str:
    if value not in AIMode.ALL:
        raise AISettingsError("The mode must be humans, ai_first or ai_only.")
    return str(value)


def _name(value: Any) -> str | None:
    text = str(value or "").strip()
    if len(text) > MAX_NAME:
        raise AISettingsError(f"The assistant's name is too long (at most {MAX_NAME}).")
    return text or None


def _avatar(value: Any) -> str | None:
    url = str(value or "").strip()
    if url and not (url.startswith("https://") or url.startswith("/")):
        raise AISettingsError("The avatar must be an https:// URL or a path on this site.")
    return url or None


def _instructions(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise AISettingsError("Instructions are given per language.")
    cleaned: dict[str, str] = {}
    for tag, text in value.items():
        try:
            language = normalize_language(str(tag))
        except WidgetTextError as exc:
            raise AISettingsError(str(exc)) from exc
        body = str(text or "").strip()
        if len(body) > MAX_INSTRUCTION:
            raise AISettingsError(
                f"The instruction for {language} is too long (at most {MAX_INSTRUCTION})."
            )
        if body:
            cleaned[language] = body
    return cleaned


def _turns(value: Any) -> int:
    try:
        turns = int(value)
    except (TypeError, ValueError):
        raise AISettingsError("The number of AI turns must be a whole number.") from None
    if not 1 <= turns <= 50:
        raise AISettingsError("The number of AI turns must be between 1 and 50.")
    return turns


def _amount(field: str, optional: bool) -> Callable[[Any], float | None]:
    def clean(value: Any) -> float | None:
        if optional and value in (None, ""):
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise AISettingsError(f"{field} must be a number.") from None
        if number < 0 or number != number:  # NaN is not a price
            raise AISettingsError(f"{field} cannot be negative.")
        return number

    return clean


def _base_url(value: Any) -> str | None:
    text = str(value or "").strip().rstrip("/")
    if text and not text.startswith(("https://", "http://")):
        raise AISettingsError("The provider URL must start with https:// or http://.")
    return text or None


def _model(value: Any) -> str | None:
    return str(value or "").strip() or None


#: One cleaner per field an admin may set (the provider key is handled by :func:`do_save`).
_CLEANERS: dict[str, Callable[[Any], Any]] = {
    "mode": _mode,
    "assistant_name": _name,
    "assistant_avatar_url": _avatar,
    "instructions": _instructions,
    "use_knowledge": bool,
    "use_conversation": bool,
    "handoff_on_no_answer": bool,
    "max_unresolved_turns": _turns,
    "daily_limit": _amount("daily_limit", optional=True),
    "price_input_per_million": _amount("price_input_per_million", optional=False),
    "price_output_per_million": _amount("price_output_per_million", optional=False),
    "base_url": _base_url,
    "model": _model,
}


def _clean(field: str, value: Any) -> Any:
    cleaner = _CLEANERS.get(field)
    if cleaner is None:
        raise AISettingsError(f"Unknown AI setting {field!r}.")
    return cleaner(value)


def do_save(state: ChatsState, source: Source, **values: Any) -> AISettings:
    """Create or update the source's settings; ``api_key=""`` removes a stored key, ``None``
    (or leaving it out) keeps it."""
    row = get(state, source.id)
    if row is None:
        row = AISettings(source_id=source.id, **_defaults())
        state.session.add(row)
    api_key = values.pop("api_key", None)
    for field, value in values.items():
        setattr(row, field, _clean(field, value))
    if api_key is not None:
        key = str(api_key).strip()
        row.api_key_encrypted = encrypt(state, {"api_key": key}) if key else None
    row.updated_at = utcnow()
    state.session.flush()
    changed(state, mode_key(source.id))
    return row
