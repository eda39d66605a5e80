"""Alembic environment for the gincore_chats branch on its own.

Hosts never run this file: their Flask-Migrate env.py applies our revisions through
``version_locations`` (see gincore_chats.migrations_support). It is used by library maintainers to
autogenerate new revisions, by the tests, and by ``migrations_support.alembic_config()``.

The database comes from, in order: an open connection in ``config.attributes["connection"]``,
``-x url=...`` on the command line, or ``sqlalchemy.url`` in the config.
"""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from alembic.operations.ops import MigrationScript
from alembic.runtime.migration import MigrationContext
from sqlalchemy import TypeDecorator, create_engine, pool
from sqlalchemy.engine import Connection

from gincore_chats.migrations_support import BRANCH_LABEL, created_on, is_library_table
from gincore_chats.models import metadata

config = context.config
if config.config_file_name is not None:
    # Keep loggers that already exist (the app's, pytest's) working.
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    # A maintainer's database may hold a host's tables too; they are not ours to drop.
    return type_ != "table" or (name is not None and is_library_table(name))


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Revisions must not import gincore_chats, so our TypeDecorators (UTCDateTime) are
    # written as the plain type they store.
    if (
        type_ == "type"
        and isinstance(obj, TypeDecorator)
        and type(obj).__module__.startswith("gincore_chats.")
    ):
        return f"sa.{obj.impl!r}"
    return False


def process_revision_directives(
    migration_context: MigrationContext, revision: Any, directives: list[MigrationScript]
) -> None:
    for script in directives:
        # New revisions continue our branch unless the maintainer asked for something else.
        if script.head in (None, "head"):
            heads = migration_context.script.get_heads() if migration_context.script else []
            if heads:
                script.head = f"{BRANCH_LABEL}@head"
            else:
                script.head = "base"
                script.branch_label = BRANCH_LABEL
        autogenerate = getattr(config.cmd_opts, "autogenerate", False)
        if autogenerate and all(ops.is_empty() for ops in script.upgrade_ops_list):
            directives[:] = []
            return


def run_with(connection: Connection) -> None:
    def include_object(
        obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        return reflected or type_ != "index" or created_on(obj, connection)

    context.configure(
        connection=connection,
        include_object=include_object,
        target_metadata=metadata,
        compare_type=True,
        compare_server_default=True,
        include_name=include_name,
        render_item=render_item,
        # Batch operations let future ALTERs run on SQLite hosts too.
        render_as_batch=True,
        process_revision_directives=process_revision_directives,
    )
    with context.begin_transaction():
        context.run_migrations()


def database_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise RuntimeError("no database: pass -x url=... or set sqlalchemy.url")
    return url


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            run_with(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
