"""Does a customer message ask for a person? Pure, no provider needed.

Used before any model is asked (it saves a call and works without a provider) in every
language the widget ships: en, de, es, fr, it, pl, pt, ru, tr, uk. A message asks for a
person when it names one (a human, an operator, a manager ...) and either asks for them
(want, talk to, connect ...) or says little else. False positives only hand a conversation
to people early, which is the safe side.
"""

from __future__ import annotations

import re
import unicodedata

# Nouns (stems) that name a person to talk to, per language.
_PERSON = {
    "en": r"human|person|people|operator|agent|representative|rep|someone real|real one"
    r"|staff|manager|support team|somebody",
    "de": r"mensch|menschen|person|mitarbeiter\w*|berater\w*|operator|agent\w*|jemand\w*",
    "es": r"humano|persona|operador\w*|agente|asesor\w*|representante|alguien",
    "fr": r"humain|personne|operateur\w*|agent|conseiller\w*|quelqu'?un",
    "it": r"umano|persona|operatore|operatrice|agente|consulente|qualcuno",
    "pl": r"czlowiek\w*|osob\w*|operator\w*|konsultant\w*|pracownik\w*|agent\w*|kims",
    "pt": r"humano|pessoa|atendente|operador\w*|agente|alguem",
    "ru": r"человек\w*|оператор\w*|менеджер\w*|сотрудник\w*|консультант\w*|живо\w*",
    "tr": r"insan\w*|gercek kisi\w*|temsilci\w*|operator\w*|yetkili\w*|birisi\w*|biri\w*",
    "uk": r"людин\w*|людьми|оператор\w*|менеджер\w*|працівник\w*|консультант\w*|жив\w*",
}

# Words that ask for someone (want, talk, connect, call, transfer, please ...).
_ASK = {
    "en": r"want|wanna|need|talk|speak|chat|connect|transfer|get|give|call|real|live|actual"
    r"|please|let me|can i|could i|is there",
    "de": r"will|mochte|moechte|brauche|sprechen|reden|verbinden|verbinde|echte\w*|bitte"
    r"|weiterleiten|kann ich",
    "es": r"quiero|necesito|hablar|habla|conectar|comunicar|pasar|real|por favor|puedo",
    "fr": r"veux|voudrais|besoin|parler|connecter|mettre en relation|transferer|vrai\w*|reel\w*"
    r"|s'il vous plait|svp|puis-je",
    "it": r"voglio|vorrei|bisogno|parlare|collegare|passare|vero|vera|reale|per favore|posso",
    "pl": r"chce|chcialbym|chcialabym|potrzebuje|porozmawiac|rozmawiac|polacz\w*|prawdziw\w*"
    r"|zyw\w*|prosze|moge",
    "pt": r"quero|queria|gostaria|preciso|falar|conversar|conectar|transferir|real|verdadeir\w*"
    r"|por favor|posso",
    "ru": r"хочу|нужен|нужна|нужно|поговорить|говорить|пообщаться|соедините|соедини|позовите"
    r"|позови|переключите|настоящ\w*|реальн\w*|пожалуйста|можно|дайте",
    "tr": r"istiyorum|istiyom|lazim|gorusmek|konusmak|konusabilir\w*|bagla\w*|aktar\w*|gercek"
    r"|lutfen|var mi",
    "uk": r"хочу|потрібен|потрібна|потрібно|поговорити|говорити|поспілкуватися|з'єднайте"
    r"|зєднайте|покличте|переключіть|справжн\w*|реальн\w*|будь ласка|можна|дайте",
}

#: A message this short that names a person asks for one ("operator!", "human please").
SHORT = 5


_BY_HAND = str.maketrans({"\u0142": "l", "\u0131": "i", "\u2019": "'"})


def _fold(text: str) -> str:
    """Lower case without Latin accents (so "möchte" matches "mochte"); Cyrillic stays.

    Some letters decompose to no base letter (Polish l with stroke, Turkish dotless i): they
    are mapped by hand, as is the typographic apostrophe."""
    value = text.lower().translate(_BY_HAND)
    decomposed = unicodedata.normalize("NFD", value)
    kept: list[str] = []
    for ch in decomposed:
        if unicodedata.category(ch) == "Mn":
            # Keep the Cyrillic short i and yo intact: dropping their mark changes the word.
            if kept and kept[-1] in "иеі" and ch in "\u0306\u0308":
                kept[-1] = unicodedata.normalize("NFC", kept[-1] + ch)
            continue
        kept.append(ch)
    return "".join(kept)


def _compile(parts: dict[str, str]) -> re.Pattern[str]:
    joined = "|".join(f"(?:{p})" for p in parts.values())
    return re.compile(rf"(?<![\w])(?:{_fold(joined)})(?![\w])")


_PERSON_RE = _compile(_PERSON)
_ASK_RE = _compile(_ASK)
_WORD_RE = re.compile(r"\w+")


def asks_for_person(text: str) -> bool:
    value = _fold(text or "")
    if not _PERSON_RE.search(value):
        return False
    return bool(_ASK_RE.search(value)) or len(_WORD_RE.findall(value)) <= SHORT
