"""Unread-message emails to employees that count only business time, through the real RQ
worker process and a real SMTP server (the fixtures of test_notifications_email)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from rq.registry import ScheduledJobRegistry

from . import test_notifications_email as mail
from .conftest import Visitor, create_source
from .test_notifications_email import configure, fire_now, scheduled_ids, wait_jobs_done

# The mail tests' fixtures: a real worker process, an aiosmtpd server, staff with addresses.
worker, smtp, staff, no_leftover_jobs = mail.worker, mail.smtp, mail.staff, mail.no_leftover_jobs


def set_hours(app: Any, source_id: int, **form: Any) -> None:
    from gincore_chats.models import Source
    from gincore_chats.services.hours import settings as hours_settings
    from gincore_chats.services.unit_of_work import unit_of_work

    state = app.extensions["gincore_chats"]
    with app.app_context(), unit_of_work(state.session):
        days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        every_day = {f"day_{d}": "00:00-24:00" for d in days}
        form = {"enabled": "on", "timezone": "UTC", **every_day, **form}
        hours_settings.do_set(state.session.get(Source, source_id), form)


def due_of(app: Any, job_id: str) -> datetime:
    registry = ScheduledJobRegistry(queue=app.extensions["gincore_chats"].queue)
    score = registry.connection.zscore(registry.key, job_id)
    assert score is not None, job_id
    return datetime.fromtimestamp(score, UTC)


def test_an_unread_message_outside_hours_is_mailed_after_the_timeout_of_open_time(
    app, live_server, worker, smtp, staff
):
    sink, port = smtp
    sink.messages.clear()
    source_id, key = create_source(app, ["shop.example.com"], [staff["mia"]])
    configure(app, port, source_id, employee=60)
    # Closed all of today (UTC): the team is next open at midnight.
    today = datetime.now(UTC).date()
    opens = datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC)
    set_hours(app, source_id, exceptions=f"{today.isoformat()} closed",
              alerts_business_time="on")  # fmt: skip

    visitor = Visitor(live_server, key)
    visitor.open()
    assert visitor.send("Anyone there tonight?").status_code == 201
    [waiting] = scheduled_ids(app)
    # One minute of open time after opening, not one minute after the message.
    assert due_of(app, waiting) == opens + timedelta(seconds=60)

    # Fired early (a clock skew, a manual run): the job re-checks business time and waits on.
    fire_now(app, waiting)
    deadline = time.monotonic() + 15
    while waiting in scheduled_ids(app) or not scheduled_ids(app):
        assert time.monotonic() < deadline, scheduled_ids(app)
        time.sleep(0.05)
    [again] = scheduled_ids(app)
    assert again != waiting and due_of(app, again) == opens + timedelta(seconds=60)
    assert sink.messages == []

    # With business time off, the plain timeout applies: overdue, so it is mailed at once.
    set_hours(app, source_id, exceptions=f"{today.isoformat()} closed")
    configure(app, port, source_id, employee=1)
    fire_now(app, again)
    [(rcpt, msg)] = sink.wait_for(1)
    wait_jobs_done(app)
    assert rcpt == ["mia@shop.example"] and "Unread chat" in msg["Subject"]


def test_business_time_off_keeps_the_plain_timeout(app, live_server, worker, smtp, staff):
    _sink, port = smtp
    source_id, key = create_source(app, ["shop.example.com"], [staff["mia"]])
    configure(app, port, source_id, employee=3600)
    today = datetime.now(UTC).date()
    set_hours(app, source_id, exceptions=f"{today.isoformat()} closed")
    visitor = Visitor(live_server, key)
    visitor.open()
    before = datetime.now(UTC)
    visitor.send("Hello")
    [waiting] = scheduled_ids(app)
    due = due_of(app, waiting)
    assert before + timedelta(seconds=3599) <= due <= datetime.now(UTC) + timedelta(seconds=3601)
