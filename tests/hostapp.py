"""A minimal factory host for the tests: its own User model with UUID string ids.

It is deliberately unlike example_app (integer ids, a role column, default name lookup): here
ids are UUID strings, permissions a per-user list, and names come from ``display_name_loader``.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask, abort, redirect, request, url_for
from flask_login import LoginManager, UserMixin, login_user, logout_user
from flask_sqlalchemy import SQLAlchemy
from markupsafe import escape
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gincore_chats import Chats
from gincore_chats.models import metadata as chats_metadata


class HostBase(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=HostBase)
chats = Chats()
login_manager = LoginManager()


class Staff(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "host_staff"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    full_name: Mapped[str] = mapped_column(String(200))
    mail: Mapped[str] = mapped_column(String(200))
    perms: Mapped[str] = mapped_column(String(500), default="")


@login_manager.user_loader
def load_user(user_id: str) -> Staff | None:
    return db.session.get(Staff, user_id)


@chats.display_name_loader
def staff_name(user: Staff) -> str:
    return user.full_name


@chats.email_loader
def staff_email(user: Staff) -> str:
    return user.mail


@chats.permissions_loader
def staff_permissions(user: Staff) -> set[str]:
    return {p for p in user.perms.split(",") if p}


@chats.candidates_loader
def staff_candidates() -> list[Staff]:
    return list(db.session.scalars(db.select(Staff)))


def create_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="test-secret",
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        # No hourly housekeeping job in the test workers' queues: tests count scheduled jobs.
        # tests/test_visits.py turns it on where it is the subject.
        **{"CHATS_EMPTY_CONVERSATION_RETENTION": None, **config},
    )
    db.init_app(app)
    login_manager.init_app(app)
    chats.init_app(app, db=db)

    @app.get("/test-login/<user_id>")
    def test_login(user_id: str) -> Any:
        # The host's own login (a test host: log in by id). Real hosts use their login page.
        user = db.session.get(Staff, user_id)
        if user is None:
            abort(404)
        login_user(user)
        return redirect(request.args.get("next", "/"))

    @app.get("/test-logout")
    def test_logout() -> Any:
        logout_user()
        return "ok"

    @app.post("/test-logout-form")
    def test_logout_form() -> Any:
        # A host whose logout wants a POST with its own CSRF field (@chats.logout_form_loader).
        if request.form.get("host_csrf") != "host-token":
            abort(400)
        logout_user()
        return "logged out"

    @app.get("/")
    def home() -> str:
        return "host home"

    @app.get("/test-shop/<key>")
    def test_shop(key: str) -> str:
        # The widget installed on the host's own site (same origin as the chats), with the
        # snippet the settings page shows.
        src = url_for("gincore_chats_widget.loader", _external=True)
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            "<title>Host shop</title></head><body><h1>Host shop</h1>"
            f'<script src="{escape(src)}" data-key="{escape(key)}" async></script></body></html>'
        )

    return app


def create_tables(app: Flask) -> None:
    with app.app_context():
        db.create_all()
        chats_metadata.create_all(db.engine)
