"""A channel source's connection card (``chats.admin``): its secrets, masked until an admin
reveals one (a POST, audit-logged), set or rotate them, register the webhook again, and
Test connection.

The card is drawn by ``settings_source_connection.html`` inside the source's settings page;
:func:`connection_card` is the template global that gives it its data, so the page's own view
needs nothing from here. Secrets never reach the HTML of a GET: only the reveal POST returns one.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from ..channels.registry import can_check, can_connect, label
from ..models import Source
from ..services.channels import alerts as source_alerts
from ..services.channels import connection as source_connection
from ..services.channels import inbound_failures
from ..services.channels.sources import adapter_for
from ..services.sources import SourceError
from ..services.unit_of_work import unit_of_work
from ..state import ChatsState, get_state
from .common import current_manager
from .guards import guard_admin_pages


def _base_url() -> str:
    return request.url_root.rstrip("/")


def _edit_page(source_id: int, anchor: str = "connection") -> Any:
    return redirect(url_for("gincore_chats_channels.edit", source_id=source_id, _anchor=anchor))


def _load(source_id: int) -> Source:
    try:
        return source_connection.load_channel_source(get_state(), source_id)
    except SourceError:
        abort(404)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def connection_card(source: Source) -> dict[str, Any]:
    """What the card shows: secret names (no values), buttons that apply, the last check."""
    state = get_state()
    secrets = source_connection.connection_secrets(state, source)
    adapter = adapter_for(source.kind)
    return {
        "secrets": secrets,
        "can_connect": can_connect(adapter),
        "can_check": can_check(adapter),
        "last_check": (source.settings or {}).get("last_check"),
        "kind_label": label(source.kind),
    }


def failing_sources() -> list[tuple[Source, inbound_failures.Failures]]:
    """Sources with failed deliveries, for the header of an admin's pages."""
    return source_alerts.failing_sources(get_state())


def reveal_secret(source_id: int, name: str) -> Any:
    state = get_state()
    manager = current_manager(state)
    source = _load(source_id)
    try:
        with unit_of_work(state.session):
            value = source_connection.reveal(state, manager, source, name)
    except SourceError as exc:
        if _wants_json():
            return jsonify({"error": str(exc)}), 404
        abort(404)
    body: Any
    if _wants_json():
        body = jsonify({"name": name, "value": value})
    else:
        # Without JavaScript: a page of its own with the value.
        body = render_template(
            "gincore_chats/settings_source_secret.html",
            source=source,
            name=name,
            label=source_connection.LABELS.get(name, name),
            value=value,
            is_admin=True,
        )
    response = make_response(body)
    response.headers["Cache-Control"] = "no-store"  # a secret: no cache keeps it
    return response


def change_secret(source_id: int, name: str) -> Any:
    """Set (``action=set`` with ``value``) or rotate (``action=rotate``) one secret."""
    state = get_state()
    manager = current_manager(state)
    source = _load(source_id)
    action = request.form.get("action", "")
    try:
        with unit_of_work(state.session):
            if action == "rotate":
                secret = source_connection.do_rotate_secret(state, manager, source, name)
            elif action == "set":
                secret = source_connection.do_set_secret(
                    state, manager, source, name, request.form.get("value", "")
                )
            else:
                raise SourceError("Choose to set or to rotate the secret.")
    except SourceError as exc:
        flash(f"Not changed: {exc}")
        return _edit_page(source_id)
    what = f"The {secret.label.split(' (')[0].lower()} was " + (
        "rotated" if action == "rotate" else "saved"
    )
    if not secret.reregisters:
        flash(f"{what}. {_after_change(name)}".strip())
        return _edit_page(source_id)
    try:
        message = source_connection.register_webhook(state, manager, source_id, _base_url())
    except SourceError as exc:
        flash(
            f"The new value is stored, but registering the webhook failed: {exc} "
            "Deliveries are refused until it is registered: press Connect to try again."
        )
        return _edit_page(source_id)
    flash(f"{what} and the webhook registered again. {message}")
    return _edit_page(source_id)


def _after_change(name: str) -> str:
    if name == "verify_token":
        return "Enter the new one in the Meta App Dashboard with the callback URL and verify it."
    if name == "app_secret":
        return "Deliveries signed with the old one are refused from now on."
    if name == "secret":
        return "Give the new one to the system that pushes to this source."
    return ""


def register_again(source_id: int) -> Any:
    state = get_state()
    manager = current_manager(state)
    _load(source_id)
    try:
        flash(source_connection.register_webhook(state, manager, source_id, _base_url()))
    except SourceError as exc:
        flash(str(exc))
    return _edit_page(source_id)


def test_connection(source_id: int) -> Any:
    state = get_state()
    _load(source_id)
    try:
        result = source_connection.check(state, source_id, _base_url())
    except SourceError as exc:
        if _wants_json():
            return jsonify({"error": str(exc)}), 400
        flash(str(exc))
        return _edit_page(source_id)
    if _wants_json():
        return jsonify(
            {
                "ok": result.ok,
                "account": result.account,
                "webhook_url": result.webhook_url,
                "facts": [list(fact) for fact in result.facts],
                "problems": list(result.problems),
            }
        )
    return _edit_page(source_id, "connection-check")


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_source_connection", __name__, template_folder="../templates")
    guard_admin_pages(bp, state)
    bp.add_app_template_global(connection_card, "gincore_chats_connection_card")
    bp.add_app_template_global(failing_sources, "gincore_chats_failing_sources")
    base = "/settings/channels/<int:source_id>/connection"
    routes: list[tuple[str, Any]] = [
        (f"{base}/secrets/<name>/reveal", reveal_secret),
        (f"{base}/secrets/<name>", change_secret),
        (f"{base}/register", register_again),
        (f"{base}/check", test_connection),
    ]
    for rule, view in routes:
        bp.add_url_rule(rule, view_func=view, methods=["POST"])
    return bp
