"""The REST API shows each conversation's labels and filters the list by one."""

from __future__ import annotations

from ..conftest import Console, LiveServer, Visitor, create_source
from ..test_labels import create_label, label_ids
from .conftest import Client, make_token


def test_conversations_carry_their_labels_and_filter_by_label(
    app, live_server: LiveServer, pro_server: LiveServer, admin_id, manager_id
):
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    ids = []
    for text in ("Refund please", "Shipping?"):
        visitor = Visitor(live_server, key)
        ids.append(visitor.open().json()["conversation_id"])
        visitor.send(text)
    admin = Console(live_server, admin_id)
    create_label(admin, live_server, "Billing", "#1d4ed8")
    billing = label_ids(admin)["Billing"]
    Console(live_server, manager_id).api(
        "POST", f"/conversations/{ids[0]}/labels", {"label_id": billing}
    )

    api = Client(pro_server, make_token(app, manager_id))
    rows = {r["id"]: r for r in api.get("/conversations").json()["items"]}
    assert rows[ids[0]]["labels"] == [{"id": billing, "name": "Billing", "color": "#1d4ed8"}]
    assert rows[ids[1]]["labels"] == []
    filtered = api.get(f"/conversations?label_id={billing}")
    assert filtered.status_code == 200, filtered.text
    assert [r["id"] for r in filtered.json()["items"]] == [ids[0]]
    assert api.get(f"/conversations/{ids[0]}").json()["labels"][0]["name"] == "Billing"
    assert api.get("/conversations?label_id=x").status_code == 422
