"""init_app behaviour: defaults, strict keys, state per app, two apps in one process."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from gincore_chats import Chats
from gincore_chats.models import metadata


def make_app(tmp_path, **config):
    app = Flask(f"host_{uuid.uuid4().hex[:6]}")
    app.config.update(
        SECRET_KEY="s",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/{uuid.uuid4().hex}.db",
        CHATS_REDIS_URL="redis://127.0.0.1:6379/0",
        **config,
    )
    db = SQLAlchemy()
    db.init_app(app)
    return app, db


def test_defaults_are_applied_and_visible_to_the_host(tmp_path):
    app, db = make_app(tmp_path)
    Chats(app, db=db)
    assert app.config["CHATS_URL_PREFIX"] == "/chats"
    assert app.config["SOCK_SERVER_OPTIONS"]["max_message_size"] == 64 * 1024
    state = app.extensions["gincore_chats"]
    assert state.config.plan == "free"
    rules = {r.rule for r in app.url_map.iter_rules()}
    assert {
        "/chats/console",
        "/chats/widget.js",
        "/chats/settings",
        "/chats/console/ws",
        "/chats/widget/ws",
    } <= rules


def test_unknown_keys_warn_and_bad_values_fail(tmp_path):
    app, db = make_app(tmp_path, CHATS_TYPO=1)
    with pytest.warns(UserWarning, match="CHATS_TYPO"):
        Chats(app, db=db)
    app, db = make_app(tmp_path, CHATS_PLAN="gold")
    with pytest.raises(ValueError, match="CHATS_PLAN"):
        Chats(app, db=db)
    app, db = make_app(tmp_path)
    app.config["SECRET_KEY"] = None
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        Chats(app, db=db)


def test_two_apps_in_one_process_keep_their_own_state(tmp_path):
    chats = Chats()
    app1, db1 = make_app(tmp_path, CHATS_URL_PREFIX="/support")
    app2, db2 = make_app(tmp_path, CHATS_REDIS_PREFIX="other")
    chats.init_app(app1, db=db1)
    chats.init_app(app2, db=db2)
    s1, s2 = app1.extensions["gincore_chats"], app2.extensions["gincore_chats"]
    assert s1 is not s2 and s1.db is db1 and s2.db is db2
    assert s1.hub.channel != s2.hub.channel
    assert not hasattr(chats, "app")
    assert "/support/console" in {r.rule for r in app1.url_map.iter_rules()}
    for app, db in ((app1, db1), (app2, db2)):
        with app.app_context():
            metadata.create_all(db.engine)
        assert (
            app.test_client()
            .get("/support/widget.js" if app is app1 else "/chats/widget.js")
            .status_code
            == 200
        )
    # A widget request on app2 finds nothing created on app1.
    with app1.app_context():
        from gincore_chats.services import sources
        from gincore_chats.services.unit_of_work import unit_of_work

        with unit_of_work(s1.session):
            key = sources.do_create_widget_source(s1, "One", ["a.example"]).public_key
    r = app2.test_client().post(
        "/chats/widget/api/conversations",
        json={"key": key},
        headers={"Origin": "https://a.example"},
    )
    assert r.status_code == 404


def test_cli_creates_a_source_and_lists_it(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["chats", "create-widget-source", "CLI shop", "--domain", "cli.example"]
    )
    assert result.exit_code == 0, result.output
    assert 'data-key="' in result.output
    listing = runner.invoke(args=["chats", "sources"])
    assert "CLI shop" in listing.output and "cli.example" in listing.output
    bad = runner.invoke(args=["chats", "create-widget-source", "Bad", "--domain", "bad domain"])
    assert bad.exit_code != 0 and "is not a domain" in bad.output


def test_worker_burst_runs_with_the_app(app):
    result = app.test_cli_runner().invoke(args=["chats", "worker", "--burst", "--simple"])
    assert result.exit_code == 0, result.output
    assert "gincore-chats worker on queue" in result.output


def mark_done(key: str) -> None:
    """A job for the worker tests: leaves a mark in Redis."""
    from flask import current_app

    current_app.extensions["gincore_chats"].redis.set(key, "1", ex=60)


def test_a_worker_that_rq_stops_on_an_error_is_replaced_and_runs_the_next_jobs(app, monkeypatch):
    """RQ's loop ends on an error of its own (here: Redis "loading the dataset" after a
    restart, as the chaos run met it); the worker command starts a fresh worker instead of
    exiting, and a warm shutdown (SIGTERM) still stops it for good."""
    from redis.exceptions import BusyLoadingError

    from gincore_chats.jobs import worker as worker_module

    from .channels.conftest import clear_queue

    state = app.extensions["gincore_chats"]
    key = state.key("worker-replaced")
    monkeypatch.setattr(worker_module, "RESTART_PAUSE_SECONDS", 0.2)
    failed: list[str] = []
    real = worker_module.SimpleAppWorker.execute_job

    def busy_once(self, job, queue):
        if not failed:
            failed.append(job.id)
            raise BusyLoadingError("Redis is loading the dataset in memory")
        return real(self, job, queue)

    monkeypatch.setattr(worker_module.SimpleAppWorker, "execute_job", busy_once)
    state.queue.enqueue(mark_done, key + ":first")
    state.queue.enqueue(mark_done, key)

    returned = threading.Event()

    def stop_once_done() -> None:
        deadline = time.monotonic() + 30
        while not state.redis.exists(key) and time.monotonic() < deadline:
            if returned.wait(0.05):
                return  # the command ended by itself: nothing to stop
        os.kill(os.getpid(), signal.SIGTERM)  # as a supervisor stops the worker

    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    stopper = threading.Thread(target=stop_once_done, daemon=True)
    stopper.start()
    try:
        result = app.test_cli_runner().invoke(args=["chats", "worker", "--simple"])
    finally:
        returned.set()
        stopper.join()
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        clear_queue(state)
    assert result.exit_code == 0, result.output
    assert failed, "the job that met the error did not run"
    assert state.redis.exists(key), "no new worker ran the next job"
    assert "RQ stopped on an error; a new worker in 0.2 s" in result.output


def test_signals_fire_after_commit_and_receivers_can_query(app, live_server, manager_id):
    from gincore_chats import conversation_opened, message_created
    from gincore_chats.models import Message

    from .conftest import Visitor, create_source

    seen = []

    def on_message(sender, message):
        # A receiver may use the session: the commit has fully finished.
        state = sender.extensions["gincore_chats"]
        row = state.session.get(Message, message["id"])
        seen.append(("message", row.body))

    def on_open(sender, conversation_id, source_id):
        seen.append(("opened", conversation_id))

    _, key = create_source(app, ["shop.example.com"], [manager_id])
    with (
        message_created.connected_to(on_message, app),
        conversation_opened.connected_to(on_open, app),
    ):
        visitor = Visitor(live_server, key)
        conv_id = visitor.open().json()["conversation_id"]
        visitor.send("signal me")
        assert visitor.send("").status_code == 400  # rolled back: no signal
    assert seen == [("opened", conv_id), ("message", "signal me")]
