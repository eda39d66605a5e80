"""Admin settings (``chats.admin``) for notifications: the corporate mailbox, push keys, and each
source's email timeouts (a section of the source page, with the reason a scenario is inactive).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ..babel import _
from ..models import Source, SourceKind
from ..services import audit_log, sources
from ..services.notifications import mailbox, unread_alerts, web_push
from ..services.ratings import auto_close
from ..services.unit_of_work import unit_of_work
from ..state import ChatsState, get_state
from .common import Route, add_routes, csrf_token, current_manager
from .guards import guard_admin_pages

#: Longest timeout an admin may set (minutes): a week.
MAX_MINUTES = 7 * 24 * 60


def _minutes(value: str, label: str) -> float | None:
    text = (value or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        minutes = float(text)
    except ValueError:
        raise ValueError(f"{label}: enter a number of minutes (0.5 for 30 seconds).") from None
    if minutes < 0 or minutes > MAX_MINUTES:
        raise ValueError(f"{label}: between 0 and {MAX_MINUTES} minutes (a week).")
    return minutes or None


def source_status(state: ChatsState, source: Source) -> dict[str, Any]:
    """Both scenarios of a source: the timeout in minutes, and why one is inactive (or None)."""
    box = mailbox.load(state)
    result: dict[str, Any] = {"mailbox_reason": box.inactive_reason}
    for name, key in (
        ("employee", unread_alerts.EMPLOYEE_TIMEOUT),
        ("customer", unread_alerts.CUSTOMER_TIMEOUT),
    ):
        wait = unread_alerts.timeout(source, key)
        minutes = round(wait.total_seconds() / 60, 2) if wait else None
        reason: str | None = None
        if name == "customer" and source.kind != SourceKind.WIDGET:
            reason = "Only website widget sources report what the customer has seen."
        elif wait is None:
            reason = "No timeout is set."
        elif box.inactive_reason:
            reason = box.inactive_reason
        elif name == "employee" and not source.employee_ids:
            reason = "No employee is assigned to this source."
        result[name] = {"minutes": minutes, "reason": reason}
    return result


def alert_status(source: Source) -> dict[str, Any]:
    # For the source page's notification section (settings_source_notifications.html).
    return source_status(get_state(), source)


def page(status: int = 200, **context: Any) -> Any:
    state = get_state()
    context.setdefault("errors", {})
    context.setdefault("test_result", None)
    admin = current_manager(state)
    return render_template(
        "gincore_chats/settings_notifications.html",
        csrf_token=csrf_token(),
        box=mailbox.load(state),
        keys=web_push.load_keys(state),
        default_test_to=admin.email if admin else "",
        default_subject=_default_subject(state),
        sources=sources.list_sources(state),
        **context,
    ), status


def index() -> Any:
    return page()


def save_mailbox() -> Any:
    state = get_state()
    form = request.form.to_dict()
    try:
        with unit_of_work(state.session):
            saved = mailbox.do_save(state, form)
            # Which fields, never their values (the password is among them).
            audit_log.do_record(
                state,
                current_manager(state),
                "settings.mailbox.updated",
                "settings",
                "mailbox",
                host=getattr(saved, "host", None),
            )
    except mailbox.MailboxError as exc:
        return page(400, errors={"mailbox": str(exc)})
    flash(_("Corporate email saved."))
    return redirect(url_for(".index"))


def test_mailbox() -> Any:
    to = request.form.get("to", "")
    try:
        mailbox.send_test(get_state(), to)
    except (mailbox.MailboxError, mailbox.MailError) as exc:
        return page(test_result={"ok": False, "message": f"Not sent. {exc}", "to": to})
    message = f"Test email sent to {to.strip()}. Check that it arrived."
    return page(test_result={"ok": True, "message": message, "to": to})


def create_push_keys() -> Any:
    state = get_state()
    try:
        with unit_of_work(state.session):
            web_push.do_create_keys(
                state,
                request.form.get("subject", ""),
                replace=request.form.get("replace") == "on",
            )
    except web_push.PushError as exc:
        return page(400, errors={"push": str(exc)})
    flash(_("Push keys created. Managers can now enable notifications in the console."))
    return redirect(url_for(".index"))


def save_source(source_id: int) -> Any:
    state = get_state()
    source = state.session.get(Source, source_id)
    if source is None:
        abort(404)
    source_page = url_for("gincore_chats_settings.edit_source", source_id=source_id)
    try:
        employee = _minutes(request.form.get("employee_minutes", ""), "Employee emails")
        customer = _minutes(request.form.get("customer_minutes", ""), "Customer emails")
    except ValueError as exc:
        flash(str(exc))
        return redirect(source_page)
    with unit_of_work(state.session):
        unread_alerts.do_set_timeouts(
            state,
            source,
            employee_seconds=employee * 60 if employee else None,
            customer_seconds=customer * 60 if customer else None,
        )
        audit_log.do_record(
            state,
            current_manager(state),
            "source.notifications.updated",
            "source",
            source.id,
            employee_minutes=employee,
            customer_minutes=customer,
        )
    flash(_("Notification timeouts saved."))
    return redirect(source_page)


def save_closing(source_id: int) -> Any:
    """The source's auto-close time (services.ratings.auto_close), on the same source page."""
    state = get_state()
    source = state.session.get(Source, source_id)
    if source is None:
        abort(404)
    source_page = url_for("gincore_chats_settings.edit_source", source_id=source_id)
    try:
        minutes = _minutes(request.form.get("auto_close_minutes", ""), "Auto-close")
        with unit_of_work(state.session):
            auto_close.do_set_inactivity(source, minutes)
    except ValueError as exc:
        flash(str(exc))
        return redirect(source_page)
    flash(_("Closing saved."))
    return redirect(source_page)


ROUTES: list[Route] = [
    ("/settings/notifications", index, ["GET"]),
    ("/settings/notifications/mailbox", save_mailbox, ["POST"]),
    ("/settings/notifications/mailbox/test", test_mailbox, ["POST"]),
    ("/settings/notifications/push-keys", create_push_keys, ["POST"]),
    ("/settings/sources/<int:source_id>/notifications", save_source, ["POST"]),
    ("/settings/sources/<int:source_id>/closing", save_closing, ["POST"]),
]


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_notification_settings", __name__, template_folder="../templates")
    guard_admin_pages(bp, state)
    bp.add_app_template_global(alert_status, "gincore_chats_alert_status")
    add_routes(bp, ROUTES)
    return bp


def _default_subject(state: ChatsState) -> str:
    """A VAPID contact to suggest: the corporate sender, else the public https URL."""
    box = mailbox.load(state)
    if box.from_address:
        return f"mailto:{box.from_address}"
    url = state.config.public_url or ""
    return url if url.startswith("https://") else ""
