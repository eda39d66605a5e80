"""Export and erase over the REST API (Pro): the token's scopes decide, as everywhere."""

from __future__ import annotations

import io
import json
import zipfile

from ..api.conftest import Client, make_token, pro_app, pro_server  # noqa: F401
from .support import VERA, holding
from .test_erase import _contact_of, _state


def test_api_export_and_erase_need_both_scopes(app, live_server, shop, pro_server, admin_id):  # noqa: F811
    _, vera_conv, _ = shop
    contact_id = _contact_of(app, vera_conv)
    narrow = Client(pro_server, make_token(app, admin_id, ["customers.view", "customers.edit"]))
    assert narrow.get(f"/contacts/{contact_id}/export").status_code == 403
    refused = narrow.post(f"/contacts/{contact_id}/erase", json={"confirm": True})
    assert refused.status_code == 403

    full = Client(pro_server, make_token(app, admin_id))
    r = full.get(f"/contacts/{contact_id}/export")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/zip"
    doc = json.loads(zipfile.ZipFile(io.BytesIO(r.content)).read("data.json"))
    assert doc["tables"]["chats_contacts"][0]["email"] == VERA["email"]

    assert full.post(f"/contacts/{contact_id}/erase", json={}).status_code == 422
    r = full.post(f"/contacts/{contact_id}/erase", json={"confirm": True})
    assert r.status_code == 200, r.text
    assert r.json()["erased"]["messages"] == 2
    with app.app_context():
        assert holding(_state(app).session, [VERA["email"], VERA["text"]]) == []
        _state(app).session.remove()
    assert full.post("/contacts/999999/erase", json={"confirm": True}).status_code == 404
