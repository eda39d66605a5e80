"""AI-reply fixtures: the knowledge-base kit (a shop with an admin and a manager, the real
widget and console APIs, the real RQ worker) plus the source's AI settings."""

from __future__ import annotations

from typing import Any

from gincore_chats.models import Source
from gincore_chats.services.ai import settings as ai_settings
from gincore_chats.services.unit_of_work import unit_of_work

from ..conftest import Visitor
from ..knowledge.conftest import Kit, fake_openai, kit, provider, run_worker
from ..test_notifications_email import smtp

__all__ = ["Kit", "fake_openai", "kit", "provider", "run_worker", "smtp"]


def set_ai(kit: Kit, source_id: int | None = None, **values: Any) -> None:
    with kit.app.app_context():
        state = kit.state
        with unit_of_work(state.session):
            source = state.session.get(Source, source_id or kit.source_id)
            ai_settings.do_save(state, source, **values)


def open_chat(kit: Kit, language: str = "en-US") -> tuple[Visitor, int]:
    visitor = Visitor(kit.server, kit.key)
    opened = visitor.open(language=language)
    assert opened.status_code == 201, opened.text
    return visitor, opened.json()["conversation_id"]


def messages(visitor: Visitor) -> list[dict[str, Any]]:
    r = visitor.api("GET", "/conversation")
    assert r.status_code == 200, r.text
    return list(r.json()["messages"])


def staff_events(kit: Kit, conv_id: int) -> list[dict[str, Any]]:
    r = kit.manager.api("GET", f"/conversations/{conv_id}/events?after=0")
    assert r.status_code == 200, r.text
    return list(r.json()["events"])


def answer(entry_ids: list[int], text: str, **extra: Any) -> dict[str, Any]:
    """What the fake model "says" for a grounded answer."""
    return {
        "action": "answer",
        "answer": text,
        "entry_ids": entry_ids,
        "customer_wants_person": False,
        **extra,
    }
