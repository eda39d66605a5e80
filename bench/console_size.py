"""What the operator console's scripts cost in bytes and requests: every module ``console.js``
imports (followed through the static ``import ... from "./x.js"`` lines, as the browser does),
plus the classic scripts the page adds, each gzip -9 on its own (the server answers each file
separately, so one file's gzip cannot reuse another's text).

    .venv/bin/python bench/console_size.py           # a table
    .venv/bin/python bench/console_size.py --json    # the same figures as JSON

"depth" is the longest import chain: without preloading, the browser discovers a module only
when it has parsed the one importing it, one round trip per level. ``console.html`` preloads
every module (``<link rel="modulepreload">``) so they all load in one round of parallel requests;
``tests/test_console_assets.py`` checks that none is missing.

There is no budget yet. Issue 11 split console-chat.js (1,140 lines) by concern and took
presence and sound out of console.js; measured here, gzip -9, page scripts: before, 9 files,
107,054 B raw / 34,624 B gzip, import depth 5; after, 19 files, 116,840 B raw / 41,687 B gzip,
import depth 10, all preloaded. The split adds module headers and import lines, and each
file's gzip starts without the others' text (the same code in one file: about 3.6 KB less).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "gincore_chats" / "static" / "gincore_chats"
ENTRY = "console.js"
CLASSIC = ["console-notifications.js"]  # plain <script defer>, not part of the module graph
IMPORT = re.compile(r'^\s*(?:import|export)\b[^;]*?\bfrom\s+"\./([\w.-]+\.js)"', re.M | re.S)


def module_graph(entry: str = ENTRY) -> dict[str, list[str]]:
    """Each module the entry reaches, with the modules it imports."""
    graph: dict[str, list[str]] = {}
    todo = [entry]
    while todo:
        name = todo.pop()
        if name in graph:
            continue
        graph[name] = IMPORT.findall((STATIC / name).read_text(encoding="utf-8"))
        todo.extend(graph[name])
    return graph


def depth(
    graph: dict[str, list[str]], name: str = ENTRY, seen: frozenset[str] = frozenset()
) -> int:
    """The longest import chain from ``name`` (a cycle counts once)."""
    deeper = [depth(graph, child, seen | {name}) for child in graph[name] if child not in seen]
    return 1 + max(deeper, default=0)


def measure() -> dict[str, object]:
    graph = module_graph()
    files: dict[str, dict[str, int]] = {}
    for name in sorted(graph) + CLASSIC:
        data = (STATIC / name).read_bytes()
        files[name] = {
            "lines": data.count(b"\n"),
            "raw": len(data),
            "gzip": len(gzip.compress(data, 9, mtime=0)),
        }
    total = {key: sum(f[key] for f in files.values()) for key in ("lines", "raw", "gzip")}
    return {"files": files, "total": total, "requests": len(files), "depth": depth(graph)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    figures = measure()
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"{'':28}{'lines':>7}{'raw':>9}{'gzip':>9}")
    files: dict[str, dict[str, int]] = figures["files"]  # type: ignore[assignment]
    for name, size in files.items():
        print(f"{name:28}{size['lines']:>7,}{size['raw']:>9,}{size['gzip']:>9,}")
    total: dict[str, int] = figures["total"]  # type: ignore[assignment]
    print(f"{'total':28}{total['lines']:>7,}{total['raw']:>9,}{total['gzip']:>9,}")
    print(f"{figures['requests']} requests; import depth {figures['depth']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
