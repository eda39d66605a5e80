"""Privacy tests reuse the channel fixtures (fake Telegram, the worker) for platform contacts."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from ..channels.conftest import channels, fake_telegram, fake_viber, receiver  # noqa: F401
from ..conftest import Console, create_source
from .support import BOB, VERA, chatty_visitor


@pytest.fixture
def config(app: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    state = app.extensions["gincore_chats"]

    def change(**values: Any) -> None:
        monkeypatch.setattr(state, "config", dataclasses.replace(state.config, **values))

    return change


@pytest.fixture
def shop(app, live_server, admin_id, config):
    config(trusted_proxies=1)
    _, key = create_source(app, ["shop.example.com"], [admin_id])
    admin = Console(live_server, admin_id)
    _vera, vera_conv = chatty_visitor(live_server, key, **VERA)
    _bob, bob_conv = chatty_visitor(live_server, key, **BOB)
    for conv_id, who, person in ((vera_conv, "Vera", VERA), (bob_conv, "Bob", BOB)):
        assert admin.api("POST", f"/conversations/{conv_id}/join").ok
        # The widget's form asks for name and email; the phone comes from the manager.
        phone = {"phone": person["phone"]}
        assert admin.api("PATCH", f"/conversations/{conv_id}/contact", phone).ok
        reply = {"body": f"Hello {who}, we are on it", "client_id": str(uuid.uuid4())}
        assert admin.api("POST", f"/conversations/{conv_id}/messages", reply).status_code == 201
        note = {"body": f"{who} called twice"}
        assert admin.api("POST", f"/conversations/{conv_id}/notes", note).status_code == 201
    return admin, vera_conv, bob_conv
