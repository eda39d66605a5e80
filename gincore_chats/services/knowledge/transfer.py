"""Import and export of the knowledge base as CSV and JSON.

Both carry the same fields: ``id``, ``language``, ``status``, ``question``, ``phrasings``
(alternative phrasings; one per line in CSV), ``answer``, ``scope`` (``all`` or source ids),
``origin``, ``asked_count``, ``last_asked_at``. An import updates the entries whose ``id`` it
names (and that exist) and creates the others. It is all or nothing: one bad row and nothing
is imported, with every problem listed by row.

Exported CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, tab or carriage return) get a leading apostrophe, which the import removes again.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ...models import EntryOrigin, EntryStatus, KnowledgeEntry, Source
from ...state import ChatsState
from . import entries

FIELDS = (
    "id",
    "language",
    "status",
    "question",
    "phrasings",
    "answer",
    "scope",
    "origin",
    "asked_count",
    "last_asked_at",
)
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


class ImportError_(ValueError):
    """The file as a whole cannot be read (not CSV/JSON, too large)."""


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def entry_record(entry: KnowledgeEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "language": entry.language,
        "status": entry.status,
        "question": entry.question,
        "phrasings": [p.text for p in entry.phrasings if not p.canonical],
        "answer": entry.answer,
        "scope": "all" if entry.all_sources else entry.source_ids,
        "origin": entry.origin,
        "asked_count": entry.asked_count,
        "last_asked_at": entry.last_asked_at.isoformat() if entry.last_asked_at else None,
    }


def export_json(rows: list[KnowledgeEntry]) -> str:
    return json.dumps(
        {
            "format": "gincore-chats-knowledge",
            "version": 1,
            "entries": [entry_record(e) for e in rows],
        },
        ensure_ascii=False,
        indent=2,
    )


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA) else value


def export_csv(rows: list[KnowledgeEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(FIELDS)
    for entry in rows:
        record = entry_record(entry)
        record["phrasings"] = "\n".join(record["phrasings"])
        scope = record["scope"]
        record["scope"] = scope if scope == "all" else ",".join(map(str, scope))
        writer.writerow([_cell("" if record[f] is None else str(record[f])) for f in FIELDS])
    return out.getvalue()


def _uncell(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:2] in _FORMULA and value[1:2] else value


def parse(data: bytes, filename: str) -> list[dict[str, Any]]:
    """Rows of a CSV or JSON file (by name, then by content)."""
    if len(data) > MAX_BYTES:
        raise ImportError_(f"The file is too large (at most {MAX_BYTES // (1024 * 1024)} MB).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportError_("The file is not UTF-8 text.") from None
    as_json = filename.lower().endswith(".json") or text.lstrip().startswith(("{", "["))
    if as_json:
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportError_(f"The file is not valid JSON: {exc}") from None
        items = loaded.get("entries") if isinstance(loaded, dict) else loaded
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ImportError_('JSON must be {"entries": [{...}, ...]} or a list of objects.')
        rows = items
    else:
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "question" not in reader.fieldnames:
            raise ImportError_("The CSV needs a header row with at least question and answer.")
        rows = []
        for raw in reader:
            row: dict[str, Any] = {k: _uncell(v or "") for k, v in raw.items() if k}
            row["phrasings"] = [p for p in str(row.get("phrasings", "")).split("\n") if p.strip()]
            scope = str(row.get("scope", "") or "all").strip()
            row["scope"] = (
                "all"
                if scope in ("", "all")
                else [s.strip() for s in scope.split(",") if s.strip()]
            )
            rows.append(row)
    if len(rows) > MAX_ROWS:
        raise ImportError_(f"At most {MAX_ROWS} entries per import.")
    return rows


def _row_values(state: ChatsState, row: dict[str, Any], sources: set[int]) -> dict[str, Any]:
    status = str(row.get("status") or EntryStatus.CANDIDATE).strip()
    if status not in EntryStatus.ALL:
        raise entries.KnowledgeError(f"status must be one of {', '.join(EntryStatus.ALL)}.")
    origin = str(row.get("origin") or EntryOrigin.IMPORTED).strip()
    if origin not in EntryOrigin.ALL:
        raise entries.KnowledgeError(f"origin must be one of {', '.join(EntryOrigin.ALL)}.")
    phrasings = row.get("phrasings") or []
    if isinstance(phrasings, str):
        phrasings = [p for p in phrasings.split("\n") if p.strip()]
    if not isinstance(phrasings, list):
        raise entries.KnowledgeError("phrasings must be a list of texts.")
    scope = row.get("scope", "all")
    if scope in (None, "", "all"):
        all_sources, source_ids = True, []
    else:
        if not isinstance(scope, list):
            raise entries.KnowledgeError('scope must be "all" or a list of source ids.')
        try:
            source_ids = [int(s) for s in scope]
        except (TypeError, ValueError):
            raise entries.KnowledgeError("scope must list source ids (numbers).") from None
        unknown = [s for s in source_ids if s not in sources]
        if unknown:
            raise entries.KnowledgeError(f"there is no source {unknown[0]}.")
        all_sources = False
    try:
        asked = int(row.get("asked_count") or 0)
    except (TypeError, ValueError):
        raise entries.KnowledgeError("asked_count must be a whole number.") from None
    last = row.get("last_asked_at") or None
    try:
        last_at = datetime.fromisoformat(str(last)) if last else None
    except ValueError:
        raise entries.KnowledgeError("last_asked_at must be an ISO date and time.") from None
    if last_at is not None and last_at.tzinfo is None:
        raise entries.KnowledgeError("last_asked_at needs a time zone (e.g. +00:00).")
    return {
        "language": entries.clean_language(str(row.get("language") or "")),
        "question": entries.clean_question(str(row.get("question") or "")),
        "answer": entries.clean_answer(
            str(row.get("answer") or ""), required=status == EntryStatus.PUBLISHED
        ),
        "status": status,
        "origin": origin,
        "alternatives": [str(p) for p in phrasings],
        "all_sources": all_sources,
        "source_ids": source_ids,
        "asked_count": max(0, asked),
        "last_asked_at": last_at,
    }


def do_import(
    state: ChatsState, manager_id: str | None, rows: list[dict[str, Any]]
) -> ImportReport:
    """Validate every row, then write them all (the caller's unit of work commits or, when
    ``errors`` is not empty, must roll back: nothing is written then)."""
    report = ImportReport()
    sources = set(state.session.scalars(select(Source.id)))
    checked: list[tuple[KnowledgeEntry | None, dict[str, Any]]] = []
    for number, row in enumerate(rows, start=1):
        try:
            values = _row_values(state, row, sources)
        except entries.KnowledgeError as exc:
            report.errors.append(f"Entry {number}: {exc}")
            continue
        existing = None
        raw_id = str(row.get("id") or "").strip()
        if raw_id:
            if not raw_id.isdigit():
                report.errors.append(f"Entry {number}: id must be a number.")
                continue
            existing = state.session.get(KnowledgeEntry, int(raw_id))
        checked.append((existing, values))
    if report.errors:
        return report
    for existing, values in checked:
        if existing is None:
            entries.do_create(state, manager_id, **values)
            report.created += 1
            continue
        entries.do_update(
            state,
            manager_id,
            existing,
            question=values["question"],
            answer=values["answer"],
            language=values["language"],
            alternatives=values["alternatives"],
            all_sources=values["all_sources"],
            source_ids=values["source_ids"],
        )
        if existing.status != values["status"]:
            entries.do_set_status(state, manager_id, existing, values["status"])
        existing.asked_count = values["asked_count"]
        existing.last_asked_at = values["last_asked_at"]
        report.updated += 1
    return report
