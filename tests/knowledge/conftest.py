"""Knowledge-base fixtures: a source with a manager, conversations played through the real
widget and console APIs, the real RQ worker, and the admin's settings session."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from ..ai.fake_openai import KEY, FakeOpenAI
from ..channels.conftest import clear_queue, run_worker
from ..conftest import Console, LiveServer, Visitor, create_source

__all__ = ["KEY", "Kit", "clear_queue", "run_worker"]


class Kit:
    """One shop: an admin and a manager assigned to a widget source."""

    def __init__(self, app: Any, server: LiveServer, admin_id: str, manager_id: str) -> None:
        self.app = app
        self.server = server
        self.source_id, self.key = create_source(app, ["shop.example.com"], [manager_id, admin_id])
        self.admin = Console(server, admin_id)
        self.manager = Console(server, manager_id)

    @property
    def state(self) -> Any:
        return self.app.extensions["gincore_chats"]

    def conversation(
        self,
        turns: list[tuple[str, str]],
        *,
        language: str = "en-US",
        close: bool = True,
        name: str | None = None,
        email: str | None = None,
    ) -> int:
        """Play a conversation: ("c", text) from the visitor, ("m", text) from the manager."""
        visitor = Visitor(self.server, self.key)
        opened = visitor.open(language=language)
        assert opened.status_code == 201, opened.text
        conv_id = opened.json()["conversation_id"]
        if name or email:
            r = visitor.api(
                "PATCH", "/contact", {k: v for k, v in {"name": name, "email": email}.items() if v}
            )
            assert r.status_code == 200, r.text
        joined = False
        for side, text in turns:
            if side == "c":
                r = visitor.send(text)
            else:
                if not joined:
                    assert self.manager.api("POST", f"/conversations/{conv_id}/join").ok
                    joined = True
                r = self.manager.api(
                    "POST",
                    f"/conversations/{conv_id}/messages",
                    {"body": text, "client_id": str(uuid.uuid4())},
                )
            assert r.status_code in (200, 201), r.text
        if close:
            r = self.manager.api("POST", f"/conversations/{conv_id}/status", {"status": "closed"})
            assert r.ok, r.text
        return conv_id

    def settings(self, method: str, path: str, **kwargs: Any) -> Any:
        data = kwargs.pop("data", {})
        if method == "POST":
            data = {"csrf_token": self.admin.csrf, **data}
        return self.admin.http.request(
            method,
            f"{self.server.url}/chats/settings/knowledge{path}",
            data=data,
            allow_redirects=False,
            **kwargs,
        )

    def export(self, **params: Any) -> list[dict[str, Any]]:
        r = self.settings("GET", "/export.json", params=params)
        assert r.status_code == 200, r.text
        return list(r.json()["entries"])

    def create(
        self,
        question: str,
        answer: str,
        *,
        language: str = "en",
        publish: bool = True,
        alternatives: str = "",
        scope: str = "all",
        sources: list[int] | None = None,
    ) -> int:
        data: dict[str, Any] = {
            "question": question,
            "answer": answer,
            "language": language,
            "alternatives": alternatives,
            "scope": scope,
            "sources": sources or [],
        }
        if publish:
            data["publish"] = "1"
        r = self.settings("POST", "/new", data=data)
        assert r.status_code == 302, r.text
        return int(re.search(r"/knowledge/(\d+)$", r.headers["Location"]).group(1))


@pytest.fixture
def kit(app: Any, live_server: LiveServer, admin_id: str, manager_id: str) -> Iterator[Kit]:
    state = app.extensions["gincore_chats"]
    clear_queue(state)
    yield Kit(app, live_server, admin_id, manager_id)
    clear_queue(state)


@pytest.fixture(scope="session")
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    yield server
    server.stop()


@pytest.fixture
def provider(app: Any, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    """The app's config pointed at the fake provider for this test."""
    fake_openai.reset()
    state = app.extensions["gincore_chats"]
    monkeypatch.setattr(
        state,
        "config",
        dataclasses.replace(
            state.config,
            ai_base_url=fake_openai.url,
            ai_api_key=KEY,
            ai_model="gpt-test",
            ai_embedding_model="emb-test",
            ai_timeout=2.0,
            ai_deadline=4.0,
        ),
    )
    return fake_openai
