"""The widget's "AI assistant" mark is a widget text: in the visitor's language, and an admin
may override it per source like every other text."""

from __future__ import annotations

from gincore_chats.models import Source
from gincore_chats.services.unit_of_work import unit_of_work
from gincore_chats.services.widget import texts as widget_texts

from .conftest import Kit, open_chat


def mark(kit: Kit, language: str) -> str:
    visitor, _conv_id = open_chat(kit, language=language)
    return visitor.api("GET", "/conversation").json()["texts"]["assistant"]


def test_the_mark_is_in_the_visitors_language_and_can_be_overridden(kit: Kit):
    assert mark(kit, "en-US") == "AI assistant"
    assert mark(kit, "de-DE") == "KI-Assistent"
    assert mark(kit, "uk") == "ШІ-асистент"
    assert mark(kit, "pt-BR") == "Assistente de IA"
    with kit.app.app_context(), unit_of_work(kit.state.session):
        source = kit.state.session.get(Source, kit.source_id)
        widget_texts.do_set_texts(kit.state, source, "en", {"assistant": "Shop bot"})
    assert mark(kit, "en-US") == "Shop bot"
