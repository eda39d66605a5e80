"""What services need from the host's Flask app, read where the app is at hand.

A view or a job (which run inside the app's context) builds a :class:`Host` and passes it on,
so services never reach for ``current_app`` or ``request`` themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

UserLoader = Callable[[str], Any]


@dataclass(frozen=True)
class Host:
    #: The host's user loader (user id -> user or None); None when the app has none.
    load_user: UserLoader | None = None
    #: ``scheme://host[/root]`` links are built on when ``CHATS_PUBLIC_URL`` is unset.
    root_url: str | None = None


def user_loader(app: Flask) -> UserLoader | None:
    """The callback the host registered with Flask-Login's ``@login_manager.user_loader``,
    through its public accessor ``LoginManager.user_callback``."""
    return getattr(getattr(app, "login_manager", None), "user_callback", None)


def server_root(config: Mapping[str, Any]) -> str | None:
    """``PREFERRED_URL_SCHEME://SERVER_NAME/APPLICATION_ROOT``, or None without SERVER_NAME."""
    server = config.get("SERVER_NAME")
    if not server:
        return None
    scheme = config.get("PREFERRED_URL_SCHEME") or "http"
    root = str(config.get("APPLICATION_ROOT") or "/").rstrip("/")
    return f"{scheme}://{server}{root}"


def host_of(app: Flask, request_root: str | None = None) -> Host:
    """The host as seen from ``app``; ``request_root`` (a request's host URL) wins over the
    configured ``SERVER_NAME``."""
    return Host(load_user=user_loader(app), root_url=request_root or server_root(app.config))
