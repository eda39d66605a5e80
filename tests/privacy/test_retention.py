"""Retention per source: the settings form, IP truncation, and the run (dry and real)."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from gincore_chats.models import (
    Attachment,
    AuditEntry,
    Contact,
    Conversation,
    Message,
    Source,
    VisitorContext,
    utcnow,
)
from gincore_chats.services.privacy.ip_addresses import truncate_ip

from ..conftest import Console, create_source
from .support import chatty_visitor


def _session(app: Any) -> Any:
    return app.extensions["gincore_chats"].session


def age(app: Any, conv_id: int, days: float, context_days: float | None = None) -> None:
    when = utcnow() - timedelta(days=days)
    ctx_when = utcnow() - timedelta(days=context_days if context_days is not None else days)
    with app.app_context():
        s = _session(app)
        s.execute(
            update(Conversation).where(Conversation.id == conv_id).values(last_activity_at=when)
        )
        s.execute(
            update(VisitorContext)
            .where(VisitorContext.conversation_id == conv_id)
            .values(updated_at=ctx_when)
        )
        s.commit()
        s.remove()


def save_policy(admin: Console, source_id: int, **form: str) -> Any:
    data = {"csrf_token": admin.csrf, **form}
    return admin.http.post(
        f"{admin.server.url}/chats/settings/sources/{source_id}/retention",
        data=data,
        allow_redirects=False,
    )


def stored_policy(app: Any, source_id: int) -> dict[str, Any]:
    with app.app_context():
        try:
            return dict(_session(app).get(Source, source_id).settings.get("retention") or {})
        finally:
            _session(app).remove()


def test_ip_truncation_rules():
    assert truncate_ip("203.0.113.77") == "203.0.113.0"
    assert truncate_ip("2001:db8:1234:5678:9abc::1") == "2001:db8:1234::"
    assert truncate_ip("not an ip") is None and truncate_ip(None) is None


def test_settings_form_validates_saves_and_is_audited(app, live_server, admin_id):
    source_id, _ = create_source(app, ["shop.example.com"], [admin_id])
    admin = Console(live_server, admin_id)
    bad = save_policy(
        admin,
        source_id,
        conversation_days="30",
        conversation_action="anonymise",
        context_days="60",
        truncate_ips="on",
    )
    # Refused on the page itself, the field marked, and everything typed still there.
    assert bad.status_code == 400
    assert "fewer days than the conversations (at most 30 days here)" in bad.text
    assert (
        'name="context_days" class="gc-input gc-input-short" inputmode="numeric" value="60"'
        ' aria-describedby="retention-error context-days-help" aria-invalid="true"' in bad.text
    )
    assert (
        'name="conversation_days" class="gc-input gc-input-short" inputmode="numeric"'
        ' value="30" aria-describedby="retention-days-help">' in bad.text
    )
    assert 'value="anonymise" checked' in bad.text
    assert 'name="truncate_ips" checked' in bad.text
    assert stored_policy(app, source_id) == {}
    for wrong in ("-3", "abc", "99999"):
        refused = save_policy(admin, source_id, conversation_days=wrong)
        assert refused.status_code == 400
        assert "A whole number of days from 1 to 3650, or empty." in refused.text
        assert f'value="{wrong}" aria-describedby="retention-error retention-days-help"' in (
            refused.text
        )
        assert stored_policy(app, source_id) == {}
    odd = save_policy(admin, source_id, conversation_days="30", conversation_action="shred")
    assert odd.status_code == 400 and "Choose to delete or to anonymise" in odd.text
    no_csrf = admin.http.post(
        f"{live_server.url}/chats/settings/sources/{source_id}/retention",
        data={"conversation_days": "30"},
    )
    assert no_csrf.status_code == 400 and stored_policy(app, source_id) == {}

    ok = save_policy(
        admin,
        source_id,
        conversation_days="30",
        conversation_action="anonymise",
        context_days="7",
        truncate_ips="on",
    )
    assert ok.status_code == 302
    assert stored_policy(app, source_id) == {
        "conversation_days": 30,
        "conversation_action": "anonymise",
        "context_days": 7,
        "truncate_ips": True,
    }
    page = admin.http.get(f"{live_server.url}/chats/settings/sources/{source_id}").text
    assert (
        'name="context_days" class="gc-input gc-input-short" inputmode="numeric" value="7"' in page
    )
    with app.app_context():
        entry = (
            _session(app)
            .scalars(select(AuditEntry).where(AuditEntry.action == "source.retention.updated"))
            .one()
        )
        assert entry.manager_id == admin_id and entry.details["after"]["context_days"] == 7
        _session(app).remove()


def test_truncation_applies_when_written(app, live_server, admin_id, config):
    config(trusted_proxies=1)
    source_id, key = create_source(app, ["shop.example.com"], [admin_id])
    save_policy(Console(live_server, admin_id), source_id, truncate_ips="on")
    _, conv_id = chatty_visitor(
        live_server, key, "203.0.113.77", "Tom", "tom@example.org", "", "Hello from Tom"
    )
    with app.app_context():
        assert _session(app).get(VisitorContext, conv_id).ip == "203.0.113.0"
        _session(app).remove()


@pytest.fixture
def three_chats(app, live_server, admin_id, config):
    """Old (40 days, with a file), middle (15 days) and new conversations on one source."""
    config(trusted_proxies=1)
    source_id, key = create_source(app, ["shop.example.com"], [admin_id])
    convs = {}
    for label, ip in (
        ("old", "203.0.113.10"),
        ("middle", "203.0.113.20"),
        ("new", "2001:db8:1:2::7"),
    ):
        _, convs[label] = chatty_visitor(
            live_server,
            key,
            ip,
            f"{label} person",
            f"{label}@example.org",
            "",
            f"{label} text here",
        )
    age(app, convs["old"], 40)
    age(app, convs["middle"], 15)
    return source_id, convs


def snapshot(app: Any) -> dict[str, Any]:
    with app.app_context():
        s = _session(app)
        try:
            return {
                "conversations": sorted(s.scalars(select(Conversation.id))),
                "contexts": {c.conversation_id: c.ip for c in s.scalars(select(VisitorContext))},
                "live_files": sorted(
                    a.conversation_id
                    for a in s.scalars(select(Attachment).where(Attachment.deleted_at.is_(None)))
                ),
                "contacts": sorted(c.email or "" for c in s.scalars(select(Contact))),
                "bodies": sorted(
                    m.body for m in s.scalars(select(Message).where(Message.kind == "customer"))
                ),
            }
        finally:
            s.remove()


def stored_files(app: Any) -> list[str]:
    root = app.extensions["gincore_chats"].config.storage_path
    return [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]


def test_dry_run_prints_and_changes_nothing_then_the_run_deletes_exactly_the_old(
    app, live_server, admin_id, three_chats
):
    source_id, convs = three_chats
    admin = Console(live_server, admin_id)
    save_policy(admin, source_id, conversation_days="30", context_days="10", truncate_ips="on")
    before, files_before = snapshot(app), stored_files(app)
    usage_before = admin.api("GET", "/storage").json()

    dry = app.test_cli_runner().invoke(args=["chats", "retention", "run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would delete 1" in dry.output  # the old conversation
    assert "visitor contexts older than 10 days: would delete 2" in dry.output  # old + middle
    assert "would truncate 3" in dry.output
    assert snapshot(app) == before and stored_files(app) == files_before

    real = app.test_cli_runner().invoke(args=["chats", "retention", "run"])
    assert real.exit_code == 0, real.output
    after = snapshot(app)
    assert after["conversations"] == sorted([convs["middle"], convs["new"]])
    # The middle one's context went (15 > 10 days); the new one's IP is truncated.
    assert after["contexts"] == {convs["new"]: "2001:db8:1::"}
    assert after["live_files"] == sorted([convs["middle"], convs["new"]])
    assert "old@example.org" not in after["contacts"] and "middle@example.org" in after["contacts"]
    assert len(stored_files(app)) == len(files_before) - 1
    usage_after = admin.api("GET", "/storage").json()
    assert usage_after["used"] < usage_before["used"]
    with app.app_context():
        entry = (
            _session(app)
            .scalars(select(AuditEntry).where(AuditEntry.action == "retention.ran"))
            .one()
        )
        assert entry.details["sources"][0]["conversations_deleted"] == 1
        _session(app).remove()
    again = app.test_cli_runner().invoke(args=["chats", "retention", "run", "--dry-run"])
    assert "would delete 0" in again.output and "would truncate 0" in again.output


def test_anonymise_keeps_the_conversation_without_the_person(
    app, live_server, admin_id, three_chats
):
    source_id, convs = three_chats
    admin = Console(live_server, admin_id)
    save_policy(admin, source_id, conversation_days="30", conversation_action="anonymise")
    dry = app.test_cli_runner().invoke(args=["chats", "retention", "run", "--dry-run"])
    assert "would anonymise 1" in dry.output
    real = app.test_cli_runner().invoke(args=["chats", "retention", "run"])
    assert real.exit_code == 0, real.output
    after = snapshot(app)
    assert after["conversations"] == sorted(convs.values())
    assert "old@example.org" not in after["contacts"] and "new@example.org" in after["contacts"]
    assert "old text here" not in after["bodies"] and "middle text here" in after["bodies"]
    assert convs["old"] not in after["contexts"] and convs["old"] not in after["live_files"]
    again = app.test_cli_runner().invoke(args=["chats", "retention", "run", "--dry-run"])
    assert "would anonymise 0" in again.output


def test_the_daily_job_runs_and_schedules_the_next(app, live_server, admin_id, three_chats):
    from gincore_chats.jobs import retention as job

    source_id, convs = three_chats
    save_policy(Console(live_server, admin_id), source_id, conversation_days="30")
    state = app.extensions["gincore_chats"]
    with app.app_context():
        assert job.run().startswith("retention applied on 1")
    assert convs["old"] not in snapshot(app)["conversations"]
    tomorrow = utcnow() + timedelta(days=1)
    scheduled = state.queue.scheduled_job_registry.get_job_ids()
    try:
        assert job.run_id(state, tomorrow) in scheduled
    finally:
        for job_id in scheduled:
            state.queue.scheduled_job_registry.remove(job_id, delete_job=True)


def test_a_messenger_channel_refusal_shows_its_own_page_with_the_typed_values(
    app, live_server, admin_id
):
    from ..channels.conftest import make_channel_source

    source_id, _ = make_channel_source(app, "generic", {}, [admin_id], name="Hook bot")
    admin = Console(live_server, admin_id)
    bad = save_policy(admin, source_id, conversation_days="400", context_days="500")
    assert bad.status_code == 400
    assert "Hook bot" in bad.text and "(at most 400 days here)" in bad.text
    assert 'value="500" aria-describedby="retention-error context-days-help"' in bad.text
    assert stored_policy(app, source_id) == {}
    ok = save_policy(admin, source_id, conversation_days="400", context_days="30")
    assert ok.status_code == 302
    assert ok.headers["Location"].endswith(f"/settings/channels/{source_id}#retention-title")
    assert stored_policy(app, source_id)["context_days"] == 30
