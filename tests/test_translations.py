"""The library's translation catalogs: every required language complete, compiled and current.

When one of these fails after you added or changed a translatable string, run
scripts/update-translations, translate what it reports, and run it again (docs/translations.rst).
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from gincore_chats import Chats
from gincore_chats.babel import TRANSLATIONS
from gincore_chats.services.widget import texts as widget_texts

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = Path(TRANSLATIONS)
POT = CATALOGS / "gincore_chats.pot"
DOC = ROOT / "docs" / "translations.rst"
SCRIPT = ROOT / "scripts" / "update-translations"
RUN_SCRIPT = "run scripts/update-translations"

# Languages the library promises, as widget_texts names them (lowercase, hyphenated).
REQUIRED = ("uk", "ru", "pl", "de", "fr", "es", "it", "pt", "pt-br", "tr")
# Widget texts whose English wording is also the right translation.
SAME_AS_ENGLISH = {("fr", "message_label")}  # "Message"

PO_FILES = sorted(CATALOGS.glob("*/LC_MESSAGES/gincore_chats.po"))
BRACE = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
PERCENT = re.compile(r"%(?:\([A-Za-z_][A-Za-z0-9_]*\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?[a-zA-Z%]")


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f) if path.suffix in (".po", ".pot") else read_mo(f)


def messages(catalog: Catalog) -> list[Message]:
    return [m for m in catalog if m.id]


def forms(value: str | tuple[str, ...] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return value if isinstance(value, tuple) else (value,)


def lang_of(path: Path) -> str:
    return path.parts[-3]


def by_language(paths: list[Path]) -> list[Any]:
    return [pytest.param(p, id=lang_of(p)) for p in paths]


@pytest.fixture(scope="module")
def sqlite_app(tmp_path_factory) -> Flask:
    app = Flask(f"host_{uuid.uuid4().hex[:6]}")
    app.config.update(
        SECRET_KEY="s",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path_factory.mktemp('i18n')}/chats.db",
        CHATS_REDIS_URL="redis://127.0.0.1:6379/0",
    )
    db = SQLAlchemy()
    db.init_app(app)
    Chats(app, db=db)
    return app


def test_every_required_language_has_a_compiled_catalog():
    found = widget_texts.catalog_languages()
    missing = sorted(set(REQUIRED) - found)
    assert not missing, f"No compiled catalog for {missing}: {RUN_SCRIPT} (and translate)."
    for po in PO_FILES:
        assert po.with_suffix(".mo").exists(), f"{po} is not compiled: {RUN_SCRIPT}."


@pytest.mark.parametrize("language", REQUIRED)
def test_every_widget_text_is_translated(sqlite_app, language):
    with sqlite_app.app_context():
        untranslated = [
            key
            for key, english in widget_texts.DEFAULTS.items()
            if widget_texts.catalog_text(key, language) == english
            and (language, key) not in SAME_AS_ENGLISH
        ]
    assert not untranslated, (
        f"{language}: these widget texts show in English: {untranslated}. Translate them and "
        f"{RUN_SCRIPT}; if English really is right, add them to SAME_AS_ENGLISH."
    )


def test_regional_catalog_wins_over_the_language(sqlite_app):
    with sqlite_app.app_context():
        brazilian = widget_texts.catalog_text("typing", "pt-br")
        european = widget_texts.catalog_text("typing", "pt")
    assert brazilian != european != widget_texts.DEFAULTS["typing"]


@pytest.mark.parametrize("po", by_language(PO_FILES))
def test_catalog_is_complete_and_not_fuzzy(po):
    catalog = read_catalog(po)
    assert not catalog.fuzzy, f"{po}: the header is fuzzy, so Babel skips the file ({RUN_SCRIPT})."
    fuzzy = [m.id for m in messages(catalog) if m.fuzzy]
    empty = [m.id for m in messages(catalog) if not all(forms(m.string))]
    assert not fuzzy, f"{po}: review these fuzzy entries, drop the flag and {RUN_SCRIPT}: {fuzzy}"
    assert not empty, f"{po}: translate these entries, then {RUN_SCRIPT}: {empty}"


@pytest.mark.parametrize("po", by_language(PO_FILES))
def test_translations_keep_the_placeholders(po):
    wrong = []
    for message in messages(read_catalog(po)):
        originals = forms(message.id)
        patterns = [BRACE] + ([PERCENT] if message.python_format else [])
        for pattern in patterns:
            wanted = Counter(x for text in originals for x in pattern.findall(text))
            found = [Counter(pattern.findall(text)) for text in forms(message.string)]
            # A plural form may leave out the number ("one message" -> "un message"), but it may
            # not invent a placeholder, and together the forms must use all of them.
            union = Counter()
            for counter in found:
                union |= counter
            if any(counter - wanted for counter in found) or set(union) != set(wanted):
                wrong.append((message.id, message.string))
    assert not wrong, f"{po}: placeholders differ from the English; fix, {RUN_SCRIPT}: {wrong}"


def _hashable(value):
    """Plural entries come back from a .mo file as lists (singular, plural / the forms)."""
    return tuple(value) if isinstance(value, list) else value


@pytest.mark.parametrize("po", by_language(PO_FILES))
def test_compiled_catalog_matches_its_po_file(po):
    source = read_catalog(po)
    buffer = io.BytesIO()
    write_mo(buffer, source)
    buffer.seek(0)
    expected = {_hashable(m.id): _hashable(m.string) for m in messages(read_mo(buffer))}
    committed = {
        _hashable(m.id): _hashable(m.string) for m in messages(read_catalog(po.with_suffix(".mo")))
    }
    assert committed == expected, f"{po.with_suffix('.mo')} is out of date: {RUN_SCRIPT}."


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set[str | tuple[str, ...]]:
    out = tmp_path_factory.mktemp("pot") / "gincore_chats.pot"
    subprocess.run(
        ["bash", str(SCRIPT), "--extract-to", str(out)],
        cwd=ROOT,
        env={**os.environ, "PYTHON": sys.executable},
        check=True,
        capture_output=True,
    )
    return {m.id for m in messages(read_catalog(out))}


def test_template_has_every_message_in_the_code(extracted):
    committed = {m.id for m in messages(read_catalog(POT))}
    assert extracted == committed, (
        f"{POT} is out of date ({RUN_SCRIPT}). In the code but not the template: "
        f"{sorted(map(str, extracted - committed))}; in the template but no longer in the code: "
        f"{sorted(map(str, committed - extracted))}"
    )


@pytest.mark.parametrize("po", by_language(PO_FILES))
def test_catalog_has_the_templates_messages(po, extracted):
    ids = {m.id for m in messages(read_catalog(po))}
    assert ids == extracted, (
        f"{po} does not match the messages in the code ({RUN_SCRIPT}). Missing: "
        f"{sorted(map(str, extracted - ids))}; obsolete: {sorted(map(str, ids - extracted))}"
    )


def test_docs_list_every_widget_text_and_language():
    lines = {" ".join(line.split()) for line in DOC.read_text(encoding="utf-8").splitlines()}
    stale = [
        key for key, english in widget_texts.DEFAULTS.items() if f"``{key}`` {english}" not in lines
    ]
    assert not stale, f"{DOC}: the table of widget texts is out of date for {stale}"
    shipped = sorted(lang_of(po).replace("_", "-").lower() for po in PO_FILES)
    unlisted = [lang for lang in shipped if not any(x.startswith(f"``{lang}`` ") for x in lines)]
    assert not unlisted, f"{DOC}: add {unlisted} to the table of languages"
