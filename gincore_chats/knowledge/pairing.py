"""Pairing customer questions with the manager replies that answered them.

Input is the visitor-visible history of one conversation as plain :class:`Said` values (notes
and system messages are left out by the caller). The rules, in order:

1. Consecutive messages of one side, each within :data:`TURN_GAP` of the previous, form a turn.
2. A customer turn is a *question* when, after greetings and thanks are dropped, something is
   left that asks: a question mark, a question word ("how", "чи", "сколько"), or a request
   ("I want", "підкажіть", "can you").
3. Its answer is what managers wrote after it, up to the next customer question, within
   :data:`ANSWER_GAP`: greetings, sign-offs and holding phrases ("one moment") are dropped, and a
   manager's question back (asking for the order number) is skipped along with the customer's
   reply to it.
4. A manager message that quotes a customer message answers that message, whatever came
   between.

Pairs whose question or answer is too short to mean anything are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

#: Messages of one side further apart than this are separate turns.
TURN_GAP = timedelta(minutes=10)
#: A reply later than this after the question is not taken as its answer.
ANSWER_GAP = timedelta(hours=48)
MIN_QUESTION = 8
MIN_ANSWER = 15
MAX_QUESTION = 500
MAX_ANSWER = 3000


@dataclass(frozen=True)
class Said:
    """One visitor-visible message: who (``"customer"`` or ``"manager"``), what, when."""

    id: int
    side: str
    body: str
    at: datetime
    author: str | None = None
    quoted_id: int | None = None


@dataclass
class Pair:
    question: str
    answer: str
    question_ids: list[int] = field(default_factory=list)
    answer_ids: list[int] = field(default_factory=list)

    @property
    def last_id(self) -> int:
        return max([*self.question_ids, *self.answer_ids])


_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|good (?:morning|afternoon|evening|day)|greetings|dear [^,!.]*|"
    r"привіт(?:ик)?|вітаю|добр(?:ий|ого) (?:день|дня|вечір|вечора|ранок|ранку)|доброго|"
    r"здравствуйте|здраствуйте|привет(?:ствую)?|добр(?:ый|ое|ого) (?:день|дня|вечер|утро)|"
    r"дoбрий день|hallo|guten tag|bonjour|hola|buongiorno|ciao|olá|ola|cześć|dzień dobry|"
    r"merhaba|selam)\b"
)
# "Hello, John!" goes whole; "Hi, how can I ..." loses only "Hi,".
_GREETING_TO_BANG = re.compile(_GREETING.pattern + r"[^.!?\n]{0,40}?(?:!+|\n|$)", re.IGNORECASE)
_GREETING_WORD = re.compile(_GREETING.pattern + r"[,.!\s]*", re.IGNORECASE)
_CLOSING = re.compile(
    r"(?:^|[.!?\n]\s*)(?:have a (?:nice|good|great) (?:day|evening|weekend)[^.!?\n]*|"
    r"(?:best|kind) regards[^\n]*|regards[^\n]*|thanks? (?:for (?:contacting|reaching|your)"
    r"[^.!?\n]*)|"
    r"гарного (?:дня|вечора)[^.!?\n]*|гарного дня|хорошого дня[^.!?\n]*|"
    r"хорошего (?:дня|вечера)[^.!?\n]*|всего доброго[^.!?\n]*|всього доброго[^.!?\n]*|"
    r"з повагою[^\n]*|с уважением[^\n]*|звертайтеся[^.!?\n]*|обращайтесь[^.!?\n]*|"
    r"if you have (?:any )?(?:other|more|further) questions[^.!?\n]*)[.!?)]*\s*$",
    re.IGNORECASE,
)
_CHITCHAT = re.compile(
    r"^(?:ok(?:ay)?|k|thanks?(?: you)?(?: (?:very|so) much)?|thx|ty|great|perfect|cool|"
    r"got it|sure|yes|no|yep|nope|bye|good ?bye|see you|one (?:moment|second|sec|minute)|"
    r"just a (?:moment|second|minute)|let me check|checking|wait|hold on|you'?re welcome|"
    r"no problem|np|дякую(?: вам)?(?: дуже)?|дуже дякую|спасибі|спасибо(?: большое)?|"
    r"благодарю|добре|гаразд|ок|окей|так|ні|да|нет|зрозуміло|понятно|ясно|супер|чудово|"
    r"отлично|хорошо|секунду|хвилинку|хвилиночку|зачекайте|одну хвилинку|одну секунду|"
    r"минутку|минуточку|подождите|сейчас проверю|зараз перевірю|перевіряю|проверяю|"
    r"будь ласка|пожалуйста|будь-ласка|до побачення|до свидания|бувай|пока|"
    r"danke|merci|gracias|grazie|obrigad[oa]|dziękuję|teşekkürler)"
    r"(?:[\s,]+(?:please|pls|пожалуйста|будь ласка|a lot|again|вам|)){0,2}[\s.,!?)(:;\-]*$",
    re.IGNORECASE,
)
_QUESTION_WORDS = re.compile(
    r"\b(?:how|what|when|where|which|who|whom|why|can|could|do|does|did|is|are|will|would|"
    r"should|may|has|have|any|як|що|коли|де|куди|звідки|чому|навіщо|скільки|чи|який|яка|яке|"
    r"які|котрий|хто|можна|можу|можете|как|что|когда|где|куда|откуда|почему|зачем|сколько|"
    r"какой|какая|какое|какие|кто|можно|могу|можете|ли|wie|was|wann|wo|warum|kann|gibt|"
    r"comment|quand|où|pourquoi|est-ce|cómo|como|cuándo|dónde|qué|puedo|quando|dove|"
    r"perché|posso|jak|kiedy|gdzie|czy|ile|nasıl|ne zaman|nerede|neden)\b",
    re.IGNORECASE,
)
_REQUEST = re.compile(
    r"\b(?:i want|i'd like|i would like|i need|i can'?t|i cannot|i didn'?t|i have not|"
    r"i haven'?t|please|help|doesn'?t work|not working|хочу|хотів би|хотіла б|потрібно|"
    r"треба|не можу|не працює|не прийшло|не прийшов|підкажіть|допоможіть|скажіть|"
    r"хотел бы|хотела бы|нужно|надо|не могу|не работает|не пришло|не пришел|подскажите|"
    r"помогите|скажите|ich möchte|je voudrais|quiero|vorrei|chcę|istiyorum)\b",
    re.IGNORECASE,
)


def clean(text: str) -> str:
    """``text`` without leading greetings and trailing sign-offs."""
    value = (text or "").strip()
    for _ in range(3):
        stripped = _GREETING_TO_BANG.sub("", value, count=1).strip()
        if stripped == value:
            stripped = _GREETING_WORD.sub("", value, count=1).strip()
        if stripped == value:
            break
        value = stripped
    for _ in range(3):
        stripped = _CLOSING.sub("", value).strip()
        if stripped == value:
            break
        value = stripped
    return value


def is_chitchat(text: str) -> bool:
    value = clean(text)
    return not value or bool(_CHITCHAT.match(value)) or not re.search(r"[^\W\d_]{2}", value)


def asks(text: str) -> bool:
    value = clean(text)
    if is_chitchat(value) or len(value) < MIN_QUESTION:
        return False
    return "?" in value or bool(_QUESTION_WORDS.search(value) or _REQUEST.search(value))


@dataclass
class _Turn:
    side: str
    messages: list[Said]

    @property
    def text(self) -> str:
        parts = [clean(m.body) for m in self.messages]
        return "\n".join(p for p in parts if p and not is_chitchat(p))

    @property
    def at(self) -> datetime:
        return self.messages[0].at

    @property
    def ids(self) -> list[int]:
        return [m.id for m in self.messages]


def _turns(messages: list[Said]) -> list[_Turn]:
    turns: list[_Turn] = []
    for m in sorted(messages, key=lambda m: (m.at, m.id)):
        if m.side not in ("customer", "manager") or not (m.body or "").strip():
            continue
        last = turns[-1] if turns else None
        if last and last.side == m.side and m.at - last.messages[-1].at <= TURN_GAP:
            last.messages.append(m)
        else:
            turns.append(_Turn(m.side, [m]))
    return turns


def _ends_with_question(text: str) -> bool:
    return text.rstrip().endswith("?")


def pairs(messages: list[Said]) -> list[Pair]:
    """Question/answer pairs found in one conversation, in the order they were asked."""
    found: list[Pair] = []
    by_id = {m.id: m for m in messages}
    quoted_answers: dict[int, list[Said]] = {}
    for m in messages:
        target = by_id.get(m.quoted_id) if m.quoted_id else None
        if m.side == "manager" and target is not None and target.side == "customer":
            quoted_answers.setdefault(target.id, []).append(m)
    used: set[int] = {m.id for replies in quoted_answers.values() for m in replies}

    turns = _turns(messages)
    for i, turn in enumerate(turns):
        if turn.side != "customer":
            continue
        question = turn.text
        quoted = [m for q in turn.ids for m in quoted_answers.get(q, [])]
        if quoted:
            answer_parts = [clean(m.body) for m in quoted]
            answer_ids = [m.id for m in quoted]
        elif asks(question):
            answer_parts, answer_ids = [], []
            for later in turns[i + 1 :]:
                if later.at - turn.at > ANSWER_GAP:
                    break
                if later.side == "customer":
                    if answer_parts:
                        break
                    if asks(later.text) and not _ends_with_question(question):
                        break
                    continue  # the customer answering the manager's question back
                texts = [(m.id, clean(m.body)) for m in later.messages if m.id not in used]
                texts = [(mid, t) for mid, t in texts if t and not is_chitchat(t)]
                if not texts:
                    continue
                body = "\n".join(t for _, t in texts)
                if _ends_with_question(body) and len(body) < 200 and not answer_parts:
                    continue  # a question back ("what is your order number?")
                answer_parts.extend(t for _, t in texts)
                answer_ids.extend(mid for mid, _ in texts)
        else:
            continue
        if not asks(question) and not quoted:
            continue
        answer = "\n".join(answer_parts).strip()
        if len(question) < MIN_QUESTION or len(answer) < MIN_ANSWER:
            continue
        found.append(
            Pair(
                question=question[:MAX_QUESTION],
                answer=answer[:MAX_ANSWER],
                question_ids=turn.ids,
                answer_ids=answer_ids,
            )
        )
    return found
