"""Unread-message emails through a real SMTP server (aiosmtpd) and a real RQ worker process.

The worker runs ``flask chats worker`` (forking RQ worker with its scheduler) against the test
database and Redis, so scheduled jobs fire as in production. Timeouts are one second; every wait
is for a condition with a deadline: an email arriving, or every job of the queue having run.
"""

# Ukrainian texts are meant to be Cyrillic, not look-alike Latin letters.
# ruff: noqa: RUF001
from __future__ import annotations

import email
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import redis
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from .conftest import REDIS_URL, Console, Visitor, create_source, make_staff
from .server_process import free_port

REPO = Path(__file__).resolve().parent.parent
PUBLIC_URL = "https://support.example.test"
SMTP_USER, SMTP_PASSWORD = "mailer", "s3cret-pass"
EMPLOYEE_FUNC = "gincore_chats.jobs.notifications.employee_unread"

# The fake SMTP server takes passwords without TLS, as a local test server may.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


class Sink:
    """An SMTP server's handler that keeps every message, with a wait for the n-th one."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.logins: list[tuple[str, str]] = []
        self.cond = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.cond:
            self.messages.append((list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
            self.cond.notify_all()
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        self.logins.append((login, password))
        ok = (login, password) == (SMTP_USER, SMTP_PASSWORD)
        # handled=False: aiosmtpd then answers 535 itself.
        return AuthResult(success=ok, handled=ok)

    def wait_for(self, count: int, timeout: float = 15.0) -> list[tuple[list[str], EmailMessage]]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"{len(self.messages)} of {count} emails arrived"
                self.cond.wait(remaining)
            return list(self.messages)


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        authenticator=sink.authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


UK_CATALOG = {
    "New reply from %(company)s": "Нова відповідь від %(company)s",
    "Hello %(name)s,": "Вітаємо, %(name)s!",
    "Continue the conversation": "Продовжити розмову",
    "You get this email because you left your email address in our chat.": (
        "Ви отримали цей лист, бо залишили свою адресу в нашому чаті."
    ),
    (
        "You have %(num)d unread message in your chat with %(company)s:",
        "You have %(num)d unread messages in your chat with %(company)s:",
    ): (
        "У вас %(num)d непрочитане повідомлення в чаті з %(company)s:",
        "У вас %(num)d непрочитані повідомлення в чаті з %(company)s:",
        "У вас %(num)d непрочитаних повідомлень у чаті з %(company)s:",
    ),
}


def write_catalog(directory: Path) -> None:
    """A Ukrainian catalog of the customer email's texts, in the layout Babel loads."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    catalog = Catalog(locale="uk", domain="gincore_chats")
    for msgid, text in UK_CATALOG.items():
        catalog.add(msgid, text)
    target = directory / "uk" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with open(target / "gincore_chats.mo", "wb") as f:
        write_mo(f, catalog)


@pytest.fixture(scope="module")
def worker(app: Any, database_url: str, redis_prefix: str) -> Iterator[subprocess.Popen[bytes]]:
    state = app.extensions["gincore_chats"]
    translations = Path(tempfile.mkdtemp(prefix="gincore-translations-"))
    write_catalog(translations)
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - open for the process's life
        prefix="gincore-worker-", suffix=".log", delete=False
    )
    env = {
        **os.environ,
        "HOSTAPP_DATABASE_URL": database_url,
        "HOSTAPP_REDIS_URL": REDIS_URL,
        "HOSTAPP_REDIS_PREFIX": redis_prefix,
        "HOSTAPP_EXTRA_TRANSLATIONS": str(translations),
        "CHATS_PUBLIC_URL": PUBLIC_URL,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "PYTHONUNBUFFERED": "1",
    }
    cmd = [sys.executable, "-m", "flask", "--app", "tests.worker_host:app", "chats", "worker"]
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    # Ready when its scheduler holds the queue's lock: scheduled jobs will be moved on time.
    lock = f"rq:scheduler-lock:{state.config.queue_name}"
    client = redis.Redis.from_url(REDIS_URL)
    deadline = time.monotonic() + 30
    while not client.exists(lock):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"worker did not start:\n{Path(log.name).read_text()}")
        time.sleep(0.05)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture(autouse=True)
def no_leftover_jobs(app: Any) -> Iterator[None]:
    """Jobs of one test must not fire in the next (ids restart with the truncated tables)."""
    yield
    from rq.registry import ScheduledJobRegistry

    state = app.extensions["gincore_chats"]
    registry = ScheduledJobRegistry(queue=state.queue)
    for job_id in registry.get_job_ids():
        job = state.queue.fetch_job(job_id)
        if job is not None:
            job.delete()
    state.queue.empty()


def wait_jobs_done(app: Any, timeout: float = 15.0) -> None:
    """Every job of the queue has run (none scheduled, queued or running)."""
    from rq.registry import StartedJobRegistry

    state = app.extensions["gincore_chats"]
    deadline = time.monotonic() + timeout
    while True:
        busy = (
            len(scheduled_ids(app))
            + state.queue.count
            + StartedJobRegistry(queue=state.queue).count
        )
        if not busy:
            return
        assert time.monotonic() < deadline, f"{busy} jobs still waiting"
        time.sleep(0.05)


def result_of(job: Any, timeout: float = 15.0) -> Any:
    """The return value of a job enqueued with a result TTL, once it has finished."""
    deadline = time.monotonic() + timeout
    while job.get_status(refresh=True) != "finished":
        assert job.get_status() != "failed", job.latest_result()
        assert time.monotonic() < deadline, f"job {job.id} is {job.get_status()}"
        time.sleep(0.05)
    return job.return_value()


def fire_now(app: Any, job_id: str) -> None:
    """Move a scheduled job's time to now: the worker's scheduler enqueues it on its next poll."""
    from rq.job import Job
    from rq.registry import ScheduledJobRegistry

    state = app.extensions["gincore_chats"]
    job = Job.fetch(job_id, connection=state.redis, serializer=state.queue.serializer)
    ScheduledJobRegistry(queue=state.queue).schedule(job, datetime.now(UTC))


def page_text(html: str) -> str:
    """What a reader sees of a page: the text without tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace(" :", ":").replace(" .", ".")


def scheduled_ids(app: Any) -> list[str]:
    """The waiting unread-alert jobs; the worker's daily jobs (retention, clean-up, the
    assignment sweep) wait in the same registry and are not what these tests count."""
    from rq.registry import ScheduledJobRegistry

    from gincore_chats.queue import job_id

    state = app.extensions["gincore_chats"]
    alerts = (job_id(state, "unread") + "-", job_id(state, "reply") + "-")
    ids = ScheduledJobRegistry(queue=state.queue).get_job_ids()
    return [jid for jid in ids if jid.startswith(alerts)]


def configure(
    app: Any,
    smtp_port: int,
    source_id: int,
    *,
    employee: float | None = None,
    customer: float | None = None,
    active: bool = True,
) -> None:
    from gincore_chats.models import Source
    from gincore_chats.services.notifications import mailbox, unread_alerts
    from gincore_chats.services.unit_of_work import unit_of_work

    state = app.extensions["gincore_chats"]
    with app.app_context(), unit_of_work(state.session):
        mailbox.do_save(
            state,
            {
                "active": active,
                "host": "127.0.0.1",
                "port": str(smtp_port),
                "security": "none",
                "username": SMTP_USER,
                "password": SMTP_PASSWORD,
                "from_address": "support@shop.example",
                "from_name": "Example Shop",
            },
        )
        unread_alerts.do_set_timeouts(
            state,
            state.session.get(Source, source_id),
            employee_seconds=employee,
            customer_seconds=customer,
        )


def body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def body_html(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


@pytest.fixture
def staff(app: Any) -> dict[str, str]:
    perms = "chats.view,chats.reply,customers.view,customers.edit"
    return {
        "mia": make_staff(app, "Mia", perms, email="mia@shop.example"),
        "bob": make_staff(app, "Bob", perms, email="bob@shop.example"),
    }


def test_employees_get_one_email_per_unread_window(app, live_server, worker, smtp, staff):
    sink, port = smtp
    sink.messages.clear()
    source_id, key = create_source(app, ["shop.example.com"], [staff["mia"], staff["bob"]])
    # An hour: however slowly the burst below is sent, its window cannot fall due halfway.
    configure(app, port, source_id, employee=3600)
    bob = Console(live_server, staff["bob"])
    assert bob.api("PATCH", "/notifications", {"email_notifications": False}).status_code == 200

    visitor = Visitor(live_server, key)
    conv_id = visitor.open().json()["conversation_id"]
    visitor.api("PATCH", "/contact", {"name": "Olena"})
    for text in ("Hello?", "Is anyone there?", "I need help with my order <b>42</b>"):
        assert visitor.send(text).status_code == 201
    [waiting] = scheduled_ids(app)  # a burst is one window, one job

    # The admin shortens the timeout to one second (the waiting job re-reads it when it fires),
    # and the worker's scheduler is told the job is due now.
    configure(app, port, source_id, employee=1)
    fire_now(app, waiting)
    [(rcpt, msg)] = sink.wait_for(1)
    wait_jobs_done(app)
    assert rcpt == ["mia@shop.example"]  # Bob turned these emails off
    assert msg["Subject"] == "Unread chat from Olena"
    assert msg["From"] == "Example Shop <support@shop.example>"
    assert msg["Auto-Submitted"] == "auto-generated"
    text = body_text(msg)
    assert "3 unread messages from Olena in Shop:" in text
    assert "Hello?" in text and "Is anyone there?" in text
    assert f"{PUBLIC_URL}/chats/console?c={conv_id}" in text
    html = body_html(msg)
    assert "&lt;b&gt;42&lt;/b&gt;" in html  # the customer's text is escaped
    assert f'href="{PUBLIC_URL}/chats/console?c={conv_id}"' in html
    assert (SMTP_USER, SMTP_PASSWORD) in sink.logins  # the stored password, decrypted

    # The next customer message opens a new window: one more email, with only that message.
    visitor.send("Still waiting")
    [_, (_, second)] = sink.wait_for(2)
    wait_jobs_done(app)
    assert "1 unread message from Olena in Shop:" in body_text(second)
    assert "Hello?" not in body_text(second)
    assert len(sink.messages) == 2


def test_reading_in_time_cancels_and_late_jobs_recheck(app, live_server, worker, smtp, staff):
    from gincore_chats.models import NotificationLog

    sink, port = smtp
    sink.messages.clear()
    source_id, key = create_source(app, ["shop.example.com"], [staff["mia"]])
    configure(app, port, source_id, employee=1)
    mia = Console(live_server, staff["mia"])
    visitor = Visitor(live_server, key)
    conv_id = visitor.open().json()["conversation_id"]
    message_id = visitor.send("Hi").json()["message"]["id"]
    [job_id] = scheduled_ids(app)

    assert mia.api("POST", f"/conversations/{conv_id}/read").status_code == 200
    assert scheduled_ids(app) == []  # the waiting job was dropped

    # A cancel that loses the race (rq#2160): the job still runs, re-reads, and sends nothing.
    state = app.extensions["gincore_chats"]
    late = state.queue.enqueue(EMPLOYEE_FUNC, conv_id, message_id, job_id=job_id, result_ttl=60)
    assert result_of(late) == "read or already sent"

    # A reply answers the customer just like reading does.
    mia.api("POST", f"/conversations/{conv_id}/join")
    visitor.send("One more question")
    assert len(scheduled_ids(app)) == 1
    mia.api(
        "POST",
        f"/conversations/{conv_id}/messages",
        {"body": "Sure", "client_id": str(uuid.uuid4())},
    )
    assert scheduled_ids(app) == []

    # A mailed window is never mailed again, whatever runs its job twice.
    visitor.send("Hello again")
    sink.wait_for(1)
    wait_jobs_done(app)
    again = state.queue.enqueue(EMPLOYEE_FUNC, conv_id, 0, result_ttl=60)
    assert result_of(again) == "read or already sent"
    assert len(sink.messages) == 1
    with app.app_context():
        logs = state.session.query(NotificationLog).filter_by(conversation_id=conv_id).all()
        assert [(log.kind, log.recipients) for log in logs] == [("employee_unread", 1)]
        state.session.remove()


def test_customer_gets_unseen_replies_in_their_language(app, live_server, worker, smtp, staff):
    from gincore_chats.models import Source
    from gincore_chats.services.unit_of_work import unit_of_work
    from gincore_chats.services.widget import texts as widget_texts

    sink, port = smtp
    sink.messages.clear()
    source_id, key = create_source(app, ["shop.example.com"], [staff["mia"]])
    configure(app, port, source_id, customer=1)
    state = app.extensions["gincore_chats"]
    with app.app_context(), unit_of_work(state.session):
        # An override makes "uk" available to the widget whatever catalogs ship.
        source = state.session.get(Source, source_id)
        widget_texts.do_set_texts(state, source, "uk", {"title": "Напишіть нам"})
    mia = Console(live_server, staff["mia"])
    visitor = Visitor(live_server, key)
    opened = visitor.open(languages=["uk-UA", "en"]).json()
    assert opened["language"] == "uk"
    conv_id = opened["conversation_id"]
    visitor.api("PATCH", "/contact", {"name": "Олена", "email": "olena@example.com"})
    visitor.send("Де моє замовлення?")
    mia.api("POST", f"/conversations/{conv_id}/join")
    for body in ("Перевіряю", "Його відправлено сьогодні"):
        mia.api(
            "POST",
            f"/conversations/{conv_id}/messages",
            {"body": body, "client_id": str(uuid.uuid4())},
        )

    [(rcpt, msg)] = sink.wait_for(1)
    wait_jobs_done(app)
    assert rcpt == ["olena@example.com"]
    assert msg["Subject"] == "Нова відповідь від Example Shop"
    assert msg["Reply-To"] == "support@shop.example"
    text = body_text(msg)
    assert "Вітаємо, Олена!" in text
    assert "У вас 2 непрочитані повідомлення в чаті з Example Shop:" in text
    assert "Перевіряю" in text and "Його відправлено сьогодні" in text
    assert "Продовжити розмову: https://shop.example.com/p/1" in text
    assert 'lang="uk"' in body_html(msg)

    # What the widget has shown is not mailed: seen in time, the waiting job is dropped.
    reply = mia.api(
        "POST",
        f"/conversations/{conv_id}/messages",
        {"body": "Ще щось?", "client_id": str(uuid.uuid4())},
    ).json()["message"]
    assert len(scheduled_ids(app)) == 1
    seen = visitor.api("POST", "/seen", {"message_id": reply["id"]})
    assert seen.status_code == 200 and seen.json()["last_read_message_id"] == reply["id"]
    assert scheduled_ids(app) == []
    assert len(sink.messages) == 1


def test_nothing_goes_to_customers_without_email_or_mailbox(app, live_server, worker, smtp, staff):
    sink, port = smtp
    sink.messages.clear()
    source_id, key = create_source(app, ["shop.example.com"], [staff["mia"]])
    configure(app, port, source_id, customer=1)
    mia = Console(live_server, staff["mia"])

    def reply_to_new_visitor(email_address: str | None) -> None:
        visitor = Visitor(live_server, key)
        conv_id = visitor.open().json()["conversation_id"]
        if email_address:
            visitor.api("PATCH", "/contact", {"email": email_address})
        mia.api("POST", f"/conversations/{conv_id}/join")
        mia.api(
            "POST",
            f"/conversations/{conv_id}/messages",
            {"body": "Hi!", "client_id": str(uuid.uuid4())},
        )

    reply_to_new_visitor(None)
    wait_jobs_done(app)
    assert sink.messages == []

    configure(app, port, source_id, customer=1, active=False)
    reply_to_new_visitor("known@example.com")
    wait_jobs_done(app)
    assert sink.messages == []

    # The settings say why the scenario is inactive.
    admin_id = make_staff(app, "Ada", "chats.view,chats.admin", email="ada@shop.example")
    admin = Console(live_server, admin_id)
    page = page_text(admin.http.get(f"{live_server.url}/chats/settings/sources/{source_id}").text)
    assert "Inactive: Customer emails. Corporate email is switched off." in page
    assert "Inactive: Employee emails. No timeout is set." in page

    configure(app, port, source_id, customer=1, active=True)
    page = page_text(admin.http.get(f"{live_server.url}/chats/settings/sources/{source_id}").text)
    assert "Active: Customer emails. For customers whose email is known" in page


def test_settings_page_sends_a_test_email_and_reports_smtp_errors(app, live_server, smtp):
    sink, port = smtp
    sink.messages.clear()
    admin_id = make_staff(app, "Ada", "chats.view,chats.admin", email="ada@shop.example")
    admin = Console(live_server, admin_id)
    settings = f"{live_server.url}/chats/settings/notifications"
    form = {
        "csrf_token": admin.csrf,
        "active": "on",
        "host": "127.0.0.1",
        "port": str(port),
        "security": "none",
        "username": SMTP_USER,
        "password": SMTP_PASSWORD,
        "from_address": "support@shop.example",
        "from_name": "Example Shop",
    }
    r = admin.http.post(f"{settings}/mailbox", data=form)
    assert r.status_code == 200
    assert "Active: Corporate email. Sent through 127.0.0.1 as support@shop.example." in page_text(
        r.text
    )
    assert SMTP_PASSWORD not in r.text  # never echoed back

    r = admin.http.post(
        f"{settings}/mailbox/test", data={"csrf_token": admin.csrf, "to": "ada@shop.example"}
    )
    assert "Test email sent to ada@shop.example." in r.text
    [(rcpt, msg)] = sink.wait_for(1)
    assert rcpt == ["ada@shop.example"] and msg["Subject"] == "Test email from your chat"
    assert "mail" not in app.extensions  # the host's Flask-Mail setup was not touched

    closed = free_port()
    admin.http.post(f"{settings}/mailbox", data={**form, "port": str(closed), "password": ""})
    r = admin.http.post(
        f"{settings}/mailbox/test", data={"csrf_token": admin.csrf, "to": "ada@shop.example"}
    )
    assert f"Not sent. Could not connect to 127.0.0.1:{closed}: Connection refused" in r.text

    admin.http.post(f"{settings}/mailbox", data={**form, "password": "wrong"})
    r = admin.http.post(
        f"{settings}/mailbox/test", data={"csrf_token": admin.csrf, "to": "ada@shop.example"}
    )
    assert "Not sent. The SMTP server refused the login: 535" in r.text

    r = admin.http.post(f"{settings}/mailbox", data={**form, "port": "seventy"})
    assert r.status_code == 400 and "The port must be a number" in r.text


def test_one_connection_carries_several_messages_with_one_login(smtp):
    from gincore_chats.services.notifications.mailbox import Mailbox, SmtpConnection

    sink, port = smtp
    sink.messages.clear()
    sink.logins.clear()
    box = Mailbox(
        active=True,
        host="127.0.0.1",
        port=port,
        security="none",
        username=SMTP_USER,
        password=SMTP_PASSWORD,
        from_address="support@shop.example",
        from_name="Ünïcode Shop",
    )
    # No Flask app and no app context: sending needs neither.
    with SmtpConnection(box) as connection:
        connection.send(to=["a@shop.example"], subject="First", text="one", html="<p>one</p>")
        connection.send(to=["b@shop.example", "c@shop.example"], subject="Second", text="two")
    [(first_to, first), (second_to, second)] = sink.wait_for(2)
    assert sink.logins == [(SMTP_USER, SMTP_PASSWORD)]
    assert (first_to, first["Subject"]) == (["a@shop.example"], "First")
    assert (second_to, second["Subject"]) == (["b@shop.example", "c@shop.example"], "Second")
    assert first["From"] == "Ünïcode Shop <support@shop.example>"
    assert first["Message-ID"].endswith("@shop.example>") and first["Date"]
    assert body_html(first).strip() == "<p>one</p>" and body_text(second).strip() == "two"
