"""Admin settings (``chats.admin``) for a widget source: its texts per language, and consent.

Texts: every widget text of one language, each either the admin's override or (left empty) the
catalog's translation, with a live preview of the panel. A language the catalogs lack is added
by writing texts for it. Consent: whether the visitor must agree before sending, and the link to
the privacy policy shown next to the checkbox.
"""

from __future__ import annotations

from typing import Any

from babel import Locale, UnknownLocaleError
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from ..babel import _
from ..models import Source, SourceKind, WidgetText
from ..services.unit_of_work import unit_of_work
from ..services.widget import consent as widget_consent
from ..services.widget import texts as widget_texts
from ..state import ChatsState, get_state
from .common import Route, add_routes, csrf_token
from .guards import guard_admin_pages

#: What each text is, where the widget shows it (the admin page's help lines).
TEXT_HELP: dict[str, tuple[str, str]] = {
    "title": ("Title", "The panel's heading, and the chat's name for screen readers."),
    "greeting_online": (
        "Greeting",
        "The team's first line in the chat while an assigned manager is online.",
    ),
    "offline": ("Away text", "Under the title when no assigned manager is online."),
    "business_hours": (
        "Business hours",
        "The team's first line in the chat when no assigned manager is online.",
    ),
    "placeholder": ("Message placeholder", "In the empty message box."),
    "send": ("Send button", ""),
    "open": (
        "Launcher label",
        "The chat button's name for screen readers. Before a visitor first opens the chat the "
        "button uses the catalog's wording (the page has not asked the server yet).",
    ),
    "close": ("Close button", "Also the launcher's name while the chat is open."),
    "message_label": ("Message box label", "Read by screen readers."),
    "name_label": ("Name field", "In the contact form (name and email)."),
    "email_label": ("Email field", "In the contact form."),
    "save_contact": ("Contact form button", ""),
    "contact_saved": ("Contact saved", "Shown after the visitor saved an email."),
    "consent": (
        "Consent checkbox",
        "When consent is required. Recorded word for word, with the time, when the visitor "
        "ticks it.",
    ),
    "consent_notice": (
        "Consent notice",
        "When consent is a notice: shown above the message box, nothing to tick.",
    ),
    "privacy_policy": ("Privacy policy link", "Shown when a privacy policy address is set."),
    "consent_required": (
        "Consent required",
        "Shown when a visitor sends before agreeing (when consent is required).",
    ),
    "sending": ("Sending mark", "Under the visitor's message until the server has it."),
    "sent": ("Sent mark", "Under the visitor's message once stored."),
    "seen": ("Seen mark", "Under the visitor's message once a manager has read it."),
    "joined": ("Manager joined", "{name} is the manager's name."),
    "left": ("Manager left", "{name} is the manager's name."),
    "typing": ("Manager typing", "{name} is the manager's name."),
    "deleted": ("Deleted message", "In place of a message a manager deleted."),
    "edited": ("Edited mark", "After a message a manager edited."),
    "reconnecting": ("Connection lost", "While the widget reconnects."),
    "retrying": ("Send retrying", "While a message waits for the network."),
    "you": ("You", "Names the visitor in a quoted message."),
    "attach": ("Attach button", "The paper-clip button's name for screen readers."),
    "drop_here": ("Drop hint", "Over the panel while the visitor drags files onto it."),
    "uploading": ("Upload progress", "Names the progress bar; {name} is the file's name."),
    "cancel": ("Cancel upload", "Stops an upload, or removes one that failed."),
    "retry": ("Retry upload", "Sends a failed upload again (never twice)."),
    "upload_failed": ("Upload failed", "The network or the server failed; {name} is the file."),
    "file_too_large": ("File too large", "{name} is the file's name."),
    "file_type_refused": ("File type refused", "{name} is the file's name."),
    "quota_full": ("Storage full", "The server's storage quota is used up."),
    "load_failed": ("File not loaded", "A file or image could not be fetched."),
    "download": ("Download", "In the full-size image view."),
    "close_image": ("Close image", "Closes the full-size image view."),
    "suggestions": (
        "Suggested answers",
        "Heads the knowledge-base answers offered while the visitor types (when switched on).",
    ),
    "assistant": (
        "AI assistant mark",
        "Next to the assistant's name on its answers (sources with AI replies).",
    ),
    "reopened": ("Chat reopened", "A system line when the visitor writes in a closed chat."),
    "closed": ("Chat closed", "A system line when a manager or the inactivity timer closes it."),
    "rate_prompt": ("Rating question", "Above the five stars when the chat is closed."),
    "rate_numbers": (
        "Numbered rating prompt",
        "Sent on WhatsApp, Messenger, Instagram and Viber, which have no buttons.",
    ),
    "rate_score": ("Star label", "Each star's name for screen readers; {name} is 1 to 5."),
    "rate_comment": ("Rating comment field", "The optional comment under the stars."),
    "rate_send": ("Send rating button", ""),
    "rate_thanks": ("Rating thanks", "Shown once the rating is stored."),
    "rate_expired": (
        "Rating closed",
        "Answers a Telegram rating button pressed when no rating is open.",
    ),
    "transcript_offer": ("Transcript offer", "Under the rating, when transcripts are on."),
    "transcript_send": ("Transcript button", ""),
    "transcript_sent": ("Transcript sent", "Shown once the transcript email is queued."),
}
#: Texts long enough for a text area.
LONG_TEXTS = {
    "greeting_online",
    "offline",
    "business_hours",
    "contact_saved",
    "consent",
    "consent_notice",
}


def language_name(tag: str) -> str:
    try:
        return str(Locale.parse(tag.replace("-", "_")).english_name)
    except (ValueError, UnknownLocaleError):
        return tag


def load(source_id: int) -> Source:
    source = get_state().session.get(Source, source_id)
    if source is None or source.kind != SourceKind.WIDGET:
        abort(404)
    return source


def render(template: str, **context: Any) -> str:
    return render_template(f"gincore_chats/{template}", csrf_token=csrf_token(), **context)


def languages(source: Source) -> list[dict[str, Any]]:
    rows = get_state().session.execute(
        select(WidgetText.language, func.count())
        .where(WidgetText.source_id == source.id)
        .group_by(WidgetText.language)
    )
    counts = dict(rows.all())
    catalog = widget_texts.catalog_languages()
    tags = sorted(catalog | set(counts), key=lambda t: (t != "en", language_name(t), t))
    return [
        {
            "tag": tag,
            "name": language_name(tag),
            "in_catalog": tag in catalog,
            "overrides": counts.get(tag, 0),
        }
        for tag in tags
    ]


def index_page(source: Source, errors: dict[str, str], form: dict[str, Any]) -> str:
    return render(
        "settings_widget.html",
        source=source,
        languages=languages(source),
        consent=widget_consent.consent_options(source),
        errors=errors,
        form=form,
    )


def index(source_id: int) -> Any:
    return index_page(load(source_id), {}, {})


def save_consent(source_id: int) -> Any:
    state = get_state()
    source = load(source_id)
    mode = request.form.get("consent_mode", "")
    url = request.form.get("privacy_url", "")
    try:
        with unit_of_work(state.session):
            widget_consent.do_set_consent_options(state, source, mode=mode, privacy_url=url)
    except widget_consent.ConsentOptionsError as exc:
        state.session.rollback()
        form = {"consent_mode": mode, "privacy_url": url}
        return index_page(load(source_id), {"consent": str(exc)}, form), 400
    flash(_("Consent options saved."))
    return redirect(url_for(".index", source_id=source_id))


def add_language(source_id: int) -> Any:
    source = load(source_id)
    raw = request.form.get("language", "")
    try:
        tag = widget_texts.normalize_language(raw)
    except widget_texts.WidgetTextError as exc:
        return index_page(source, {"language": str(exc)}, {"language": raw}), 400
    return redirect(url_for(".texts", source_id=source_id, language=tag))


def texts_page(source: Source, tag: str, values: dict[str, str], errors: dict[str, str]) -> str:
    saved = {
        row.key: row.text
        for row in get_state().session.scalars(
            select(WidgetText).where(WidgetText.source_id == source.id, WidgetText.language == tag)
        )
    }
    fields = [
        {
            "key": key,
            "label": TEXT_HELP[key][0],
            "help": TEXT_HELP[key][1],
            "value": values.get(key, saved.get(key, "")),
            "default": widget_texts.catalog_text(key, tag),
            "long": key in LONG_TEXTS,
        }
        for key in widget_texts.KEYS
    ]
    return render(
        "settings_widget_texts.html",
        source=source,
        language=tag,
        language_name=language_name(tag),
        in_catalog=tag in widget_texts.catalog_languages(),
        has_overrides=bool(saved),
        fields=fields,
        consent=widget_consent.consent_options(source),
        errors=errors,
    )


def language_or_404(language: str) -> str:
    try:
        return widget_texts.normalize_language(language)
    except widget_texts.WidgetTextError:
        abort(404)


def texts(source_id: int, language: str) -> Any:
    return texts_page(load(source_id), language_or_404(language), {}, {})


def saved_texts_notice(tag: str, values: dict[str, str]) -> str:
    written = sum(1 for v in values.values() if v.strip())
    if written:
        return f"Saved {written} text(s) for {language_name(tag)} ({tag})."
    if tag in widget_texts.catalog_languages():
        return f"{language_name(tag)} ({tag}) uses the catalog's texts again."
    return (
        f"No texts for {language_name(tag)} ({tag}): visitors are not offered this "
        "language until you write at least one text."
    )


def save_texts(source_id: int, language: str) -> Any:
    state = get_state()
    source = load(source_id)
    tag = language_or_404(language)
    reset = request.form.get("reset") == "1"
    values = {
        key: "" if reset else request.form.get(f"text_{key}", "") for key in widget_texts.KEYS
    }
    try:
        with unit_of_work(state.session):
            widget_texts.do_set_texts(state, source, tag, values)
    except widget_texts.WidgetTextError as exc:
        state.session.rollback()
        return texts_page(load(source_id), tag, values, {"form": str(exc)}), 400
    flash(saved_texts_notice(tag, values))
    return redirect(url_for(".texts", source_id=source_id, language=tag))


BASE = "/settings/sources/<int:source_id>/widget"
ROUTES: list[Route] = [
    (BASE, index, ["GET"]),
    (f"{BASE}/consent", save_consent, ["POST"]),
    (f"{BASE}/languages", add_language, ["POST"]),
    (f"{BASE}/texts/<language>", texts, ["GET"]),
    (f"{BASE}/texts/<language>", save_texts, ["POST"]),
]


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_widget_settings", __name__, template_folder="../templates")
    guard_admin_pages(bp, state)
    add_routes(bp, ROUTES)
    return bp
