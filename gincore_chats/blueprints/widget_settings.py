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
from flask_babel import get_locale
from sqlalchemy import func, select

from ..babel import N_, _, error_text, ngettext
from ..models import Source, SourceKind, WidgetText
from ..services.unit_of_work import unit_of_work
from ..services.widget import consent as widget_consent
from ..services.widget import texts as widget_texts
from ..state import ChatsState, get_state
from .common import Route, add_routes, csrf_token
from .guards import guard_admin_pages

#: What each text is, where the widget shows it (the admin page's help lines).
TEXT_HELP: dict[str, tuple[str, str]] = {
    "title": (N_("Title"), N_("The panel's heading, and the chat's name for screen readers.")),
    "greeting_online": (
        N_("Greeting"),
        N_("The team's first line in the chat while an assigned manager is online."),
    ),
    "offline": (N_("Away text"), N_("Under the title when no assigned manager is online.")),
    "business_hours": (
        N_("Business hours"),
        N_("The team's first line in the chat when no assigned manager is online."),
    ),
    "placeholder": (N_("Message placeholder"), N_("In the empty message box.")),
    "send": (N_("Send button"), ""),
    "open": (
        N_("Launcher label"),
        N_(
            "The chat button's name for screen readers. Before a visitor first opens the chat the "
            "button uses the catalog's wording (the page has not asked the server yet)."
        ),
    ),
    "close": (N_("Close button"), N_("Also the launcher's name while the chat is open.")),
    "message_label": (N_("Message box label"), N_("Read by screen readers.")),
    "name_label": (N_("Name field"), N_("In the contact form (name and email).")),
    "email_label": (N_("Email field"), N_("In the contact form.")),
    "save_contact": (N_("Contact form button"), ""),
    "contact_saved": (N_("Contact saved"), N_("Shown after the visitor saved an email.")),
    "consent": (
        N_("Consent checkbox"),
        N_(
            "When consent is required. Recorded word for word, with the time, when the visitor "
            "ticks it."
        ),
    ),
    "consent_notice": (
        N_("Consent notice"),
        N_("When consent is a notice: shown above the message box, nothing to tick."),
    ),
    "privacy_policy": (
        N_("Privacy policy link"),
        N_("Shown when a privacy policy address is set."),
    ),
    "consent_required": (
        N_("Consent required"),
        N_("Shown when a visitor sends before agreeing (when consent is required)."),
    ),
    "sending": (N_("Sending mark"), N_("Under the visitor's message until the server has it.")),
    "sent": (N_("Sent mark"), N_("Under the visitor's message once stored.")),
    "seen": (N_("Seen mark"), N_("Under the visitor's message once a manager has read it.")),
    "joined": (N_("Manager joined"), N_("{name} is the manager's name.")),
    "left": (N_("Manager left"), N_("{name} is the manager's name.")),
    "typing": (N_("Manager typing"), N_("{name} is the manager's name.")),
    "deleted": (N_("Deleted message"), N_("In place of a message a manager deleted.")),
    "edited": (N_("Edited mark"), N_("After a message a manager edited.")),
    "reconnecting": (N_("Connection lost"), N_("While the widget reconnects.")),
    "retrying": (N_("Send retrying"), N_("While a message waits for the network.")),
    "you": (N_("You"), N_("Names the visitor in a quoted message.")),
    "attach": (N_("Attach button"), N_("The paper-clip button's name for screen readers.")),
    "drop_here": (N_("Drop hint"), N_("Over the panel while the visitor drags files onto it.")),
    "uploading": (N_("Upload progress"), N_("Names the progress bar; {name} is the file's name.")),
    "cancel": (N_("Cancel upload"), N_("Stops an upload, or removes one that failed.")),
    "retry": (N_("Retry upload"), N_("Sends a failed upload again (never twice).")),
    "upload_failed": (
        N_("Upload failed"),
        N_("The network or the server failed; {name} is the file."),
    ),
    "file_too_large": (N_("File too large"), N_("{name} is the file's name.")),
    "file_type_refused": (N_("File type refused"), N_("{name} is the file's name.")),
    "quota_full": (N_("Storage full"), N_("The server's storage quota is used up.")),
    "load_failed": (N_("File not loaded"), N_("A file or image could not be fetched.")),
    "download": (N_("Download"), N_("In the full-size image view.")),
    "close_image": (N_("Close image"), N_("Closes the full-size image view.")),
    "suggestions": (
        N_("Suggested answers"),
        N_("Heads the knowledge-base answers offered while the visitor types (when switched on)."),
    ),
    "assistant": (
        N_("AI assistant mark"),
        N_("Next to the assistant's name on its answers (sources with AI replies)."),
    ),
    "reopened": (
        N_("Chat reopened"),
        N_("A system line when the visitor writes in a closed chat."),
    ),
    "closed": (
        N_("Chat closed"),
        N_("A system line when a manager or the inactivity timer closes it."),
    ),
    "rate_prompt": (N_("Rating question"), N_("Above the five stars when the chat is closed.")),
    "rate_numbers": (
        N_("Numbered rating prompt"),
        N_("Sent on WhatsApp, Messenger, Instagram and Viber, which have no buttons."),
    ),
    "rate_score": (N_("Star label"), N_("Each star's name for screen readers; {name} is 1 to 5.")),
    "rate_comment": (N_("Rating comment field"), N_("The optional comment under the stars.")),
    "rate_send": (N_("Send rating button"), ""),
    "rate_thanks": (N_("Rating thanks"), N_("Shown once the rating is stored.")),
    "rate_expired": (
        N_("Rating closed"),
        N_("Answers a Telegram rating button pressed when no rating is open."),
    ),
    "transcript_offer": (N_("Transcript offer"), N_("Under the rating, when transcripts are on.")),
    "transcript_send": (N_("Transcript button"), ""),
    "transcript_sent": (N_("Transcript sent"), N_("Shown once the transcript email is queued.")),
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
    """The language's name in the page's language ("Dutch", "Niederländisch")."""
    try:
        name = Locale.parse(tag.replace("-", "_")).get_display_name(get_locale() or "en")
    except (ValueError, UnknownLocaleError):
        return tag
    return name[:1].upper() + name[1:] if name else tag


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
        return index_page(load(source_id), {"consent": error_text(exc)}, form), 400
    flash(_("Consent options saved."))
    return redirect(url_for(".index", source_id=source_id))


def add_language(source_id: int) -> Any:
    source = load(source_id)
    raw = request.form.get("language", "")
    try:
        tag = widget_texts.normalize_language(raw)
    except widget_texts.WidgetTextError as exc:
        return index_page(source, {"language": error_text(exc)}, {"language": raw}), 400
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
            "label": _(TEXT_HELP[key][0]),
            "help": _(TEXT_HELP[key][1]) if TEXT_HELP[key][1] else "",
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
        return ngettext(
            "Saved %(num)d text for %(language)s (%(tag)s).",
            "Saved %(num)d texts for %(language)s (%(tag)s).",
            written,
            language=language_name(tag),
            tag=tag,
        )
    if tag in widget_texts.catalog_languages():
        return _(
            "%(language)s (%(tag)s) uses the catalog's texts again.",
            language=language_name(tag),
            tag=tag,
        )
    return _(
        "No texts for %(language)s (%(tag)s): visitors are not offered this language until you"
        " write at least one text.",
        language=language_name(tag),
        tag=tag,
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
        return texts_page(load(source_id), tag, values, {"form": error_text(exc)}), 400
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
