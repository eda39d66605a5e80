"""The labels admins define: a name (unique, case-insensitively) and a colour."""

from __future__ import annotations

import re

from sqlalchemy import delete, func, select

from ...babel import N_
from ...identity import Manager
from ...models import ConversationLabel, Label, utcnow
from ...permissions import Permission, PermissionDenied
from ...state import ChatsState
from ..errors import NotFound, TranslatableError

NAME_MAX = 50
#: Enough for any team's taxonomy; a console menu of more would be unusable anyway.
COUNT_MAX = 200
COLOR = re.compile(r"#[0-9a-f]{6}")
DEFAULT_COLOR = "#6b7280"


class LabelError(TranslatableError):
    """Invalid label input; the text is shown to the admin."""


def clean_name(value: object) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise LabelError(N_("Give the label a name."))
    if len(name) > NAME_MAX:
        raise LabelError(N_("A label name has at most %(max)d characters."), max=NAME_MAX)
    if any(not ch.isprintable() for ch in name):
        raise LabelError(N_("A label name cannot contain control characters."))
    return name


def clean_color(value: object) -> str:
    color = str(value or "").strip().lower()
    if len(color) == 4 and color.startswith("#"):  # "#abc", as CSS allows it
        color = "#" + "".join(ch * 2 for ch in color[1:])
    if not COLOR.fullmatch(color):
        raise LabelError(N_("The colour must be a hex colour such as #1d4ed8."))
    return color


def list_labels(state: ChatsState) -> list[Label]:
    return list(state.session.scalars(select(Label).order_by(Label.name_key, Label.id)))


def get_label(state: ChatsState, label_id: int) -> Label:
    label = state.session.get(Label, label_id)
    if label is None:
        raise NotFound("No such label.")
    return label


def usage(state: ChatsState) -> dict[int, int]:
    """How many conversations carry each label (the settings page shows it before a delete)."""
    rows = state.session.execute(
        select(ConversationLabel.label_id, func.count()).group_by(ConversationLabel.label_id)
    )
    return {label_id: int(n) for label_id, n in rows}


def _require_admin(manager: Manager) -> None:
    if not manager.is_admin:
        raise PermissionDenied("Labels are managed by admins (chats.admin).", Permission.ADMIN)


def _require_unique(state: ChatsState, name: str, except_id: int | None = None) -> None:
    query = select(Label.id).where(Label.name_key == name.casefold()[:NAME_MAX])
    if except_id is not None:
        query = query.where(Label.id != except_id)
    if state.session.scalar(query) is not None:
        raise LabelError(N_("A label named “%(name)s” already exists."), name=name)


def do_create_label(state: ChatsState, manager: Manager, name: object, color: object) -> Label:
    _require_admin(manager)
    clean = clean_name(name)
    hue = clean_color(color or DEFAULT_COLOR)
    _require_unique(state, clean)
    count = state.session.scalar(select(func.count()).select_from(Label)) or 0
    if count >= COUNT_MAX:
        raise LabelError(
            N_("There can be at most %(max)d labels; delete one first."), max=COUNT_MAX
        )
    label = Label(name=clean, name_key=clean.casefold()[:NAME_MAX], color=hue, created_at=utcnow())
    state.session.add(label)
    state.session.flush()
    return label


def do_update_label(
    state: ChatsState, manager: Manager, label: Label, name: object, color: object
) -> Label:
    _require_admin(manager)
    clean = clean_name(name)
    hue = clean_color(color)
    _require_unique(state, clean, except_id=label.id)
    label.name, label.name_key, label.color = clean, clean.casefold()[:NAME_MAX], hue
    state.session.flush()
    return label


def do_delete_label(state: ChatsState, manager: Manager, label: Label) -> None:
    """Delete it; the conversations lose it with it (the rows cascade)."""
    _require_admin(manager)
    state.session.execute(delete(ConversationLabel).where(ConversationLabel.label_id == label.id))
    state.session.delete(label)
    state.session.flush()


def label_dict(label: Label) -> dict[str, object]:
    return {"id": label.id, "name": label.name, "color": label.color}
