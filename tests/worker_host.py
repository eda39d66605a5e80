"""The test host (``tests/wsgi_host.py``) for an RQ worker process, with test translations.

``HOSTAPP_EXTRA_TRANSLATIONS`` names a directory of extra ``gincore_chats`` catalogs that are
merged over the library's own, so a worker can render texts the shipped catalogs do not have yet
(``tests/test_notifications_email.py`` checks an email's language that way). Run as
``flask --app tests.worker_host:app chats worker``.
"""

from __future__ import annotations

import os

from gincore_chats.babel import domain

from .wsgi_host import app

extra = os.environ.get("HOSTAPP_EXTRA_TRANSLATIONS")
if extra:
    # Later directories win when Flask-Babel merges catalogs.
    domain._translation_directories = [*domain.translation_directories, extra]
    domain.cache.clear()

__all__ = ["app"]
