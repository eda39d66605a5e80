"""``flask chats doctor`` through the CLI runner, against real PostgreSQL and Redis, a real RQ
worker process, a real SMTP server (aiosmtpd) and the fake Telegram Bot API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gincore_chats.services.notifications import mailbox
from gincore_chats.services.unit_of_work import unit_of_work

# The fixtures of the real SMTP server and the fake Telegram Bot API, shared, not copied.
from .channels.conftest import fake_telegram, make_channel_source  # noqa: F401
from .channels.fakes import TELEGRAM_TOKEN, FakeTelegram
from .test_health import make_app, migrated_database, scratch_database, start_worker, stop_worker
from .test_notifications_email import SMTP_PASSWORD, SMTP_USER, Sink, smtp  # noqa: F401
from .test_widget_protection import make_geoip_db


@pytest.fixture
def migrated_url() -> Iterator[str]:
    # One database per test: each configures it differently.
    yield from migrated_database()


@pytest.fixture
def smtp_port(smtp: tuple[Sink, int]) -> int:  # noqa: F811 - the imported fixture
    return smtp[1]


@pytest.fixture
def telegram(fake_telegram: FakeTelegram) -> FakeTelegram:  # noqa: F811 - the imported fixture
    fake_telegram.reset()
    return fake_telegram


def doctor(app: Any) -> tuple[int, dict[str, str]]:
    """The exit code and each check's line, by check name."""
    result = app.test_cli_runner().invoke(args=["chats", "doctor"])
    lines = {}
    for line in result.output.splitlines():
        verdict, _, rest = line.partition(" ")
        name = rest.strip().split(":")[0]
        lines[name] = f"{verdict} {rest.strip()}"
    return result.exit_code, lines


def save_mailbox(app: Any, port: int, password: str) -> None:
    state = app.extensions["gincore_chats"]
    with app.app_context(), unit_of_work(state.session):
        mailbox.do_save(
            state,
            {
                "active": True,
                "host": "127.0.0.1",
                "port": str(port),
                "security": "none",
                "username": SMTP_USER,
                "password": password,
                "from_address": "support@shop.example",
            },
        )


def configured_app(tmp_path: Path, url: str, telegram: FakeTelegram, **config: Any) -> Any:
    app = make_app(
        tmp_path,
        url,
        CHATS_TELEGRAM_API_BASE=telegram.url,
        CHATS_PUBLIC_URL="https://chats.shop.example",
        **config,
    )
    with app.app_context():
        from . import hostapp

        hostapp.db.create_all()  # the host's own tables (the staff)
    return app


def test_doctor_passes_a_complete_configuration(
    tmp_path: Path, migrated_url: str, smtp_port: int, telegram: FakeTelegram
) -> None:
    geoip = tmp_path / "city.mmdb"
    make_geoip_db(geoip)
    app = configured_app(
        tmp_path,
        migrated_url,
        telegram,
        CHATS_ENCRYPTION_KEY="doctor-test-encryption-key-0123456789",
        CHATS_GEOIP_DATABASE=str(geoip),
    )
    save_mailbox(app, smtp_port, SMTP_PASSWORD)
    runner = app.test_cli_runner()
    keys = runner.invoke(args=["chats", "vapid-keys", "--subject", "mailto:ops@shop.example"])
    assert keys.exit_code == 0, keys.output
    source_id, _ = make_channel_source(app, "telegram", {"bot_token": TELEGRAM_TOKEN}, [])
    connected = runner.invoke(args=["chats", "connect", str(source_id)])
    assert connected.exit_code == 0, connected.output

    worker = start_worker(app, migrated_url)
    try:
        code, lines = doctor(app)
    finally:
        stop_worker(worker)
    webhook = f"webhook {source_id} (Bot, telegram)"
    expected = {
        "database",
        "migrations",
        "redis",
        "worker",
        "smtp",
        "vapid",
        "geoip",
        webhook,
        "secrets key",
    }
    assert set(lines) == expected, lines
    assert all(line.startswith("OK ") for line in lines.values()), lines
    assert code == 0
    assert "logged in to 127.0.0.1" in lines["smtp"]
    assert "GeoIP2-City" in lines["geoip"]


def test_doctor_names_each_problem_and_its_fix(
    tmp_path: Path, migrated_url: str, smtp_port: int, telegram: FakeTelegram
) -> None:
    app = configured_app(
        tmp_path, migrated_url, telegram, CHATS_GEOIP_DATABASE=str(tmp_path / "missing.mmdb")
    )
    save_mailbox(app, smtp_port, "not-the-password")
    # A source whose webhook was never registered with Telegram.
    source_id, _ = make_channel_source(app, "telegram", {"bot_token": TELEGRAM_TOKEN}, [])

    code, lines = doctor(app)
    assert code == 1
    webhook = f"webhook {source_id} (Bot, telegram)"
    for name in ("worker", "smtp", "vapid", "geoip", webhook, "secrets key"):
        assert lines[name].startswith("PROBLEM "), (name, lines[name])
        assert "Fix: " in lines[name]
    for name in ("database", "migrations", "redis"):
        assert lines[name].startswith("OK "), lines[name]
    assert "flask chats worker" in lines["worker"]
    assert "535" in lines["smtp"]
    assert "flask chats vapid-keys" in lines["vapid"]
    assert "missing.mmdb" in lines["geoip"]
    assert f"flask chats connect {source_id}" in lines[webhook]
    assert "CHATS_ENCRYPTION_KEY" in lines["secrets key"]


def test_doctor_with_redis_down_and_no_migrations(tmp_path: Path) -> None:
    for url in scratch_database():
        app = make_app(tmp_path, url, "redis://127.0.0.1:1/0")
        code, lines = doctor(app)
        assert code == 1
        assert lines["database"].startswith("OK ")
        assert lines["migrations"].startswith("PROBLEM ")
        assert "flask db upgrade heads" in lines["migrations"]
        assert lines["redis"].startswith("PROBLEM ")
        assert "CHATS_REDIS_URL" in lines["redis"]
        # Nothing beyond: the configuration lives in tables that are not there.
        assert "smtp" not in lines
