"""The chaos suite, small: real processes under real faults lose and double nothing.

Two gunicorn gevent web processes, one RQ worker (``flask chats worker``, scheduler included),
a private redis-server, the fake Telegram Bot API and an aiosmtpd sink, driven by widget
visitors, Telegram customers and managers speaking the real protocols, while every fault of
``bench/chaos.py`` is injected once: socket drops on both sides, ``kill -9`` of a web process
and of the worker (both restarted), a Redis restart and a PostgreSQL connection reset. The
counts must be zero; the recovery times are printed, not asserted (``python -m bench.chaos``
runs the full-size plan).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from bench.chaos import Plan, print_report, run

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None or shutil.which("ss") is None,
    reason="the chaos suite starts its own redis-server and drops sockets with ss -K",
)


def test_nothing_is_lost_or_doubled_under_faults(capsys: pytest.CaptureFixture[str]) -> None:
    lines: list[str] = []
    plan = Plan(
        visitors=6,
        managers=2,
        telegram_chats=2,
        messages=10,
        duration=30.0,
        rounds=1,
        seed=18,
        # A killed worker's jobs are found abandoned only after RQ's heartbeat TTL (60 s and
        # more): early, so the rest of the load runs meanwhile.
        first="kill_worker",
        log=lines.append,
    )
    report = run(plan)
    print_report(report, lines.append)
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    Path(tempfile.gettempdir(), "gincore-chaos-test.log").write_text("\n".join(lines))
    assert report.sent >= 6 * 10 + 2 * 11 + 8 * 10
    assert len(report.faults) == 6
    assert report.zeros() == dict.fromkeys(report.zeros(), 0), "\n".join(report.details)
