"""Helpers shared by the privacy tests: a visitor who tells everything, reading every table."""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import Any

import requests
from sqlalchemy import select

from gincore_chats.models import metadata

from ..conftest import Visitor

VERA = {
    "ip": "203.0.113.77",
    "name": "Vera Lindqvist",
    "email": "vera.lindqvist@example.org",
    "phone": "+46 70 123 45 67",
    "text": "My parcel code is QX-7731, please hurry",
}
BOB = {
    "ip": "198.51.100.23",
    "name": "Bob Okafor",
    "email": "bob.okafor@example.net",
    "phone": "+234 801 555 0199",
    "text": "Bob here: where is invoice 4410?",
}


def chatty_visitor(
    server: Any, key: str, ip: str, name: str, email: str, phone: str, text: str
) -> tuple[Visitor, int]:
    """A visitor from ``ip`` who leaves name and email, writes ``text`` and sends a file
    (``phone`` is the manager's to set)."""
    visitor = Visitor(server, key)
    original = visitor.headers

    def headers() -> dict[str, str]:
        return {**original(), "X-Forwarded-For": ip}

    visitor.headers = headers  # type: ignore[method-assign]
    r = visitor.open(url=f"https://shop.example.com/track?email={email}", title="Tracking")
    assert r.status_code == 201, r.text
    conv_id = int(r.json()["conversation_id"])
    assert visitor.api("PATCH", "/contact", {"name": name, "email": email}).ok
    assert visitor.send(text).status_code in (200, 201)
    up = requests.post(
        f"{server.url}/chats/widget/api/attachments",
        files={"file": (f"{name} passport.txt", f"{name} {email}\n".encode(), "text/plain")},
        data={"client_id": str(uuid.uuid4()), "body": ""},
        headers=visitor.headers(),
    )
    assert up.status_code == 201, up.text
    return visitor, conv_id


def every_value(session: Any) -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every non-null value of every table of the metadata,
    so a table added later by anyone is searched too."""
    found = []
    for table in metadata.sorted_tables:
        for row in session.execute(select(table)):
            for column, value in row._mapping.items():
                if value is None:
                    continue
                if isinstance(value, bytes | memoryview):
                    raw = bytes(value)
                    shown = raw.decode("utf-8", "replace")
                    with contextlib.suppress(ValueError):
                        shown += "\n" + json.dumps(json.loads(raw), ensure_ascii=False)
                elif isinstance(value, dict | list):
                    shown = json.dumps(value, ensure_ascii=False)
                else:
                    shown = str(value)
                found.append((table.name, str(column), shown))
    return found


def holding(session: Any, needles: list[str]) -> list[tuple[str, str, str]]:
    """Every (table, column, needle) where a value still holds one of ``needles``."""
    folded = [n.casefold() for n in needles]
    return [
        (table, column, needle)
        for table, column, value in every_value(session)
        for needle in folded
        if needle in value.casefold()
    ]
