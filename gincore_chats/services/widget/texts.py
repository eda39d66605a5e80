"""Widget texts: catalog defaults per language, admin overrides per source and language.

A text is looked up as: the source's override for the language, else the library's Babel catalog
translation for the language, else English. The visitor's language is the first of the
browser's languages that has either a catalog or an override, matched on the full tag
(``pt-br``) and then its primary subtag (``pt``).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable

from flask_babel import force_locale
from sqlalchemy import select

from ...babel import N_, TRANSLATIONS, domain
from ...models import Source, WidgetText, utcnow
from ...state import ChatsState
from ..errors import TranslatableError

# Keys and their English defaults (msgids of the "gincore_chats" catalog).
DEFAULTS = {
    "title": N_("Chat with us"),
    "greeting_online": N_("We are online. Ask us anything!"),
    "offline": N_("We are away right now."),
    "business_hours": N_("Leave a message and we will reply during business hours."),
    "placeholder": N_("Write a message…"),
    "send": N_("Send"),
    "open": N_("Open chat"),
    "close": N_("Close chat"),
    "message_label": N_("Message"),
    "name_label": N_("Your name"),
    "email_label": N_("Your email"),
    "save_contact": N_("Save"),
    "contact_saved": N_("Thank you, we will reply to this email if you leave."),
    "consent": N_("I agree to the processing of my personal data."),
    "consent_notice": N_("By writing to us you agree to the processing of your personal data."),
    "privacy_policy": N_("Privacy policy"),
    "consent_required": N_("Please accept the data processing terms to send a message."),
    "joined": N_("{name} joined the chat"),
    "left": N_("{name} left the chat"),
    "typing": N_("{name} is typing…"),
    "deleted": N_("Message deleted"),
    "edited": N_("edited"),
    "reconnecting": N_("Connection lost. Reconnecting…"),
    "retrying": N_("Could not send. Retrying…"),
    "you": N_("You"),
    "sending": N_("Sending…"),
    "sent": N_("Sent"),
    "seen": N_("Seen"),
    "attach": N_("Attach a file"),
    "drop_here": N_("Drop files here to send them"),
    "uploading": N_("Uploading {name}"),
    "cancel": N_("Cancel"),
    "retry": N_("Retry"),
    "upload_failed": N_("{name} could not be sent."),
    "file_too_large": N_("{name} is too large to send."),
    "file_type_refused": N_("{name} cannot be sent: files of this type are not accepted."),
    "quota_full": N_("The storage quota is full; ask your administrator to expand it."),
    "load_failed": N_("The file could not be loaded."),
    "download": N_("Download"),
    "close_image": N_("Close image"),
    "suggestions": N_("Answers that may help"),
    "assistant": N_("AI assistant"),
    "reopened": N_("The chat is open again"),
    "closed": N_("The chat was closed"),
    "rate_prompt": N_("How would you rate this chat?"),
    "rate_numbers": N_("Reply with a number from 1 (bad) to 5 (excellent)."),
    "rate_score": N_("{name} out of 5"),
    "rate_comment": N_("Comment (optional)"),
    "rate_send": N_("Send rating"),
    "rate_thanks": N_("Thank you for your rating!"),
    "rate_expired": N_("This rating is no longer open."),
    "transcript_offer": N_("Get the transcript of this chat by email"),
    "transcript_send": N_("Email me the transcript"),
    "transcript_sent": N_("The transcript is on its way to your inbox."),
}
KEYS = tuple(DEFAULTS)
MAX_TEXT = 2000
_TAG_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")


class WidgetTextError(TranslatableError):
    pass


def normalize_language(tag: str) -> str:
    value = (tag or "").strip().replace("_", "-").lower()
    if not _TAG_RE.match(value):
        raise WidgetTextError(
            N_("“%(tag)s” is not a language tag (examples: en, uk, pt-br)."), tag=tag
        )
    return value


@functools.cache
def catalog_languages() -> frozenset[str]:
    found = {"en"}
    if os.path.isdir(TRANSLATIONS):
        for name in os.listdir(TRANSLATIONS):
            if os.path.exists(os.path.join(TRANSLATIONS, name, "LC_MESSAGES", "gincore_chats.mo")):
                found.add(name.replace("_", "-").lower())
    return frozenset(found)


def override_languages(state: ChatsState, source: Source) -> set[str]:
    rows = state.session.scalars(
        select(WidgetText.language).where(WidgetText.source_id == source.id).distinct()
    )
    return set(rows)


def choose_language(state: ChatsState, source: Source, preferred: Iterable[str]) -> str:
    available = catalog_languages() | override_languages(state, source)
    for raw in preferred:
        try:
            tag = normalize_language(str(raw))
        except WidgetTextError:
            continue
        if tag in available:
            return tag
        primary = tag.split("-")[0]
        if primary in available:
            return primary
    return "en"


def catalog_text(key: str, language: str) -> str:
    if language == "en" or language not in catalog_languages():
        return DEFAULTS[key]
    with force_locale(language.replace("-", "_")):
        return str(domain.gettext(DEFAULTS[key]))


def texts_for(state: ChatsState, source: Source, language: str) -> dict[str, str]:
    overrides = {
        row.key: row.text
        for row in state.session.scalars(
            select(WidgetText).where(
                WidgetText.source_id == source.id, WidgetText.language == language
            )
        )
    }
    return {key: overrides.get(key) or catalog_text(key, language) for key in KEYS}


def do_set_texts(state: ChatsState, source: Source, language: str, values: dict[str, str]) -> None:
    """Save overrides; an empty value removes the override (back to the catalog text)."""
    language = normalize_language(language)
    existing = {
        row.key: row
        for row in state.session.scalars(
            select(WidgetText).where(
                WidgetText.source_id == source.id, WidgetText.language == language
            )
        )
    }
    for key, value in values.items():
        if key not in DEFAULTS:
            raise WidgetTextError(N_("Unknown widget text “%(key)s”."), key=key)
        text = (value or "").strip()
        if len(text) > MAX_TEXT:
            raise WidgetTextError(
                N_("The text for %(key)s is too long (at most %(max)d characters)."),
                key=key,
                max=MAX_TEXT,
            )
        row = existing.get(key)
        if not text:
            if row is not None:
                state.session.delete(row)
            continue
        if row is None:
            row = WidgetText(source_id=source.id, language=language, key=key)
            state.session.add(row)
        row.text = text
        row.updated_at = utcnow()
