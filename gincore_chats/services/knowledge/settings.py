"""The knowledge base's settings: thresholds (measured defaults) and switches.

The lexical defaults come from ``bench/kb_retrieval.py`` on the labelled set the project ships
(docs/knowledge_base.rst has the figures): at :data:`GROUNDED` a match is right for nearly
every paraphrase that has an entry while questions without one rarely reach it, and
:data:`MERGE` is stricter, because merging a question into the wrong entry hides it.
The embedding thresholds are cosine similarities; their defaults follow what peers use
(Chatwoot treats a cosine distance under 0.3 as a duplicate) and should be checked with the
bench against the model you configure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ...models import Setting, Source, SourceKind, utcnow
from ...state import ChatsState

KEY = "knowledge"
GROUNDED = 0.34
MERGE = 0.62
EMBEDDING_GROUNDED = 0.75
EMBEDDING_MERGE = 0.88
#: The widget's per-source switch, in ``Source.settings``.
WIDGET_SWITCH = "kb_suggestions"


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class KnowledgeSettings:
    #: A match at or above this score is *grounded*: safe to offer as the answer.
    grounded_threshold: float = GROUNDED
    #: An extracted question at or above this score becomes a phrasing of that entry.
    merge_threshold: float = MERGE
    embedding_grounded_threshold: float = EMBEDDING_GROUNDED
    embedding_merge_threshold: float = EMBEDDING_MERGE
    #: Propose candidates from each conversation when it is closed.
    extract_on_close: bool = True
    #: With a provider configured, let it rewrite extracted pairs into generic ones.
    rewrite_with_provider: bool = True


THRESHOLDS = (
    "grounded_threshold",
    "merge_threshold",
    "embedding_grounded_threshold",
    "embedding_merge_threshold",
)


def load(state: ChatsState) -> KnowledgeSettings:
    row = state.session.get(Setting, KEY)
    return from_stored(row.value if row is not None else None)


def from_stored(stored: dict[str, Any] | None) -> KnowledgeSettings:
    """The settings from the stored row's value (None: no row, the defaults)."""
    known = {f.name for f in fields(KnowledgeSettings)}
    return replace(KnowledgeSettings(), **{k: v for k, v in (stored or {}).items() if k in known})


def do_save(state: ChatsState, **values: Any) -> KnowledgeSettings:
    current = load(state)
    changes: dict[str, Any] = {}
    for name, value in values.items():
        if name in THRESHOLDS:
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise SettingsError(f"{name.replace('_', ' ')} must be a number.") from None
            if not 0.0 < number <= 1.0:
                raise SettingsError(f"{name.replace('_', ' ')} must be above 0 and at most 1.")
            changes[name] = round(number, 3)
        elif name in ("extract_on_close", "rewrite_with_provider"):
            changes[name] = bool(value)
        else:
            raise SettingsError(f"Unknown knowledge-base setting {name!r}.")
    updated = replace(current, **changes)
    row = state.session.get(Setting, KEY)
    if row is None:
        row = Setting(key=KEY, value={})
        state.session.add(row)
    row.value = asdict(updated)
    row.updated_at = utcnow()
    return updated


def widget_enabled(source: Source) -> bool:
    return source.kind == SourceKind.WIDGET and bool((source.settings or {}).get(WIDGET_SWITCH))


def do_set_widget_suggestions(state: ChatsState, source: Source, enabled: bool) -> None:
    if source.kind != SourceKind.WIDGET:
        raise SettingsError("Answer suggestions are a widget feature.")
    # A new dict: JSON columns notice assignment, not changes in place.
    source.settings = {**(source.settings or {}), WIDGET_SWITCH: bool(enabled)}
