"""Configuration of the demo host from environment variables.

``DATABASE_URL``  SQLAlchemy URL; default: a SQLite file in the instance folder.
``CHATS_REDIS_URL`` Redis for gincore-chats; ``python -m example_app`` starts an embedded one
                  when it is unset (the library itself never does).
``SECRET_KEY``    default: generated once and kept in the instance folder, so logins survive
                  restarts and the worker process signs with the same key.
``PORT``          the demo's port (default 5000); also what the seeded widget source allows.
``HOST``          interface to listen on (default 127.0.0.1: the demo accounts have known
                  passwords, so it is not offered to the network unless asked).
``EXAMPLE_APP_INSTANCE_PATH`` where the instance folder is (default: ``instance/`` beside the
                  package).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

DEFAULT_PORT = 5000
DEFAULT_HOST = "127.0.0.1"
SECRET_KEY_FILE = "secret_key"
SQLITE_FILE = "example_app.sqlite3"


def database_url(environ: Mapping[str, str], instance_path: str) -> str:
    url = (environ.get("DATABASE_URL") or "").strip()
    if not url:
        return "sqlite:///" + os.path.join(instance_path, SQLITE_FILE)
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy's default driver for them is
    # psycopg2, but this project installs psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_or_create_secret_key(instance_path: str) -> str:
    path = os.path.join(instance_path, SECRET_KEY_FILE)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path, encoding="ascii") as fh:
            key = fh.read().strip()
        if key:
            return key
        # An empty file (a crash between create and write): replace it.
        os.unlink(path)
        return load_or_create_secret_key(instance_path)
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key


def port(environ: Mapping[str, str]) -> int:
    raw = (environ.get("PORT") or "").strip()
    if not raw:
        return DEFAULT_PORT
    value = int(raw)
    if not 0 < value < 65536:
        raise ValueError(f"PORT must be between 1 and 65535, not {raw}")
    return value


def config_from_environment(environ: Mapping[str, str], instance_path: str) -> dict[str, Any]:
    """Flask config for the demo; ``SECRET_KEY`` is left out when it must be generated."""
    config: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": database_url(environ, instance_path),
        "CHATS_REDIS_URL": (environ.get("CHATS_REDIS_URL") or "").strip() or None,
        "DEMO_PORT": port(environ),
        "DEMO_HOST": (environ.get("HOST") or "").strip() or DEFAULT_HOST,
        # The chat console's header: back to the shop's home page, and our logout view.
        "CHATS_HOME_URL": "demo.home",
        "CHATS_HOME_LABEL": "Teapot & Co",
        "CHATS_LOGOUT_URL": "auth.logout",
    }
    if environ.get("SECRET_KEY"):
        config["SECRET_KEY"] = environ["SECRET_KEY"]
    return config
