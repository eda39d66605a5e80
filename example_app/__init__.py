"""A small host app for gincore-chats: its own users and login, a shop page with the widget.

``python -m example_app`` runs the whole demo (see :mod:`example_app.runtime`);
``flask --app example_app ...`` and ``gunicorn "example_app:create_app()"`` use the factory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import flask_migrate
from flask import Flask

# Importing ``identity`` registers the user loader and the gincore-chats hooks.
from . import identity, settings
from .auth import bp as auth_bp
from .extensions import chats, db, login_manager, migrate
from .views import bp as views_bp

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")

__all__ = ["MIGRATIONS_DIR", "chats", "create_app", "db", "identity", "upgrade_database"]


def create_app(
    config: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    instance_path: str | None = None,
) -> Flask:
    """Build the demo app; ``config`` overrides what the environment (``environ``) gives."""
    env = os.environ if environ is None else environ
    instance_path = instance_path or env.get("EXAMPLE_APP_INSTANCE_PATH") or None
    app = Flask(__name__, instance_path=os.path.abspath(instance_path) if instance_path else None)
    os.makedirs(app.instance_path, exist_ok=True)

    app.config.update(settings.config_from_environment(env, app.instance_path))
    app.config.update(SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True})
    app.config.update(config or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.load_or_create_secret_key(app.instance_path)

    db.init_app(app)
    # Before chats.init_app: the library adds its Alembic branch to an existing Flask-Migrate.
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to use the chat console."
    chats.init_app(app, db=db)

    app.register_blueprint(auth_bp)
    app.register_blueprint(views_bp)
    return app


def upgrade_database(app: Flask) -> None:
    """``flask db upgrade heads``: the demo's own history and the library's branch."""
    with app.app_context():
        flask_migrate.upgrade(directory=MIGRATIONS_DIR, revision="heads")
