"""What the website widget costs a site in bytes: the loader on every page, and everything the
browser downloads when the visitor opens the chat.

    /work/venv/bin/python bench/widget_size.py           # a table
    /work/venv/bin/python bench/widget_size.py --json    # the same figures as JSON

Reads the built files the server sends (``gincore_chats/static/gincore_chats/widget-*``; run
``make widget`` first if you changed ``widget_assets/``) and prints raw and gzip sizes (level 9,
as ``gzip -9``; at nginx's default level 1 they are a little larger). Opening the chat fetches
``app.js`` and ``app.css`` once (then cached); the JSON the API answers with is data, not code,
and is not counted. Nothing else is fetched: no fonts, no images but manager avatars, no
third-party script (``tests/e2e/test_widget_privacy.py`` checks that).

Budgets (Issue 4): loader <= 2 KB gzip; the open widget (loader + app.js + app.css) <= 15 KB
gzip. For scale, as published: Chatwoot's widget chunk 170.4 KiB transfer (chatwoot#2658),
Crisp "scripts 90 KB + CSS 45 KB" (help.crisp.chat), Intercom 182 KB min+gzip (2015).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "gincore_chats" / "static" / "gincore_chats"
FILES = {
    "loader (widget.js)": "widget-loader.js",
    "app.js": "widget-app.js",
    "app.css": "widget-app.css",
}
LOADER_BUDGET = 2 * 1024
OPEN_BUDGET = 15 * 1024
PEERS = [
    ("Chatwoot widget chunk (chatwoot#2658)", 170.4 * 1024),
    ("Crisp scripts, as published", 90 * 1000),
    ("Intercom, 2015 (Smooch PR #124)", 182 * 1000),
]


def measure() -> dict[str, dict[str, int]]:
    """Raw and gzip bytes of each file, and the two totals that have a budget."""
    sizes: dict[str, dict[str, int]] = {}
    for label, name in FILES.items():
        data = (STATIC / name).read_bytes()
        sizes[label] = {"raw": len(data), "gzip": len(gzip.compress(data, 9, mtime=0))}
    sizes["on every page (loader)"] = dict(sizes["loader (widget.js)"])
    sizes["open widget, total"] = {
        key: sum(sizes[label][key] for label in FILES) for key in ("raw", "gzip")
    }
    return sizes


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    sizes = measure()
    if args.json:
        print(json.dumps(sizes, indent=2))
        return 0
    print(f"{'':34}{'raw':>9}{'gzip':>9}   budget (gzip)")
    budgets = {"on every page (loader)": LOADER_BUDGET, "open widget, total": OPEN_BUDGET}
    for label, size in sizes.items():
        if label == "on every page (loader)":
            print()
        budget = budgets.get(label)
        mark = ""
        if budget:
            mark = f"   <= {budget / 1024:.0f} KB  {'ok' if size['gzip'] <= budget else 'OVER'}"
        print(f"{label:34}{size['raw']:>9,}{size['gzip']:>9,}{mark}")
    total = sizes["open widget, total"]["gzip"]
    print()
    for name, peer in PEERS:
        print(f"{name:44} {peer / 1024:6.1f} KiB   x{peer / total:.0f} ours")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
