"""The host's own login and logout, with a per-session CSRF token for its forms."""

from __future__ import annotations

import secrets
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import chats, db
from .models import User

bp = Blueprint("auth", __name__)

_CSRF_KEY = "_example_app_csrf"


@cache
def _dummy_hash() -> str:
    """Checked when the username is unknown, so that costs as much time as a wrong password and
    the response time does not reveal which accounts exist."""
    return generate_password_hash(secrets.token_urlsafe(16))


def csrf_token() -> str:
    token = session.get(_CSRF_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        session[_CSRF_KEY] = token
    return str(token)


def require_csrf() -> None:
    expected = session.get(_CSRF_KEY)
    given = request.form.get("csrf_token", "")
    if not (expected and given and secrets.compare_digest(str(expected), given)):
        abort(400, "The form expired or did not come from this site; reload the page and retry.")


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: an open redirect would make the login page a phishing aid."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    # Werkzeug's full_path ends with a bare "?" when there is no query string.
    return target.rstrip("?") or "/"


@bp.app_context_processor
def inject_csrf() -> dict[str, Any]:
    return {"csrf_token": csrf_token}


@chats.logout_form_loader
def logout_form() -> dict[str, str]:
    # The chat console's "Log out" posts to our logout view (CHATS_LOGOUT_URL) with our token.
    return {"csrf_token": csrf_token()}


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_url or url_for("demo.home"))
        return render_template("example_app/login.html", next_url=next_url, error=None, username="")

    require_csrf()
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    user = db.session.scalar(db.select(User).where(User.username == username)) if username else None
    if user is None:
        check_password_hash(_dummy_hash(), password)
    elif user.check_password(password):
        # A fresh session on login: nothing set before authentication carries over.
        session.clear()
        login_user(user)
        return redirect(next_url or url_for("demo.home"))
    error = "Wrong username or password."
    return render_template(
        "example_app/login.html", next_url=next_url, error=error, username=username
    ), 401


@bp.post("/logout")
def logout() -> Any:
    require_csrf()
    logout_user()
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("demo.home"))
