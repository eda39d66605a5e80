"""``python -m example_app``: run the gincore-chats demo (see :mod:`example_app.runtime`)."""

from .runtime import main

raise SystemExit(main())
