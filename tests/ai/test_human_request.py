"""Requests for a person in every language the widget ships, and questions that are not."""

# ruff: noqa: RUF001  (Cyrillic and Turkish letters are the point here)

from __future__ import annotations

import pytest

from gincore_chats.ai.human_request import asks_for_person

ASKS = {
    "en": ["I want to talk to a human", "Can I speak to a real person please?", "operator!",
           "agent", "connect me with someone real", "Is there a person I could chat with?"],
    "de": ["Ich möchte mit einem Mitarbeiter sprechen", "Mensch bitte",
           "Kann ich mit einem echten Menschen reden?"],
    "es": ["Quiero hablar con una persona", "¿Puedo hablar con un agente?", "un humano por favor"],
    "fr": ["Je veux parler à un humain", "Je voudrais parler à quelqu’un",
           "Un conseiller s'il vous plaît"],
    "it": ["Vorrei parlare con un operatore", "Voglio una persona vera"],
    "pl": ["Chcę porozmawiać z człowiekiem", "Poproszę konsultanta",
           "Połącz mnie z prawdziwym pracownikiem"],
    "pt": ["Quero falar com um atendente", "Gostaria de falar com uma pessoa",
           "Um humano, por favor"],
    "ru": ["Хочу поговорить с оператором", "Позовите живого человека",
           "Можно с менеджером поговорить?"],
    "tr": ["Gerçek bir insanla konuşmak istiyorum", "Temsilciye bağlayın lütfen",
           "Müşteri temsilcisi var mı?"],
    "uk": ["Хочу поговорити з оператором", "Покличте живу людину", "З'єднайте з менеджером",
           "Можна з людиною поговорити?"],
}  # fmt: skip

QUESTIONS = [
    "How long does delivery take?", "Do you ship to Poland?", "What is your return policy?",
    "My order number is 12345, where is it?",
    "The product page says it is waterproof, is that true for the large size as well?",
    "Wie lange dauert die Lieferung?", "¿Cuánto cuesta el envío?", "Quels sont vos horaires ?",
    "Quanto costa la spedizione?", "Ile kosztuje dostawa?", "Quanto custa o frete?",
    "Сколько стоит доставка?", "Kargo ne kadar sürer?", "Скільки коштує доставка?",
]  # fmt: skip


@pytest.mark.parametrize(
    "text", [t for texts in ASKS.values() for t in texts], ids=lambda t: t[:30]
)
def test_a_request_for_a_person_is_recognised(text):
    assert asks_for_person(text)


@pytest.mark.parametrize("text", QUESTIONS, ids=lambda t: t[:30])
def test_an_ordinary_question_is_not_one(text):
    assert not asks_for_person(text)


def test_every_shipped_language_is_covered():
    import os

    from gincore_chats.babel import TRANSLATIONS

    shipped = {n.split("_")[0] for n in os.listdir(TRANSLATIONS) if not n.endswith(".pot")}
    assert shipped | {"en"} <= set(ASKS)
