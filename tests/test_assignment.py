"""Auto-assignment through the real surface: widget HTTP, console HTTP and WebSocket, and the
worker's sweep job. Managers are online as the widget sees them: a console socket connected
and the status "online"."""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from .conftest import Console, Visitor, create_source, make_staff
from .test_realtime import console_socket

PERMS = "chats.view,chats.reply"


@pytest.fixture
def fast_limits(app, monkeypatch):
    from gincore_chats.rate_limit import parse

    state = app.extensions["gincore_chats"]
    limits = {"rate_limit_conversations": parse("100000/hour"),
              "rate_limit_messages": parse("100000/minute")}  # fmt: skip
    monkeypatch.setattr(state, "config", dataclasses.replace(state.config, **limits))


def configure(app, source_id: int, **values: Any) -> None:
    from gincore_chats.models import Source
    from gincore_chats.services.assignment import settings
    from gincore_chats.services.unit_of_work import unit_of_work

    with app.app_context():
        state = app.extensions["gincore_chats"]
        with unit_of_work(state.session):
            settings.do_set(state.session.get(Source, source_id), values)


class Team:
    def __init__(self, app, live_server, names: list[str], **assignment: Any) -> None:
        self.ids = [make_staff(app, n, PERMS) for n in names]
        self.source_id, self.key = create_source(app, ["shop.example.com"], self.ids)
        configure(app, self.source_id, mode="round_robin", **assignment)
        self.server = live_server
        self.consoles = {mid: Console(live_server, mid) for mid in self.ids}
        self.sockets: dict[str, Any] = {}

    def online(self, *manager_ids: str) -> None:
        for mid in manager_ids or self.ids:
            self.sockets[mid] = console_socket(self.server, self.consoles[mid])

    def close_sockets(self) -> None:
        for ws in self.sockets.values():
            ws.close()

    def chat(self, text: str = "Hello?") -> tuple[Visitor, int]:
        visitor = Visitor(self.server, self.key)
        conv_id = visitor.open().json()["conversation_id"]
        assert visitor.send(text).status_code == 201
        return visitor, conv_id

    def managers_of(self, conv_id: int) -> list[str]:
        console = next(iter(self.consoles.values()))
        r = console.api("GET", f"/conversations/{conv_id}")
        assert r.status_code == 200, r.text
        return sorted(m["id"] for m in r.json()["managers"])

    def unassigned(self) -> list[int]:
        console = next(iter(self.consoles.values()))
        rows = console.api("GET", "/conversations?filter=unassigned").json()["conversations"]
        return sorted(c["id"] for c in rows)


@pytest.fixture
def team(app, live_server, fast_limits):
    made: list[Team] = []

    def make(names: list[str], **assignment: Any) -> Team:
        made.append(Team(app, live_server, names, **assignment))
        return made[-1]

    yield make
    for t in made:
        t.close_sockets()


def test_capacity_then_the_pool_then_a_close_frees_a_place(app, team):
    t = team(["Ann", "Ben"], capacity=1)
    t.online()
    _, c1 = t.chat()
    _, c2 = t.chat()
    _, c3 = t.chat()
    ((a,), (b,)) = t.managers_of(c1), t.managers_of(c2)
    assert {a, b} == set(t.ids)
    assert t.managers_of(c3) == [] and t.unassigned() == [c3]

    # The joined system message, as a manual join writes it.
    messages = t.consoles[a].api("GET", f"/conversations/{c1}").json()["messages"]
    assert [m["system_code"] for m in messages if m["kind"] == "system"] == ["joined"]
    assert messages[-1]["system_data"]["manager_id"] == a

    r = t.consoles[a].api("POST", f"/conversations/{c1}/status", {"status": "closed"})
    assert r.status_code == 200
    assert t.managers_of(c3) == [a] and t.unassigned() == []


def test_a_visit_takes_no_capacity_until_the_customer_writes(app, team, live_server):
    t = team(["Ann"], capacity=1)
    t.online()
    visit = Visitor(live_server, t.key)
    visit_id = visit.open().json()["conversation_id"]
    assert t.managers_of(visit_id) == []
    _, c1 = t.chat()
    assert t.managers_of(c1) == t.ids  # the visit did not use Ann's one place
    assert visit.send("Now I write").status_code == 201
    assert t.managers_of(visit_id) == [] and t.unassigned() == [visit_id]


def test_leaving_hands_on_and_never_back_to_the_one_who_left(app, team):
    t = team(["Ann", "Ben"], capacity=1)
    a, b = t.ids
    t.online(a)
    _, c1 = t.chat()
    assert t.managers_of(c1) == [a]
    assert t.consoles[a].api("POST", f"/conversations/{c1}/leave").json()["left"] is True
    assert t.managers_of(c1) == []  # Ann left it; nobody else is online: it waits
    t.online(b)  # Ben connects: the pool is his
    assert t.managers_of(c1) == [b]


def test_offline_managers_and_invisible_ones_take_nothing(app, team):
    t = team(["Ann", "Ben"], capacity=5)
    a, b = t.ids
    t.online()
    t.consoles[b].api("POST", "/presence", {"status": "invisible"})
    assert [t.managers_of(t.chat()[1]) for _ in range(3)] == [[a]] * 3
    t.consoles[a].api("POST", "/presence", {"status": "offline"})
    _, waiting = t.chat()
    assert t.managers_of(waiting) == []
    # Coming back online takes the waiting conversation at once.
    assert t.consoles[b].api("POST", "/presence", {"status": "online"}).status_code == 200
    assert t.managers_of(waiting) == [b]


def sweep(app) -> tuple[int, int]:
    from gincore_chats.jobs import assignment

    with app.app_context():
        return assignment.run_once(app.extensions["gincore_chats"])


def test_an_away_manager_gives_back_waiting_conversations_after_the_set_time(app, team):
    t = team(["Ann", "Ben"], capacity=5, return_after_minutes=30)
    t.online()
    _, c1 = t.chat()
    _, c2 = t.chat()
    _, c3 = t.chat()
    ((a,), (b,)) = t.managers_of(c1), t.managers_of(c2)
    assert a != b and t.managers_of(c3) == [a]  # turns: a, b, a
    # a answered c1: it stays theirs. c3 still waits for them.
    reply = {"body": "On it", "client_id": str(uuid.uuid4())}
    assert t.consoles[a].api("POST", f"/conversations/{c1}/messages", reply).status_code == 201
    t.consoles[a].api("POST", "/presence", {"status": "offline"})

    assert sweep(app) == (0, 0)  # away for less than 30 minutes
    assert t.managers_of(c3) == [a]

    configure(app, t.source_id, mode="round_robin", capacity=5, return_after_minutes=0)
    assert sweep(app) == (1, 1)
    assert t.managers_of(c3) == [b] and t.managers_of(c1) == [a]
    codes = [
        (m["system_code"], m["system_data"]["manager_id"])
        for m in t.consoles[b].api("GET", f"/conversations/{c3}").json()["messages"]
        if m["kind"] == "system"
    ]
    assert codes == [("joined", a), ("left", a), ("joined", b)]
    assert t.managers_of(c2) == [b]


def test_off_is_todays_manual_join(app, team):
    t = team(["Ann"])
    configure(app, t.source_id, mode="off")
    t.online()
    _, c1 = t.chat()
    assert t.managers_of(c1) == [] and t.unassigned() == [c1]


def test_concurrent_first_messages_never_exceed_capacity(app, team, live_server):
    t = team(["Ann", "Ben"], capacity=2)
    t.online()
    visitors = []
    for _ in range(12):
        v = Visitor(live_server, t.key)
        v.open()
        visitors.append(v)
    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(lambda v: v.send("all at once").status_code, visitors))
    assert codes == [201] * 12
    rows = t.consoles[t.ids[0]].api("GET", "/conversations").json()["conversations"]
    per_manager = Counter(m for row in rows for m in row["managers"])
    assert per_manager == {t.ids[0]: 2, t.ids[1]: 2}
    assert len(t.unassigned()) == 8


def test_three_managers_share_300_conversations_evenly(app, team):
    t = team(["Ann", "Ben", "Cid"], capacity=500)
    t.online()
    for i in range(300):
        t.chat(f"question {i}")
    rows: list[dict[str, Any]] = []
    console = t.consoles[t.ids[0]]
    cursor = ""
    while True:
        page = console.api("GET", f"/conversations?limit=200{cursor}").json()
        rows += page["conversations"]
        if not page.get("next_cursor"):
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert len(rows) == 300
    spread = Counter(m for row in rows for m in row["managers"])
    assert sorted(spread) == sorted(t.ids)
    assert max(spread.values()) - min(spread.values()) <= 1, spread


def test_the_settings_page_validates_and_starts_the_sweep(app, live_server):
    import re

    from rq.registry import ScheduledJobRegistry

    from .conftest import ALL_PERMS

    admin = Console(live_server, make_staff(app, "Ada Admin", ALL_PERMS + ",chats.admin"))
    source_id, _ = create_source(app, ["shop.example.com"], [])
    url = f"{live_server.url}/chats/settings/sources/{source_id}/team"
    page = admin.http.get(url)
    assert page.status_code == 200 and "Auto-assignment" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    form = {"csrf_token": token, "mode": "round_robin", "capacity": "0",
            "return_after_minutes": "15"}  # fmt: skip
    r = admin.http.post(f"{url}/assignment", data=form, allow_redirects=False)
    assert r.status_code == 400 and "Capacity must be a whole number from 1 to 500." in r.text
    r = admin.http.post(f"{url}/assignment", data={**form, "csrf_token": "x", "capacity": "3"})
    assert r.status_code == 400  # CSRF
    state = app.extensions["gincore_chats"]
    registry = ScheduledJobRegistry(queue=state.queue)
    assert not [j for j in registry.get_job_ids() if "assignment-sweep" in j]
    r = admin.http.post(f"{url}/assignment", data={**form, "capacity": "3"}, allow_redirects=False)
    assert r.status_code == 302
    assert 'value="3"' in admin.http.get(url).text
    assert [j for j in registry.get_job_ids() if "assignment-sweep" in j]
    # Managers without chats.admin cannot see or change it.
    mia = Console(live_server, make_staff(app, "Mia", PERMS))
    assert mia.http.get(url).status_code == 403
    for job_id in registry.get_job_ids():
        registry.remove(job_id, delete_job=True)
