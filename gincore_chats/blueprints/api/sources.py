"""``/sources``: the inquiry sources (widgets, messenger bots) the token's manager works on."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from ...models import SourceKind
from ...services import sources
from ...services.api.lists import require_view
from ...state import get_state
from .guard import current_manager
from .spec import operation

SourceKindName = StrEnum("SourceKindName", {k.upper(): k for k in SourceKind.ALL})  # type: ignore[misc]


class Source(BaseModel):
    id: int
    kind: SourceKindName  # type: ignore[valid-type]
    name: str
    active: bool
    created_at: datetime


class SourceList(BaseModel):
    items: list[Source]


@operation(tag="sources", ok=SourceList)
def list_sources() -> SourceList:
    """Sources the manager is assigned to (admins: all)."""
    state = get_state()
    manager = current_manager()
    require_view(manager)
    visible = sources.visible_source_ids(state, manager)
    rows = [s for s in sources.list_sources(state) if visible is None or s.id in visible]
    return SourceList(
        items=[
            Source(
                id=s.id,
                kind=SourceKindName(s.kind),
                name=s.name,
                active=s.active,
                created_at=s.created_at,
            )
            for s in rows
        ]
    )


ROUTES = [("/sources", list_sources, ["GET"])]
