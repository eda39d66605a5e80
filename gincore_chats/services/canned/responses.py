"""Saved replies: personal ones (each manager's own) and shared ones (admins manage them, for
one source or all), per language, each with a shortcut the composer finds after ``/``.

Who may change what: a manager their own personal replies; only ``chats.admin`` the shared
ones. Nobody edits another manager's personal replies, admins included (they are personal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select

from ...babel import N_
from ...identity import Manager
from ...json_input import storable_text
from ...models import CannedResponse, Conversation, Source, utcnow
from ...permissions import Permission, PermissionDenied
from ...state import ChatsState
from ..errors import NotFound, TranslatableError
from ..row_ids import row_id
from ..sources import visible_source_ids
from . import variables

SHORTCUT = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8}){0,3}")
#: Longest text of a reply (characters); a message may be longer, a saved reply need not be.
TEXT_MAX = 4000
#: Replies one manager may own, and shared replies in all.
PERSONAL_MAX = 200
SHARED_MAX = 1000

PERSONAL, SHARED = "personal", "shared"


class CannedError(TranslatableError):
    """Invalid saved-reply input; the text is shown to the manager."""


@dataclass(frozen=True)
class Fields:
    shortcut: str
    text: str
    language: str | None
    source_id: int | None


def clean_shortcut(value: object) -> str:
    shortcut = str(value or "").strip().lstrip("/").lower()
    if not SHORTCUT.fullmatch(shortcut):
        raise CannedError(
            N_("The shortcut is 1 to 32 letters, digits, “-” or “_” (what you type after “/”).")
        )
    return shortcut


def clean_language(value: object) -> str | None:
    language = str(value or "").strip().lower().replace("_", "-")
    if not language:
        return None
    if not LANGUAGE.fullmatch(language):
        raise CannedError(N_("The language is a code such as en, uk or pt-br (or empty for any)."))
    return language


def clean_text(value: object) -> str:
    text = storable_text(str(value or "")).strip()
    if not text:
        raise CannedError(N_("Write the reply's text."))
    if len(text) > TEXT_MAX:
        raise CannedError(
            N_("A saved reply has at most %(max)d characters (%(given)d given)."),
            max=TEXT_MAX,
            given=len(text),
        )
    return text


def clean_fields(state: ChatsState, data: dict[str, Any], *, shared: bool) -> Fields:
    source_id: int | None = None
    raw_source = data.get("source_id")
    if shared and raw_source not in (None, "", "all"):
        source_id = row_id(raw_source)
        if source_id is None or state.session.get(Source, source_id) is None:
            raise CannedError(N_("No such inquiry source."))
    return Fields(
        shortcut=clean_shortcut(data.get("shortcut")),
        text=clean_text(data.get("text")),
        language=clean_language(data.get("language")),
        source_id=source_id,
    )


def scope_of(reply: CannedResponse) -> str:
    return SHARED if reply.owner_id is None else PERSONAL


def may_edit(manager: Manager, reply: CannedResponse) -> bool:
    return reply.owner_id == manager.id if reply.owner_id is not None else manager.is_admin


def _require_console(manager: Manager) -> None:
    if not (manager.can(Permission.VIEW) or manager.is_admin):
        raise PermissionDenied("You need the chats.view permission.", Permission.VIEW)


def _require_edit(manager: Manager, reply: CannedResponse) -> None:
    if may_edit(manager, reply):
        return
    if reply.owner_id is None:
        raise PermissionDenied(
            "Shared replies are managed by admins (chats.admin).", Permission.ADMIN
        )
    raise PermissionDenied("This saved reply belongs to another manager.")


def _visible_query(state: ChatsState, manager: Manager) -> Any:
    shared_here: ColumnElement[bool] = CannedResponse.source_id.is_(None)
    visible = visible_source_ids(state, manager)
    if visible is None:
        shared_here = or_(shared_here, CannedResponse.source_id.is_not(None))
    elif visible:
        shared_here = or_(shared_here, CannedResponse.source_id.in_(visible))
    return select(CannedResponse).where(
        or_(
            CannedResponse.owner_id == manager.id,
            CannedResponse.owner_id.is_(None) & shared_here,
        )
    )


def list_for_manager(state: ChatsState, manager: Manager) -> list[CannedResponse]:
    """The manager's own replies and the shared ones of their sources: own first, by shortcut."""
    _require_console(manager)
    query = _visible_query(state, manager).order_by(
        CannedResponse.owner_id.is_(None), CannedResponse.shortcut, CannedResponse.id
    )
    return list(state.session.scalars(query))


def list_shared(state: ChatsState) -> list[CannedResponse]:
    query = (
        select(CannedResponse)
        .where(CannedResponse.owner_id.is_(None))
        .order_by(CannedResponse.shortcut, CannedResponse.language, CannedResponse.id)
    )
    return list(state.session.scalars(query))


def get_reply(state: ChatsState, manager: Manager, reply_id: int) -> CannedResponse:
    """A reply the manager can see (another's personal one is "not found": no leak)."""
    found = row_id(reply_id)
    query = _visible_query(state, manager).where(CannedResponse.id == (found or 0))
    reply = state.session.scalar(query) if found is not None else None
    if reply is None:
        raise NotFound("No such saved reply.")
    return reply


def _require_room(state: ChatsState, owner_id: str | None) -> None:
    query = select(func.count()).select_from(CannedResponse)
    if owner_id is None:
        query, cap = query.where(CannedResponse.owner_id.is_(None)), SHARED_MAX
    else:
        query, cap = query.where(CannedResponse.owner_id == owner_id), PERSONAL_MAX
    if (state.session.scalar(query) or 0) >= cap:
        raise CannedError(
            N_("There can be at most %(max)d shared saved replies; delete one first.")
            if owner_id is None
            else N_("There can be at most %(max)d personal saved replies; delete one first."),
            max=cap,
        )


def _require_unique(
    state: ChatsState, owner_id: str | None, fields: Fields, except_id: int | None = None
) -> None:
    query = select(CannedResponse.id).where(
        CannedResponse.shortcut == fields.shortcut,
        CannedResponse.owner_id.is_(None)
        if owner_id is None
        else CannedResponse.owner_id == owner_id,
        CannedResponse.language.is_(None)
        if fields.language is None
        else CannedResponse.language == fields.language,
        CannedResponse.source_id.is_(None)
        if fields.source_id is None
        else CannedResponse.source_id == fields.source_id,
    )
    if except_id is not None:
        query = query.where(CannedResponse.id != except_id)
    if state.session.scalar(query.limit(1)) is not None:
        raise CannedError(
            N_("“/%(shortcut)s” already exists for this language and source.")
            if owner_id is None
            else N_("“/%(shortcut)s” already exists for this language."),
            shortcut=fields.shortcut,
        )


def do_create(
    state: ChatsState, manager: Manager, data: dict[str, Any], *, shared: bool = False
) -> CannedResponse:
    _require_console(manager)
    if shared and not manager.is_admin:
        raise PermissionDenied(
            "Shared replies are managed by admins (chats.admin).", Permission.ADMIN
        )
    owner_id = None if shared else manager.id
    fields = clean_fields(state, data, shared=shared)
    _require_room(state, owner_id)
    _require_unique(state, owner_id, fields)
    now = utcnow()
    reply = CannedResponse(
        owner_id=owner_id,
        source_id=fields.source_id,
        language=fields.language,
        shortcut=fields.shortcut,
        text=fields.text,
        created_at=now,
        updated_at=now,
    )
    state.session.add(reply)
    state.session.flush()
    return reply


def do_update(
    state: ChatsState, manager: Manager, reply: CannedResponse, data: dict[str, Any]
) -> CannedResponse:
    _require_edit(manager, reply)
    fields = clean_fields(state, data, shared=reply.owner_id is None)
    _require_unique(state, reply.owner_id, fields, except_id=reply.id)
    reply.shortcut, reply.text, reply.language = fields.shortcut, fields.text, fields.language
    reply.source_id = fields.source_id
    reply.updated_at = utcnow()
    state.session.flush()
    return reply


def do_delete(state: ChatsState, manager: Manager, reply: CannedResponse) -> None:
    _require_edit(manager, reply)
    state.session.delete(reply)
    state.session.flush()


def reply_dict(manager: Manager, reply: CannedResponse) -> dict[str, Any]:
    return {
        "id": reply.id,
        "scope": scope_of(reply),
        "shortcut": reply.shortcut,
        "text": reply.text,
        "language": reply.language,
        "source_id": reply.source_id,
        "editable": may_edit(manager, reply),
    }


# ---- the picker: one reply per shortcut, in the conversation's language, filled in ----------


def _language_rank(reply_language: str | None, wanted: str | None) -> int:
    """0 the conversation's language, 1 its primary language ("pt" for "pt-br"), 2 any
    language, 3 another language."""
    if reply_language is None:
        return 2
    if wanted and reply_language == wanted:
        return 0
    if wanted and reply_language.split("-")[0] == wanted.split("-")[0]:
        return 1
    return 3


def variable_values(manager: Manager, conv: Conversation, *, pii: bool) -> dict[str, str | None]:
    contact = conv.contact
    return {
        "customer.name": contact.name,
        "customer.first_name": variables.first_word(contact.name),
        "customer.email": contact.email if pii else None,
        "customer.phone": contact.phone if pii else None,
        "manager.name": manager.name,
        "manager.first_name": variables.first_word(manager.name),
        "conversation.id": str(conv.id),
        "source.name": conv.source.name,
    }


def for_conversation(
    state: ChatsState, manager: Manager, conv: Conversation, *, pii: bool
) -> list[dict[str, Any]]:
    """What the composer's picker offers in ``conv``: the manager's own replies, then the
    shared ones of the conversation's source (or all sources); per shortcut and scope the
    one in the conversation's language, else one for any language, else another language."""
    wanted = clean_language_or_none(conv.language)
    candidates = [
        r
        for r in list_for_manager(state, manager)
        if r.source_id is None or r.source_id == conv.source_id
    ]
    best: dict[tuple[str, str], tuple[tuple[int, int], CannedResponse]] = {}
    for reply in candidates:
        key = (scope_of(reply), reply.shortcut)
        # A source's own shared reply wins over the all-sources one in the same language.
        rank = (_language_rank(reply.language, wanted), 0 if reply.source_id else 1)
        if key not in best or rank < best[key][0]:
            best[key] = (rank, reply)
    values = variable_values(manager, conv, pii=pii)
    chosen = sorted(
        (reply for _, reply in best.values()),
        key=lambda r: (r.owner_id is None, r.shortcut),
    )
    return [
        {**reply_dict(manager, reply), "filled": variables.fill(reply.text, values)}
        for reply in chosen
    ]


def clean_language_or_none(value: str | None) -> str | None:
    try:
        return clean_language(value)
    except CannedError:
        return None
