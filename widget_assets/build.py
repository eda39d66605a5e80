#!/usr/bin/env python3
"""Build the widget's static files from the sources in this folder (``make widget``).

=================  ===============================================  ==========================
Source             Built file (gincore_chats/static/gincore_chats/)  Served as
=================  ===============================================  ==========================
``loader.js``      ``widget-loader.js``                             ``<prefix>/widget.js``
``app.js``         ``widget-app.js``                                ``<prefix>/widget/app.js``
``app.css``        ``widget-app.css``                               ``<prefix>/widget/app.css``
=================  ===============================================  ==========================

On the way, the loader gets the launcher's label ("Open chat") in every catalog language and
the version of ``app.js``; ``app.js`` gets the version of ``app.css`` (so a new release is never
served half old from a browser cache). JavaScript is minified with terser (pinned in
``package.json``; ``npm ci`` here once), CSS by the small function below.

The built files are committed: installing the package or running the tests needs no node and
no network. Each starts with a banner naming a digest of everything it was built from, so
``tests/test_widget_build.py`` can tell a stale build without node; where terser is installed
the test also rebuilds and compares byte for byte.

Usage: ``python widget_assets/build.py`` (write) or ``--check`` (exit 1 when a file is stale).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
STATIC = REPO / "gincore_chats" / "static" / "gincore_chats"
TRANSLATIONS = REPO / "gincore_chats" / "translations"
TERSER = HERE / "node_modules" / ".bin" / "terser"
TERSER_ARGS = ["--compress", "passes=2", "--mangle", "--comments", "false"]

LABEL_MSGID = "Open chat"
LABELS_MARK = "{/*labels*/}"
CSS_VERSION_MARK = 'var CSS_VERSION = "dev";'
APP_VERSION_MARK = "/widget/app.js?v=dev"


@dataclass(frozen=True)
class Output:
    source: str  # file in widget_assets/
    target: str  # file in STATIC
    kind: str  # "js" or "css"
    text: str  # the source with the build's values filled in, before minifying
    digest: str

    @property
    def banner(self) -> str:
        origin = f"from widget_assets/{self.source}"
        return f"/*! gincore-chats {self.target} {self.digest[:16]} ({origin}) */\n"


def tool_version() -> str:
    package = json.loads((HERE / "package.json").read_text(encoding="utf-8"))
    return f"terser {package['devDependencies']['terser']} {' '.join(TERSER_ARGS)}"


def digest(kind: str, text: str) -> str:
    h = hashlib.sha256()
    for part in (kind, tool_version(), Path(__file__).read_text(encoding="utf-8"), text):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def launcher_labels() -> dict[str, str]:
    """The catalogs' "Open chat", keyed like the widget's language tags ("pt-br")."""
    from babel.messages.pofile import read_po

    labels = {"en": LABEL_MSGID}
    for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/gincore_chats.po")):
        with po.open("rb") as f:
            message = read_po(f).get(LABEL_MSGID)
        if message is not None and message.string and not message.fuzzy:
            labels[po.parent.parent.name.replace("_", "-").lower()] = str(message.string)
    return labels


def fill(text: str, mark: str, value: str) -> str:
    if text.count(mark) != 1:
        raise SystemExit(f"build.py: expected {mark!r} exactly once in the source")
    return text.replace(mark, value)


def plan() -> list[Output]:
    """Every built file: its source with the build's values filled in, and its digest."""

    def read(name: str) -> str:
        return (HERE / name).read_text(encoding="utf-8")

    css = read("app.css")
    css_digest = digest("css", css)
    app = fill(read("app.js"), CSS_VERSION_MARK, f'var CSS_VERSION = "{css_digest[:10]}";')
    app_digest = digest("js", app)
    labels = json.dumps(launcher_labels(), ensure_ascii=False, sort_keys=True)
    loader = fill(read("loader.js"), LABELS_MARK, labels)
    loader = fill(loader, APP_VERSION_MARK, f"/widget/app.js?v={app_digest[:10]}")
    return [
        Output("loader.js", "widget-loader.js", "js", loader, digest("js", loader)),
        Output("app.js", "widget-app.js", "js", app, app_digest),
        Output("app.css", "widget-app.css", "css", css, css_digest),
    ]


def minify_css(text: str) -> str:
    """Comments and layout whitespace out; enough for our own, string-free stylesheet."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*([{};,>])\s*", r"\1", text)
    text = re.sub(r":\s+", ":", text)
    text = text.replace(";}", "}")
    return text.strip() + "\n"


def minify_js(text: str) -> str:
    if not TERSER.exists():
        raise SystemExit(
            f"build.py: {TERSER} is missing; run `npm ci` in {HERE} once (needs the npm registry)"
        )
    result = subprocess.run(
        [str(TERSER), *TERSER_ARGS],
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"build.py: terser failed:\n{result.stderr}")
    return result.stdout.strip() + "\n"


def build(output: Output) -> str:
    body = minify_js(output.text) if output.kind == "js" else minify_css(output.text)
    return output.banner + body


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for output in plan():
        built = build(output)
        path = STATIC / output.target
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == built:
            continue
        stale.append(output.target)
        if not check:
            path.write_text(built, encoding="utf-8")
            print(f"wrote {path.relative_to(REPO)} ({len(built.encode())} bytes)")
    if check and stale:
        print(f"stale: {', '.join(stale)}; run `make widget`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
