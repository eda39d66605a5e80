"""Alembic environment of the demo host (Flask-Migrate's template, trimmed).

gincore-chats plugs into this file without edits: ``chats.init_app`` adds the library's
versions folder to ``version_locations`` and an ``include_object`` filter to the configure
arguments, so ``flask db upgrade heads`` runs both histories and autogenerate here never
proposes changes to the library's tables.
"""

from __future__ import annotations

import logging
from logging.config import fileConfig
from typing import Any

from alembic import context
from flask import current_app

config = context.config

# Only when nothing configured logging yet (the ``flask db`` CLI): inside the demo process or
# a test run, fileConfig would replace the existing handlers and silence existing loggers.
if config.config_file_name is not None and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

migrate_state = current_app.extensions["migrate"]
target_db = migrate_state.db


def get_metadata() -> Any:
    if hasattr(target_db, "metadatas"):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=target_db.engine.url.render_as_string(hide_password=False),
        target_metadata=get_metadata(),
        literal_binds=True,
        **migrate_state.configure_args,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def process_revision_directives(ctx: Any, revision: Any, directives: list[Any]) -> None:
        # An autogenerate that found nothing writes no empty revision file.
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = dict(migrate_state.configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)

    with target_db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=get_metadata(), **conf_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
