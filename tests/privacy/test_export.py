"""Export (GDPR art. 15/20): a zip of every row held about the contact and their files."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select

from gincore_chats.models import AuditEntry

from .support import BOB, VERA
from .test_erase import _contact_of, _state


def _read(data: bytes) -> tuple[dict, dict[str, bytes]]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    doc = json.loads(archive.read("data.json"))
    files = {n: archive.read(n) for n in archive.namelist() if n.startswith("files/")}
    return doc, files


def test_console_export_holds_their_rows_and_files_and_nobody_elses(app, live_server, shop):
    admin, vera_conv, _ = shop
    contact_id = _contact_of(app, vera_conv)
    r = admin.http.post(
        f"{live_server.url}/chats/console/api/contacts/{contact_id}/export",
        headers={"X-CSRF-Token": admin.csrf},
    )
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/zip"
    doc, files = _read(r.content)
    tables = doc["tables"]
    contact = tables["chats_contacts"][0]
    assert (contact["name"], contact["email"], contact["phone"]) == (
        VERA["name"],
        VERA["email"],
        VERA["phone"],
    )
    assert [c["id"] for c in tables["chats_conversations"]] == [vera_conv]
    bodies = {m["body"] for m in tables["chats_messages"]}
    assert VERA["text"] in bodies and "Hello Vera, we are on it" in bodies
    assert tables["chats_visitor_contexts"][0]["ip"] == VERA["ip"]
    assert [n["body"] for n in tables["chats_contact_notes"]] == ["Vera called twice"]
    assert "chats_events" in tables
    ((name, data),) = files.items()
    assert name.endswith("Vera Lindqvist passport.txt")
    assert data == f"{VERA['name']} {VERA['email']}\n".encode()
    text = r.content.decode("latin-1") + json.dumps(doc)
    assert BOB["email"] not in text and BOB["text"] not in text
    with app.app_context():
        session = _state(app).session
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "contact.exported")
        ).one()
        assert entry.target_id == str(contact_id) and entry.details["files"] == 1
        session.remove()


def test_export_needs_csrf(app, live_server, shop):
    admin, vera_conv, _ = shop
    contact_id = _contact_of(app, vera_conv)
    r = admin.http.post(f"{live_server.url}/chats/console/api/contacts/{contact_id}/export")
    assert r.status_code == 400


def test_cli_export_writes_the_zip(app, live_server, shop, tmp_path):
    _, vera_conv, _ = shop
    contact_id = _contact_of(app, vera_conv)
    out = tmp_path / "vera.zip"
    result = app.test_cli_runner().invoke(
        args=["chats", "contacts", "export", str(contact_id), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    doc, files = _read(out.read_bytes())
    assert doc["contact_id"] == contact_id and len(files) == 1
    assert doc["tables"]["chats_contacts"][0]["email"] == VERA["email"]
