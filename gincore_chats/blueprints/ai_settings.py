"""A source's AI replies page (``chats.admin``): the mode, the assistant's name and avatar, an
instruction per language, what it may answer from, the hand-off rules, the daily limit and
prices, the provider (URL, model, a write-only key), today's spend and the latest calls.

The source's own settings page links here and shows the mode (:func:`ai_summary`, a template
global). The key never reaches the HTML: the page only says whether one is stored.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ..babel import _, lazy_gettext
from ..models import AIMode, Source, SourceKind
from ..services.ai import calls
from ..services.ai import settings as ai_settings
from ..services.unit_of_work import unit_of_work
from ..state import ChatsState, get_state
from .common import Route, add_routes, csrf_token
from .guards import guard_admin_pages

MODE_LABELS = {
    AIMode.HUMANS: lazy_gettext("Humans only"),
    AIMode.AI_FIRST: lazy_gettext("AI first, hand-off to a person"),
    AIMode.AI_ONLY: lazy_gettext("AI only"),
}

#: Checkboxes: an unticked one is absent from the form, which means False.
_CHECKBOXES = ("use_knowledge", "use_conversation", "handoff_on_no_answer")


def _source(source_id: int) -> Source:
    source = get_state().session.get(Source, source_id)
    if source is None:
        abort(404)
    return source


def source_page_url(source: Source) -> str:
    if source.kind == SourceKind.WIDGET:
        return url_for("gincore_chats_settings.edit_source", source_id=source.id)
    return url_for("gincore_chats_channels.edit", source_id=source.id)


def ai_summary(source: Source) -> dict[str, Any]:
    """For the source page's AI card: the mode in words and whether a provider answers."""
    values = ai_settings.form_values(get_state(), source.id)
    return {
        "mode": values["mode"],
        "label": MODE_LABELS.get(values["mode"], values["mode"]),
        "provider": values["provider"] is not None,
    }


def _page(source: Source, values: dict[str, Any], status: int = 200, error: str = "") -> Any:
    state = get_state()
    return render_template(
        "gincore_chats/settings_ai.html",
        csrf_token=csrf_token(),
        source=source,
        source_url=source_page_url(source),
        values=values,
        modes=MODE_LABELS,
        error=error,
        spent_today=calls.spent_today(state, source.id),
        recent_calls=calls.recent(state, source.id),
        env_provider=state.config.ai,
    ), status


def edit(source_id: int) -> Any:
    source = _source(source_id)
    return _page(source, ai_settings.form_values(get_state(), source_id))


def _instructions(form: Any) -> dict[str, str]:
    found = {
        key.removeprefix("instruction_"): value
        for key, value in form.items()
        if key.startswith("instruction_") and key != "instruction_new"
    }
    language = form.get("new_language", "").strip()
    if language and form.get("instruction_new", "").strip():
        found[language] = form["instruction_new"]
    return found


def _submitted(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: form.get(name, "")
        for name in (
            "mode",
            "assistant_name",
            "assistant_avatar_url",
            "max_unresolved_turns",
            "daily_limit",
            "price_input_per_million",
            "price_output_per_million",
            "base_url",
            "model",
        )
    }
    values.update({name: form.get(name) == "on" for name in _CHECKBOXES})
    values["instructions"] = _instructions(form)
    for price in ("price_input_per_million", "price_output_per_million"):
        values[price] = values[price].strip() or 0
    return values


def save(source_id: int) -> Any:
    state = get_state()
    source = _source(source_id)
    values = _submitted(request.form)
    key = request.form.get("api_key", "").strip()
    try:
        with unit_of_work(state.session):
            # An empty key field keeps the stored key: the field is write-only.
            ai_settings.do_save(state, source, **values, api_key=key or None)
    except ai_settings.AISettingsError as exc:
        # Shown again with what the admin typed (except the key), so nothing is lost.
        shown = {**ai_settings.form_values(state, source_id), **values}
        return _page(source, shown, 400, f"Not saved: {exc}")
    flash(
        _("AI settings saved. The API key is stored encrypted.") if key else _("AI settings saved.")
    )
    return redirect(url_for(".edit", source_id=source_id))


def remove_key(source_id: int) -> Any:
    state = get_state()
    source = _source(source_id)
    with unit_of_work(state.session):
        ai_settings.do_save(state, source, api_key="")
    flash(_("The source's API key was removed."))
    return redirect(url_for(".edit", source_id=source_id))


ROUTES: list[Route] = [
    ("/settings/sources/<int:source_id>/ai", edit, ["GET"]),
    ("/settings/sources/<int:source_id>/ai", save, ["POST"]),
    ("/settings/sources/<int:source_id>/ai/key/remove", remove_key, ["POST"]),
]


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_ai_settings", __name__, template_folder="../templates")
    guard_admin_pages(bp, state)
    bp.add_app_template_global(ai_summary, "gincore_chats_ai_summary")
    add_routes(bp, ROUTES)
    return bp
