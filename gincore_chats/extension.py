"""The ``Chats`` extension object a host creates once and initialises per app."""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, request

from . import metrics
from .babel import init_babel
from .blueprints import (
    ai_settings,
    api,
    api_settings,
    canned_settings,
    channel_settings,
    console,
    files,
    health,
    knowledge_console,
    knowledge_settings,
    knowledge_widget,
    label_settings,
    notification_settings,
    notifications,
    privacy_settings,
    settings,
    source_connection,
    team_settings,
    webhooks,
    widget,
    widget_settings,
)
from .cli import chats_cli
from .config import load_config
from .identity import IdentityHooks
from .migrations_support import VERSIONS_DIR, register_with_flask_migrate
from .realtime.session import refuse_compression
from .services.ai import assistant_state as _ai_state  # noqa: F401
from .services.ai import replies as _ai_replies  # noqa: F401

# The ``_`` imports connect their receivers of the library's own hooks (services.hooks):
# every process that initialises an app has them, whichever services it happens to use.
from .services.assignment import receivers as _assignment  # noqa: F401
from .services.channels import alerts as _source_alerts  # noqa: F401
from .services.contacts import host_identity
from .services.hours import auto_reply as _hours_auto_reply  # noqa: F401
from .services.knowledge import extraction as _knowledge_extraction  # noqa: F401
from .services.labels import tagging as _labels  # noqa: F401
from .services.ratings import scores as _rating_scores  # noqa: F401
from .services.unit_of_work import run_ready_effects, unit_of_work
from .services.webhooks import events as _webhook_events  # noqa: F401
from .staff_language import init_staff_language
from .state import EXTENSION_KEY, ChatsState, get_state

#: The blueprints whose WebSockets CHATS_WS_COMPRESSION governs.
SOCKET_BLUEPRINTS = frozenset({"gincore_chats_widget", "gincore_chats_console"})

F = Callable[..., Any]
LogoutForm = Callable[[], dict[str, str]]


class Chats:
    """Mounts the console, widget and settings blueprints on a host app.

    ::

        chats = Chats()
        chats.init_app(app, db=db)

    Hooks registered with the decorators below apply to every app this object initialises.
    """

    def __init__(self, app: Flask | None = None, db: Any = None) -> None:
        self.hooks = IdentityHooks()
        if app is not None:
            self.init_app(app, db=db)

    # -- host hooks ---------------------------------------------------------------------------

    def display_name_loader(self, func: F) -> F:
        """``func(user) -> str``: the name a manager signs messages with."""
        self.hooks.display_name = func
        return func

    def avatar_loader(self, func: F) -> F:
        """``func(user) -> str | None``: an avatar image URL."""
        self.hooks.avatar_url = func
        return func

    def email_loader(self, func: F) -> F:
        """``func(user) -> str | None``: where notification emails go."""
        self.hooks.email = func
        return func

    def permissions_loader(self, func: F) -> F:
        """``func(user) -> set[str]``: the user's ``chats.*`` / ``customers.*`` permissions."""
        self.hooks.permissions = func
        return func

    def candidates_loader(self, func: Callable[[], Iterable[Any]]) -> Callable[[], Iterable[Any]]:
        """``func() -> iterable of users``: whom an admin can assign to a source."""
        self.hooks.candidates = func
        return func

    def logout_form_loader(
        self, func: Callable[[], dict[str, str]]
    ) -> Callable[[], dict[str, str]]:
        """``func() -> {name: value}``: the console header logs out with a POST form to
        ``CHATS_LOGOUT_URL`` carrying these hidden fields (e.g. your CSRF token), instead of a
        plain link."""
        self.hooks.logout_form = func
        return func

    def customer_loader(self, func: Callable[[str], Any]) -> Callable[[str], Any]:
        """``func(host_user_id) -> [(label, value), ...]`` (or ``{label: value}``): your
        profile of a customer, shown in the console's customer panel as plain text (escaped).
        Called for contacts bound to one of your users (a signed widget identity or
        :meth:`link_contact`); return None or [] for nothing."""
        self.hooks.customer = func
        return func

    # -- contacts -----------------------------------------------------------------------------

    def link_contact(
        self,
        host_user_id: str,
        *,
        name: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> int:
        """Create or update the contact bound to one of your users (an import); the fields
        given count as verified. Returns the contact id. Needs an app context."""
        state = get_state()
        fields = {k: v for k, v in (("name", name), ("email", email), ("phone", phone)) if v}
        with unit_of_work(state.session):
            contact, _created = host_identity.do_link_contact(
                state, host_user_id, fields, attributes or {}
            )
            contact_id = contact.id
        return contact_id

    # -- setup --------------------------------------------------------------------------------

    def init_app(self, app: Flask, db: Any = None) -> None:
        if db is None:
            db = app.extensions.get("sqlalchemy")
        if db is None:
            raise RuntimeError(
                "gincore-chats needs Flask-SQLAlchemy: call chats.init_app(app, db=db)"
            )
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError("gincore-chats is already initialised on this app")
        if not app.config.get("SECRET_KEY"):
            raise RuntimeError("gincore-chats signs visitor tokens with SECRET_KEY: set it")
        # Defaults that depend on the app itself are filled in before the generic ones.
        app.config.setdefault(
            "CHATS_STORAGE_PATH", os.path.join(app.instance_path, "gincore-chats-files")
        )
        config = load_config(app.config)
        if config.metrics_enabled and not metrics.available():
            raise RuntimeError(
                "CHATS_METRICS_ENABLED needs prometheus-client: "
                "pip install 'gincore-chats[metrics]'"
            )
        state = ChatsState(
            config=config,
            db=db,
            hooks=self.hooks,
            secret_key=app.config["SECRET_KEY"],
            _app=weakref.ref(app),
        )
        app.extensions[EXTENSION_KEY] = state

        # flask-sock reads this app-wide; only fill in what the host did not set.
        sock_options = dict(app.config.get("SOCK_SERVER_OPTIONS") or {})
        sock_options.setdefault("max_message_size", config.ws_max_message_size)
        sock_options.setdefault("ping_interval", config.ws_ping_interval)
        app.config["SOCK_SERVER_OPTIONS"] = sock_options
        if not config.ws_compression:

            @app.before_request
            def _plain_sockets() -> None:
                # Only the library's sockets: a host's own flask-sock routes keep theirs.
                if request.blueprint in SOCKET_BLUEPRINTS:
                    refuse_compression(request.environ)

        init_babel(app)
        init_staff_language(app)

        @app.teardown_appcontext
        def _run_leftover_effects(_exc: BaseException | None) -> None:
            # Effects of commits made outside unit_of_work (see services.unit_of_work).
            if db.session.registry.has():
                run_ready_effects(db.session)

        for module in (
            console,
            files,
            widget,
            settings,
            widget_settings,
            notifications,
            notification_settings,
            webhooks,
            channel_settings,
            source_connection,
            knowledge_settings,
            knowledge_console,
            knowledge_widget,
            api,
            api_settings,
            ai_settings,
            label_settings,
            canned_settings,
            team_settings,
            privacy_settings,
            health,
        ):
            app.register_blueprint(module.create_blueprint(state), url_prefix=config.url_prefix)
        app.cli.add_command(chats_cli)
        register_with_flask_migrate(app)

    @staticmethod
    def migrations_directory() -> str:
        """Where the library's Alembic revisions live (wheel or source checkout)."""
        return VERSIONS_DIR
