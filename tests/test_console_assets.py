"""The console page preloads every module its entry script imports: without a build step the
browser would otherwise discover them one import level at a time (bench/console_size.py prints
the import depth and the bytes)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

from .conftest import Console

ROOT = Path(__file__).resolve().parent.parent


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "console_size", ROOT / "bench" / "console_size.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["console_size"] = module
    spec.loader.exec_module(module)
    return module


bench = load_bench()


def file_name(url: str) -> str:
    return url.split("?")[0].rsplit("/", 1)[-1]


def test_the_console_page_preloads_exactly_the_modules_console_js_reaches(
    live_server, manager_id
) -> None:
    me = Console(live_server, manager_id)
    page = me.http.get(f"{live_server.url}/chats/console").text
    preloaded = re.findall(r'<link rel="modulepreload" href="([^"]+)"', page)
    names = [file_name(url) for url in preloaded]
    graph = bench.module_graph()
    assert len(graph) > 1 and bench.depth(graph) > 1
    assert len(names) == len(set(names)), "a module is preloaded twice"
    assert sorted(names) == sorted(graph), "preload every module console.js imports, and no other"
    for url in preloaded:
        r = me.http.get(f"{live_server.url}{url}")
        assert r.status_code == 200, url
        assert "javascript" in r.headers["Content-Type"], url
    # The entry is the page's one module script; the others load through its imports.
    modules = re.findall(r'<script type="module" src="([^"]+)"', page)
    assert [file_name(url) for url in modules] == ["console.js"]
