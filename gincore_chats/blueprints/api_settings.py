"""Settings pages (``chats.admin``) of the REST API and webhooks (Pro): API tokens (created for a
host user with scopes, shown once, revoked), webhook endpoints with their delivery log,
redelivery and secret rotation."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ..babel import _
from ..identity import describe
from ..models import ApiToken, WebhookEndpoint
from ..services import audit_log
from ..services.api import tokens as api_tokens
from ..services.conversations.lifecycle import NotFound
from ..services.managers import profiles as managers
from ..services.unit_of_work import unit_of_work
from ..services.webhooks import deliveries, endpoints
from ..services.webhooks.events import EVENT_TYPES
from ..state import ChatsState, get_state
from .common import Route, add_routes, csrf_token, current_manager
from .guards import guard_admin_pages

LOG_PAGE = 50
SCOPE_LABELS = {
    "chats.view": "Read conversations and messages (chats.view)",
    "chats.reply": "Join, reply, write notes, close and reopen (chats.reply)",
    "customers.view": "Read contact details (customers.view)",
    "customers.edit": "Edit contacts (customers.edit)",
    "chats.admin": "Webhooks, the knowledge base, every source (chats.admin)",
}


def _render(template: str, status: int = 200, **context: Any) -> Any:
    state = get_state()
    return render_template(
        f"gincore_chats/{template}",
        csrf_token=csrf_token(),
        is_pro=state.config.is_pro,
        api_url=url_for("gincore_chats_api.openapi", _external=True).rsplit("/", 1)[0],
        **context,
    ), status


def _people(state: ChatsState) -> dict[str, Any]:
    """Host users a token may act as, by id, with their current permissions."""
    found: dict[str, Any] = {}
    if state.hooks.candidates is not None:
        for user in state.hooks.candidates():
            manager = describe(user, state.hooks)
            found[manager.id] = manager
    admin = current_manager(state)
    if admin is not None:
        found.setdefault(admin.id, admin)
    return found


def _names(state: ChatsState) -> dict[str, str]:
    return dict(managers.candidates(state))


# -- API tokens ----------------------------------------------------------------------------------


def tokens_page(status: int = 200, **extra: Any) -> Any:
    state = get_state()
    admin = current_manager(state)
    people = _people(state)
    context: dict[str, Any] = {
        "tokens": api_tokens.list_tokens(state),
        "people": sorted(people.values(), key=lambda m: m.name.lower()),
        "names": {**_names(state), **{m.id: m.name for m in people.values()}},
        "scope_labels": SCOPE_LABELS,
        "me": admin.id if admin else None,
        "now": datetime.now(UTC),
        "errors": {},
        "form": {},
        "new_token": None,
        **extra,
    }
    return _render("settings_api_tokens.html", status, **context)


def tokens() -> Any:
    return tokens_page()


def _expiry(value: str) -> datetime | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise api_tokens.TokenError(
            "Enter the expiry date as YYYY-MM-DD, or leave it empty."
        ) from None
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def create_token() -> Any:
    state = get_state()
    if not state.config.is_pro:
        abort(403, "API tokens need the Pro plan.")
    form: dict[str, Any] = {
        "name": request.form.get("name", ""),
        "manager_id": request.form.get("manager_id", ""),
        "scopes": request.form.getlist("scopes"),
        "expires": request.form.get("expires", ""),
    }
    people = _people(state)
    owner = people.get(str(form["manager_id"]))
    try:
        if owner is None:
            raise api_tokens.TokenError("Choose the user the token acts as.")
        with unit_of_work(state.session):
            token, raw = api_tokens.do_create(
                state,
                owner=owner,
                name=form["name"],
                scopes=form["scopes"],
                expires_at=_expiry(str(form["expires"])),
                created_by=current_manager(state).id,  # type: ignore[union-attr]
            )
            name = token.name
            audit_log.do_record(
                state,
                current_manager(state),
                "api_token.created",
                "api_token",
                token.id,
                name=token.name,
                acts_as=token.manager_id,
                scopes=list(token.scopes),
            )
    except api_tokens.TokenError as exc:
        return tokens_page(400, errors={"form": str(exc)}, form=form)
    # Shown on this answer only: it is stored as a hash and can never be shown again.
    return tokens_page(201, new_token={"name": name, "value": raw})


def revoke_token(token_id: int) -> Any:
    state = get_state()
    with unit_of_work(state.session):
        token = state.session.get(ApiToken, token_id)
        if token is None:
            abort(404)
        api_tokens.do_revoke(state, token)
        name = token.name
        audit_log.do_record(
            state, current_manager(state), "api_token.revoked", "api_token", token.id, name=name
        )
    flash(_("Token “%(name)s” revoked: requests with it are refused from now on.", name=name))
    return redirect(url_for(".tokens"))


# -- webhooks -------------------------------------------------------------------------------------


def webhooks_page(status: int = 200, **extra: Any) -> Any:
    state = get_state()
    context: dict[str, Any] = {
        "endpoints": endpoints.list_endpoints(state),
        "event_types": EVENT_TYPES,
        "errors": {},
        "form": {},
        "new_secret": None,
        **extra,
    }
    return _render("settings_webhooks.html", status, **context)


def webhooks() -> Any:
    return webhooks_page()


def _verify(state: ChatsState, url: str) -> None:
    """The DNS check with no transaction open (the page's reads so far are only reads)."""
    state.session.rollback()
    endpoints.verify_destination(state, url)


def _endpoint_form() -> dict[str, Any]:
    return {
        "url": request.form.get("url", "").strip(),
        "events": request.form.getlist("events"),
        "description": request.form.get("description", ""),
        "secret": request.form.get("secret", "").strip() or None,
        "active": request.form.get("active") == "on",
    }


def create_webhook() -> Any:
    state = get_state()
    if not state.config.is_pro:
        abort(403, "Webhooks need the Pro plan.")
    form = _endpoint_form()
    try:
        _verify(state, form["url"])
        with unit_of_work(state.session):
            endpoint, secret = endpoints.do_create(
                state,
                url=form["url"],
                events=form["events"],
                secret=form["secret"],
                description=form["description"],
                active=form["active"],
                created_by=current_manager(state).id,  # type: ignore[union-attr]
            )
            endpoint_id = endpoint.id
            audit_log.do_record(
                state,
                current_manager(state),
                "webhook_endpoint.created",
                "webhook_endpoint",
                endpoint_id,
                url=endpoint.url,
            )
    except endpoints.EndpointError as exc:
        return webhooks_page(400, errors={"form": str(exc)}, form=form)
    return webhook_page(endpoint_id, 201, new_secret=secret)


def _load(endpoint_id: int) -> WebhookEndpoint:
    try:
        return endpoints.get(get_state(), endpoint_id)
    except NotFound:
        abort(404)


def webhook_page(endpoint_id: int, status: int = 200, **extra: Any) -> Any:
    state = get_state()
    endpoint = _load(endpoint_id)
    before = request.args.get("before", type=int)
    rows = deliveries.page(state, endpoint, before, LOG_PAGE)
    more = len(rows) > LOG_PAGE
    rows = rows[:LOG_PAGE]
    context: dict[str, Any] = {
        "endpoint": endpoint,
        "log": rows,
        "older": rows[-1].id if more and rows else None,
        "event_types": EVENT_TYPES,
        "errors": {},
        "new_secret": None,
        **extra,
    }
    return _render("settings_webhook.html", status, **context)


def webhook(endpoint_id: int) -> Any:
    return webhook_page(endpoint_id)


def update_webhook(endpoint_id: int) -> Any:
    state = get_state()
    form = _endpoint_form()
    try:
        if form["url"] != _load(endpoint_id).url:
            _verify(state, form["url"])
        with unit_of_work(state.session):
            endpoints.do_update(
                state,
                _load(endpoint_id),
                url=form["url"],
                events=form["events"],
                description=form["description"],
                active=form["active"],
            )
    except endpoints.EndpointError as exc:
        state.session.rollback()
        return webhook_page(endpoint_id, 400, errors={"form": str(exc)})
    flash(_("Webhook saved."))
    return redirect(url_for(".webhook", endpoint_id=endpoint_id))


def rotate_secret(endpoint_id: int) -> Any:
    state = get_state()
    with unit_of_work(state.session):
        secret = endpoints.do_rotate_secret(state, _load(endpoint_id), None)
    return webhook_page(endpoint_id, new_secret=secret)


def delete_webhook(endpoint_id: int) -> Any:
    state = get_state()
    with unit_of_work(state.session):
        endpoint = _load(endpoint_id)
        url = endpoint.url
        endpoints.do_delete(state, endpoint)
    flash(_("Webhook %(url)s deleted with its delivery log.", url=url))
    return redirect(url_for(".webhooks"))


def redeliver(endpoint_id: int, delivery_id: int) -> Any:
    state = get_state()
    try:
        with unit_of_work(state.session):
            endpoint = _load(endpoint_id)
            again = deliveries.do_redeliver(state, deliveries.get(state, endpoint, delivery_id))
            again_id = again.id
    except NotFound:
        abort(404)
    flash(_("Delivery %(id)s queued again as delivery %(again)s.", id=delivery_id, again=again_id))
    return redirect(url_for(".webhook", endpoint_id=endpoint_id))


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_api_settings", __name__, template_folder="../templates")
    guard_admin_pages(bp, state)
    routes: list[Route] = [
        ("/settings/api-tokens", tokens, ["GET"]),
        ("/settings/api-tokens", create_token, ["POST"]),
        ("/settings/api-tokens/<int:token_id>/revoke", revoke_token, ["POST"]),
        ("/settings/webhooks", webhooks, ["GET"]),
        ("/settings/webhooks", create_webhook, ["POST"]),
        ("/settings/webhooks/<int:endpoint_id>", webhook, ["GET"]),
        ("/settings/webhooks/<int:endpoint_id>", update_webhook, ["POST"]),
        ("/settings/webhooks/<int:endpoint_id>/secret", rotate_secret, ["POST"]),
        ("/settings/webhooks/<int:endpoint_id>/delete", delete_webhook, ["POST"]),
        (
            "/settings/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver",
            redeliver,
            ["POST"],
        ),
    ]
    add_routes(bp, routes)
    return bp
