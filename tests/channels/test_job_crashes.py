"""Jobs that die midway (found by the chaos suite, tests/test_chaos.py).

* A send job that dies after the platform took the message runs again and never sends twice: a
  job that raised (a PostgreSQL connection reset while it stored the outcome, a worker killed
  with kill -9 and found abandoned) was never run again, so the reply stayed pending forever;
  and a plain re-run would have sent it a second time, Telegram having no idempotency key.
* An inbound delivery whose job is late (abandoned, retried a minute later) is processed by the
  next delivery's job first, so the customer's messages keep their order.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from ..conftest import Console
from . import test_telegram
from .conftest import pending_jobs, run_worker, work_until
from .fakes import telegram_update
from .test_telegram import conversation_of, joined_console, message_state, reply, update

telegram = test_telegram.telegram  # the fixture: a Telegram source with the manager assigned


def test_a_send_whose_outcome_was_not_stored_is_recorded_on_the_retry_not_resent(
    app, live_server, telegram, manager_id, fake_telegram, monkeypatch: pytest.MonkeyPatch
):
    from gincore_chats.services.channels import outbound

    _, url, secret = telegram
    console, conv_id = joined_console(app, live_server, url, secret, manager_id)
    real_store = outbound._store_external_id
    failures = []

    def connection_reset_once(state, message, external_id):
        if not failures:
            failures.append(external_id)
            # What psycopg raises when pg_terminate_backend ends the session mid-transaction.
            raise OperationalError("UPDATE chats_messages", {}, Exception("terminating connection"))
        return real_store(state, message, external_id)

    monkeypatch.setattr(outbound, "_store_external_id", connection_reset_once)
    sent = reply(console, conv_id, "Your parcel left the warehouse.")

    # The first run sends, then fails to store; RQ runs the job again a second later.
    work_until(
        app, lambda: message_state(console, conv_id, sent["id"])["delivery_status"] == "sent"
    )
    assert failures == ["987654321:5000"]  # chat:message, as the adapter keys it
    [call] = fake_telegram.calls("sendMessage")
    assert call.params["text"] == "Your parcel left the warehouse."
    assert pending_jobs(app) == 0


def test_a_late_inbound_job_does_not_put_the_customers_messages_out_of_order(
    app, channels, live_server, telegram, manager_id
):
    _, url, secret = telegram
    for n, text in enumerate(["first", "second", "third"], start=1):
        assert telegram_update(url, update(1300 + n, text), secret).status_code == 200
    # The first delivery's job is lost with its worker (it comes back much later, if at all).
    queue = channels.queue
    first_job = queue.job_ids[0]
    queue.remove(first_job)
    run_worker(app)

    detail = conversation_of(Console(live_server, manager_id))
    customer = [m for m in detail["messages"] if m["kind"] == "customer"]
    assert [m["body"] for m in customer] == ["first", "second", "third"]
    assert [m["id"] for m in customer] == sorted(m["id"] for m in customer)

    # The late job, when it runs, finds its delivery done and adds nothing.
    from gincore_chats.jobs import inbound as inbound_jobs
    from gincore_chats.models import InboundEvent

    with app.app_context():
        state = app.extensions["gincore_chats"]
        first_event = state.session.query(InboundEvent).order_by(InboundEvent.id).first().id
        state.session.remove()
        inbound_jobs.process(first_event)
    again = conversation_of(Console(live_server, manager_id))
    assert [m["body"] for m in again["messages"] if m["kind"] == "customer"] == [
        "first",
        "second",
        "third",
    ]
