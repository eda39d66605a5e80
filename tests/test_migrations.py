"""The library's Alembic branch: the revisions themselves, their packaging, and a host's
Flask-Migrate applying them (docs/migrations.rst describes what is tested here).

PostgreSQL cases run in a scratch database created through ``CHATS_TEST_DATABASE_URL`` (the
same admin URL as conftest) and dropped afterwards.
"""

from __future__ import annotations

import ast
import configparser
import logging
import os
import secrets
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask.testing import FlaskCliRunner
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from setuptools import find_packages
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gincore_chats import migrations_support
from gincore_chats.extension import Chats
from gincore_chats.migrations_support import (
    BRANCH_LABEL,
    VERSIONS_DIR,
    alembic_config,
    created_on,
    include_object_excluding_library,
    register_with_flask_migrate,
)
from gincore_chats.models import metadata as chats_metadata

ROOT = Path(__file__).resolve().parents[1]
ADMIN_DB_URL = os.environ.get(
    "CHATS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CHATS_TABLES = set(chats_metadata.tables)

# A host convention that renames any constraint whose name is not final (not op.f()): if our
# revision forgot op.f(), the host's database would get names our models do not know.
HOST_CONVENTION = {
    "pk": "pk_%(table_name)s",
    "uq": "host_uq_%(constraint_name)s",
    "fk": "host_fk_%(constraint_name)s",
    "ix": "host_ix_%(constraint_name)s",
}


# Flask-Migrate's own env.py template still calls Flask-SQLAlchemy's deprecated get_engine().
pytestmark = pytest.mark.filterwarnings("ignore:'get_engine' is deprecated:DeprecationWarning")


# -- fixtures -----------------------------------------------------------------------------------


def our_revision_files() -> set[str]:
    return {p.name for p in Path(VERSIONS_DIR).glob("*.py")}


@pytest.fixture(autouse=True)
def library_versions_untouched() -> Iterator[None]:
    """A host revision written into the library's folder would poison every later run."""
    before = our_revision_files()
    yield
    leaked = our_revision_files() - before
    for name in leaked:
        (Path(VERSIONS_DIR) / name).unlink()
    assert not leaked, f"a host revision was written into the library: {sorted(leaked)}"


@pytest.fixture(autouse=True)
def keep_logging() -> Iterator[None]:
    """Flask-Migrate's env.py runs logging.config.fileConfig, which disables every logger that
    exists; put them back so the rest of the suite still logs."""
    manager = logging.Logger.manager
    saved = {
        name: (lg.disabled, lg.level, list(lg.handlers), lg.propagate)
        for name, lg in manager.loggerDict.items()
        if isinstance(lg, logging.Logger)
    }
    root = logging.getLogger()
    root_state = (root.level, list(root.handlers))
    yield
    for name, (disabled, level, handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.disabled, logger.level, logger.propagate = disabled, level, propagate
        logger.handlers = handlers
    for name, item in list(manager.loggerDict.items()):
        if isinstance(item, logging.Logger) and name not in saved:
            item.handlers = []
    root.level, root.handlers = root_state[0], root_state[1]


@pytest.fixture
def pg_url() -> Iterator[str]:
    admin = sa.create_engine(ADMIN_DB_URL, isolation_level="AUTOCOMMIT")
    name = f"chats_mig_{secrets.token_hex(5)}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(ADMIN_DB_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'chats.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


def table_names(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


def library_diff(url: str) -> list[Any]:
    """What autogenerate would change in our tables to match our models: must be nothing."""

    def only_ours(name: str | None, type_: str, parent_names: Any) -> bool:
        return type_ != "table" or name in CHATS_TABLES

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:

            def applies_here(obj: Any, name: Any, type_: str, reflected: bool, other: Any) -> bool:
                return reflected or type_ != "index" or created_on(obj, conn)

            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "compare_server_default": True,
                    "include_name": only_ours,
                    "include_object": applies_here,
                },
            )
            return list(compare_metadata(context, chats_metadata))
    finally:
        engine.dispose()


# -- the branch itself --------------------------------------------------------------------------


def test_branch_has_one_labelled_base_and_one_head() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    revisions = list(script.walk_revisions())
    bases = [r for r in revisions if r.down_revision is None]
    assert len(bases) == 1
    assert tuple(bases[0]._orig_branch_labels) == (BRANCH_LABEL,)
    assert len(script.get_heads()) == 1
    # Every revision belongs to the branch, so "gincore_chats@head" names exactly one.
    assert all(BRANCH_LABEL in r.branch_labels for r in revisions)


def test_revisions_do_not_import_the_library() -> None:
    files = sorted(Path(VERSIONS_DIR).glob("*.py"))
    assert any(f.name != "__init__.py" for f in files)
    for path in files:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] == "gincore_chats" for n in names), path.name


def test_upgrade_matches_models_and_downgrade_removes_everything(db_url: str) -> None:
    config = alembic_config(db_url)
    command.upgrade(config, f"{BRANCH_LABEL}@head")
    assert table_names(db_url) == CHATS_TABLES | {"alembic_version"}
    assert library_diff(db_url) == []

    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            inspector = sa.inspect(conn)
            # compare_metadata ignores ON DELETE on some backends; the cascade matters.
            for table in chats_metadata.sorted_tables:
                expected = {fk.name: fk.ondelete for fk in table.foreign_key_constraints}
                found = {
                    fk["name"]: fk.get("options", {}).get("ondelete")
                    for fk in inspector.get_foreign_keys(table.name)
                }
                assert found == expected, table.name
            # Ids autoincrement (BIGSERIAL / INTEGER PRIMARY KEY) and JSON round-trips.
            sources = chats_metadata.tables["chats_sources"]
            inserted = conn.execute(
                sources.insert().values(
                    kind="widget",
                    name="Shop",
                    public_key="k1",
                    allowed_domains=["shop.example.com"],
                    settings={"a": 1},
                    active=True,
                )
            ).inserted_primary_key
            assert inserted is not None and inserted[0] == 1
            row = conn.execute(sa.select(sources.c.settings)).one()
            assert row.settings == {"a": 1}
            if engine.dialect.name == "postgresql":
                columns = {c["name"]: c["type"] for c in inspector.get_columns("chats_sources")}
                assert columns["settings"].__class__.__name__ == "JSONB"
                assert getattr(columns["created_at"], "timezone", None) is True
                assert columns["id"].__class__.__name__ == "BIGINT"
    finally:
        engine.dispose()

    command.downgrade(config, f"{BRANCH_LABEL}@base")
    assert table_names(db_url) == {"alembic_version"}
    # And once more up: downgrade left nothing behind that blocks a re-upgrade.
    command.upgrade(config, f"{BRANCH_LABEL}@head")
    assert library_diff(db_url) == []


def index_storage_options(url: str) -> dict[str, set[str]]:
    """reloptions of our indexes that declare PostgreSQL storage parameters, as ``k=v``."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT relname, reloptions FROM pg_class WHERE relname = ANY(:names)"),
                {"names": list(declared_storage_options())},
            )
            return {name: set(options or ()) for name, options in rows}
    finally:
        engine.dispose()


def declared_storage_options() -> dict[str, set[str]]:
    declared = {}
    for table in chats_metadata.tables.values():
        for index in table.indexes:
            options = index.dialect_options["postgresql"]["with"]
            if options:
                declared[str(index.name)] = {f"{k}={v}" for k, v in options.items()}
    return declared


def test_index_storage_options_match_models_on_postgresql(pg_url: str) -> None:
    """Autogenerate does not compare storage parameters (GIN fastupdate): compare them here,
    after the revisions and after ``create_all``."""
    declared = declared_storage_options()
    assert "ix_chats_kb_phrasings_search" in declared
    # The trigram index exists only where pg_trgm could be enabled.
    optional = {"ix_chats_kb_terms_trigram"}

    def check(found: dict[str, set[str]]) -> None:
        assert set(declared) - optional <= set(found)
        assert found == {name: declared[name] for name in found}

    config = alembic_config(pg_url)
    command.upgrade(config, f"{BRANCH_LABEL}@head")
    check(index_storage_options(pg_url))
    # The revision before the one that set them: PostgreSQL's defaults.
    before = ScriptDirectory.from_config(config).get_revision("94eff7246599").down_revision
    command.downgrade(config, str(before))
    assert all(not options for options in index_storage_options(pg_url).values())
    command.downgrade(config, f"{BRANCH_LABEL}@base")

    engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    try:
        chats_metadata.create_all(engine)
    finally:
        engine.dispose()
    check(index_storage_options(pg_url))


# -- packaging ----------------------------------------------------------------------------------


def test_setup_cfg_lists_every_package() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    listed = set(cfg["options"]["packages"].split())
    package_dir = dict(
        (k.strip(), v.strip())
        for k, v in (line.split("=") for line in cfg["options"]["package_dir"].split("\n") if line)
    )
    assert package_dir["gincore_chats.migrations"] == "migrations"
    found = set(find_packages(str(ROOT), include=["gincore_chats", "gincore_chats.*"]))
    missing = found - listed
    # setup.cfg names packages one by one (find: cannot include the mapped migrations folder).
    assert not missing, f"add {sorted(missing)} to [options] packages in setup.cfg"
    assert {"gincore_chats.migrations", "gincore_chats.migrations.versions"} <= listed


def test_source_tree_uses_top_level_migrations_folder() -> None:
    assert Path(VERSIONS_DIR).resolve() == (ROOT / "migrations" / "versions").resolve()


def test_wheel_ships_the_migrations_and_they_run(tmp_path: Path) -> None:
    # Built offline with this environment's setuptools (pyproject.toml asks for >= 68).
    pytest.importorskip("setuptools", minversion="68")
    # Build from a copy so the working tree gets no build/ or egg-info.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("setup.cfg", "pyproject.toml"):
        (src / name).write_bytes((ROOT / name).read_bytes())
    for folder in ("gincore_chats", "migrations"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                target = src / path.relative_to(ROOT)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(path.read_bytes())
    out = tmp_path / "wheel"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(src),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    # Package data declared the supported way: no "Package would be ignored" screens (one per
    # data folder) on every install.
    assert "would be ignored" not in build.stdout + build.stderr, build.stderr[-2000:]
    (wheel,) = out.glob("gincore_chats-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "site")
    # Every template, static file and catalog is in the wheel.
    for folder in ("templates", "static", "translations"):
        tree = ROOT / "gincore_chats" / folder
        wanted = {
            f"gincore_chats/{p.relative_to(ROOT / 'gincore_chats').as_posix()}"
            for p in tree.rglob("*")
            if p.is_file() and p.suffix != ".pot"
        }
        assert wanted and wanted <= names, sorted(wanted - names)
    prefix = "gincore_chats/migrations/versions/"
    shipped = {n.removeprefix(prefix) for n in names if n.startswith(prefix)}
    assert shipped == {p.name for p in Path(VERSIONS_DIR).glob("*.py")}
    assert "gincore_chats/migrations/script.py.mako" in names

    # Run the unpacked wheel (first on sys.path, ahead of the editable checkout) against SQLite.
    db = tmp_path / "wheel.sqlite3"
    script = (
        "import sqlalchemy as sa\n"
        "from alembic import command\n"
        "from gincore_chats import migrations_support as m\n"
        "print(m.VERSIONS_DIR)\n"
        f"cfg = m.alembic_config('sqlite:///{db}')\n"
        "command.upgrade(cfg, 'gincore_chats@head')\n"
        f"e = sa.create_engine('sqlite:///{db}')\n"
        "print(sorted(sa.inspect(e).get_table_names()))\n"
    )
    # cwd matters: "python -c" puts it first on sys.path, ahead of PYTHONPATH.
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    versions_dir, tables = result.stdout.strip().splitlines()[-2:]
    assert Path(versions_dir) == tmp_path / "site" / "gincore_chats" / "migrations" / "versions"
    assert set(ast.literal_eval(tables)) == CHATS_TABLES | {"alembic_version"}


# -- a host with Flask-Migrate ------------------------------------------------------------------


class Host:
    """A minimal host: its own model and Flask-Migrate directory, plus the library."""

    def __init__(self, url: str, directory: Path, *, migrate_first: bool = True) -> None:
        class HostBase(DeclarativeBase):
            metadata = sa.MetaData(naming_convention=HOST_CONVENTION)

        self.db = SQLAlchemy(model_class=HostBase)
        db = self.db

        class ShopItem(db.Model):  # type: ignore[name-defined,misc]
            __tablename__ = "shop_items"
            id: Mapped[int] = mapped_column(primary_key=True)
            title: Mapped[str] = mapped_column(sa.String(200))

        self.app = Flask(__name__)
        self.app.config.update(
            SECRET_KEY="test-secret",
            SQLALCHEMY_DATABASE_URI=url,
            CHATS_REDIS_URL="redis://127.0.0.1:6379/15",
        )
        self.db.init_app(self.app)
        self.directory = directory
        self.migrate = Migrate(directory=str(directory))
        if migrate_first:
            self.migrate.init_app(self.app, self.db)
            Chats().init_app(self.app, db=self.db)
        else:
            Chats().init_app(self.app, db=self.db)
            self.migrate.init_app(self.app, self.db)
        self.runner: FlaskCliRunner = self.app.test_cli_runner()
        self.url = url

    def add_coupon_model(self) -> None:
        db = self.db

        class ShopCoupon(db.Model):  # type: ignore[name-defined,misc]
            __tablename__ = "shop_coupons"
            id: Mapped[int] = mapped_column(primary_key=True)
            code: Mapped[str] = mapped_column(sa.String(40))

    def flask_db(self, *args: str) -> Any:
        return self.runner.invoke(args=["db", *args])

    def revisions(self) -> dict[str, str]:
        return {p.name: p.read_text() for p in (self.directory / "versions").glob("*.py")}

    def close(self) -> None:
        with self.app.app_context():
            self.db.engine.dispose()


def new_file(before: dict[str, str], after: dict[str, str]) -> str:
    (name,) = set(after) - set(before)
    return after[name]


def down_revision(source: str) -> Any:
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
            if isinstance(target, ast.Name) and target.id == "down_revision":
                return ast.literal_eval(node.value) if node.value else None
    raise AssertionError("no down_revision")


def revision_id(source: str) -> str:
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
            if isinstance(target, ast.Name) and target.id == "revision":
                return str(ast.literal_eval(node.value))  # type: ignore[arg-type]
    raise AssertionError("no revision")


def test_host_upgrade_heads_and_autogenerate(db_url: str, tmp_path: Path) -> None:
    host = Host(db_url, tmp_path / "migrations")
    ours_before = our_revision_files()
    try:
        assert host.flask_db("init").exit_code == 0

        # A new host: only our head exists, and autogenerate needs the database at every head.
        result = host.flask_db("upgrade", "heads")
        assert result.exit_code == 0, result.output
        assert table_names(db_url) >= CHATS_TABLES

        # The host's first revision: a base of its own, in its own folder, labelled.
        result = host.flask_db("migrate", "-m", "shop items", "--branch-label", "shop")
        assert result.exit_code == 0, result.output
        first = new_file({}, host.revisions())
        assert "shop_items" in first and "chats_" not in first
        assert down_revision(first) is None

        # Two heads now (the host's and ours): plain "upgrade" is ambiguous, "heads" is not.
        assert host.flask_db("upgrade").exit_code != 0
        assert "shop_items" not in table_names(db_url)
        result = host.flask_db("upgrade", "heads")
        assert result.exit_code == 0, result.output
        assert table_names(db_url) == CHATS_TABLES | {"shop_items", "alembic_version"}
        # Under the host's env.py (and its naming convention) our tables match our models.
        assert library_diff(db_url) == []

        # Nothing changed: the host's autogenerate finds nothing, in particular no drops of ours.
        before = host.revisions()
        result = host.flask_db("migrate", "-m", "nothing")
        assert result.exit_code == 0, result.output
        assert host.revisions() == before

        # A new host model with plain "flask db migrate": stacked on the host's head.
        host.add_coupon_model()
        result = host.flask_db("migrate", "-m", "coupons")
        assert result.exit_code == 0, result.output
        second = new_file(before, host.revisions())
        assert "shop_coupons" in second and "chats_" not in second
        assert down_revision(second) == revision_id(first)

        # The explicit form from the docs: --head <label>@head (the database must be current).
        assert host.flask_db("upgrade", "heads").exit_code == 0
        before = host.revisions()
        result = host.flask_db("revision", "-m", "data fix", "--head", "shop@head")
        assert result.exit_code == 0, result.output
        third = new_file(before, host.revisions())
        assert down_revision(third) == revision_id(second)

        # A hand-written revision without --head also lands on the host's branch.
        before = host.revisions()
        result = host.flask_db("revision", "-m", "another fix")
        assert result.exit_code == 0, result.output
        assert down_revision(new_file(before, host.revisions())) == revision_id(third)

        # Basing a host revision on our branch is refused, and nothing is written anywhere.
        before = host.revisions()
        for head in (f"{BRANCH_LABEL}@head", "heads"):
            result = host.flask_db("revision", "-m", "bad", "--head", head)
            assert result.exit_code != 0
        assert host.revisions() == before
        assert our_revision_files() == ours_before

        result = host.flask_db("upgrade", "heads")
        assert result.exit_code == 0, result.output
        assert {"shop_items", "shop_coupons"} | CHATS_TABLES <= table_names(db_url)
        with host.app.app_context():
            script = ScriptDirectory.from_config(host.migrate.get_config())
            heads = [script.get_revision(h) for h in script.get_heads()]
        # Our branch still ends in a library revision: no host revision was put on it.
        ours = [h for h in heads if BRANCH_LABEL in h.branch_labels]
        assert len(ours) == 1
        assert os.path.dirname(os.path.abspath(ours[0].path)) == os.path.abspath(VERSIONS_DIR)
        assert sorted(tuple(h.branch_labels) for h in heads) == [(BRANCH_LABEL,), ("shop",)]

        # Each branch downgrades on its own.
        result = host.flask_db("downgrade", "shop@-3")  # the two fixes and the coupons
        assert result.exit_code == 0, result.output
        assert "shop_coupons" not in table_names(db_url)
        assert table_names(db_url) >= CHATS_TABLES
        result = host.flask_db("upgrade", "heads")
        assert result.exit_code == 0, result.output
        result = host.flask_db("downgrade", f"{BRANCH_LABEL}@base")
        assert result.exit_code == 0, result.output
        assert table_names(db_url) == {"shop_items", "shop_coupons", "alembic_version"}
    finally:
        host.close()


def test_host_first_revision_without_options_is_a_new_base(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'host.sqlite3'}"
    host = Host(url, tmp_path / "migrations")
    ours_before = our_revision_files()
    try:
        assert host.flask_db("init").exit_code == 0
        assert host.flask_db("upgrade", "heads").exit_code == 0
        # Alembic alone would base this on our head and write it into the installed library.
        result = host.flask_db("migrate", "-m", "shop items")
        assert result.exit_code == 0, result.output
        first = new_file({}, host.revisions())
        assert down_revision(first) is None
        assert our_revision_files() == ours_before
    finally:
        host.close()


def test_host_autogenerate_filter_is_what_keeps_our_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'host.sqlite3'}"
    host = Host(url, tmp_path / "migrations")
    try:
        assert host.flask_db("init").exit_code == 0
        assert host.flask_db("upgrade", "heads").exit_code == 0
        with host.app.app_context():
            args = host.app.extensions["migrate"].configure_args
            with host.db.engine.connect() as conn:
                plain = compare_metadata(MigrationContext.configure(conn), host.db.metadata)
                filtered = compare_metadata(
                    MigrationContext.configure(
                        conn, opts={"include_object": args["include_object"]}
                    ),
                    host.db.metadata,
                )
        dropped = {d[1].name for d in plain if d[0] == "remove_table"}
        assert dropped == CHATS_TABLES  # without the filter the host would drop all of ours
        assert [d for d in filtered if d[0] == "remove_table"] == []
    finally:
        host.close()


def test_migrate_initialised_after_chats(db_url: str, tmp_path: Path) -> None:
    host = Host(db_url, tmp_path / "migrations", migrate_first=False)
    try:
        # flask_migrate's Python API, as a deploy script would call it.
        with host.app.app_context():
            flask_migrate.init(directory=str(host.directory))
        with host.app.app_context():
            flask_migrate.upgrade(directory=str(host.directory), revision="heads")
        assert table_names(db_url) >= CHATS_TABLES
        result = host.flask_db("migrate", "-m", "shop items")
        assert result.exit_code == 0, result.output
        assert "chats_" not in new_file({}, host.revisions())
    finally:
        host.close()


def test_explicit_registration_inside_an_open_app_context(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'host.sqlite3'}"
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="s", SQLALCHEMY_DATABASE_URI=url, CHATS_REDIS_URL="redis://127.0.0.1:6379/15"
    )
    db = SQLAlchemy(app)
    Chats().init_app(app, db=db)
    with app.app_context():
        # Migrate set up after this context was pushed: nothing has seen it yet.
        Migrate(app, db, directory=str(tmp_path / "migrations"))
        assert register_with_flask_migrate(app) is True
        flask_migrate.init(directory=str(tmp_path / "migrations"))
        flask_migrate.upgrade(directory=str(tmp_path / "migrations"), revision="heads")
        db.engine.dispose()
    assert table_names(url) >= CHATS_TABLES


def test_registration_is_idempotent_and_keeps_host_hooks(tmp_path: Path) -> None:
    calls: list[str] = []

    def host_filter(obj: Any, name: str | None, type_: str, reflected: bool, cmp: Any) -> bool:
        calls.append(str(name))
        return name != "host_skip"

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="s",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'h.sqlite3'}",
        CHATS_REDIS_URL="redis://127.0.0.1:6379/15",
    )
    db = SQLAlchemy(app)
    migrate = Migrate(app, db, include_object=host_filter)
    Chats().init_app(app, db=db)
    for _ in range(3):
        register_with_flask_migrate(app)
        with app.app_context():
            pass
    assert migrate.configure_callbacks.count(migrations_support.add_version_location) == 1
    include = app.extensions["migrate"].configure_args["include_object"]
    assert include(None, "chats_messages", "table", True, None) is False
    assert include(None, "host_skip", "table", True, None) is False
    assert include(None, "orders", "table", True, None) is True
    # The host's filter ran once per host table: our wrapper was not stacked on itself.
    assert calls == ["host_skip", "orders"]


def test_library_filter_spares_host_tables_with_our_prefix() -> None:
    host_tables = {"chats_archive"}
    include = include_object_excluding_library(None, lambda: host_tables)
    assert include(None, "chats_archive", "table", False, None) is True
    assert include(None, "chats_messages", "table", True, None) is False
    # A chats_ table the host does not model (left by another library version) stays too.
    assert include(None, "chats_legacy", "table", True, None) is False
    column = chats_metadata.tables["chats_messages"].c.body
    assert include(column, "body", "column", False, None) is False


def test_shared_migrate_adds_our_branch_only_to_apps_running_the_library(
    tmp_path: Path,
) -> None:
    migrate = Migrate()
    apps = []
    for with_chats in (True, False):
        app = Flask(__name__)
        app.config.update(
            SECRET_KEY="s",
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / f'{with_chats}.sqlite3'}",
            CHATS_REDIS_URL="redis://127.0.0.1:6379/15",
        )
        db = SQLAlchemy(app)
        migrate.init_app(app, db, directory=str(tmp_path / "migrations"))
        if with_chats:
            Chats().init_app(app, db=db)
        apps.append(app)
    for app, expected in zip(apps, (True, False), strict=True):
        with app.app_context():
            config = migrate.get_config()
            locations = config.get_main_option("version_locations") or ""
            assert (VERSIONS_DIR in locations.split(os.pathsep)) is expected


def test_two_heads_of_the_host_ask_for_a_merge_of_those_only(tmp_path: Path) -> None:
    host = Host(f"sqlite:///{tmp_path / 'host.sqlite3'}", tmp_path / "migrations")
    try:
        assert host.flask_db("init").exit_code == 0
        assert host.flask_db("revision", "-m", "one").exit_code == 0
        assert host.flask_db("revision", "-m", "two", "--head", "base").exit_code == 0
        assert host.flask_db("upgrade", "heads").exit_code == 0
        before = host.revisions()
        result = host.flask_db("migrate", "-m", "shop items")
        assert result.exit_code != 0
        assert host.revisions() == before
        ids = sorted(revision_id(src) for src in before.values())
        # Merging exactly those two is what the message asks for, and it works.
        result = host.flask_db("merge", *ids, "-m", "merge")
        assert result.exit_code == 0, result.output
        merge = new_file(before, host.revisions())
        assert sorted(down_revision(merge)) == ids
        assert host.flask_db("upgrade", "heads").exit_code == 0
        before = host.revisions()
        result = host.flask_db("migrate", "-m", "shop items")
        assert result.exit_code == 0, result.output
        assert down_revision(new_file(before, host.revisions())) == revision_id(merge)
    finally:
        host.close()


NEXT_LIBRARY_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "next00000001"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("chats_probe", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade():
    op.drop_table("chats_probe")
"""


def test_upgrading_the_library_later(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    host = Host(f"sqlite:///{tmp_path / 'host.sqlite3'}", tmp_path / "migrations")
    try:
        assert host.flask_db("init").exit_code == 0
        assert host.flask_db("upgrade", "heads").exit_code == 0
        assert host.flask_db("migrate", "-m", "shop items").exit_code == 0
        assert host.flask_db("upgrade", "heads").exit_code == 0
        host_files = host.revisions()

        # "pip install -U gincore-chats": the same branch with one more revision.
        newer = tmp_path / "newer_versions"
        newer.mkdir()
        for path in Path(VERSIONS_DIR).glob("*.py"):
            (newer / path.name).write_bytes(path.read_bytes())
        (head,) = ScriptDirectory.from_config(alembic_config()).get_heads()
        (newer / "next00000001_probe.py").write_text(NEXT_LIBRARY_REVISION.format(head=head))
        monkeypatch.setattr(migrations_support, "VERSIONS_DIR", str(newer))

        # Autogenerate refuses until the database is at every head again.
        assert host.flask_db("migrate", "-m", "too early").exit_code != 0
        result = host.flask_db("upgrade", "heads")
        assert result.exit_code == 0, result.output
        assert "chats_probe" in table_names(host.url)
        # The new table is ours (not the host's): its autogenerate leaves it alone.
        assert host.flask_db("migrate", "-m", "nothing").exit_code == 0
        assert host.revisions() == host_files
    finally:
        host.close()


def test_each_revision_upgrades_a_database_that_holds_rows(db_url: str) -> None:
    """Columns added later get values for existing rows (a host upgrading with live data)."""
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine, text

    from gincore_chats.migrations_support import alembic_config

    config = alembic_config(db_url)
    script = ScriptDirectory.from_config(config)
    revisions = list(reversed(list(script.walk_revisions("base", "gincore_chats@head"))))
    command.upgrade(config, revisions[0].revision)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO chats_sources (id, kind, name, public_key, allowed_domains, settings,"
                " active, created_at)"
                " VALUES (1, 'widget', 'S', 'k', '[]', '{}', true, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO chats_contacts (id, source_id, custom_fields, created_at)"
                " VALUES (1, 1, '{}', CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO chats_conversations (id, source_id, contact_id, status, created_at,"
                " last_activity_at, last_seq, visitor_nonce)"
                " VALUES (1, 1, 1, 'open', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0, 'n')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO chats_managers (manager_id, display_name, presence, last_seen_at)"
                " VALUES ('m1', 'M', 'online', CURRENT_TIMESTAMP)"
            )
        )
        # A second conversation the customer wrote in (twice), read by a manager up to one.
        conn.execute(
            text(
                "INSERT INTO chats_conversations (id, source_id, contact_id, status, created_at,"
                " last_activity_at, last_seq, visitor_nonce)"
                " VALUES (2, 1, 1, 'open', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0, 'n')"
            )
        )
        for message_id, kind, at in (
            (1, "customer", "2026-01-02 10:00:00+00:00"),
            (2, "manager", "2026-01-02 10:01:00+00:00"),
            (3, "customer", "2026-01-02 10:02:00+00:00"),
        ):
            conn.execute(
                text(
                    "INSERT INTO chats_messages (id, conversation_id, source_id, kind, body,"
                    " created_at) VALUES (:id, 2, 1, :kind, 'x', :at)"
                ),
                {"id": message_id, "kind": kind, "at": at},
            )
        conn.execute(
            text(
                "INSERT INTO chats_read_states (id, conversation_id, manager_id,"
                " last_read_message_id, marked_unread, updated_at)"
                " VALUES (1, 2, 'm1', 2, false, CURRENT_TIMESTAMP)"
            )
        )
    for revision in revisions[1:]:
        command.upgrade(config, revision.revision)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM chats_conversations")).scalar() == 2
        rows = conn.execute(
            text(
                "SELECT id, first_customer_message_at, staff_last_read_message_id"
                " FROM chats_conversations ORDER BY id"
            )
        ).all()
        # Contacts across sources (d7c3b9e1a4f6): the existing contact keeps its source and
        # both conversations; it is bound to no host user and merged into nothing.
        contact = conn.execute(
            text("SELECT source_id, host_user_id, verified_at, merged_into_id FROM chats_contacts")
        ).one()
        owners = conn.execute(text("SELECT DISTINCT contact_id FROM chats_conversations")).all()
    engine.dispose()
    assert tuple(contact) == (1, None, None, None) and [tuple(o) for o in owners] == [(1,)]
    # The visit stays a visit; the conversation is listed from its first customer message.
    assert rows[0][1] is None and rows[0][2] == 0
    first = rows[1][1] if isinstance(rows[1][1], str) else rows[1][1].isoformat(sep=" ")
    assert first.startswith("2026-01-02 10:00:00") and rows[1][2] == 2
    assert library_diff(db_url) == []
