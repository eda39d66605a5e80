"""Plugging the library's Alembic branch into the host's Flask-Migrate setup.

The library's revisions live in the top-level ``migrations/`` folder of the source tree, shipped
inside the wheel as the ``gincore_chats.migrations`` package. They form an Alembic branch
labelled ``gincore_chats`` with its own base, so the host's history and ours never need to know
each other: ``flask db upgrade heads`` applies both.

Against a host's Flask-Migrate, :func:`register_with_flask_migrate`:

* adds our ``versions`` folder to the host's ``version_locations``;
* filters the host's autogenerate so it never proposes dropping or altering our tables;
* places the host's new revisions on the host's own branch (``flask db migrate`` would otherwise
  stack them on ours, or stop at "Multiple heads").

It runs from ``Chats.init_app``, and again whenever an app context of that app is pushed, so a
host may set up Flask-Migrate before or after the library.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import threading
import weakref
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic.config import Config
from alembic.util import CommandError
from flask import Flask, appcontext_pushed, current_app, has_app_context
from sqlalchemy.schema import CreateIndex

from .models import metadata
from .state import EXTENSION_KEY

if TYPE_CHECKING:
    from alembic.operations.ops import MigrationScript
    from alembic.runtime.migration import MigrationContext
    from alembic.script import Script, ScriptDirectory
    from sqlalchemy.engine import Connection

BRANCH_LABEL = "gincore_chats"
TABLE_PREFIX = "chats_"

IncludeObject = Callable[[Any, "str | None", str, bool, Any], bool]
RevisionDirectives = Callable[["MigrationContext", Any, "list[MigrationScript]"], None]

# Marks the callables we install, so registering twice never wraps our own wrapper.
_MARK = "_gincore_chats"
_lock = threading.Lock()


def _find_migrations_dir() -> str:
    package_dir = Path(__file__).resolve().parent
    # A wheel carries the folder inside the package.
    candidates = [package_dir / "migrations"]
    # An editable install maps the package onto the top-level folder with an import hook.
    try:
        spec = importlib.util.find_spec(f"{__package__}.migrations")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        candidates.extend(Path(p) for p in spec.submodule_search_locations)
    # A source checkout on sys.path, or an editable install made before the mapping existed.
    candidates.append(package_dir.parent / "migrations")
    for candidate in candidates:
        if (candidate / "versions").is_dir() and (candidate / "script.py.mako").is_file():
            return str(candidate)
    # Not raising here keeps ``import gincore_chats`` working; add_version_location says why.
    return str(candidates[0])


MIGRATIONS_DIR = _find_migrations_dir()
VERSIONS_DIR = os.path.join(MIGRATIONS_DIR, "versions")


def _same_path(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


# -- which tables are ours ----------------------------------------------------------------------


def is_library_table(name: str, host_tables: Collection[str] = ()) -> bool:
    """True for a table of ours.

    Besides the tables of the installed version, any ``chats_*`` table the host does not model
    itself counts as ours: after a library downgrade the database may hold a table this version
    does not know, and the host must not be offered to drop it.
    """
    if name in metadata.tables:
        return True
    return name.startswith(TABLE_PREFIX) and name not in host_tables


def created_on(obj: Any, connection: Connection) -> bool:
    """Would ``metadata.create_all`` create this model index on ``connection``?

    An index with a condition (``Index(...).ddl_if(...)``: the trigram index exists only where
    PostgreSQL has pg_trgm) is compared by autogenerate only where it applies.
    """
    condition = getattr(obj, "_ddl_if", None)
    return condition is None or bool(condition._should_execute(CreateIndex(obj), obj, connection))


def is_library_object(
    obj: Any, name: str | None, type_: str, host_tables: Collection[str] = ()
) -> bool:
    """True for a table of ours, or an index/column/constraint on one."""
    table_name = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return bool(table_name) and is_library_table(str(table_name), host_tables)


def include_object_excluding_library(
    previous: IncludeObject | None,
    host_tables: Callable[[], Collection[str]] = frozenset,
) -> IncludeObject:
    """An ``include_object`` for the host's autogenerate that leaves our tables alone.

    Our tables are not in the host's metadata, so without this filter the host's
    ``flask db migrate`` would propose dropping them. ``previous`` is the host's own filter,
    still applied to everything else.
    """

    def include_object(
        obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        if is_library_object(obj, name, type_, host_tables()):
            return False
        return previous(obj, name, type_, reflected, compare_to) if previous else True

    setattr(include_object, _MARK, True)
    return include_object


def _host_table_names(db: Any) -> Callable[[], Collection[str]]:
    # Read when autogenerate runs, not now: the host may define models after init_app.
    def names() -> Collection[str]:
        metadatas = getattr(db, "metadatas", None) or {None: getattr(db, "metadata", None)}
        return {t for md in metadatas.values() if md is not None for t in md.tables}

    return names


# -- version locations --------------------------------------------------------------------------


def _version_locations(config: Config) -> list[str]:
    getter = getattr(config, "get_version_locations_list", None)
    if getter is not None:  # alembic >= 1.16
        locations = list(getter() or [])
    else:
        raw = config.get_main_option("version_locations") or ""
        sep = {"space": " ", "newline": "\n", "os": os.pathsep, ":": ":", ";": ";"}.get(
            config.get_main_option("version_path_separator") or ""
        )
        parts = raw.split(sep) if sep else re.split(r", *| +", raw)
        locations = [p.strip() for p in parts if p.strip()]
    if not locations:
        # Setting version_locations replaces Alembic's default folder, so name it explicitly.
        script_location = config.get_main_option("script_location") or "migrations"
        locations = [os.path.join(script_location, "versions")]
    return locations


def _set_path_lists(config: Config, version_locations: list[str]) -> None:
    # Joining on os.pathsep is the one separator a path (ours may sit under "Program Files")
    # cannot contain; alembic >= 1.16 reads it from path_separator, older from
    # version_path_separator. prepend_sys_path shares the separator, so rewrite it too.
    new_style = hasattr(config, "get_version_locations_list")
    prepend: list[str] | None = None
    if new_style and config.get_main_option("prepend_sys_path"):
        prepend = list(config.get_prepend_sys_paths_list() or [])
    config.set_main_option("path_separator" if new_style else "version_path_separator", "os")

    def join(paths: Iterable[str]) -> str:
        return os.pathsep.join(paths).replace("%", "%%")

    config.set_main_option("version_locations", join(version_locations))
    if prepend is not None:
        config.set_main_option("prepend_sys_path", join(prepend))


def add_version_location(config: Config) -> Config:
    """A Flask-Migrate ``configure`` callback: add our versions folder to the host's.

    Also usable on any Alembic ``Config`` (a host running plain Alembic calls it in its own
    setup). It turns on ``revision_environment`` unless the host chose, so that even
    ``flask db revision`` runs env.py, where the host's revision is kept off our branch.
    """
    if has_app_context() and EXTENSION_KEY not in current_app.extensions:
        # One Migrate object can serve several apps; only those running the library get us.
        return config
    if not os.path.isdir(VERSIONS_DIR):
        raise RuntimeError(
            f"gincore-chats migrations not found at {VERSIONS_DIR}: the installation is "
            "incomplete; reinstall gincore-chats"
        )
    locations = _version_locations(config)
    if not any(_same_path(loc, VERSIONS_DIR) for loc in locations):
        locations.append(VERSIONS_DIR)
    _set_path_lists(config, locations)
    if config.get_main_option("revision_environment") is None:
        config.set_main_option("revision_environment", "true")
    return config


# -- the host's new revisions -------------------------------------------------------------------


def _is_ours(rev: Script | None) -> bool:
    # Alembic copies a branch label onto every descendant, so this also catches host revisions
    # that were (wrongly) based on ours.
    return rev is not None and BRANCH_LABEL in rev.branch_labels


def _host_versions_dir(script_dir: ScriptDirectory) -> str | None:
    locations = script_dir.version_locations or ()
    others = [loc for loc in locations if not _same_path(loc, VERSIONS_DIR)]
    return str(others[0]) if len(others) == 1 else None


def place_host_revision(script_dir: ScriptDirectory, script: MigrationScript) -> None:
    """Keep a host's new revision on the host's own branch.

    With our branch in ``version_locations``, Alembic's default ``--head head`` either fails
    ("Multiple heads") or, while the host has no revision yet, bases the host's revision on ours
    and writes it into our installed package. Both are wrong: the host's history must never
    descend from ours, or ``gincore_chats@head`` stops meaning one revision and the next library
    release cannot be applied.
    """
    host_heads = [h for h in script_dir.get_revisions("heads") if not _is_ours(h)]
    if script.head in (None, "head"):  # the default: the host did not choose
        if len(host_heads) > 1:
            ids = " ".join(str(h.revision) for h in host_heads if h is not None)
            raise CommandError(
                f"Your migrations have several heads ({ids}); merge them with "
                f"'flask db merge {ids}' (not 'heads', which would merge gincore_chats too), "
                "or pass --head."
            )
        if host_heads and host_heads[0] is not None:
            script.head = host_heads[0].revision
            return
        script.head = "base"
    if script.head == "base":
        if script.version_path is None:
            # Alembic cannot pick a folder for a new base among several version locations.
            script.version_path = _host_versions_dir(script_dir)
        return
    for target in script_dir.get_revisions(script.head):
        if _is_ours(target) and target is not None:
            raise CommandError(
                f"--head {script.head} is on the {BRANCH_LABEL} branch of the gincore-chats "
                "library; base your revision on your own branch (--head <your-label>@head or "
                "--head <your head revision>). If it needs our tables, add "
                f"depends_on = {target.revision!r} to the new file instead."
            )


def _skip_empty_autogenerate(context: MigrationContext, directives: list[MigrationScript]) -> None:
    # Flask-Migrate's env.py installs this behaviour only when no hook is configured; ours takes
    # its place, so keep it: an autogenerate that finds nothing writes no file.
    config = context.config
    if not directives or not getattr(getattr(config, "cmd_opts", None), "autogenerate", False):
        return
    ops_list = directives[0].upgrade_ops_list
    # Only the single-database template ("upgrades"); the multidb one calls us once per
    # database and must see the list grow.
    if all(ops.upgrade_token == "upgrades" and ops.is_empty() for ops in ops_list):
        directives[:] = []
        logging.getLogger("alembic.env").info("No changes in schema detected.")


def revision_directives_for_host(previous: RevisionDirectives | None) -> RevisionDirectives:
    """A ``process_revision_directives`` for the host: :func:`place_host_revision`, then the
    host's own hook (or Flask-Migrate's "no changes, no file")."""

    def process_revision_directives(
        context: MigrationContext, revision: Any, directives: list[MigrationScript]
    ) -> None:
        if context.script is not None:
            for script in directives:
                place_host_revision(context.script, script)
        if previous is not None:
            previous(context, revision, directives)
        else:
            _skip_empty_autogenerate(context, directives)

    setattr(process_revision_directives, _MARK, True)
    return process_revision_directives


# -- registration -------------------------------------------------------------------------------


def register_with_flask_migrate(app: Flask) -> bool:
    """Plug the library's branch into the app's Flask-Migrate; idempotent.

    Returns whether Flask-Migrate is set up on ``app`` yet. ``Chats.init_app`` calls it; it
    also re-runs whenever an app context of ``app`` is pushed (every ``flask db`` command and
    every use of flask_migrate's Python API push one), which covers ``Migrate(app, db)`` called
    after ``chats.init_app``. Call it yourself only if you create Migrate after the app context
    that runs the migration was pushed.
    """
    if app not in _watched_apps:
        # Blinker keeps a weak reference to the app: a discarded app leaves nothing behind.
        appcontext_pushed.connect(_on_appcontext_pushed, sender=app)
        _watched_apps.add(app)
    return _hook_flask_migrate(app)


# Apps whose app contexts we watch; weak, so two apps (or many test apps) come and go freely.
_watched_apps: weakref.WeakSet[Flask] = weakref.WeakSet()


def _on_appcontext_pushed(sender: Flask, **_: Any) -> None:
    # Runs on every app context push, requests included: once hooked it is one dict lookup.
    _hook_flask_migrate(sender)


def _hook_flask_migrate(app: Flask) -> bool:
    cfg = app.extensions.get("migrate")
    if cfg is None:
        return False
    if getattr(cfg, _MARK, False):
        return True
    with _lock:
        migrate = cfg.migrate
        if add_version_location not in migrate.configure_callbacks:
            migrate.configure(add_version_location)
        args = cfg.configure_args
        include_object = args.get("include_object")
        if not getattr(include_object, _MARK, False):
            args["include_object"] = include_object_excluding_library(
                include_object, _host_table_names(cfg.db)
            )
        directives = args.get("process_revision_directives")
        if not getattr(directives, _MARK, False):
            args["process_revision_directives"] = revision_directives_for_host(directives)
        setattr(cfg, _MARK, True)
    return True


# -- running our branch alone -------------------------------------------------------------------


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic ``Config`` for the library's branch alone, with its own env.py.

    For maintainers and tests, and for a host without Flask-Migrate:
    ``alembic.command.upgrade(alembic_config(url), "gincore_chats@head")``.
    """
    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR.replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config
