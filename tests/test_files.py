"""Attachments through the real HTTP surface: upload, download, safety, limits and quota."""

from __future__ import annotations

import dataclasses
import io
import os
import uuid

import pytest
import requests
from PIL import Image

from .conftest import Console, Visitor, create_source


@pytest.fixture
def config(app, monkeypatch):
    state = app.extensions["gincore_chats"]

    def change(**values):
        monkeypatch.setattr(state, "config", dataclasses.replace(state.config, **values))

    return change


@pytest.fixture
def chat(app, live_server, manager_id):
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(live_server, key)
    conv_id = visitor.open().json()["conversation_id"]
    console = Console(live_server, manager_id)
    console.api("POST", f"/conversations/{conv_id}/join")
    return visitor, console, conv_id


def jpeg_with_gps(size=(800, 600)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (49.0, 50.0, 0.0), 3: "E", 4: (24.0, 1.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def upload_console(console, conv_id, name, data, **form):
    files = {"file": (name, data, "application/octet-stream")}
    return console.http.post(
        f"{console.server.url}/chats/console/api/conversations/{conv_id}/attachments",
        files=files,
        data={"client_id": form.pop("client_id", str(uuid.uuid4())), **form},
        headers={"X-CSRF-Token": console.csrf},
    )


def upload_widget(visitor, name, data, **form):
    headers = {k: v for k, v in visitor.headers().items()}
    return requests.post(
        f"{visitor.server.url}/chats/widget/api/attachments",
        files={"file": (name, data, "image/png")},
        data={"client_id": form.pop("client_id", str(uuid.uuid4())), **form},
        headers=headers,
    )


def stored_files(app) -> list[str]:
    root = app.extensions["gincore_chats"].config.storage_path
    return [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]


def counts(app):
    from gincore_chats.models import Attachment, Message

    with app.app_context():
        session = app.extensions["gincore_chats"].session
        return session.query(Attachment).count(), session.query(Message).filter(
            Message.kind != "system"
        ).count()


def test_manager_sends_an_image_the_visitor_sees_it_without_gps(app, live_server, chat):
    visitor, console, conv_id = chat
    r = upload_console(console, conv_id, "holiday.jpg", jpeg_with_gps(), body="Here it is")
    assert r.status_code == 201, r.text
    msg = r.json()["message"]
    (att,) = msg["attachments"]
    assert (
        att["image"] and att["type"] == "image/jpeg" and (att["width"], att["height"]) == (800, 600)
    )
    assert msg["body"] == "Here it is"

    seen = visitor.api("GET", "/conversation").json()["messages"][-1]
    assert seen["attachments"][0]["id"] == att["id"]
    thumb = requests.get(
        f"{live_server.url}/chats/widget/api/files/{att['id']}?thumb=1", headers=visitor.headers()
    )
    assert thumb.status_code == 200 and thumb.headers["X-Content-Type-Options"] == "nosniff"
    image = Image.open(io.BytesIO(thumb.content))
    assert max(image.size) <= 320
    assert not image.getexif(), "thumbnails carry no EXIF (no GPS)"
    full = console.http.get(f"{live_server.url}/chats/console/files/{att['id']}")
    assert full.status_code == 200 and full.headers["Content-Type"] == "image/jpeg"
    assert "inline" in full.headers.get("Content-Disposition", "inline")


def test_visitor_uploads_a_file_served_as_download(app, live_server, chat):
    visitor, console, _ = chat
    r = upload_widget(visitor, "notes.txt", b"order 42, size M\n")
    assert r.status_code == 201, r.text
    assert r.headers["Access-Control-Allow-Origin"] == visitor.origin
    att = r.json()["message"]["attachments"][0]
    assert att["type"] == "text/plain" and not att["image"]
    got = console.http.get(f"{live_server.url}/chats/console/files/{att['id']}")
    assert got.content == b"order 42, size M\n"
    assert got.headers["Content-Disposition"].startswith("attachment")
    assert got.headers["Content-Type"] == "application/octet-stream"
    assert "sandbox" in got.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("page.html", b"<!doctype html><script>alert(1)</script>"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'),
        ("cute.png", b"<html><body onload=alert(1)>not a png</body></html>"),
        ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200)),
    ],
)
def test_script_capable_and_unknown_files_are_refused(app, live_server, chat, name, data):
    visitor, console, conv_id = chat
    before = stored_files(app)
    for r in (upload_console(console, conv_id, name, data), upload_widget(visitor, name, data)):
        assert r.status_code == 415, r.text
        assert "cannot be sent" in r.json()["error"]
    assert stored_files(app) == before and counts(app)[0] == 0


def test_a_lying_extension_is_corrected_from_the_content(app, live_server, chat):
    _, console, conv_id = chat
    png = io.BytesIO()
    Image.new("RGB", (10, 10)).save(png, "PNG")
    att = upload_console(console, conv_id, "invoice.pdf", png.getvalue()).json()["message"][
        "attachments"
    ][0]
    assert att["type"] == "image/png" and att["name"] == "invoice.png"


def test_size_limit_and_quota_refuse_cleanly(app, live_server, chat, config):
    visitor, console, conv_id = chat
    config(max_upload_size=1000)
    r = upload_console(console, conv_id, "big.txt", b"x" * 5000)
    assert r.status_code == 413
    config(max_upload_size=10_000, storage_quota=3000)
    assert upload_console(console, conv_id, "a.txt", b"a" * 2000).status_code == 201
    before = stored_files(app)
    r = upload_widget(visitor, "b.txt", b"b" * 2000)
    assert r.status_code == 507
    assert "storage quota is full; ask your administrator to expand it" in r.json()["error"]
    assert stored_files(app) == before, "nothing half-stored remains"
    assert counts(app) == (1, 1)


def test_deleting_a_message_frees_its_space(app, live_server, chat, config):
    _, console, conv_id = chat
    config(storage_quota=3000)
    msg = upload_console(console, conv_id, "a.txt", b"a" * 2000).json()["message"]
    assert upload_console(console, conv_id, "b.txt", b"b" * 2000).status_code == 507
    assert (
        console.api("DELETE", f"/conversations/{conv_id}/messages/{msg['id']}").status_code == 200
    )
    assert stored_files(app) == []
    r = upload_console(console, conv_id, "b.txt", b"b" * 2000)
    assert r.status_code == 201
    usage = Console(live_server, make_admin(app)).api("GET", "/storage").json()
    assert usage["used"] == 2000 and usage["quota"] == 3000


def make_admin(app):
    from .conftest import make_staff

    return make_staff(app, "Ada Admin", "chats.admin")


def test_retried_upload_creates_one_message_and_one_file(app, live_server, chat):
    _, console, conv_id = chat
    cid = str(uuid.uuid4())
    first = upload_console(console, conv_id, "a.txt", b"hello", client_id=cid)
    second = upload_console(console, conv_id, "a.txt", b"hello", client_id=cid)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["message"]["id"] == second.json()["message"]["id"]
    assert counts(app) == (1, 1) and len(stored_files(app)) == 1


def test_decompression_bombs_are_refused(app, live_server, chat, config):
    _, console, conv_id = chat
    config(max_image_pixels=1_000_000)
    bomb = io.BytesIO()
    Image.new("1", (4000, 4000)).save(bomb, "PNG")  # tiny file, 16 Mpx when decoded
    r = upload_console(console, conv_id, "bomb.png", bomb.getvalue())
    assert r.status_code == 400 and "too many pixels" in r.json()["error"]
    assert stored_files(app) == []


def test_files_are_only_for_those_who_may_read_the_conversation(app, live_server, chat, manager_id):
    visitor, console, conv_id = chat
    att = upload_widget(visitor, "mine.txt", b"private").json()["message"]["attachments"][0]
    other = Visitor(live_server, visitor.key)
    other.open()
    assert (
        requests.get(
            f"{live_server.url}/chats/widget/api/files/{att['id']}", headers=other.headers()
        ).status_code
        == 404
    )
    assert (
        requests.get(
            f"{live_server.url}/chats/widget/api/files/{att['id']}",
            headers={"Origin": visitor.origin},
        ).status_code
        == 403
    )
    assert requests.get(f"{live_server.url}/chats/console/files/{att['id']}").status_code == 403
    note = upload_console(console, conv_id, "n.txt", b"staff only", note="1").json()["message"]
    assert note["kind"] == "note"
    nid = note["attachments"][0]["id"]
    assert (
        requests.get(
            f"{live_server.url}/chats/widget/api/files/{nid}", headers=visitor.headers()
        ).status_code
        == 404
    )
    assert all(m["kind"] != "note" for m in visitor.api("GET", "/conversation").json()["messages"])


def test_an_html_file_never_runs_in_the_browser(app, live_server, chat, page_factory=None):
    """The strongest refusal is the upload policy; this checks served files can't render HTML."""
    visitor, console, _ = chat
    att = upload_widget(visitor, "notes.txt", b"<b onmouseover=alert(1)>hi</b> plain text").json()
    item = att["message"]["attachments"][0]
    got = console.http.get(f"{live_server.url}/chats/console/files/{item['id']}")
    # Served as an opaque download, never text/html, and sandboxed if opened anyway.
    assert got.headers["Content-Type"] == "application/octet-stream"
    assert got.headers["Content-Disposition"].startswith("attachment")


def test_admin_sees_storage_usage_in_settings(app, live_server, chat, config):
    _, console, conv_id = chat
    config(storage_quota=10 * 1048576)
    upload_console(console, conv_id, "a.txt", b"a" * 1048576)
    admin = Console(live_server, make_admin(app))
    page = admin.http.get(f"{live_server.url}/chats/settings").text
    # Human-readable, as a file manager says it.
    assert "<strong>1 MB</strong> used of 10 MB (10 %)" in page
    assert 'max="10485760" value="1048576"' in page  # the meter


def test_markup_stays_refused_even_if_configured(app, live_server, chat, config):
    _, console, conv_id = chat
    config(allowed_upload_types=frozenset({"text/html", "text/plain"}))
    r = upload_console(console, conv_id, "x.html", b"<html><script>alert(1)</script></html>")
    assert r.status_code == 415


def test_signed_platform_links_work_until_they_expire(app, live_server, chat, config):
    _, console, conv_id = chat
    config(public_url=live_server.url)
    att = upload_console(console, conv_id, "a.txt", b"for the platform").json()["message"][
        "attachments"
    ][0]
    from gincore_chats.models import Attachment
    from gincore_chats.services.files import attachments

    with app.app_context():
        state = app.extensions["gincore_chats"]
        row = state.session.query(Attachment).filter_by(public_id=att["id"]).one()
        link = attachments.public_url(state, row)
    assert requests.get(link).content == b"for the platform"
    base, expires, sig = link.rsplit("/", 2)
    assert requests.get(f"{base}/{expires}/{'0' * 32}").status_code == 404
    assert requests.get(f"{base}/{int(expires) - 7200}/{sig}").status_code == 404


def test_a_racing_duplicate_upload_leaves_no_orphan_file(app, live_server, chat, monkeypatch):
    """Two tries with one client id racing: the loser's stored bytes and row are undone."""
    _, console, conv_id = chat
    cid = str(uuid.uuid4())
    assert upload_console(console, conv_id, "a.txt", b"first", client_id=cid).status_code == 201
    from gincore_chats.services.conversations import messages

    # The second try passes the early look-up (as if the first had not committed yet) and
    # meets the unique constraint instead.
    monkeypatch.setattr(messages, "find_by_client_id", lambda *a, **k: None)
    second = upload_console(console, conv_id, "a.txt", b"first", client_id=cid)
    assert second.status_code == 200 and second.json()["created"] is False
    assert counts(app) == (1, 1) and len(stored_files(app)) == 1
