"""The test host (``tests/hostapp.py``) as a WSGI app in a server process of its own.

Configured by environment variables, so several processes can share one database and one Redis:

* ``HOSTAPP_DATABASE_URL``: SQLAlchemy URL of an existing database with the tables created;
* ``HOSTAPP_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``) and ``HOSTAPP_REDIS_PREFIX``;
* any ``CHATS_*`` setting the library knows (e.g. ``CHATS_RATE_LIMIT_MESSAGES=100000/minute``
  for a benchmark), as a string.

Run it under gunicorn (``gunicorn -k gevent tests.wsgi_host:app``) or under Werkzeug's threaded
dev server (``python -m tests.wsgi_host PORT``). Used by ``tests/test_two_processes.py`` and
``bench/hop_latency.py``.
"""

from __future__ import annotations

import os
import sys

from gincore_chats.config import DEFAULTS

from .hostapp import create_app

settings: dict[str, object] = {k: v for k, v in os.environ.items() if k in DEFAULTS}
settings.update(
    SQLALCHEMY_DATABASE_URI=os.environ["HOSTAPP_DATABASE_URL"],
    CHATS_REDIS_URL=os.environ.get("HOSTAPP_REDIS_URL", "redis://127.0.0.1:6379/0"),
    CHATS_REDIS_PREFIX=os.environ.get("HOSTAPP_REDIS_PREFIX", "gincore_chats"),
)
app = create_app(**settings)


def main(argv: list[str]) -> None:
    from werkzeug.serving import run_simple

    port = int(argv[1]) if len(argv) > 1 else 5000
    run_simple("127.0.0.1", port, app, threaded=True)


if __name__ == "__main__":
    main(sys.argv)
