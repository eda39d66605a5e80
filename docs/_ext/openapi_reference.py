"""``.. openapi-reference::``: the REST API's OpenAPI document, rendered into the docs.

The document is generated the way the running app serves it (a throw-away app on the Pro plan,
SQLite in memory, no Redis needed), so this page cannot drift from the code. The raw document
is also copied next to the HTML as ``openapi.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

_CACHE: dict[str, Any] = {}


def openapi_document() -> dict[str, Any]:
    if "doc" not in _CACHE:
        from flask import Flask
        from flask_login import LoginManager
        from flask_sqlalchemy import SQLAlchemy

        from gincore_chats import Chats
        from gincore_chats.blueprints.api.spec import document

        app = Flask("docs")
        app.config.update(
            SECRET_KEY="docs",
            SQLALCHEMY_DATABASE_URI="sqlite://",
            CHATS_PLAN="pro",
            CHATS_REDIS_URL="redis://localhost:6379/0",
        )
        db = SQLAlchemy()
        db.init_app(app)
        LoginManager().init_app(app)
        Chats().init_app(app, db=db)
        with app.app_context():
            _CACHE["doc"] = document(app.extensions["gincore_chats"])
    return _CACHE["doc"]  # type: ignore[no-any-return]


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return f"``{schema['$ref'].rsplit('/', 1)[-1]}``"
    if "anyOf" in schema:
        return " or ".join(_type(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if "enum" in schema:
        return " | ".join(f"``{v}``" for v in schema["enum"])
    kind = schema.get("type", "any")
    fmt = schema.get("format")
    return f"{kind} ({fmt})" if fmt else str(kind)


def _text(value: str | None) -> str:
    return " ".join((value or "").split())


def render(doc: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            by_tag.setdefault(op["tags"][0], []).append((method.upper(), path, op))
    for tag in sorted(by_tag):
        lines += [tag.title(), "-" * len(tag), ""]
        for method, path, op in by_tag[tag]:
            title = f"``{method} {path}``"
            lines += [title, "~" * len(title), "", _text(op.get("summary")), ""]
            if op.get("description"):
                lines += [_text(op["description"]), ""]
            lines += [f"Operation id: ``{op['operationId']}``.", ""]
            params = op.get("parameters", [])
            if params:
                lines += [
                    ".. list-table::",
                    "   :header-rows: 1",
                    "",
                    "   * - Parameter",
                    "     - In",
                    "     - Type",
                    "     - Meaning",
                ]
                for p in params:
                    lines += [
                        f"   * - ``{p['name']}``{' (required)' if p.get('required') else ''}",
                        f"     - {p['in']}",
                        f"     - {_type(p.get('schema', {}))}",
                        f"     - {_text(p.get('description')) or '-'}",
                    ]
                lines.append("")
            body = op.get("requestBody", {}).get("content", {})
            for media, content in body.items():
                lines += [f"Body (``{media}``): {_type(content['schema'])}.", ""]
            answers = []
            for code, answer in sorted(op["responses"].items()):
                if code.startswith("2"):
                    content = answer.get("content")
                    shape = _type(next(iter(content.values()))["schema"]) if content else ""
                    answers.append(f"``{code}`` {shape} {_text(answer['description'])}")
            lines += ["Answers: " + "; ".join(answers) + ". Errors are ``Problem`` details.", ""]
    lines += ["Schemas", "-------", ""]
    for name, schema in sorted(doc["components"]["schemas"].items()):
        title = f"``{name}``"
        lines += [title, "~" * len(title), ""]
        if schema.get("description"):
            lines += [_text(schema["description"]), ""]
        props = schema.get("properties")
        if props:
            required = set(schema.get("required", []))
            lines += [
                ".. list-table::",
                "   :header-rows: 1",
                "",
                "   * - Field",
                "     - Type",
                "     - Meaning",
            ]
            for field, spec in props.items():
                lines += [
                    f"   * - ``{field}``{' (required)' if field in required else ''}",
                    f"     - {_type(spec)}",
                    f"     - {_text(spec.get('description')) or '-'}",
                ]
            lines.append("")
        elif "enum" in schema:
            lines += ["One of " + ", ".join(f"``{v}``" for v in schema["enum"]) + ".", ""]
    return lines


class OpenApiReference(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        container = nodes.section()
        container.document = self.state.document
        self.state.nested_parse(
            StringList(render(openapi_document()), source="openapi.json"),
            self.content_offset,
            container,
            match_titles=True,
        )
        return list(container.children)


def copy_document(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "openapi.json"
        target.write_text(json.dumps(openapi_document(), indent=2), encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("openapi-reference", OpenApiReference)
    app.connect("build-finished", copy_document)
    return {"parallel_read_safe": True, "version": "1"}
