"""Exporting a person (GDPR art. 15 and 20): every row held about them, and their files.

The zip holds ``data.json`` (every table's rows that belong to the contact, found by walking
the metadata as the erase does, so a table added later is exported too) and ``files/`` with the
bytes of each attachment still stored. Secrets never belong to a contact (tokens, keys and
credentials hang off sources and managers), so nothing is held back.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import zipfile
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from ...models import utcnow
from ...state import ChatsState
from .. import audit_log
from ..errors import NotFound
from ..files import attachments as files
from ..unit_of_work import unit_of_work
from . import holdings as walk
from .erasure import access_for_privacy

FORMAT_VERSION = 1


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(raw).decode()}
    return value


def document(held: walk.Holdings, contact_id: int) -> dict[str, Any]:
    return {
        "format": "gincore-chats.contact-export",
        "version": FORMAT_VERSION,
        "exported_at": utcnow().isoformat(),
        "contact_id": contact_id,
        "tables": {
            table: [{k: _plain(v) for k, v in row.items()} for row in rows]
            for table, rows in held.rows.items()
        },
    }


def _file_name(row: dict[str, Any]) -> str:
    # The stored name was cleaned at upload; the public id keeps names unique in the zip.
    base = os.path.basename(str(row.get("filename") or "file")) or "file"
    return f"files/{row['public_id']}-{base}"


def write_zip(state: ChatsState, contact_id: int, out: IO[bytes]) -> dict[str, int]:
    """Write the export of one contact; returns counts (tables, rows, files)."""
    held = walk.collect(state, [contact_id])
    if not held.of(walk.CONTACTS):
        raise NotFound("No such contact.")
    backend = files.storage(state)
    written = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        doc = document(held, contact_id)
        archive.writestr("data.json", json.dumps(doc, ensure_ascii=False, indent=2, default=str))
        for row in held.of("chats_attachments"):
            if row.get("deleted_at") is not None or not backend.exists(row["storage_key"]):
                continue
            with (
                backend.open(row["storage_key"]) as stream,
                archive.open(_file_name(row), "w") as dest,
            ):
                while chunk := stream.read(1024 * 1024):
                    dest.write(chunk)
            written += 1
    return {
        "tables": len(held.rows),
        "rows": sum(len(r) for r in held.rows.values()),
        "files": written,
    }


def export_contact(state: ChatsState, manager: Any, contact_id: int) -> IO[bytes]:
    """The zip in a temporary file (rewound), audit-logged; ``manager`` None: the CLI."""
    with unit_of_work(state.session):
        if manager is not None:
            access_for_privacy(state, manager, contact_id)
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
        try:
            counts = write_zip(state, contact_id, spool)  # type: ignore[arg-type]
        except BaseException:
            spool.close()
            raise
        audit_log.do_record(state, manager, "contact.exported", "contact", contact_id, **counts)
    spool.seek(0)
    return spool  # type: ignore[return-value]
