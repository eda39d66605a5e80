"""An unread-message email is sent once even when PostgreSQL resets the job's connection.

Found by the chaos suite (tests/test_chaos.py): the job used to send the email inside the
transaction that claims the window's log row, so a connection reset while the email was
leaving failed the commit, RQ ran the job again and the managers got the email twice. Now the
claim is committed first and the email leaves with no transaction open.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, text

from . import test_notifications_email as email_tests
from .conftest import Visitor, create_source

configure = email_tests.configure
smtp = email_tests.smtp  # fixtures: the aiosmtpd sink and two managers
staff = email_tests.staff

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def terminate_other_connections(database_url: str) -> int:
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).scalar()
                or 0
            )
    finally:
        admin.dispose()


def test_a_connection_reset_while_the_email_leaves_does_not_send_it_twice(
    app: Any, live_server: Any, smtp: Any, staff: Any, database_url: str, monkeypatch: Any
) -> None:
    from gincore_chats.jobs import notifications as jobs
    from gincore_chats.services.notifications import mailbox

    sink, port = smtp
    sink.messages.clear()
    source_id, key = create_source(app, ["shop.example.com"], [staff["mia"]])
    configure(app, port, source_id, employee=0.001)  # due at once
    visitor = Visitor(live_server, key)
    conv_id = visitor.open().json()["conversation_id"]
    assert visitor.send("Is my order on its way?").status_code == 201

    real_send = mailbox.send
    resets: list[int] = []

    def send_then_reset(*args: Any, **kwargs: Any) -> None:
        real_send(*args, **kwargs)
        # The database drops every session of the app while the SMTP call finishes.
        resets.append(terminate_other_connections(database_url))

    monkeypatch.setattr(mailbox, "send", send_then_reset)
    # The job as the worker runs it; run once more, as RQ retries a job that raised.
    outcomes = []
    for _ in range(2):
        with app.app_context():
            try:
                outcomes.append(jobs.employee_unread(conv_id, 0))
            except Exception as exc:
                outcomes.append(type(exc).__name__)
    assert resets and resets[0] >= 1
    sink.wait_for(1)
    assert len(sink.messages) == 1, outcomes
    assert outcomes == ["sent to 1", "read or already sent"]
