"""The widget's built files: current with their sources, within the size budget, and the loader's
launcher labels taken from the catalogs. Needs no node: where terser is installed
(``npm ci`` in widget_assets/), the build is also redone and compared byte for byte."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
REBUILD = "run `make widget` (widget_assets/build.py) and commit the built files"


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


build = load(ROOT / "widget_assets" / "build.py", "gincore_widget_build")
bench = load(ROOT / "bench" / "widget_size.py", "gincore_widget_size")


@pytest.mark.parametrize("output", build.plan(), ids=lambda o: o.target)
def test_built_files_are_current(output) -> None:
    path = build.STATIC / output.target
    assert path.exists(), f"{path} is missing: {REBUILD}"
    first = path.read_text(encoding="utf-8").splitlines(keepends=True)[0]
    assert first == output.banner, f"{output.target} is older than its sources: {REBUILD}"


@pytest.mark.skipif(
    not build.TERSER.exists() or shutil.which("node") is None,
    reason="terser is not installed (npm ci in widget_assets/)",
)
@pytest.mark.parametrize("output", build.plan(), ids=lambda o: o.target)
def test_rebuilding_gives_the_committed_bytes(output) -> None:
    committed = (build.STATIC / output.target).read_text(encoding="utf-8")
    assert build.build(output) == committed, REBUILD


def test_the_loader_names_the_launcher_as_the_catalogs_do(app) -> None:
    from gincore_chats.services.widget import texts as widget_texts

    # The loader as built (its banner digest, checked above, covers this text).
    [loader] = [o.text for o in build.plan() if o.source == "loader.js"]
    match = re.search(r"var labels = (\{.*?\}), label = ", loader)
    assert match, "the launcher label table is in the loader"
    table = json.loads(match.group(1))
    with app.test_request_context():
        expected = {
            lang: widget_texts.catalog_text("open", lang)
            for lang in widget_texts.catalog_languages()
        }
    assert table == expected
    assert {"uk", "ru", "pl", "de", "fr", "es", "it", "pt", "pt-br", "tr"} < set(table)


def test_sizes_are_within_the_budget() -> None:
    sizes = bench.measure()
    assert sizes["on every page (loader)"]["gzip"] <= bench.LOADER_BUDGET
    assert sizes["open widget, total"]["gzip"] <= bench.OPEN_BUDGET


def test_every_text_comes_from_the_server() -> None:
    """No English widget text is built into app.js (only the title and close label a panel
    needs to say why the chat could not start, before any text came from the server)."""
    from gincore_chats.services.widget.texts import DEFAULTS

    app_js = (ROOT / "widget_assets" / "app.js").read_text(encoding="utf-8")
    built_in = {k: v for k, v in DEFAULTS.items() if f'"{v}"' in app_js}
    assert set(built_in) == {"title", "close"}, built_in


def test_only_the_token_is_ever_stored() -> None:
    sources = {
        name: (ROOT / "widget_assets" / name).read_text(encoding="utf-8")
        for name in ("loader.js", "app.js")
    }
    code = "\n".join(sources.values())
    assert "document.cookie" not in code and "sessionStorage" not in code
    assert "indexedDB" not in code
    assert code.count("localStorage.setItem(") == 1
    # The loader only reads: storage is written after the visitor opened the chat.
    assert "setItem" not in sources["loader.js"] and "removeItem" not in sources["loader.js"]
