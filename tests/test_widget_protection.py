"""Rate limits per IP, and geolocation through the real RQ job with a test GeoIP database."""

from __future__ import annotations

import dataclasses

import pytest

from .conftest import Console, Visitor, create_source


@pytest.fixture
def config(app, monkeypatch):
    """Change the frozen config of the shared test app for one test."""
    state = app.extensions["gincore_chats"]

    def change(**values):
        monkeypatch.setattr(state, "config", dataclasses.replace(state.config, **values))

    return change


def test_conversations_and_messages_are_rate_limited_per_ip(app, live_server, manager_id, config):
    from gincore_chats.rate_limit import parse

    config(rate_limit_conversations=parse("2/hour"), rate_limit_messages=parse("3/minute"))
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitors = [Visitor(live_server, key) for _ in range(3)]
    assert [v.open().status_code for v in visitors] == [201, 201, 429]
    r = visitors[2].open()
    assert r.status_code == 429 and "Too many new chats" in r.json()["error"]
    assert int(r.headers["Retry-After"]) > 0
    assert r.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    sent = [visitors[0].send(f"m{i}").status_code for i in range(4)]
    assert sent == [201, 201, 201, 429]
    assert len(visitors[0].api("GET", "/conversation").json()["messages"]) == 3


def test_rate_limit_specs():
    from gincore_chats.rate_limit import Limit, parse

    assert parse("10/hour") == Limit(10, 3600)
    assert parse("5/10s") == Limit(5, 10)
    with pytest.raises(ValueError):
        parse("ten per hour")


def make_geoip_db(path):
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type="GeoIP2-City",
        languages=["en"],
        description="gincore-chats test data",
    )
    writer.insert_network(
        IPSet(["203.0.113.0/24"]),
        {
            "country": {"iso_code": "UA", "names": {"en": "Ukraine"}},
            "city": {"names": {"en": "Lviv"}},
        },
    )
    writer.to_db_file(str(path))


def test_geolocation_runs_in_the_worker_and_reaches_the_panel(
    app, live_server, manager_id, config, tmp_path
):
    db_path = tmp_path / "city.mmdb"
    make_geoip_db(db_path)
    config(geoip_database=str(db_path), trusted_proxies=1)
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(live_server, key)
    original = visitor.headers
    visitor.headers = lambda: {**original(), "X-Forwarded-For": "203.0.113.7"}
    conv_id = visitor.open().json()["conversation_id"]
    console = Console(live_server, manager_id)
    ctx = console.api("GET", f"/conversations/{conv_id}").json()["context"]
    assert ctx["ip"] == "203.0.113.7" and ctx["city"] is None  # not before the worker ran

    result = app.test_cli_runner().invoke(args=["chats", "worker", "--burst", "--simple"])
    assert result.exit_code == 0, result.output
    ctx = console.api("GET", f"/conversations/{conv_id}").json()["context"]
    assert (ctx["country"], ctx["country_code"], ctx["city"]) == ("Ukraine", "UA", "Lviv")


def test_missing_geoip_database_means_feature_off(app, live_server, manager_id, config):
    config(geoip_database=None)
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    Visitor(live_server, key).open()
    state = app.extensions["gincore_chats"]
    assert state.queue.count == 0
